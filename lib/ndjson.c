/*
 * ndjson.c - strict newline-delimited JSON: one object per line, read
 * with a bounded line buffer (a 1 GiB line costs at most DPHP_MAX_LINE
 * bytes of memory before it is refused) and parsed by jansson with
 * duplicate keys rejected; written compact, one record per line, with
 * every write checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dphp.h"

int dphp_unbuffered;

struct dphp_reader *
dphp_reader_open(const char *path)
{
	struct dphp_reader *r;
	int fd = 0;

	if (path == NULL || strcmp(path, "-") == 0)
		path = "<stdin>";
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		dphp_error("cannot open '%s':", path);
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->fd = fd;
	r->name = path;
	r->in = xmalloc(65536);
	return r;
}

void
dphp_reader_close(struct dphp_reader *r)
{
	if (r == NULL)
		return;
	if (r->fd != 0)
		close(r->fd);
	free(r->in);
	free(r->buf);
	free(r);
}

void
dphp_reader_error(const struct dphp_reader *r, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: %s:%lu: ", dphp_prog, r->name, r->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Read more input into r->in: its length, 0 at end of input, -1 error. */
static ssize_t
fill(struct dphp_reader *r)
{
	ssize_t n;

	r->inpos = r->inlen = 0;
	/*
	 * The input pauses: what was written so far goes on now, so that
	 * a pipeline of stages never waits on a record held in a buffer
	 * (a worker's take stage waits for the acknowledgements).
	 */
	if (!dphp_reader_pending(r))
		fflush(stdout);
	while ((n = read(r->fd, r->in, 65536)) < 0 && errno == EINTR)
		;
	if (n > 0)
		r->inlen = n;
	return n;
}

int
dphp_reader_pending(struct dphp_reader *r)
{
	struct pollfd pf;

	if (r->eof || r->inpos < r->inlen)
		return 1;
	pf.fd = r->fd;
	pf.events = POLLIN;
	return poll(&pf, 1, 0) != 0;
}

/*
 * Read one line into r->buf: its length, or -1 at end of input, -2 if
 * it is too long (the rest of it skipped), -3 on a read error.
 */
static long
readline(struct dphp_reader *r)
{
	size_t n = 0, take;
	char *nl;
	ssize_t got;
	int toolong = 0;

	if (r->eof)
		return -1;
	for (;;) {
		if (r->inpos == r->inlen) {
			if ((got = fill(r)) < 0)
				return -3;
			if (got == 0) {
				r->eof = 1;
				if (n == 0 && !toolong)
					return -1;
				break;
			}
		}
		nl = memchr(r->in + r->inpos, '\n', r->inlen - r->inpos);
		take = (nl ? (size_t)(nl - r->in) : r->inlen) - r->inpos;
		if (!toolong && n + take > DPHP_MAX_LINE)
			toolong = 1;	/* refuse it without keeping it */
		if (!toolong) {
			if (n + take + 1 > r->cap) {
				while (n + take + 1 > r->cap)
					r->cap = r->cap ? r->cap * 2 : 4096;
				r->buf = xrealloc(r->buf, r->cap);
			}
			memcpy(r->buf + n, r->in + r->inpos, take);
			n += take;
		}
		r->inpos += take + (nl != NULL);
		if (nl != NULL)
			break;
	}
	if (toolong)
		return -2;
	if (r->buf == NULL)
		r->buf = xmalloc(r->cap = 4096);
	r->buf[n] = '\0';
	return (long)n;
}

static int
blank(const char *s, size_t n)
{
	for (; n > 0; s++, n--)
		if (*s != ' ' && *s != '\t' && *s != '\r')
			return 0;
	return 1;
}

int
dphp_reader_next(struct dphp_reader *r, json_t **out)
{
	json_error_t err;
	const char *nul;
	json_t *v;
	long n;

	for (;;) {
		n = readline(r);
		if (n == -3) {
			dphp_error("read error on '%s':", r->name);
			return -2;
		}
		if (n == -1)
			return 0;
		r->line++;
		if (n == -2) {
			dphp_reader_error(r, "line longer than %d bytes",
			    DPHP_MAX_LINE);
			return -1;
		}
		if (!blank(r->buf, n))
			break;
	}
	if ((nul = memchr(r->buf, '\0', n)) != NULL) {
		/* jansson would call this "end of file" */
		dphp_reader_error(r, "NUL byte in line (column %ld)",
		    (long)(nul - r->buf) + 1);
		return -1;
	}
	v = json_loadb(r->buf, n, JSON_REJECT_DUPLICATES, &err);
	if (v == NULL) {
		dphp_reader_error(r, "invalid JSON: %s (column %d)", err.text,
		    err.column);
		return -1;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		dphp_reader_error(r, "record is not a JSON object");
		return -1;
	}
	*out = v;
	return 1;
}

json_t *
dphp_json_parse(const char *text, size_t len, const char *what)
{
	json_error_t err;
	json_t *v;

	v = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
	    &err);
	if (v == NULL)
		dphp_error("%s: invalid JSON: %s (line %d, column %d)", what,
		    err.text, err.line, err.column);
	return v;
}

json_t *
dphp_json_load_file(const char *path)
{
	FILE *fp = stdin;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	json_t *v;

	if (strcmp(path, "-") != 0 && (fp = fopen(path, "r")) == NULL) {
		dphp_error("cannot open '%s':", path);
		return NULL;
	}
	do {
		if (len + 65536 > cap) {
			cap = cap ? cap * 2 : 65536;
			buf = xrealloc(buf, cap);
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
	} while (n > 0 && len <= DPHP_MAX_LINE);
	if (ferror(fp)) {
		dphp_error("read error on '%s':", path);
		v = NULL;
	} else if (len > DPHP_MAX_LINE) {
		dphp_error("%s: longer than %d bytes",
		    fp == stdin ? "<stdin>" : path, DPHP_MAX_LINE);
		v = NULL;
	} else
		v = dphp_json_parse(buf, len, fp == stdin ? "<stdin>" : path);
	if (fp != stdin)
		fclose(fp);
	free(buf);
	return v;
}

int
dphp_each_record(int argc, char **argv, dphp_record_fn *fn, void *arg)
{
	struct dphp_reader *rd;
	json_t *rec;
	int i, r, status = 0;

	for (i = 0; status == 0 && i < (argc > 0 ? argc : 1); i++) {
		if ((rd = dphp_reader_open(argc > 0 ? argv[i] : NULL)) == NULL)
			return DPHP_EXIT_SYS;
		while (status == 0 && (r = dphp_reader_next(rd, &rec)) > 0) {
			status = fn(rd, rec, arg);
			json_decref(rec);
		}
		if (status == 0 && r < 0)
			status = r == -1 ? DPHP_EXIT_INPUT : DPHP_EXIT_SYS;
		dphp_reader_close(rd);
	}
	return status;
}

void
dphp_write(json_t *v)
{
	if (json_dumpf(v, stdout, JSON_COMPACT) != 0 || putchar('\n') == EOF ||
	    (dphp_unbuffered && fflush(stdout) == EOF))
		dphp_die(DPHP_EXIT_SYS, "write error on <stdout>:");
}
