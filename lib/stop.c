/*
 * stop.c - how a worker stops.  SIGTERM or SIGINT (what systemctl stop
 * and ^C send to every process of a worker) stops dphp-route -t from
 * taking; it ends its output, and the stages after it, which took note
 * of the signal and went on, finish what is in the pipes and end with
 * their input, one after the other: nothing is left half done, and
 * what was not taken stays in the queue.  A second signal ends a
 * process at once.
 *
 * When the stage after one stops reading, the stage ends as SIGPIPE
 * would end it, though it may be waiting for input rather than
 * writing: so the news travels up a pipeline to dphp-route, which
 * gives back what it had claimed, instead of every stage waiting for
 * ever on the one before it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

volatile sig_atomic_t dphp_stopping;

static void
noted(int sig)
{
	(void)sig;
	dphp_stopping = 1;
}

/* Is fd a pipe or a socket (a reader or writer that can go away)? */
static int
piped(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) == 0 &&
	    (S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode));
}

void
dphp_stop_on_signals(int stage)
{
	struct sigaction sa;

	/* a stage reading a file or a terminal is stopped as any filter */
	if (stage && !piped(STDIN_FILENO))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = noted;
	/* once; restarted: reads and writes finish, poll(2) is not */
	sa.sa_flags = SA_RESTART | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

int
dphp_worker_input(int nfiles)
{
	return nfiles == 0 && piped(STDIN_FILENO);
}

static int
outpiped(void)
{
	static int known = -1;

	if (known < 0)
		known = piped(STDOUT_FILENO);
	return known;
}

int
dphp_output_gone(void)
{
	struct pollfd pf = { STDOUT_FILENO, 0, 0 };

	return outpiped() && poll(&pf, 1, 0) == 1 &&
	    (pf.revents & (POLLERR | POLLHUP)) != 0;
}

void
dphp_await_input(int fd)
{
	struct pollfd pf[2] = { { fd, POLLIN, 0 }, { STDOUT_FILENO, 0, 0 } };

	for (;;) {
		if (poll(pf, outpiped() ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;		/* the read says what is wrong */
		}
		if (pf[1].revents & (POLLERR | POLLHUP)) {
			signal(SIGPIPE, SIG_DFL);
			raise(SIGPIPE);
			_exit(DPHP_EXIT_SYS);	/* SIGPIPE was blocked */
		}
		if (pf[0].revents)
			return;
	}
}
