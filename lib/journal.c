/*
 * journal.c - reading a store's journal (dphp-store(5)): segments of
 * NDJSON lines, a committed state each, in batches that end with an end
 * marker.  What a batch voids (it never happened: a crash between its
 * lines and its records) is left out, and so is a last batch with no
 * end (unconfirmed: its writer may have crashed before its records).  A
 * torn last line is what a crash mid-append leaves: dropped, with a
 * warning.  Any other bad line stops the reading, located.  Segments
 * may be compressed or archived: libarchive reads them all.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "dynlib.h"
#include "file.h"

#include "snapshot.h"
#include "jline.h"
#include "journal.h"
#include "tarball.h"
#include "util.h"

struct dphp_journal {
	dphp_journal_fn *fn;
	void *arg;
	json_t *batch;		/* lines read since the last end */
	json_int_t last;	/* the last seq read */
	json_int_t settled;	/* the last seq of an ended batch */
	int sealed;		/* a line with a checksum was read */
	char *file;		/* where the batch began */
	unsigned long line;
};

static int
bad(const char *file, unsigned long line, const char *why)
{
	char *where = xasprintf("%s:%lu", file, line);

	dphp_located(where, "corrupt journal line: %s", why);
	free(where);
	return DPHP_EXIT_INPUT;
}

/* Hand on the lines of the batch that just ended, but those voided. */
static int
flush(struct dphp_journal *rd, json_t *end)
{
	json_t *voids = json_object_get(end, "void"), *l, *v;
	size_t i, k;
	int r = 0, skip;

	json_array_foreach(rd->batch, i, l) {
		skip = 0;
		json_array_foreach(voids, k, v)
			skip |= json_equal(v, json_object_get(l, "seq"));
		if (!skip && (r = rd->fn(l, rd->arg)) != 0)
			break;
	}
	json_array_clear(rd->batch);
	rd->settled = rd->last = json_integer_value(json_object_get(end,
	    "next")) - 1;
	return r;
}

struct dphp_journal *
dphp_journal_new(dphp_journal_fn *fn, void *arg)
{
	struct dphp_journal *rd = xcalloc(1, sizeof(*rd));

	rd->fn = fn;
	rd->arg = arg;
	rd->batch = json_array();
	return rd;
}

void
dphp_journal_free(struct dphp_journal *rd)
{
	if (rd == NULL)
		return;
	json_decref(rd->batch);
	free(rd->file);
	free(rd);
}

json_int_t
dphp_journal_settled(const struct dphp_journal *rd)
{
	return rd->settled;
}

size_t
dphp_journal_pending(const struct dphp_journal *rd)
{
	return json_array_size(rd->batch);
}

void
dphp_journal_retract(struct dphp_journal *rd)
{
	json_array_clear(rd->batch);
	rd->last = rd->settled;
}

/* One line of a segment. */
int
dphp_journal_take(struct dphp_journal *rd, const char *file,
    unsigned long no, json_t *v)
{
	json_t *seq = json_object_get(v, "seq"), *e = json_object_get(v,
	    "end");
	struct dphp_id id;

	if (e != NULL) {
		if (!json_is_integer(e) || !json_is_integer(json_object_get(v,
		    "next")))
			return bad(file, no, "an end needs 'end' and 'next'");
		return flush(rd, v);
	}
	if (!json_is_integer(seq) || json_integer_value(seq) <= rd->last)
		return bad(file, no, "'seq' must be an integer greater than "
		    "the one before");
	if (!json_is_string(json_object_get(v, "id")) ||
	    dphp_id_parse(json_string_value(json_object_get(v, "id")), &id,
	    NULL, 0) != 0 || !json_is_string(json_object_get(v, "etag")) ||
	    !json_is_string(json_object_get(v, "at")) ||
	    (json_object_get(v, "state") == NULL) ==
	    !json_is_true(json_object_get(v, "deleted")))
		return bad(file, no, "a state line needs 'id', 'etag', 'at' "
		    "and 'state' or 'deleted'");
	rd->last = json_integer_value(seq);
	if (json_array_size(rd->batch) == 0) {
		free(rd->file);
		rd->file = xstrdup(file);
		rd->line = no;
	}
	json_array_append(rd->batch, v);
	return 0;
}

