/*
 * opt.c - the command-line conventions every program shares: --help
 * and --version, usage errors (exit 2), checked numeric arguments and
 * the checked close of stdout at exit.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

#ifndef DPHP_VERSION	/* the Makefile sets it */
#define DPHP_VERSION "0.0.0"
#endif

const struct option dphp_longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

void
dphp_version(void)
{
	printf("%s (dphp) %s\n", dphp_prog, DPHP_VERSION);
	dphp_fshut();
	exit(DPHP_EXIT_OK);
}

void
dphp_usage(const char *synopsis)
{
	fprintf(stderr, "usage: %s\n", synopsis);
	exit(DPHP_EXIT_USAGE);
}

void
dphp_usage_error(const char *synopsis, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dphp_vsay(NULL, "error: ", fmt, ap);
	va_end(ap);
	dphp_usage(synopsis);
}

void
dphp_mode_set(int *mode, int m, const char *const *opts,
    const char *synopsis)
{
	if (*mode != 0 && *mode != m)
		dphp_usage_error(synopsis, "%s and %s cannot be used together",
		    opts[*mode], opts[m]);
	*mode = m;
}

void
dphp_help(const char *synopsis, const char *options)
{
	printf("usage: %s\n%s", synopsis, options);
	dphp_fshut();
	exit(DPHP_EXIT_OK);
}

long long
dphp_strtonum(const char *s, long long min, long long max, const char *what)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno == ERANGE || v < min ||
	    v > max) {
		dphp_die(DPHP_EXIT_USAGE, "invalid %s '%s' (want %lld..%lld)",
		    what, s, min, max);
	}
	return v;
}

void
dphp_fshut(void)
{
	errno = 0;
	if (fflush(stdout) != EOF && !ferror(stdout) && fclose(stdout) != EOF)
		return;
	if (errno == 0)
		dphp_die(DPHP_EXIT_SYS, "write error on <stdout>");
	dphp_die(DPHP_EXIT_SYS, "write error on <stdout>:");
}
