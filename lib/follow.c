/*
 * follow.c - the journal of a directory store read as it grows: the
 * change feed of dphp-project follow.  Only ended batches are handed
 * on.  A batch its writer takes back (the segment is cut short) is
 * forgotten and read again from where it began.  A segment is done
 * once a newer one exists: a writer ends a batch in the segment it
 * began in, and starts a segment only with a new batch.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "util.h"

#define POLL_MS 100
#define TICK_LINES 1000	/* a transaction of a catching-up SQL sink */

struct feed {
	dphp_journal_fn *fn;
	dphp_tick_fn *tick;
	void *arg;
	json_int_t ticked;	/* the last seq ticked */
	json_int_t after;
	struct dphp_journal *rd;
	const char *path;	/* the segment being read */
	int fd;
	off_t pos;		/* after the last whole line taken */
	off_t batchpos;		/* where the batch not yet ended began */
	unsigned long line, batchline;
	char *buf;
	size_t cap;
};

/* "prog: SEGMENT:LINE: MSG" */
static void __attribute__((format(printf, 3, 4)))
where(const struct feed *f, unsigned long line, const char *fmt, ...)
{
	char *at = xasprintf("%s:%lu", f->path, line);
	va_list ap;

	va_start(ap, fmt);
	dphp_vsay(at, "", fmt, ap);
	va_end(ap);
	free(at);
}

static int
pass(json_t *line, void *arg)
{
	struct feed *f = arg;

	if (json_integer_value(json_object_get(line, "seq")) <= f->after)
		return 0;
	return f->fn(line, f->arg);
}

/* Tick when the lines up to a later seq are all handed on. */
static int
due(struct feed *f, json_int_t every)
{
	json_int_t settled = dphp_journal_settled(f->rd);

	if (settled < f->ticked + every)
		return 0;
	f->ticked = settled;
	return f->tick(settled, f->arg);
}

/* Take the whole lines from pos to the end (*any: there were some). */
static int
readon(struct feed *f, int *any)
{
	char *p, *nl;
	ssize_t got;
	size_t len = 0;
	int r;

	*any = 0;
	for (;;) {
		if (len == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 1 << 20;
			f->buf = xrealloc(f->buf, f->cap);
		}
		if ((got = pread(f->fd, f->buf + len, f->cap - len, f->pos +
		    len)) < 0) {
			if (errno == EINTR)
				continue;
			dphp_error("cannot read '%s':", f->path);
			return DPHP_EXIT_SYS;
		}
		len += got;
		for (p = f->buf; (nl = memchr(p, '\n', len - (p - f->buf)));
		    p = nl + 1) {
			if (dphp_journal_pending(f->rd) == 0) {
				f->batchpos = f->pos + (p - f->buf);
				f->batchline = f->line;
			}
			f->line++;
			r = dphp_journal_line(f->rd, f->path, f->line, p,
			    nl - p);
			if (r != 0 || (r = due(f, TICK_LINES)) != 0)
				return r;
			*any = 1;
		}
		f->pos += p - f->buf;
		len -= p - f->buf;
		memmove(f->buf, p, len);
		if (len > DPHP_JOURNAL_LINE_MAX) {
			where(f, f->line + 1, "corrupt journal line: longer "
			    "than a journal line may be");
			return DPHP_EXIT_INPUT;
		}
		if (got == 0)
			return 0;
	}
}

/* The segment after the one being read, or NULL: a new string. */
static char *
newer(const char *dir, const char *path)
{
	char **segs = dphp_journal_segments(dir), *next = NULL;
	size_t i;

	for (i = 0; segs != NULL && segs[i] != NULL; i++) {
		if (next == NULL && strcmp(segs[i], path) > 0)
			next = segs[i];
		else
			free(segs[i]);
	}
	free(segs);
	return next;
}

/* The segment holding seq after + 1, or the first: a new string, or
 * NULL (*err set when that is an error, reported). */
static char *
first(const char *dir, json_int_t after, int *err)
{
	char **segs, *pick = NULL, *base;
	size_t i;

	*err = 0;
	if (access(dir, F_OK) != 0)
		return NULL;
	if ((segs = dphp_journal_segments(dir)) == NULL) {
		*err = 1;
		return NULL;
	}
	for (i = 0; segs[i] != NULL; i++) {
		base = strrchr(segs[i], '/') + 1;
		if (pick == NULL || strtoll(base, NULL, 10) <= after + 1) {
			free(pick);
			pick = segs[i];
		} else
			free(segs[i]);
	}
	free(segs);
	return pick;
}

/* Read the segment f->path as it grows, until a newer one exists. */
static int
segment(struct feed *f, const char *dir, int forever, char **next)
{
	struct stat sb;
	int got, r;

	f->pos = f->batchpos = 0;
	f->line = f->batchline = 0;
	*next = NULL;
	for (;;) {
		if ((r = readon(f, &got)) != 0)
			return r;
		if ((r = due(f, 1)) != 0)
			return r;
		if (fstat(f->fd, &sb) != 0) {
			dphp_error("cannot read '%s':", f->path);
			return DPHP_EXIT_SYS;
		}
		if (sb.st_size < f->pos) {	/* a batch taken back */
			dphp_journal_retract(f->rd);
			f->pos = f->batchpos;
			f->line = f->batchline;
			continue;
		}
		if (got)
			continue;
		if ((*next = newer(dir, f->path)) != NULL) {
			if ((r = readon(f, &got)) != 0)
				return r;
			if (got) {	/* what came before it */
				free(*next);
				*next = NULL;
				continue;
			}
			if (sb.st_size > f->pos) {
				where(f, f->line + 1, "corrupt journal line: no "
				    "newline, in a segment not the last");
				return DPHP_EXIT_INPUT;
			}
			dphp_journal_unended(f->rd);
			dphp_journal_retract(f->rd);
			return 0;
		}
		if (!forever) {
			dphp_journal_unended(f->rd);
			return 0;
		}
		dphp_nap(POLL_MS);
	}
}

int
dphp_journal_follow(const char *dir, json_int_t after, int forever,
    dphp_journal_fn *fn, dphp_tick_fn *tick, void *arg)
{
	struct feed f = { fn, tick, arg, after, after, NULL, NULL, -1, 0, 0,
	    0, 0, NULL, 0 };
	char *path, *next = NULL;
	int r = 0, err;

	while ((path = first(dir, after, &err)) == NULL) {
		if (err)
			return DPHP_EXIT_SYS;
		if (!forever)
			return access(dir, F_OK) == 0 || errno == ENOENT ? 0 :
			    DPHP_EXIT_SYS;
		dphp_nap(POLL_MS);
	}
	if (strtoll(strrchr(path, '/') + 1, NULL, 10) > after + 1) {
		dphp_error("%s begins at seq %lld: the lines after %lld were "
		    "archived (replay the archive with dphp-replay -J)", dir,
		    strtoll(strrchr(path, '/') + 1, NULL, 10), (long long)after);
		free(path);
		return DPHP_EXIT_INPUT;
	}
	f.rd = dphp_journal_new(pass, &f);
	while (r == 0 && path != NULL) {
		f.path = path;
		if ((f.fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
			dphp_error("cannot open '%s':", path);
			r = DPHP_EXIT_SYS;
		} else {
			r = segment(&f, dir, forever, &next);
			close(f.fd);
		}
		free(path);
		path = r == 0 ? next : NULL;
		if (r != 0)
			free(next);
	}
	dphp_journal_free(f.rd);
	free(f.buf);
	return r;
}
