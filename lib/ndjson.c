/*
 * ndjson.c - strict newline-delimited JSON: one object per line, read
 * with a bounded line buffer (a 1 GiB line costs at most DPHP_MAX_LINE
 * bytes of memory before it is refused) and parsed by jansson with
 * duplicate keys rejected; written compact, one record per line, with
 * every write checked.  A regular file named may be compressed (gzip,
 * xz, zstd, bzip2) or a tar archive of such files: libarchive reads it,
 * told by its content; a line of an archived file is located
 * archive:file:line.  Pipes and terminals are read as they come.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "dynlib.h"

#include "ndjson.h"
#include "util.h"

int dphp_unbuffered;

/*
 * A regular file is read through libarchive, so that it may be
 * compressed or archived, unless it is plainly records: its first byte
 * but blanks a '{' (no archive or compressed file begins so).  0, or -1
 * with a message.
 */
static int
unpack(struct dphp_reader *r)
{
	struct archive *a;
	struct stat sb;
	char head[512];
	ssize_t n, i = 0;

	if (fstat(r->fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size == 0)
		return 0;
	if ((n = pread(r->fd, head, sizeof(head), 0)) > 0)
		while (i < n && strchr(" \t\r\n", head[i]) != NULL &&
		    head[i] != '\0')
			i++;
	if (i < n && head[i] == '{')
		return 0;
	if (dphp_archive_load() != 0)
		return -1;
	a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_fd(a, r->fd, 65536) != ARCHIVE_OK) {
		dphp_error("cannot read '%s': %s", r->path,
		    archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	r->archive = a;
	return 0;
}

/*
 * Read more of an archive into r->in: its length, 0 at its end, -1 on
 * error.  A file of it that does not end with a newline is given one,
 * so that no line runs into the next file's.
 */
static ssize_t
unpacked(struct dphp_reader *r)
{
	struct archive *a = r->archive;
	struct archive_entry *e;
	la_ssize_t n;
	int k;

	for (;;) {
		if (r->inentry) {
			if ((n = archive_read_data(a, r->in, 65536)) > 0) {
				r->lastnl = r->in[n - 1] == '\n';
				return n;
			}
			if (n < 0)
				break;
			r->inentry = 0;
			if (!r->lastnl) {
				r->in[0] = '\n';
				r->lastnl = 1;
				return 1;
			}
		}
		if ((k = archive_read_next_header(a, &e)) == ARCHIVE_EOF)
			return 0;
		if (k != ARCHIVE_OK && k != ARCHIVE_WARN)
			break;
		if (archive_format(a) == ARCHIVE_FORMAT_RAW)
			r->inentry = 1;
		else if (archive_entry_filetype(e) == AE_IFREG) {
			free(r->entry);
			r->entry = xasprintf("%s:%s", r->path,
			    archive_entry_pathname(e));
			r->name = r->entry;
			r->line = 0;
			r->inentry = 1;
		}
	}
	dphp_error("cannot read '%s': %s", r->name, archive_error_string(a));
	errno = EIO;
	return -1;
}

struct dphp_reader *
dphp_reader_open(const char *path)
{
	struct dphp_reader *r;
	struct stat sb;
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
	r->path = path;
	r->in = xmalloc(65536);
	r->stream = fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode);
	if (fd != 0 && unpack(r) != 0) {
		dphp_reader_close(r);
		return NULL;
	}
	return r;
}

void
dphp_reader_close(struct dphp_reader *r)
{
	if (r == NULL)
		return;
	if (r->archive != NULL)
		archive_read_free(r->archive);
	if (r->fd != 0)
		close(r->fd);
	free(r->entry);
	free(r->in);
	free(r->buf);
	free(r);
}

void
dphp_reader_error(const struct dphp_reader *r, const char *fmt, ...)
{
	char *where = xasprintf("%s:%lu", r->name, r->line);
	va_list ap;

	va_start(ap, fmt);
	dphp_vsay(where, "", fmt, ap);
	va_end(ap);
	free(where);
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
	if (!dphp_reader_pending(r)) {
		dphp_flush();
		if (r->stream)
			dphp_await_input(r->fd);
	}
	if (r->archive != NULL)
		n = unpacked(r);
	else
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

/*
 * The one JSON text of a file: new, or NULL with *status the exit status
 * it calls for, 4 when the file cannot be read, 3 when it is not JSON.
 */
json_t *
dphp_json_load_file(const char *path, int *status)
{
	FILE *fp = stdin;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	json_t *v;

	*status = DPHP_EXIT_INPUT;
	if (strcmp(path, "-") != 0 && (fp = fopen(path, "r")) == NULL) {
		dphp_error("cannot open '%s':", path);
		*status = DPHP_EXIT_SYS;
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
		*status = DPHP_EXIT_SYS;
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
	if (dphp_json_fput(v, stdout) != 0 || putchar('\n') == EOF ||
	    (dphp_unbuffered && fflush(stdout) == EOF))
		dphp_die(DPHP_EXIT_SYS, "write error on <stdout>:");
}

void
dphp_flush(void)
{
	if (fflush(stdout) == EOF)
		dphp_die(DPHP_EXIT_SYS, "write error on <stdout>:");
}

int
dphp_held(void)
{
	return __fpending(stdout) > 0;
}

void
dphp_write_text(const char *text, size_t len)
{
	if (fwrite(text, 1, len, stdout) != len || putchar('\n') == EOF ||
	    (dphp_unbuffered && fflush(stdout) == EOF))
		dphp_die(DPHP_EXIT_SYS, "write error on <stdout>:");
}

const char *
dphp_unknown_key(json_t *obj, const char *const *known)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(obj, key, v) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (known[i] == NULL)
			return key;
	}
	return NULL;
}
