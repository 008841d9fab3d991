/*
 * remover.c - files removed by a thread of their own.  The directory
 * queue acknowledges an event by unlinking its claim, and on a disk
 * that discards freed blocks at once an unlink waits for the device:
 * done by the committer itself, 64 of them stood between one batch's
 * flush and the next.  The removals are not durable either way (a claim
 * whose removal is lost comes back, and its event is a duplicate), so
 * nothing waits for them but the router's window, which sees each one
 * through its watch as it lands.
 *
 * The thread does nothing but unlinkat(2), with every signal blocked so
 * that SIGALRM and the rest stay with the caller; a failure is kept and
 * reported by the caller's next call.  Until a file is gone the caller
 * asks the remover, not the directory, whether it is still there to be
 * removed (dphp_remover_has): a commit that found its input's claim
 * still in queue/cur would deliver that input's events a second time.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remover.h"
#include "util.h"

struct dphp_remover {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t more;
	int dfd;
	char *what;
	char **names;		/* waiting to be removed */
	size_t n, cap;
	char **doing;		/* being removed: NULL once done */
	size_t ndoing;
	int stop;
	int err;		/* errno of a failure */
	char *failed;		/* its name, until reported */
};

static void *
run(void *arg)
{
	struct dphp_remover *r = arg;
	size_t i;
	int rc, e;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (r->n == 0 && !r->stop)
			pthread_cond_wait(&r->more, &r->mu);
		if (r->n == 0)
			break;
		r->doing = r->names;
		r->ndoing = r->n;
		r->names = NULL;
		r->n = r->cap = 0;
		for (i = 0; i < r->ndoing; i++) {
			pthread_mutex_unlock(&r->mu);
			rc = unlinkat(r->dfd, r->doing[i], 0);
			e = errno;
			pthread_mutex_lock(&r->mu);
			if (rc != 0 && e != ENOENT && r->failed == NULL) {
				r->err = e;
				r->failed = r->doing[i];
			} else
				free(r->doing[i]);
			r->doing[i] = NULL;
		}
		free(r->doing);
		r->doing = NULL;
		r->ndoing = 0;
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

struct dphp_remover *
dphp_remover_start(int dfd, const char *what)
{
	struct dphp_remover *r = xmalloc(sizeof(*r));
	sigset_t all, old;
	int e;

	memset(r, 0, sizeof(*r));
	r->dfd = dfd;
	r->what = xstrdup(what);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->more, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&r->thread, NULL, run, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		errno = e;
		dphp_error("cannot start a thread to remove files of '%s':",
		    what);
		pthread_cond_destroy(&r->more);
		pthread_mutex_destroy(&r->mu);
		free(r->what);
		free(r);
		return NULL;
	}
	return r;
}

/* report a failure not reported yet; call with r->mu held */
static int
reported(struct dphp_remover *r)
{
	if (r->failed == NULL)
		return 0;
	errno = r->err;
	dphp_error("cannot remove '%s/%s':", r->what, r->failed);
	free(r->failed);
	r->failed = NULL;
	return -1;
}

int
dphp_remover_add(struct dphp_remover *r, const char *name)
{
	int ret;

	pthread_mutex_lock(&r->mu);
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->names = xrealloc(r->names, r->cap * sizeof(*r->names));
	}
	r->names[r->n++] = xstrdup(name);
	pthread_cond_signal(&r->more);
	ret = reported(r);
	pthread_mutex_unlock(&r->mu);
	return ret;
}

int
dphp_remover_has(struct dphp_remover *r, const char *name)
{
	size_t i;
	int has = 0;

	if (r == NULL)
		return 0;
	pthread_mutex_lock(&r->mu);
	for (i = 0; i < r->n && !has; i++)
		has = strcmp(r->names[i], name) == 0;
	for (i = 0; i < r->ndoing && !has; i++)
		has = r->doing[i] != NULL && strcmp(r->doing[i], name) == 0;
	pthread_mutex_unlock(&r->mu);
	return has;
}

int
dphp_remover_stop(struct dphp_remover *r)
{
	int ret;

	if (r == NULL)
		return 0;
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_signal(&r->more);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	ret = reported(r);
	pthread_cond_destroy(&r->more);
	pthread_mutex_destroy(&r->mu);
	free(r->what);
	free(r);
	return ret;
}
