/*
 * util.c - program name, diagnostics and allocation that cannot fail
 * quietly.  Every message has the shape "prog: error: text"; a format
 * ending in ':' gets the text of errno appended, as in sbase's eprintf.
 * A message is one line of text whatever it quotes: ids, keys, event
 * fields and handlers' output come from users, and a terminal escape in
 * one must not reach the terminal (it could retitle it, clear it, or
 * hide the lines before), so control characters are written escaped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *dphp_prog = "dphp";
void (*dphp_say_hook)(void);

void
dphp_setprog(const char *name)
{
	dphp_prog = name;
}

/* the length of the UTF-8 sequence at s (at most n bytes), or 0 */
static size_t
utf8len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	len = s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : s[0] >= 0xe0 ? 3 :
	    s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
	if (len == 0 || len > n)
		return 0;
	cp = s[0] & (0x7f >> len);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

void
dphp_escaped(FILE *fp, const char *text, size_t n)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, len;

	while (i < n) {
		len = utf8len(s + i, n - i);
		if (len == 1 && s[i] >= 0x20 && s[i] != 0x7f)
			putc(s[i], fp);
		else if (len == 1 && s[i] == '\t')
			putc('\t', fp);
		else if (len == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0)
			fprintf(fp, "\\u%04x", s[i + 1]);	/* C1 control */
		else if (len > 1)
			fwrite(s + i, 1, len, fp);
		else
			fprintf(fp, "\\x%02x", s[i]);
		i += len ? len : 1;
	}
}

void
dphp_vsay(const char *where, const char *level, const char *fmt,
    va_list ap)
{
	int saved = errno;
	size_t n = strlen(fmt);
	char *text;

	fflush(stdout);		/* records before the message, as they came */
	if (dphp_say_hook != NULL)
		dphp_say_hook();
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	fprintf(stderr, "%s: ", dphp_prog);
	if (where != NULL) {
		dphp_escaped(stderr, where, strlen(where));
		fputs(": ", stderr);
	}
	fputs(level, stderr);
	if (text != NULL)
		dphp_escaped(stderr, text, strlen(text));
	if (n > 0 && fmt[n - 1] == ':')
		fprintf(stderr, " %s", strerror(saved));
	fputc('\n', stderr);
	free(text);
	errno = saved;
}

static void
vmessage(const char *level, const char *fmt, va_list ap)
{
	dphp_vsay(NULL, level, fmt, ap);
}

void
dphp_located(const char *where, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dphp_vsay(where, "", fmt, ap);
	va_end(ap);
}

/*
 * About line no of path: prog: path:line: message, as compilers put it
 * and without "error:" between, so that editors jump to the line.
 */
void
dphp_at_line(const char *path, unsigned long no, const char *fmt, ...)
{
	char *where = xasprintf("%s:%lu", path, no);
	va_list ap;

	va_start(ap, fmt);
	dphp_vsay(where, "", fmt, ap);
	va_end(ap);
	free(where);
}

void
dphp_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("error: ", fmt, ap);
	va_end(ap);
}

void
dphp_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("warning: ", fmt, ap);
	va_end(ap);
}

void
dphp_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("error: ", fmt, ap);
	va_end(ap);
	exit(status);
}

int
dphp_why(char *why, size_t whysz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
	return -1;
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		dphp_die(DPHP_EXIT_SYS, "malloc %zu bytes:", n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		dphp_die(DPHP_EXIT_SYS, "calloc %zu*%zu bytes:", n, size);
	return p;
}

void *
xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n ? n : 1);

	if (p == NULL)
		dphp_die(DPHP_EXIT_SYS, "realloc %zu bytes:", n);
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		dphp_die(DPHP_EXIT_SYS, "strdup:");
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		dphp_die(DPHP_EXIT_SYS, "vasprintf:");
	return p;
}
