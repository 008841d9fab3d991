/*
 * ndjson.h - records in and out: strict newline-delimited JSON read
 * (ndjson.c) and written as dphp writes it (jsonout.c).
 */
#ifndef DPHP_NDJSON_H
#define DPHP_NDJSON_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* ndjson.c: strict newline-delimited JSON */
#define DPHP_MAX_LINE (16 * 1024 * 1024)	/* bytes, newline excluded */
struct dphp_reader {
	int fd;
	const char *name;	/* "<stdin>", the path, or archive:file */
	const char *path;
	void *archive;		/* libarchive's reading of a regular file */
	char *entry;		/* the name of the file of it being read */
	int inentry, lastnl;
	unsigned long line;	/* line number of the last record read */
	char *buf;		/* the line */
	size_t cap;
	char *in;		/* input read and not yet used */
	size_t inpos, inlen;
	int eof;
	int stream;		/* a pipe or terminal: may have to wait */
};
/* open PATH ("-" or NULL is stdin); NULL with a message on failure */
struct dphp_reader *dphp_reader_open(const char *path);
void dphp_reader_close(struct dphp_reader *);
/*
 * Read the next record: 1 and *out set (a new reference to a JSON
 * object), 0 at end of input, -1 after printing a located error
 * ("prog: FILE:LINE: reason").  Blank lines are skipped.  Invalid JSON,
 * invalid UTF-8, NUL bytes, duplicate keys, non-objects and lines longer
 * than DPHP_MAX_LINE are errors; so is a read error (then errno is set and
 * the return is -2).
 */
int dphp_reader_next(struct dphp_reader *, json_t **out);
/* can the next record be read without waiting for more input? */
int dphp_reader_pending(struct dphp_reader *);
/* print "prog: FILE:LINE: reason" for the record just read */
void dphp_reader_error(const struct dphp_reader *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* the first key of object obj that is not one of known (NULL-ended) */
const char *dphp_unknown_key(json_t *obj, const char *const *known);
/* parse one JSON value (any type) from a string or a whole file */
json_t *dphp_json_parse(const char *text, size_t len, const char *what);
json_t *dphp_json_load_file(const char *path, int *status);	/* "-": stdin */
/*
 * The loop of every stage: call fn on each record of the files named
 * (standard input when argc is 0), in order.  fn returns 0 to go on, or
 * an exit status to stop with.  Returns 0, fn's status, 3 after an
 * invalid record or 4 after an unreadable file (both already reported).
 */
typedef int dphp_record_fn(struct dphp_reader *, json_t *rec, void *arg);
int dphp_each_record(int argc, char **argv, dphp_record_fn *, void *arg);
/* write one compact record and '\n' to stdout; exit 4 on failure */
extern int dphp_unbuffered;
void dphp_write(json_t *);
/* the same, for a record already written as text */
void dphp_write_text(const char *text, size_t len);
/* what was written so far goes on now; a write error ends the program */
void dphp_flush(void);
/* something written is waiting in stdout's buffer */
int dphp_held(void);

/*
 * jsonout.c: JSON text as dphp writes it, compact, keys in their order,
 * a real in the shortest form that reads back to the same double (not
 * jansson's 17 digits): new text of any value (its length in *len when
 * len is not NULL), or written to fp (0, or -1 on a write error).
 */
char *dphp_json_text(json_t *, size_t *len);
int dphp_json_fput(json_t *, FILE *fp);

#endif