int
dphp_journal_line(struct dphp_journal *rd, const char *file,
    unsigned long no, const char *text, size_t n)
{
	/* what the writers put in a line: any other is not of a journal */
	static const char *const fields[] = { "seq", "b", "n", "at", "id",
	    "etag", "state", "deleted", "cause", "outbox", "kept", "end",
	    "next", "void", "crc", NULL };
	json_error_t err;
	const char *key;
	char buf[128];
	json_t *v;
	int r, sealed;

	if ((sealed = dphp_jline_check(text, n)) < 0)
		return bad(file, no, "its checksum is not its text's: it is "
		    "not as it was written");
	if ((v = json_loadb(text, n, JSON_REJECT_DUPLICATES, &err)) == NULL ||
	    !json_is_object(v))
		r = bad(file, no, v ? "not an object" : err.text);
	else if ((key = dphp_unknown_key(v, fields)) != NULL) {
		snprintf(buf, sizeof(buf), "not a journal line: it has "
		    "'%.64s'", key);
		r = bad(file, no, buf);
	}
	else if (!sealed && json_object_get(v, "crc") != NULL)
		r = bad(file, no, "its checksum is not its text's: it is "
		    "not as it was written");
	else if (!sealed && rd->sealed)
		r = bad(file, no, "no checksum, after lines that have one");
	else {
		rd->sealed |= sealed;
		json_object_del(v, "crc");
		r = dphp_journal_take(rd, file, no, v);
	}
	json_decref(v);
	return r;
}

/*
 * The lines of one segment, read from the archive entry a is at: each
 * whole line handed to take(), a torn last line dropped when this is
 * the very last segment (final), a bad one stopping it, and one longer
 * than any a commit writes stopping it before it is all held.
 */
