/*
 * handler.c - running a user's handler, the Application layer: the
 * executable DIR/KIND/NAME gets one JSON request line on stdin and
 * answers one JSON object on stdout (dphp-handler(5)).  Anything that
 * goes wrong (no such handler, a crash, a non-zero exit, a time-out,
 * output that is not one JSON object) is returned as a reason, never as
 * a crashed stage: the caller turns it into a failed reply.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dphp.h"

static int64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static pid_t
spawn(const char *path, int *in, int *out)
{
	int pin[2], pout[2];
	pid_t pid;

	if (pipe2(pin, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(pout, O_CLOEXEC) != 0) {
		close(pin[0]);
		close(pin[1]);
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		close(pin[0]);
		close(pin[1]);
		close(pout[0]);
		close(pout[1]);
		return -1;
	}
	if (pid == 0) {
		if (dup2(pin[0], 0) < 0 || dup2(pout[1], 1) < 0)
			_exit(126);
		execl(path, path, (char *)NULL);
		fprintf(stderr, "%s: error: cannot run '%s': %s\n", dphp_prog,
		    path, strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(pin[0]);
	close(pout[1]);
	*in = pin[1];
	*out = pout[0];
	fcntl(*in, F_SETFL, O_NONBLOCK);
	return pid;
}

/*
 * Feed req to the child while draining its output, so that neither side
 * blocks on a full pipe.  Returns 0, or -1 on time-out.
 */
static int
exchange(int in, int out, const char *req, size_t reqlen, char **outbuf,
    size_t *outlen, int64_t deadline, int *overflow)
{
	struct pollfd pf[2];
	size_t cap = 0, len = 0, sent = 0;
	char *buf = NULL;
	ssize_t n;
	int timeout, r;

	for (;;) {
		int nf = 0;

		if (in >= 0) {
			pf[nf].fd = in;
			pf[nf++].events = POLLOUT;
		}
		if (out < 0)
			break;
		pf[nf].fd = out;
		pf[nf++].events = POLLIN;
		timeout = -1;
		if (deadline > 0) {
			int64_t left = deadline - monotonic_ms();

			if (left <= 0) {
				r = -1;
				goto done;
			}
			timeout = left > 1000000 ? 1000000 : (int)left;
		}
		if (poll(pf, nf, timeout) < 0) {
			if (errno == EINTR)
				continue;
			r = -1;
			goto done;
		}
		if (in >= 0 && pf[0].revents) {
			n = write(in, req + sent, reqlen - sent);
			if (n > 0)
				sent += n;
			if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
			    sent == reqlen) {
				close(in);	/* EOF for the handler */
				in = -1;
			}
		}
		if (pf[nf - 1].revents) {
			if (len + 4096 > cap)
				buf = xrealloc(buf, cap = cap ? cap * 2 : 8192);
			n = read(out, buf + len, cap - len - 1);
			if (n > 0 && len + n > DPHP_MAX_LINE)
				*overflow = 1;
			else if (n > 0)
				len += n;
			else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				close(out);
				out = -1;
			}
		}
	}
	r = 0;
done:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (buf == NULL)
		buf = xmalloc(1);
	buf[len] = '\0';
	*outbuf = buf;
	*outlen = len;
	return r;
}

int
dphp_handler_call(const struct dphp_handlers *h, const struct dphp_id *id,
    json_t *request, json_t **out, char *why, size_t whysz)
{
	sigset_t pipeset, old;
	struct timespec zero = { 0, 0 };
	struct stat sb;
	json_error_t err;
	char *path, *req, *resp, *p;
	size_t resplen;
	int in, fd, status, timedout, overflow = 0;
	pid_t pid;

	*out = NULL;
	path = xasprintf("%s/%s/%s", h->dir, dphp_kind_name(id->kind),
	    id->name);
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    access(path, X_OK) != 0) {
		snprintf(why, whysz, "no handler %s/%s in '%s'",
		    dphp_kind_name(id->kind), id->name, h->dir);
		free(path);
		return -1;
	}
	req = json_dumps(request, JSON_COMPACT);
	p = xasprintf("%s\n", req);
	free(req);
	req = p;

	/* A handler that exits unread must not kill us with SIGPIPE. */
	sigemptyset(&pipeset);
	sigaddset(&pipeset, SIGPIPE);
	if ((pid = spawn(path, &in, &fd)) < 0) {
		snprintf(why, whysz, "cannot start handler '%s': %s", path,
		    strerror(errno));
		free(path);
		free(req);
		return -1;
	}
	sigprocmask(SIG_BLOCK, &pipeset, &old);
	timedout = exchange(in, fd, req, strlen(req), &resp, &resplen,
	    h->timeout_ms > 0 ? monotonic_ms() + h->timeout_ms : 0,
	    &overflow) != 0;
	while (sigtimedwait(&pipeset, NULL, &zero) > 0)
		;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (timedout)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	free(req);
	if (timedout)
		snprintf(why, whysz, "handler %s/%s timed out after %lld ms",
		    dphp_kind_name(id->kind), id->name,
		    (long long)h->timeout_ms);
	else if (WIFSIGNALED(status))
		snprintf(why, whysz, "handler %s/%s killed by signal %d",
		    dphp_kind_name(id->kind), id->name, WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		snprintf(why, whysz, "handler %s/%s exited with status %d",
		    dphp_kind_name(id->kind), id->name, WEXITSTATUS(status));
	else if (overflow)
		snprintf(why, whysz, "handler %s/%s printed more than %d bytes",
		    dphp_kind_name(id->kind), id->name, DPHP_MAX_LINE);
	else if ((*out = json_loadb(resp, resplen, JSON_REJECT_DUPLICATES,
	    &err)) == NULL)
		snprintf(why, whysz, "handler %s/%s printed invalid JSON: %s",
		    dphp_kind_name(id->kind), id->name, err.text);
	else if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		snprintf(why, whysz, "handler %s/%s did not print a JSON object",
		    dphp_kind_name(id->kind), id->name);
	}
	free(resp);
	free(path);
	return *out == NULL ? -1 : 0;
}
