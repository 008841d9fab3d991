/*
 * util.c - program name, diagnostics and allocation that cannot fail
 * quietly.  Every message has the shape "prog: error: text"; a format
 * ending in ':' gets the text of errno appended, as in sbase's eprintf.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dphp.h"

const char *dphp_prog = "dphp";

void
dphp_setprog(const char *name)
{
	dphp_prog = name;
}

static void
vmessage(const char *level, const char *fmt, va_list ap)
{
	int saved = errno;
	size_t n = strlen(fmt);

	fflush(stdout);		/* records before the message, as they came */
	fprintf(stderr, "%s: %s", dphp_prog, level);
	vfprintf(stderr, fmt, ap);
	if (n > 0 && fmt[n - 1] == ':')
		fprintf(stderr, " %s", strerror(saved));
	fputc('\n', stderr);
	errno = saved;
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