static int
lines(struct dphp_journal *rd, struct archive *a, const char *name, int final)
{
	char chunk[65536], *buf = NULL, *p, *nl;
	size_t len = 0, cap = 0;
	unsigned long no = 0;
	la_ssize_t got;
	int r = 0;

	while (r == 0 && (got = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
		if (len + got + 1 > cap) {
			cap = (len + got + 1) * 2;
			buf = xrealloc(buf, cap);
		}
		memcpy(buf + len, chunk, got);
		len += got;
		for (p = buf; r == 0 && (nl = memchr(p, '\n', len - (p - buf)));
		    p = nl + 1)
			r = dphp_journal_line(rd, name, ++no, p, nl - p);
		len -= p - buf;
		memmove(buf, p, len);
		if (r == 0 && len > DPHP_JOURNAL_LINE_MAX)
			r = bad(name, no + 1, "longer than a journal line may "
			    "be");
	}
	if (r == 0 && got < 0) {
		dphp_error("cannot read '%s': %s", name,
		    archive_error_string(a));
		r = DPHP_EXIT_SYS;
	}
	if (r == 0 && len > 0) {
		if (final)	/* a crash mid-append */
			dphp_warn("%s:%lu: a torn last line, dropped", name,
			    no + 1);
		else
			r = bad(name, no + 1, "no newline, in a segment not the "
			    "last");
	}
	free(buf);
	return r;
}

/*
 * Read one file: a segment, compressed or not (gzip, xz, zstd, bzip2),
 * or a tar archive of segments, whatever its name says; libarchive
 * tells them apart by their content.  final: it is the last file.
 */
static int
segment(struct dphp_journal *rd, const char *path, int final)
{
	struct archive *a;
	struct archive_entry *e;
	char *name;
	int fd, r = 0, k, raw;

	if (dphp_archive_load() != 0)
		return DPHP_EXIT_SYS;
	if ((fd = dphp_open_input(path)) < 0) {
		dphp_error("cannot open '%s':", path);
		return DPHP_EXIT_SYS;
	}
	path = dphp_input_name(path);
	a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	/* an empty segment: a commit killed before its first append */
	archive_read_support_format_empty(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
		dphp_error("cannot read '%s': %s", path,
		    archive_error_string(a));
		archive_read_free(a);
		close(fd);
		return DPHP_EXIT_SYS;
	}
	while (r == 0 && (k = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		raw = archive_format(a) == ARCHIVE_FORMAT_RAW;
		if (!raw && archive_entry_filetype(e) != AE_IFREG)
			continue;
		/* an entry of an archive is named archive:entry */
		name = raw ? xstrdup(path) : xasprintf("%s:%s", path,
		    archive_entry_pathname(e));
		r = lines(rd, a, name, final);
		free(name);
	}
	if (r == 0 && k != ARCHIVE_EOF && k != ARCHIVE_OK) {
		dphp_error("cannot read '%s': %s", path,
		    archive_error_string(a));
		r = DPHP_EXIT_SYS;
	}
	archive_read_free(a);
	close(fd);
	return r;
}

void
dphp_journal_unended(const struct dphp_journal *rd)
{
	if (json_array_size(rd->batch) > 0)
		dphp_warn("%s:%lu: the last batch has no end yet: left out "
		    "(its writer stopped, or is still at it; the next "
		    "program to open the store ends it or takes it back)",
		    rd->file, rd->line);
}

static int
byname(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
dphp_journal_segments(const char *dir)
{
	struct dirent *de;
	char **v = NULL;
	size_t n = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		dphp_error("cannot open '%s':", dir);
		return NULL;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && strstr(de->d_name, ".ndjson")) {
			struct stat sb;

			/* a link planted among them is no segment */
			if (fstatat(dirfd(d), de->d_name, &sb,
			    AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(sb.st_mode)) {
				dphp_error("'%s/%s' is not a segment (a link?): "
				    "not read", dir, de->d_name);
				closedir(d);
				while (n > 0)
					free(v[--n]);
				free(v);
				return NULL;
			}
			v = xrealloc(v, (n + 2) * sizeof(*v));
			v[n++] = xasprintf("%s/%s", dir, de->d_name);
		}
	closedir(d);
	v = xrealloc(v, (n + 1) * sizeof(*v));
	qsort(v, n, sizeof(*v), byname);
	v[n] = NULL;
	return v;
}

int
dphp_journal_each(int argc, char **argv, dphp_journal_fn *fn, void *arg)
{
	struct dphp_journal *rd = dphp_journal_new(fn, arg);
	char **files = NULL, **segs;
	size_t n = 0, i;
	int a, r = 0;
	DIR *d;

	for (a = 0; a < argc; a++) {
		if ((d = opendir(argv[a])) == NULL) {
			files = xrealloc(files, (n + 1) * sizeof(*files));
			files[n++] = xstrdup(argv[a]);
			continue;
		}
		closedir(d);
		if ((segs = dphp_journal_segments(argv[a])) == NULL) {
			r = DPHP_EXIT_SYS;
			break;
		}
		for (i = 0; segs[i] != NULL; i++) {
			files = xrealloc(files, (n + 1) * sizeof(*files));
			files[n++] = segs[i];
		}
		free(segs);
	}
	for (i = 0; r == 0 && i < n; i++)
		r = segment(rd, files[i], i + 1 == n);
	if (r == 0)
		dphp_journal_unended(rd);
	for (i = 0; i < n; i++)
		free(files[i]);
	free(files);
	dphp_journal_free(rd);
	return r;
}

struct segfile {
	int fd;
};

static ssize_t
fromfile(char *buf, size_t n, void *arg)
{
	struct segfile *sf = arg;

	return read(sf->fd, buf, n);
}

int
dphp_journal_archive(const char *dir, const char *filter, int fd)
{
	char **segs, *base;
	struct dphp_tar *t;
	struct segfile sf;
	struct stat sb;
	size_t n, i;
	int r = 0;

	if ((segs = dphp_journal_segments(dir)) == NULL)
		return DPHP_EXIT_SYS;
	for (n = 0; segs[n] != NULL; n++)
		;
	if ((t = dphp_tar_open(fd, filter, "the archive")) == NULL)
		r = DPHP_EXIT_SYS;
	/* all but the newest: commits append to it still */
	for (i = 0; r == 0 && i + 1 < n; i++) {
		base = strrchr(segs[i], '/') + 1;
		if ((sf.fd = open(segs[i], O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC)) < 0 ||
		    fstat(sf.fd, &sb) != 0) {
			dphp_error("cannot read '%s':", segs[i]);
			r = DPHP_EXIT_SYS;
		} else
			r = dphp_tar_add(t, base, sb.st_size, fromfile, &sf);
		if (sf.fd >= 0)
			close(sf.fd);
	}
	if (t != NULL && r == 0)
		r = dphp_tar_close(t);
	else if (t != NULL)
		dphp_tar_abort(t);
	for (i = 0; i < n; i++)
		free(segs[i]);
	free(segs);
	return r;
}
