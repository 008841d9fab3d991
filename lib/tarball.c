/*
 * tarball.c - writing tar archives through libarchive that depend on
 * nothing but their content: POSIX pax (extended headers only for long
 * names), every entry a regular file of mode 0644 owned by 0:0 with no
 * user or group name and mtime 0, in the order the caller adds them;
 * compressed with gzip (no timestamp), xz, zstd or bzip2, or not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "dynlib.h"

#include "snapshot.h"
#include "tarball.h"
#include "util.h"

struct dphp_tar {
	struct archive *a;
	const char *what;	/* for messages */
};

static const char *const filters[] = { "gzip", "xz", "zstd", "bzip2" };

int
dphp_tar_filter_valid(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(filters) / sizeof(*filters); i++)
		if (strcmp(name, filters[i]) == 0)
			return 1;
	return 0;
}

static int
failed(struct dphp_tar *t)
{
	dphp_error("cannot write %s: %s", t->what, archive_error_string(t->a));
	return DPHP_EXIT_SYS;
}

struct dphp_tar *
dphp_tar_open(int fd, const char *filter, const char *what)
{
	struct dphp_tar *t;

	if (dphp_archive_load() != 0)
		return NULL;
	t = xcalloc(1, sizeof(*t));
	t->what = what;
	t->a = archive_write_new();
	if (archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
	    (filter != NULL && archive_write_add_filter_by_name(t->a, filter)
	    != ARCHIVE_OK) ||
	    /* gzip stores the time of writing unless told not to */
	    (filter != NULL && strcmp(filter, "gzip") == 0 &&
	    archive_write_set_filter_option(t->a, "gzip", "timestamp", NULL)
	    != ARCHIVE_OK) ||
	    /* the last block padded to 512 bytes, not 10240 */
	    archive_write_set_bytes_in_last_block(t->a, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(t->a, fd) != ARCHIVE_OK) {
		failed(t);
		archive_write_free(t->a);
		free(t);
		return NULL;
	}
	return t;
}

int
dphp_tar_add(struct dphp_tar *t, const char *name, int64_t size,
    dphp_tar_fill_fn *fill, void *arg)
{
	struct archive_entry *e = archive_entry_new();
	char buf[65536];
	ssize_t got;
	int64_t left = size;

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, size);
	archive_entry_set_mtime(e, 0, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	if (archive_write_header(t->a, e) != ARCHIVE_OK) {
		archive_entry_free(e);
		return failed(t);
	}
	archive_entry_free(e);
	while (left > 0) {
		if ((got = fill(buf, left < (int64_t)sizeof(buf) ? left :
		    (int64_t)sizeof(buf), arg)) <= 0) {
			dphp_error("cannot write %s: '%s' changed while read",
			    t->what, name);
			return DPHP_EXIT_SYS;
		}
		if (archive_write_data(t->a, buf, got) != got)
			return failed(t);
		left -= got;
	}
	return 0;
}

/* fill from a buffer: arg is a struct dphp_tar_bytes */
ssize_t
dphp_tar_bytes(char *buf, size_t n, void *arg)
{
	struct dphp_tar_bytes *b = arg;

	if (n > b->len - b->off)
		n = b->len - b->off;
	memcpy(buf, b->data + b->off, n);
	b->off += n;
	return n;
}

void
dphp_tar_abort(struct dphp_tar *t)
{
	archive_write_fail(t->a);
	archive_write_free(t->a);
	free(t);
}

int
dphp_tar_close(struct dphp_tar *t)
{
	int r = 0;

	if (archive_write_close(t->a) != ARCHIVE_OK)
		r = failed(t);
	archive_write_free(t->a);
	free(t);
	return r;
}
