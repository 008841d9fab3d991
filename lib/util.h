/*
 * util.h - what every program shares: the exit statuses, messages,
 * memory (util.c), the command line (opt.c) and how a worker stops
 * (stop.c).
 */
#ifndef DPHP_UTIL_H
#define DPHP_UTIL_H

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Exit statuses, one table for every program (see dphp(7)).
 */
enum {
	DPHP_EXIT_OK = 0,	/* success */
	DPHP_EXIT_NO = 1,	/* expected "no": precondition failed, not found */
	DPHP_EXIT_USAGE = 2,	/* bad command line */
	DPHP_EXIT_INPUT = 3,	/* invalid input record */
	DPHP_EXIT_SYS = 4,	/* I/O or system error; a retry may help */
	DPHP_EXIT_CONFIG = 5,	/* configuration: handlers missing, unusable */
	DPHP_EXIT_LOCKED = 75	/* dphp-lock: locks not had, or lost (EX_TEMPFAIL) */
};

/* util.c */
extern const char *dphp_prog;
void dphp_setprog(const char *);	/* set the name used in messages */
/* "prog: error: MSG"; a format ending in ':' gets ": strerror(errno)" */
void dphp_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void dphp_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void dphp_die(int, const char *, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* "prog: WHERE: MSG", a located message (a file and line, a queue) */
void dphp_located(const char *where, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* "prog: PATH:LINE: MSG", about a line of a file */
void dphp_at_line(const char *path, unsigned long, const char *, ...)
    __attribute__((format(printf, 3, 4)));
/* called before any message is written (a progress line clears) */
extern void (*dphp_say_hook)(void);
/* the message of the three above; where and level may be NULL, "" */
void dphp_vsay(const char *where, const char *level, const char *fmt,
    va_list);
/* a reason written into why (see the head of this file): -1 */
int dphp_why(char *why, size_t whysz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* text written with its control characters escaped (\x1b, \u009b) */
void dphp_escaped(FILE *, const char *text, size_t n);
void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
char *xstrdup(const char *);
char *xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

/* opt.c: the shared command-line conventions */
struct option;
extern const struct option dphp_longopts[];	/* --help, --version */
void dphp_version(void) __attribute__((noreturn));	/* "prog (dphp) X.Y.Z" */
/* usage: print to stderr and exit 2; help: print to stdout, exit 0 */
void dphp_usage(const char *synopsis) __attribute__((noreturn));
/* a main's mode (0: the default) set to m by the option opts[m]; two
 * options of different modes are a usage error that names them */
void dphp_mode_set(int *mode, int m, const char *const *opts,
    const char *synopsis);
/* the same after "prog: error: MSG", MSG saying what is wrong */
void dphp_usage_error(const char *synopsis, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));
void dphp_help(const char *synopsis, const char *options)
    __attribute__((noreturn));
long long dphp_strtonum(const char *, long long, long long, const char *);
void dphp_fshut(void);	/* flush and close stdout; exit 4 on error */

/*
 * stop.c: how a worker stops.  The first SIGTERM or SIGINT only sets
 * dphp_stopping: dphp-route -t (stage 0) stops taking; a stage reading
 * a pipe (stage 1) goes on to the end of its input.
 */
extern volatile sig_atomic_t dphp_stopping;
void dphp_stop_on_signals(int stage);
int dphp_output_gone(void);	/* stdout is a pipe nobody reads */
int dphp_worker_input(int nfiles);	/* no files named; stdin a pipe */
/* wait until fd has input; if stdout's reader is gone, end as SIGPIPE */
void dphp_await_input(int fd);

#endif
