/*
 * snapshot.c - a store, or the ids matching some patterns, as a tar
 * archive (dphp-project export) and back (dphp-commit -I).  An entry a
 * record, named SPACE/KIND/NAME/KEY as the store lays it out (the key
 * encoded as in file names), holding one line: {"id","etag","state"}
 * for a state, {"id","etag","owner"} for an ownership record.  Entries
 * sorted by name and written by tarball.c, so the same content gives
 * the same bytes; states read with commits held off, so they are one
 * moment's.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "dynlib.h"
#include "file.h"
#include "progress.h"

#include "snapshot.h"
#include "acl.h"
#include "history.h"
#include "tarball.h"
#include "util.h"

#define CHUNK 256	/* records a batch when importing */
#define CHUNK_BYTES (32 << 20)	/* and their bytes, at most (about) */
#define TOOLONG "longer than a record may be (16777216 bytes and a newline)"
_Static_assert(DPHP_MAX_LINE == 16777216, "TOOLONG says DPHP_MAX_LINE");

static const char *const spaces[] = { [DPHP_SPACE_STATE] = "state",
    [DPHP_SPACE_OWNER] = "owner" };
static const char *const fields[] = { [DPHP_SPACE_STATE] = "state",
    [DPHP_SPACE_OWNER] = "owner" };

/* The entry name of a record of id: new, or NULL for an invalid id. */
static char *
entryname(enum dphp_space sp, const char *id)
{
	struct dphp_id p;
	char *key, *name;

	if (dphp_id_parse(id, &p, NULL, 0) != 0)
		return NULL;
	key = dphp_key_encode(p.key);
	name = xasprintf("%s/%s/%s/%s", spaces[sp], dphp_kind_name(p.kind),
	    p.name, key);
	free(key);
	return name;
}

struct listing {
	json_t *names;		/* entry name: [space, id] */
	int npat;
	char **pat;
	enum dphp_space sp;
};

static int
listed(const char *id, const char *etag, void *arg)
{
	struct listing *l = arg;
	char *name;

	(void)etag;
	if (dphp_idglobs_match(l->npat, l->pat, id) &&
	    (name = entryname(l->sp, id)) != NULL) {
		json_object_set_new(l->names, name, json_pack("{siss}", "space",
		    l->sp, "id", id));
		free(name);
	}
	return 0;
}

