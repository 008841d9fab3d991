/*
 * locked.c - run a command holding the locks of several entities, for
 * dphp-lock ENTITY... -- CMD: take them in sorted order (so that two
 * such runs never wait on each other in a cycle), each with a lease,
 * keep the leases renewed while the command runs, and let go when it
 * exits.  The owner and the fencing tokens are in the command's
 * environment.
 */
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockrec.h"
#include "util.h"

static pid_t child;

static void
forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static int
byid(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Let go of the n locks of h; the first found lost meanwhile, or NULL. */
static const char *
release_all(struct dphp_store *st, struct dphp_hold *h, size_t n)
{
	const char *lost = NULL;

	while (n-- > 0)
		if (dphp_lock_release(st, &h[n]) == DPHP_LOCKREC_LOST)
			lost = h[n].entity;
	return lost;
}

/*
 * Renew the leases of the n locks of h: OK, or LOST with the first
 * found lost in *lost (an I/O error is tried again next time).
 */
static int
renew_all(struct dphp_store *st, struct dphp_hold *h, size_t n,
    json_t *participants, int64_t lease_ms, const char **lost)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (dphp_lock_renew(st, &h[i], participants, lease_ms) ==
		    DPHP_LOCKREC_LOST) {
			*lost = h[i].entity;
			return DPHP_LOCKREC_LOST;
		}
	return DPHP_LOCKREC_OK;
}

/*
 * Take every lock by deadline (-1: no limit); 0, or an exit status.
 * The locks taken are renewed while a later one is waited for; if one
 * is lost meanwhile, all are let go and taken again from the first.
 * Waits are measured on the monotonic clock, not on the time leases
 * are stamped with, which DPHP_NOW may fix.
 */
static int
take_all(struct dphp_store *st, struct dphp_hold *h, size_t n,
    json_t *participants, const struct dphp_locked *o)
{
	int64_t deadline = o->wait_ms < 0 ? -1 : dphp_monotonic_ms() + o->wait_ms;
	int64_t pause = 10, next = dphp_monotonic_ms() + o->lease_ms / 3;
	const char *lost;
	json_t *holder;
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		while ((r = dphp_lock_try(st, &h[i], participants,
		    o->lease_ms, &holder)) != DPHP_LOCKREC_OK) {
			if (r < 0) {
				release_all(st, h, i);
				return DPHP_EXIT_SYS;
			}
			if (r == DPHP_LOCKREC_HELD && deadline >= 0 &&
			    dphp_monotonic_ms() >= deadline) {
				dphp_error("'%s' is locked by %s until %s", h[i].entity,
				    json_string_value(json_object_get(holder,
				    "owner")), json_string_value(json_object_get(
				    holder, "expires")));
				json_decref(holder);
				release_all(st, h, i);
				return DPHP_EXIT_LOCKED;
			}
			json_decref(holder);
			if (deadline >= 0 && dphp_monotonic_ms() + pause > deadline)
				pause = deadline - dphp_monotonic_ms() + 1;
			dphp_nap(pause);
			if (pause < 200)
				pause *= 2;
			if (i == 0 || dphp_monotonic_ms() < next)
				continue;
			next = dphp_monotonic_ms() + o->lease_ms / 3;
			if (renew_all(st, h, i, participants, o->lease_ms,
			    &lost) == DPHP_LOCKREC_LOST) {
				release_all(st, h, i);
				i = 0;
			}
		}
	}
	return 0;
}

int
dphp_run_locked(struct dphp_store *st, char **entities, size_t n,
    char **cmd, const struct dphp_locked *o)
{
	struct dphp_hold *h;
	struct sigaction sa;
	json_t *participants;
	const char *gone;
	char *fences, *p;
	size_t i, k;
	int fd[2], err, status, r, lost = 0;
	int64_t next;
	ssize_t got;

	qsort(entities, n, sizeof(*entities), byid);
	for (i = k = 0; i < n; i++)	/* the same entity once */
		if (k == 0 || strcmp(entities[k - 1], entities[i]) != 0)
			entities[k++] = entities[i];
	n = k;
	participants = json_array();
	h = xcalloc(n, sizeof(*h));
	for (i = 0; i < n; i++) {
		json_array_append_new(participants, json_string(entities[i]));
		h[i].entity = entities[i];
		h[i].owner = o->owner;
	}
	if ((r = take_all(st, h, n, participants, o)) != 0)
		goto out;
	fences = xstrdup("");
	for (i = 0; i < n; i++) {
		p = xasprintf("%s%s%s=%lld", fences, i ? " " : "", h[i].entity,
		    (long long)h[i].fence);
		free(fences);
		fences = p;
	}
	fflush(NULL);
	/* the child reports a failed exec through a close-on-exec pipe */
	if (pipe2(fd, O_CLOEXEC) != 0 || (child = fork()) < 0) {
		dphp_error("cannot run '%s':", cmd[0]);
		free(fences);
		release_all(st, h, n);
		r = DPHP_EXIT_SYS;
		goto out;
	}
	if (child == 0) {
		close(fd[0]);
		/* no locks once dphp-lock is gone, even by SIGKILL: stop */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() == 1)
			_exit(DPHP_EXIT_LOCKED);
		setenv("DPHP_LOCK_OWNER", o->owner, 1);
		setenv("DPHP_LOCK_FENCES", fences, 1);
		execvp(cmd[0], cmd);
		err = errno;
		(void)!write(fd[1], &err, sizeof(err));
		_exit(127);
	}
	free(fences);
	close(fd[1]);
	while ((got = read(fd[0], &err, sizeof(err))) < 0 && errno == EINTR)
		;
	close(fd[0]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* renew at a third of the lease, so that two renewals may fail */
	next = dphp_now_ms() + o->lease_ms / 3;
	while ((r = waitpid(child, &status, WNOHANG)) == 0 ||
	    (r < 0 && errno == EINTR)) {
		if (r == 0 && dphp_now_ms() >= next && !lost) {
			if (renew_all(st, h, n, participants, o->lease_ms,
			    &gone) == DPHP_LOCKREC_LOST) {
				dphp_error("lost the lock of %s; stopping "
				    "'%s'", gone, cmd[0]);
				lost = 1;
				kill(child, SIGTERM);
			}
			next = dphp_now_ms() + o->lease_ms / 3;
		}
		dphp_nap(10);
	}
	child = 0;
	/* lost and taken by another while the command ran: say so */
	if ((gone = release_all(st, h, n)) != NULL && !lost) {
		dphp_error("lost the lock of %s while '%s' ran", gone,
		    cmd[0]);
		lost = 1;
	}
	if (got == sizeof(err)) {
		errno = err;
		dphp_error("cannot run '%s':", cmd[0]);
		r = err == ENOENT ? 127 : 126;
	} else if (lost)
		r = DPHP_EXIT_LOCKED;
	else if (WIFEXITED(status))
		r = WEXITSTATUS(status);
	else
		r = 128 + WTERMSIG(status);
out:
	json_decref(participants);
	free(h);
	return r;
}
