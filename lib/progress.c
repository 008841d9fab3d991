/*
 * progress.c - a line on the terminal that says how far long work has
 * gone, as pv and rsync show one: how many, how fast, and where the
 * total is known, how much of it and the time left.  Shown only when
 * stderr is a terminal and stdout is not (a terminal reading the
 * records sees them come), redrawn every DPHP_PROGRESS_MS (200), and
 * cleared before any message (util.c's say hook) and at the end, so
 * that it never stays among the messages or in a log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "id.h"
#include "progress.h"
#include "util.h"

static struct {
	const char *what;
	int64_t n, total;
	int64_t began, drawn;	/* monotonic ms; drawn -1: not yet */
	int64_t every;
	int on, shown;
} p;

static void
clear(void)
{
	if (p.shown)
		fputs("\r\033[K", stderr);
	p.shown = 0;
}

static void
draw(int64_t now)
{
	int64_t ms = now - p.began, rate = p.n * 1000 / (ms > 0 ? ms : 1);
	int64_t left;

	fprintf(stderr, "\r%s: %lld %s, %lld/s", dphp_prog, (long long)p.n,
	    p.what, (long long)rate);
	if (p.total > 0) {
		fprintf(stderr, ", %lld%%", (long long)(p.n >= p.total ? 100 :
		    p.n * 100 / p.total));
		if (rate > 0 && p.n < p.total) {
			left = (p.total - p.n) / rate;
			fprintf(stderr, ", %lld:%02lld left",
			    (long long)(left / 60), (long long)(left % 60));
		}
	}
	fputs("\033[K", stderr);
	fflush(stderr);
	p.shown = 1;
	p.drawn = now;
}

void
dphp_progress_begin(const char *what, int64_t total)
{
	const char *s = getenv("DPHP_PROGRESS_MS");

	clear();
	p.what = what;
	p.n = 0;
	p.total = total;
	p.began = dphp_monotonic_ms();
	p.drawn = -1;
	p.every = s != NULL && *s != '\0' ? atoll(s) : 200;
	p.on = isatty(STDERR_FILENO) && !isatty(STDOUT_FILENO);
	if (p.on)
		dphp_say_hook = clear;
}

void
dphp_progress_add(int64_t n)
{
	int64_t now;

	p.n += n;
	if (!p.on)
		return;
	now = dphp_monotonic_ms();
	if (now - (p.drawn < 0 ? p.began : p.drawn) >= p.every)
		draw(now);
}

void
dphp_progress_end(void)
{
	clear();
	p.on = 0;
}
