/*
 * journal.c - reading a store's journal (dphp-store(5)): segments of
 * NDJSON lines, a committed state each, in batches that end with an end
 * marker.  What a batch voids (it never happened: a crash between its
 * lines and its records) is left out, and so is a last batch with no
 * end (unconfirmed: its writer may have crashed before its records).  A
 * torn last line is what a crash mid-append leaves: dropped, with a
 * warning.  Any other bad line stops the reading, located.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dphp.h"

struct reading {
	dphp_journal_fn *fn;
	void *arg;
	json_t *batch;		/* lines read since the last end */
	json_int_t last;	/* the last seq read */
	const char *file;	/* where the batch began */
	unsigned long line;
};

static int
bad(const char *file, unsigned long line, const char *why)
{
	fprintf(stderr, "%s: %s:%lu: corrupt journal line: %s\n", dphp_prog,
	    file, line, why);
	return DPHP_EXIT_INPUT;
}

/* Hand on the lines of the batch that just ended, but those voided. */
static int
flush(struct reading *rd, json_t *end)
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
	return r;
}

/* One line of a segment. */
static int
take(struct reading *rd, const char *file, unsigned long no, json_t *v)
{
	json_t *seq = json_object_get(v, "seq"), *e = json_object_get(v,
	    "end");
	struct dphp_id id;
	const char *why;

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
	    &why) != 0 || !json_is_string(json_object_get(v, "etag")) ||
	    !json_is_string(json_object_get(v, "at")) ||
	    (json_object_get(v, "state") == NULL) ==
	    !json_is_true(json_object_get(v, "deleted")))
		return bad(file, no, "a state line needs 'id', 'etag', 'at' "
		    "and 'state' or 'deleted'");
	rd->last = json_integer_value(seq);
	if (json_array_size(rd->batch) == 0) {
		rd->file = file;
		rd->line = no;
	}
	json_array_append(rd->batch, v);
	return 0;
}

/* Read one segment file; final: it is the last one. */
static int
segment(struct reading *rd, const char *path, int final)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long no = 0;
	json_error_t err;
	json_t *v;
	FILE *f;
	int r = 0;

	if ((f = fopen(path, "re")) == NULL) {
		dphp_error("cannot open '%s':", path);
		return DPHP_EXIT_SYS;
	}
	while (r == 0 && (len = getline(&line, &cap, f)) > 0) {
		no++;
		if (line[len - 1] != '\n') {
			if (final) {	/* a crash mid-append */
				dphp_warn("%s:%lu: a torn last line, dropped",
				    path, no);
				break;
			}
			r = bad(path, no, "no newline, in a segment not the last");
			break;
		}
		if ((v = json_loadb(line, len - 1, JSON_REJECT_DUPLICATES,
		    &err)) == NULL || !json_is_object(v)) {
			r = bad(path, no, v ? "not an object" : err.text);
			json_decref(v);
			break;
		}
		r = take(rd, path, no, v);
		json_decref(v);
	}
	if (r == 0 && ferror(f)) {
		dphp_error("cannot read '%s':", path);
		r = DPHP_EXIT_SYS;
	}
	free(line);
	fclose(f);
	return r;
}

static int
byname(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The segments of a journal directory, sorted: a new NULL-ended list. */
static char **
segments(const char *dir)
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
		if (strlen(de->d_name) > 7 && strcmp(de->d_name +
		    strlen(de->d_name) - 7, ".ndjson") == 0) {
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
	struct reading rd = { fn, arg, json_array(), 0, NULL, 0 };
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
		if ((segs = segments(argv[a])) == NULL) {
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
		r = segment(&rd, files[i], i + 1 == n);
	if (r == 0 && json_array_size(rd.batch) > 0)
		dphp_warn("%s:%lu: the last batch has no end (its writer "
		    "stopped before its records were durable): left out",
		    rd.file, rd.line);
	for (i = 0; i < n; i++)
		free(files[i]);
	free(files);
	json_decref(rd.batch);
	return r;
}