static int
byname(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Write the record named name: 0, 1 if it is gone, or an exit. */
static int
entry(struct dphp_store *st, struct dphp_tar *t, const char *name,
    json_t *what)
{
	enum dphp_space sp = json_integer_value(json_object_get(what,
	    "space"));
	const char *id = json_string_value(json_object_get(what, "id"));
	char etag[DPHP_ETAG_MAX], *text;
	struct dphp_tar_bytes b;
	json_t *rec = NULL, *line;
	int g, r;

	g = sp == DPHP_SPACE_STATE ? dphp_store_get(st, id, &rec, etag) :
	    dphp_store_get_space(st, sp, id, &rec, etag);
	if (g == DPHP_STORE_ERROR)
		return DPHP_EXIT_SYS;
	if (g != DPHP_STORE_OK)
		return 1;	/* an ownership record forgotten meanwhile */
	line = json_pack("{sssssO}", "id", id, "etag", etag, fields[sp], rec);
	text = dphp_json_text(line, NULL);
	json_decref(line);
	json_decref(rec);
	b.data = text;
	b.len = strlen(text);
	text[b.len++] = '\n';	/* over the NUL: b.len, not strlen */
	b.off = 0;
	r = dphp_tar_add(t, name, b.len, dphp_tar_bytes, &b);
	free(text);
	return r;
}

int
dphp_snapshot_export(struct dphp_store *st, int npat, char **pat,
    const char *filter, int fd)
{
	struct listing l = { json_object(), npat, pat, DPHP_SPACE_STATE };
	const char **names, *name;
	struct dphp_tar *t = NULL;
	enum dphp_kind k;
	size_t n = 0, i;
	json_t *v;
	int r = 0;

	if (dphp_store_freeze(st) != 0) {
		json_decref(l.names);
		return DPHP_EXIT_SYS;
	}
	for (k = DPHP_KIND_ENTITY; r == 0 && k <= DPHP_KIND_ACTIVITY; k++) {
		l.sp = DPHP_SPACE_STATE;
		if (dphp_store_list(st, k, NULL, listed, &l) != 0)
			r = DPHP_EXIT_SYS;
		l.sp = DPHP_SPACE_OWNER;
		if (r == 0 && dphp_store_list_space(st, DPHP_SPACE_OWNER, k,
		    listed, &l) != 0)
			r = DPHP_EXIT_SYS;
	}
	names = xcalloc(json_object_size(l.names) + 1, sizeof(*names));
	json_object_foreach(l.names, name, v)
		names[n++] = name;
	qsort(names, n, sizeof(*names), byname);
	if (r == 0 && (t = dphp_tar_open(fd, filter, "the snapshot")) == NULL)
		r = DPHP_EXIT_SYS;
	dphp_progress_begin("records", (int64_t)n);
	for (i = 0; r == 0 && i < n; i++) {
		if ((r = entry(st, t, names[i], json_object_get(l.names,
		    names[i]))) == 1)
			r = 0;
		dphp_progress_add(1);
	}
	dphp_progress_end();
	/* a failed snapshot must not end like a whole one */
	if (t != NULL && r == 0)
		r = dphp_tar_close(t);
	else if (t != NULL)
		dphp_tar_abort(t);
	dphp_store_thaw(st);
	free(names);
	json_decref(l.names);
	return r;
}

/* importing */

struct importing {
	struct dphp_store *st;
	const char *path;	/* as messages name it */
	int spooled;		/* standard input held in a file, or -1 */
	int npat;
	char **pat;
	int force;
	json_t *towrite[2];	/* per space: [{"id","rec"}] to write */
	size_t bytes[2];	/* and how long they are */
	unsigned long done, same, conflicts;
};

static int flushspace(struct importing *, enum dphp_space);

/* "prog: ARCHIVE:WHERE: MSG" */
static void __attribute__((format(printf, 3, 4)))
refused(const struct importing *im, const char *where, const char *fmt, ...)
{
	char *at = xasprintf("%s:%s", im->path, where);
	va_list ap;

	va_start(ap, fmt);
	dphp_vsay(at, "", fmt, ap);
	va_end(ap);
	free(at);
}

/*
 * A record {"id","etag","state"} (*sp STATE) or {"id","etag","owner"}
 * (OWNER) from text, at where: 0 and *rec, or a located error.  With
 * guess, *sp is what the record says it is.
 */
static int
record(struct importing *im, const char *where, const char *text,
    size_t len, int guess, enum dphp_space *spp, json_t **rec)
{
	enum dphp_space sp;
	struct dphp_id id;
	json_error_t err;
	char buf[512];
	json_t *v;

	v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (guess)
		*spp = json_object_get(v, "owner") != NULL ? DPHP_SPACE_OWNER :
		    DPHP_SPACE_STATE;
	sp = *spp;
	if (v == NULL ||
	    !json_is_object(v) || !json_is_string(json_object_get(v, "id")) ||
	    dphp_id_parse(json_string_value(json_object_get(v, "id")), &id,
	    NULL, 0) != 0 || !json_is_string(json_object_get(v, "etag")) ||
	    json_object_get(v, fields[sp]) == NULL || (sp == DPHP_SPACE_OWNER &&
	    !json_is_object(json_object_get(v, fields[sp])))) {
		refused(im, where, "want {\"id\",\"etag\",\"%s\"}%s%s",
		    fields[sp], v ? "" : ": ", v ? "" : err.text);
		json_decref(v);
		return DPHP_EXIT_INPUT;
	}
	if (json_object_size(v) != 3) {
		json_object_del(v, "id");
		json_object_del(v, "etag");
		json_object_del(v, fields[sp]);
		refused(im, where, "unknown field '%.64s' in a record",
		    json_object_iter_key(json_object_iter(v)));
		json_decref(v);
		return DPHP_EXIT_INPUT;
	}
	if ((sp == DPHP_SPACE_STATE && id.kind == DPHP_KIND_ENTITY &&
	    dphp_entity_doc_check(json_object_get(v, "state"), buf,
	    sizeof(buf)) != 0) || (sp == DPHP_SPACE_OWNER &&
	    dphp_acl_bad(json_object_get(v, "owner"), buf, sizeof(buf)) != 0)) {
		refused(im, where, "%s", buf);
		json_decref(v);
		return DPHP_EXIT_INPUT;
	}
	*rec = v;
	return 0;
}

/* An entry of a tar, checked to be where its id puts it. */
static int
entryrecord(struct importing *im, const char *name, const char *text,
    size_t len, enum dphp_space *sp, json_t **rec)
{
	const char *id;
	char *want;
	int r;

	for (*sp = DPHP_SPACE_STATE; *sp <= DPHP_SPACE_OWNER; (*sp)++)
		if (*sp != DPHP_SPACE_LOCK && strncmp(name, spaces[*sp],
		    strlen(spaces[*sp])) == 0 && name[strlen(spaces[*sp])] ==
		    '/')
			break;
	if (*sp > DPHP_SPACE_OWNER) {
		refused(im, name, "not a record of a snapshot");
		return DPHP_EXIT_INPUT;
	}
	if ((r = record(im, name, text, len, 0, sp, rec)) != 0)
		return r;
	id = json_string_value(json_object_get(*rec, "id"));
	if ((want = entryname(*sp, id)) == NULL || strcmp(want, name) != 0) {
		refused(im, name, "the record of '%.300s' belongs elsewhere",
		    id);
		free(want);
		json_decref(*rec);
		return DPHP_EXIT_INPUT;
	}
	free(want);
	return 0;
}

/*
 * One record read: counted as the same as the store's, refused, or
 * (write) queued to be written.  0 or an exit status.
 */
static int
consider(struct importing *im, enum dphp_space sp, json_t *rec, size_t len,
    int write)
{
	const char *id = json_string_value(json_object_get(rec, "id"));
	char etag[DPHP_ETAG_MAX];
	json_t *cur = NULL;
	int g;

	if (!dphp_idglobs_match(im->npat, im->pat, id))
		return 0;
	g = sp == DPHP_SPACE_STATE ? dphp_store_get(im->st, id, &cur, etag) :
	    dphp_store_get_space(im->st, sp, id, &cur, etag);
	if (g == DPHP_STORE_ERROR)
		return DPHP_EXIT_SYS;
	if (g == DPHP_STORE_OK && json_equal(cur, json_object_get(rec,
	    fields[sp])))
		im->same++;
	else if (g == DPHP_STORE_OK && !im->force) {
		dphp_error("%s: '%s' exists with another state (-f: replace "
		    "it)", im->path, id);
		im->conflicts++;
	} else if (write) {
		/* written as it is read, a batch at a time: all is checked */
		json_array_append(im->towrite[sp == DPHP_SPACE_OWNER], rec);
		im->bytes[sp == DPHP_SPACE_OWNER] += len;
		if ((json_array_size(im->towrite[sp == DPHP_SPACE_OWNER]) >=
		    CHUNK || im->bytes[sp == DPHP_SPACE_OWNER] >= CHUNK_BYTES) &&
		    flushspace(im, sp) != 0) {
			json_decref(cur);
			return DPHP_EXIT_SYS;
		}
	}
	json_decref(cur);
	return 0;
}

/* One line, number no, of a file of records (what dphp-replay -J
 * prints): 0 or an exit status. */
static int
oneline(struct importing *im, unsigned long no, const char *p, size_t n,
    int write)
{
	enum dphp_space sp;
	char where[32];
	json_t *rec;
	int r;

	if (strspn(p, " \t\r") >= n)
		return 0;
	snprintf(where, sizeof(where), "%lu", no);
	if ((r = record(im, where, p, n, 1, &sp, &rec)) == 0) {
		r = consider(im, sp, rec, n, write);
		json_decref(rec);
	}
	return r;
}

/*
 * The lines of a file of records, read a chunk at a time: a line is at
 * most DPHP_MAX_LINE bytes, and no more than one is held.
 */
static int
lines(struct importing *im, struct archive *a, int write)
{
	char chunk[65536], *line = NULL, *p, *nl, where[32];
	size_t len = 0, cap = 0, n;
	unsigned long no = 0;
	la_ssize_t got;
	int r = 0;

	while (r == 0 && (got = archive_read_data(a, chunk, sizeof(chunk))) >
	    0) {
		for (p = chunk; r == 0 && p < chunk + got; p += n) {
			nl = memchr(p, '\n', chunk + got - p);
			n = (nl ? nl : chunk + got) - p;
			if (len + n > DPHP_MAX_LINE) {
				snprintf(where, sizeof(where), "%lu", no + 1);
				refused(im, where, "line longer than %d bytes",
				    DPHP_MAX_LINE);
				r = DPHP_EXIT_INPUT;
				break;
			}
			if (len + n + 1 > cap)
				line = xrealloc(line, cap = len + n + 1 +
				    (len + n) / 2);
			memcpy(line + len, p, n);
			len += n;
			if (nl == NULL)
				continue;
			n++;	/* the newline */
			line[len] = '\0';
			r = oneline(im, ++no, line, len, write);
			len = 0;
		}
	}
	if (r == 0 && got < 0)
		r = -1;		/* the caller says what the archive says */
	else if (r == 0 && len > 0) {	/* no final newline */
		line[len] = '\0';
		r = oneline(im, ++no, line, len, write);
	}
	free(line);
	return r;
}

/*
 * Is name a directory on the way to records, as tar(1) adds them:
 * SPACE, SPACE/KIND or SPACE/KIND/NAME, perhaps with a final '/'?
 */
static int
ontheway(const char *name)
{
	char buf[2 * DPHP_NAME_MAX], *part[4], *p, *save;
	struct dphp_id id;
	size_t n = 0;
	int ok;

	if (snprintf(buf, sizeof(buf), "%s", name) >= (int)sizeof(buf) ||
	    buf[0] == '/' || strstr(buf, "//") != NULL)
		return 0;
	for (p = strtok_r(buf, "/", &save); p != NULL && n < 4;
	    p = strtok_r(NULL, "/", &save))
		part[n++] = p;
	if (n == 0 || n > 3 || (strcmp(part[0], spaces[DPHP_SPACE_STATE]) !=
	    0 && strcmp(part[0], spaces[DPHP_SPACE_OWNER]) != 0))
		return 0;
	if (n == 1)
		return 1;
	p = xasprintf("%s:%s:k", part[1], n == 3 ? part[2] : "n");
	ok = dphp_id_parse(p, &id, NULL, 0) == 0;
	free(p);
	return ok;
}

/*
 * Why a tar entry is not a record: not a regular file, or too long;
 * NULL for a record, and for a directory on the way to records, which
 * *skip says to pass over.
 */
static const char *
notrecord(struct archive_entry *e, int *skip)
{
	*skip = 0;
	if (archive_entry_hardlink(e) != NULL)
		return "a hard link, not a record";
	switch (archive_entry_filetype(e)) {
	case AE_IFREG:
		break;
	case AE_IFLNK:
		return "a symbolic link, not a record";
	case AE_IFDIR:
		if ((*skip = ontheway(archive_entry_pathname(e))))
			return NULL;
		return "a directory where no record goes";
	default:
		return "not a regular file, not a record";
	}
	if (archive_entry_size_is_set(e) &&
	    archive_entry_size(e) > DPHP_MAX_LINE + 1)
		return TOOLONG;
	return NULL;
}

/*
 * The data of the current entry, a record, into *buf (*cap long): its
 * length, or -1 when it is longer than a record may be, -2 when it
 * cannot be read.
 */
static la_ssize_t
entrydata(struct archive *a, char **buf, size_t *cap)
{
	size_t len = 0;
	la_ssize_t got;

	for (;;) {
		if (len + 65536 > *cap)
			*buf = xrealloc(*buf, *cap = len + 65536 + len / 2);
		if ((got = archive_read_data(a, *buf + len, 65536)) <= 0)
			return got < 0 ? -2 : (la_ssize_t)len;
		if ((len += got) > DPHP_MAX_LINE + 1)
			return -1;
	}
}

/*
 * Read the archive; check every entry, and (write) write what differs
 * from the store, a batch at a time.  Returns 0 or an exit status.
 */
static int
each(struct importing *im, int write)
{
	struct archive *a;
	struct archive_entry *e;
	const char *name, *bad;
	char *buf = NULL;
	size_t cap = 0;
	enum dphp_space sp;
	json_t *line;
	la_ssize_t len;
	int k, r = 0, fd, skip;

	if (dphp_archive_load() != 0)
		return DPHP_EXIT_SYS;
	a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_raw(a);
	if (im->spooled >= 0)
		fd = lseek(im->spooled, 0, SEEK_SET) == 0 ? fcntl(im->spooled,
		    F_DUPFD_CLOEXEC, 0) : -1;
	else
		fd = open(im->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		dphp_error("cannot read '%s':", im->path);
		archive_read_free(a);
		return DPHP_EXIT_SYS;
	}
	if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
		/* readable, but no tar archive */
		dphp_error("cannot read '%s': %s", im->path,
		    archive_error_string(a));
		archive_read_free(a);
		close(fd);
		return DPHP_EXIT_INPUT;
	}
	while (r == 0 && (k = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		if (archive_format(a) == ARCHIVE_FORMAT_RAW) {
			if ((r = lines(im, a, write)) < 0) {
				k = ARCHIVE_FATAL;	/* said below */
				r = 0;
				break;
			}
			continue;
		}
		name = archive_entry_pathname(e);
		if ((bad = notrecord(e, &skip)) == NULL && skip)
			continue;
		if (bad != NULL || (len = entrydata(a, &buf, &cap)) == -1) {
			refused(im, name, "%s", bad ? bad : TOOLONG);
			r = DPHP_EXIT_INPUT;
		} else if (len < 0)
			k = ARCHIVE_FATAL;
		else if ((r = entryrecord(im, name, buf, len, &sp,
		    &line)) == 0) {
			r = consider(im, sp, line, len, write);
			json_decref(line);
		}
		if (k == ARCHIVE_FATAL)
			break;
		dphp_progress_add(1);
	}
	if (r == 0 && k != ARCHIVE_EOF) {
		dphp_error("cannot read '%s': %s", im->path,
		    archive_error_string(a));
		r = DPHP_EXIT_INPUT;
	}
	free(buf);
	archive_read_free(a);
	close(fd);
	return r;
}

/* Write the queued records of one space, CHUNK to a batch, and forget
 * them. */
static int
flushspace(struct importing *im, enum dphp_space sp)
{
	json_t *towrite = im->towrite[sp == DPHP_SPACE_OWNER], *line;
	struct dphp_change c[CHUNK];
	size_t i, n, at;

	for (at = 0; at < json_array_size(towrite); at += n) {
		n = json_array_size(towrite) - at;
		if (n > CHUNK)
			n = CHUNK;
		memset(c, 0, sizeof(c));
		for (i = 0; i < n; i++) {
			line = json_array_get(towrite, at + i);
			c[i].id = json_string_value(json_object_get(line, "id"));
			c[i].op = DPHP_PUT;
			c[i].space = sp;
			c[i].state = json_object_get(line, fields[sp]);
			c[i].cond = im->force ? DPHP_IF_ANY : DPHP_IF_ABSENT;
		}
		if (dphp_store_batch(im->st, c, n) == DPHP_STORE_ERROR)
			return DPHP_EXIT_SYS;
		for (i = 0; i < n; i++)
			if (c[i].result == DPHP_STORE_OK)
				im->done++;
			else {
				dphp_error("%s: '%s' was made meanwhile: left "
				    "as it is", im->path, c[i].id);
				im->conflicts++;
			}
	}
	json_array_clear(towrite);
	im->bytes[sp == DPHP_SPACE_OWNER] = 0;
	return 0;
}

int
dphp_snapshot_import(struct dphp_store *st, const char *path, int npat,
    char **pat, int force, unsigned long counts[3])
{
	struct importing im = { st, dphp_input_name(path), -1, npat, pat,
	    force, { json_array(), json_array() }, { 0, 0 }, 0, 0, 0 };
	int r;

	/* read twice (checked, then written): "-" is held in a file */
	if (strcmp(path, "-") == 0 && (im.spooled = dphp_spool_stdin()) < 0)
		return DPHP_EXIT_SYS;
	/* all checked first: a bad archive writes nothing */
	dphp_progress_begin("entries checked", -1);
	if ((r = each(&im, 0)) == 0 && im.conflicts == 0) {
		im.same = 0;
		dphp_progress_begin("entries imported", -1);
		if ((r = each(&im, 1)) == 0 && (r = flushspace(&im,
		    DPHP_SPACE_STATE)) == 0)
			r = flushspace(&im, DPHP_SPACE_OWNER);
	}
	dphp_progress_end();
	counts[0] = im.done;
	counts[1] = im.same;
	counts[2] = im.conflicts;
	json_decref(im.towrite[0]);
	json_decref(im.towrite[1]);
	if (im.spooled >= 0)
		close(im.spooled);
	if (r == 0 && im.conflicts > 0)
		r = DPHP_EXIT_NO;
	return r;
}
