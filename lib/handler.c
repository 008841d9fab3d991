/*
 * handler.c - running a user's handler, the Application layer: the
 * executable DIR/KIND/NAME reads JSON request lines and answers one JSON
 * object line each (dphp-handler(5)); a jq program DIR/KIND/NAME.jq,
 * when there is one, is run in-process instead (jqhandler.c).  A
 * one-shot handler gets one request and end of input, and must exit;
 * with keep set, a handler is kept running as a co-process for the next
 * request, and started again if it dies.  Its standard error is passed
 * on line by line, prefixed with KIND/NAME.  Anything that goes wrong
 * with the handler (a crash, a non-zero exit, a time-out, output that is
 * not one JSON object) is returned as a reason, never as a crashed
 * stage: the caller turns it into a failed operation.  What is wrong
 * with the configuration rather than the handler (no handler, its
 * directory missing, not executable, the sh library it sources
 * unreadable) is also set as trouble: the stage gives the event back and
 * stops, rather than commit failures that fixing the configuration could
 * not undo.  A handler runs in a process group of its own, killed whole
 * on a time-out, so that what it started cannot keep the stage waiting;
 * its standard error is read for a moment after it ends, not until every
 * process that holds it has closed it.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jqhandler.h"
#include "kinds.h"
#include "ndjson.h"
#include "util.h"

#ifndef DPHP_SHAREDIR	/* the Makefile sets it */
#define DPHP_SHAREDIR "/usr/local/share/dphp"
#endif

/*
 * The path of the file at rel from the directory of the running
 * program, if there is one: new, or NULL.
 */
static char *
beside_program(const char *rel)
{
	char exe[4096], *path, *real, *slash;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return NULL;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return NULL;
	*slash = '\0';
	path = xasprintf("%s/%s", exe, rel);
	real = realpath(path, NULL);
	free(path);
	if (real != NULL && access(real, R_OK) != 0) {
		free(real);
		real = NULL;
	}
	return real;
}

/*
 * Where the sh library and the Python helper are found for handlers:
 * where make install put them beside the programs (PREFIX/bin and
 * PREFIX/share/dphp, wherever the tree was moved or staged with
 * DESTDIR), else in a built source tree (cmd, lib, examples/python),
 * else under the prefix the programs were built for.  DPHP_SH, when
 * set, wins.
 */
static const char *
sh_library(void)
{
	static char *lib;

	if (getenv("DPHP_SH") != NULL)
		return getenv("DPHP_SH");
	if (lib == NULL && (lib = beside_program("../share/dphp/dphp.sh")) ==
	    NULL && (lib = beside_program("../lib/dphp.sh")) == NULL)
		lib = xstrdup(DPHP_SHAREDIR "/dphp.sh");
	return lib;
}

static const char *
python_helper_dir(void)
{
	static char *dir;
	static int looked;

	if (!looked) {
		looked = 1;
		if ((dir = beside_program("../share/dphp/python/dphp.py")) ==
		    NULL)
			dir = beside_program("../examples/python/dphp.py");
		if (dir != NULL)
			*strrchr(dir, '/') = '\0';
	}
	return dir;
}

/* A running handler. */
struct proc {
	char *label;		/* KIND/NAME, for messages */
	pid_t pid;
	int in, out, err;	/* its stdin, stdout and stderr */
	char *obuf, *ebuf;	/* what it printed and we have not used */
	size_t olen, elen;
	struct proc *next;
};

static struct proc *running;	/* co-processes kept for the next request */

#define ERR_GRACE_MS 100	/* stderr read after its handler ended */
#define HOLD_MS 10		/* the longest a slow handler holds back what
				 * the stage printed before it */

static struct proc *
start(const char *path, const char *label)
{
	int pin[2], pout[2], perr[2];
	const char *lib, *py;
	char *pypath = NULL;
	struct proc *p;
	pid_t pid;

	if (pipe2(pin, O_CLOEXEC) != 0)
		return NULL;
	if (pipe2(pout, O_CLOEXEC) != 0) {
		close(pin[0]);
		close(pin[1]);
		return NULL;
	}
	if (pipe2(perr, O_CLOEXEC) != 0) {
		close(pin[0]);
		close(pin[1]);
		close(pout[0]);
		close(pout[1]);
		return NULL;
	}
	fflush(NULL);
	lib = sh_library();
	if ((py = python_helper_dir()) != NULL)
		pypath = getenv("PYTHONPATH") != NULL && *getenv("PYTHONPATH") ?
		    xasprintf("%s:%s", py, getenv("PYTHONPATH")) : xstrdup(py);
	if ((pid = fork()) < 0) {
		free(pypath);
		close(pin[0]);
		close(pin[1]);
		close(pout[0]);
		close(pout[1]);
		close(perr[0]);
		close(perr[1]);
		return NULL;
	}
	if (pid == 0) {
		setpgid(0, 0);
		if (dup2(pin[0], 0) < 0 || dup2(pout[1], 1) < 0 ||
		    dup2(perr[1], 2) < 0)
			_exit(126);
		/* where a handler finds dphp.sh, and Python's import dphp */
		setenv("DPHP_SH", lib, 0);
		if (pypath != NULL)
			setenv("PYTHONPATH", pypath, 1);
		execl(path, path, (char *)NULL);
		fprintf(stderr, "cannot run '%s': %s\n", path, strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	free(pypath);
	setpgid(pid, pid);	/* either may run first */
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	p = xcalloc(1, sizeof(*p));
	p->label = xstrdup(label);
	p->pid = pid;
	p->in = pin[1];
	p->out = pout[0];
	p->err = perr[0];
	fcntl(p->in, F_SETFL, O_NONBLOCK);
	return p;
}

/* Pass on the complete lines of the handler's stderr; all with final. */
static void
passerr(struct proc *p, int final)
{
	char *nl, *s = p->ebuf;
	size_t left = p->elen;

	while (left > 0 && ((nl = memchr(s, '\n', left)) != NULL || final)) {
		size_t n = nl ? (size_t)(nl - s) : left;

		fprintf(stderr, "%s: ", p->label);
		dphp_escaped(stderr, s, n);
		putc('\n', stderr);
		n += nl != NULL;
		s += n;
		left -= n;
	}
	if (left > 0)
		memmove(p->ebuf, s, left);
	p->elen = left;
}

/* Read what fd has into *buf (bounded); 0 at end of file. */
static ssize_t
drain(int fd, char **buf, size_t *len, int *overflow)
{
	char tmp[65536];
	ssize_t n;

	n = read(fd, tmp, sizeof(tmp));
	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN) ? 1 : 0;
	if (*len + n > DPHP_MAX_LINE + 1) {
		*overflow = 1;
		return n;
	}
	*buf = xrealloc(*buf, *len + n + 1);
	memcpy(*buf + *len, tmp, n);
	*len += n;
	return n;
}

/*
 * Send req to p and collect its answer: with keep, until the first line;
 * else until end of output.  Returns 0, or -1 on time-out; *eof is set
 * when the handler closed its output.
 */
static int
exchange(struct proc *p, const char *req, size_t reqlen, int keep,
    int64_t deadline, int *eof, int *overflow)
{
	struct pollfd pf[3];
	size_t sent = 0;
	int nf, timeout, iin, iout, ierr, ready, hold;

	*eof = 0;
	for (;;) {
		if (keep && memchr(p->obuf ? p->obuf : "", '\n', p->olen))
			return 0;
		if (*eof)	/* its stderr: read as it ends (finish) */
			return 0;
		nf = 0;
		iin = iout = ierr = -1;
		if (p->in >= 0 && sent < reqlen) {
			pf[iin = nf].fd = p->in;
			pf[nf++].events = POLLOUT;
		}
		if (!*eof) {
			pf[iout = nf].fd = p->out;
			pf[nf++].events = POLLIN;
		}
		if (p->err >= 0) {
			pf[ierr = nf].fd = p->err;
			pf[nf++].events = POLLIN;
		}
		timeout = -1;
		if (deadline > 0) {
			int64_t left = deadline - dphp_monotonic_ms();

			if (left <= 0)
				return -1;
			timeout = left > 1000000 ? 1000000 : (int)left;
		}
		/*
		 * A slow handler does not hold back the proposals printed
		 * before its request: past HOLD_MS they go on to be
		 * committed, though more input is waiting.
		 */
		hold = dphp_held() && (timeout < 0 || timeout > HOLD_MS);
		if ((ready = poll(pf, nf, hold ? HOLD_MS : timeout)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (ready == 0 && hold) {
			dphp_flush();
			continue;
		}
		if (iin >= 0 && pf[iin].revents) {
			ssize_t n = write(p->in, req + sent, reqlen - sent);

			if (n > 0)
				sent += n;
			if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
			    (sent == reqlen && !keep)) {
				close(p->in);	/* end of input: one-shot */
				p->in = -1;
			}
			if (n < 0 && errno == EPIPE)
				sent = reqlen;	/* it will not read more */
		}
		if (iout >= 0 && pf[iout].revents &&
		    drain(p->out, &p->obuf, &p->olen, overflow) == 0)
			*eof = 1;
		if (ierr >= 0 && pf[ierr].revents) {
			if (drain(p->err, &p->ebuf, &p->elen, overflow) == 0) {
				close(p->err);
				p->err = -1;
			}
			passerr(p, p->err < 0);
		}
	}
}

/* Stop p (killing it first if asked) and describe how it ended. */
static void
finish(struct proc *p, int kill9, char *why, size_t whysz)
{
	int status;

	if (p->in >= 0)
		close(p->in);
	if (kill9 && kill(-p->pid, SIGKILL) != 0)	/* its group */
		kill(p->pid, SIGKILL);
	while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
		;
	if (p->err >= 0) {
		struct pollfd pf = { p->err, POLLIN, 0 };
		int64_t until = dphp_monotonic_ms() + ERR_GRACE_MS, left;
		int overflow = 0;

		/* what it wrote before it ended, not what a process it left
		 * behind might write: that one is not waited for */
		while ((left = until - dphp_monotonic_ms()) > 0 &&
		    poll(&pf, 1, (int)left) > 0 &&
		    drain(p->err, &p->ebuf, &p->elen, &overflow) > 0)
			;
		close(p->err);
	}
	passerr(p, 1);
	close(p->out);
	if (why != NULL && WIFSIGNALED(status) && !kill9)
		snprintf(why, whysz, "handler %s killed by signal %d",
		    p->label, WTERMSIG(status));
	else if (why != NULL && WIFEXITED(status) && WEXITSTATUS(status))
		snprintf(why, whysz, "handler %s exited with status %d",
		    p->label, WEXITSTATUS(status));
	free(p->label);
	free(p->obuf);
	free(p->ebuf);
	free(p);
}

static struct proc *
unlink_running(const char *label)
{
	struct proc **pp, *p;

	for (pp = &running; (p = *pp) != NULL; pp = &p->next)
		if (strcmp(p->label, label) == 0) {
			*pp = p->next;
			p->next = NULL;
			return p;
		}
	return NULL;
}

int
dphp_handlers_check(const char *dir)
{
	struct stat sb;

	if (stat(dir, &sb) == 0) {
		if (S_ISDIR(sb.st_mode))
			return 0;
		errno = ENOTDIR;
	}
	dphp_error("cannot use the handlers in '%s':", dir);
	return DPHP_EXIT_CONFIG;
}

/* Say why, as trouble too when it is the configuration's. */
static void
trouble(const struct dphp_handlers *h, int event, char *why, size_t whysz,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
	if (h->trouble != NULL && h->trouble->why[0] == '\0') {
		snprintf(h->trouble->why, sizeof(h->trouble->why), "%s", why);
		h->trouble->event = event;
	}
}

/*
 * Is DIR/KIND/NAME there to be run?  If not, why, as trouble: the
 * directories are the configuration's; a handler missing may be the
 * event's fault, a destination nobody serves.
 */
static int
runnable(const struct dphp_handlers *h, const char *label, const char *path,
    const char *kind, char *why, size_t whysz)
{
	struct stat sb;
	char *kdir;
	int r, found;

	/* the common case costs a stat and an access, as it always did */
	found = stat(path, &sb) == 0;
	if (found && S_ISREG(sb.st_mode) && access(path, X_OK) == 0)
		return 1;
	r = stat(h->dir, &sb) != 0 ? errno : S_ISDIR(sb.st_mode) ? 0 : ENOTDIR;
	if (r != 0) {
		trouble(h, 0, why, whysz, "cannot use the handlers in '%s': %s",
		    h->dir, strerror(r));
		return 0;
	}
	kdir = xasprintf("%s/%s", h->dir, kind);
	r = stat(kdir, &sb) == 0 && S_ISDIR(sb.st_mode);
	free(kdir);
	if (!r) {
		trouble(h, 0, why, whysz, "the handlers in '%s' have no "
		    "directory '%s'", h->dir, kind);
		return 0;
	}
	if (!found || stat(path, &sb) != 0)
		trouble(h, 1, why, whysz, "no handler %s in '%s'", label,
		    h->dir);
	else if (!S_ISREG(sb.st_mode))
		trouble(h, 1, why, whysz, "handler %s in '%s' is not a file",
		    label, h->dir);
	else
		trouble(h, 1, why, whysz, "handler %s in '%s' is not "
		    "executable", label, h->dir);
	return 0;
}

/*
 * Is path a jq program to run in-process, a file (or a link to one)?
 * Not with DPHP_JQ=process, which runs the executable NAME instead (as
 * a co-process, the same program run by jq(1)); any other value but
 * empty is the configuration's trouble: -1.  Once compiled, a program is
 * kept, as a co-process is, without a look at its file.
 */
static int
jq_program(const struct dphp_handlers *h, const char *label,
    const char *path, char *why, size_t whysz)
{
	const char *how = getenv("DPHP_JQ");
	struct stat sb;

	if (how != NULL && strcmp(how, "process") == 0)
		return 0;
	if (how != NULL && how[0] != '\0') {
		trouble(h, 0, why, whysz, "DPHP_JQ is '%s': 'process', or "
		    "empty", how);
		return -1;
	}
	return dphp_jq_known(label) ||
	    (stat(path, &sb) == 0 && S_ISREG(sb.st_mode));
}

/*
 * A sh handler that failed and names the sh library, which cannot be
 * read: the library is the trouble, not the operation.
 */
static void
no_library(const struct dphp_handlers *h, const char *path,
    const char *label, char *why, size_t whysz)
{
	const char *lib = sh_library();
	char head[4096];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, head, sizeof(head) - 1);
	close(fd);
	if (n <= 0)
		return;
	head[n] = '\0';
	if (strstr(head, "DPHP_SH") == NULL || access(lib, R_OK) == 0)
		return;
	trouble(h, 0, why, whysz, "handler %s sources the sh library '%s', "
	    "which cannot be read: %s", label, lib, strerror(errno));
}

int
dphp_handler_call(const struct dphp_handlers *h, const struct dphp_id *id,
    json_t *request, json_t **out, char *why, size_t whysz)
{
	sigset_t pipeset, old;
	struct timespec zero = { 0, 0 };
	struct proc *p;
	json_error_t err;
	char *path, *label, *req, *nl, *answer, reason[1024];
	size_t linelen;
	int64_t deadline;
	int timedout, eof, overflow = 0, reused, r;

	*out = NULL;
	why[0] = '\0';
	label = xasprintf("%s/%s", dphp_kind_name(id->kind), id->name);
	path = xasprintf("%s/%s.jq", h->dir, label);
	if ((r = jq_program(h, label, path, why, whysz)) < 0) {
		free(path);
		free(label);
		return -1;
	}
	if (r > 0) {
		/* a program that does not compile is the configuration's */
		if (dphp_jq_call(path, label, request, h->timeout_ms, out,
		    reason, sizeof(reason)) == DPHP_JQ_TROUBLE)
			trouble(h, 0, why, whysz, "%s", reason);
		else
			snprintf(why, whysz, "%s", reason);
		free(path);
		free(label);
		return *out == NULL ? -1 : 0;
	}
	path[strlen(path) - 3] = '\0';
	if (!runnable(h, label, path, dphp_kind_name(id->kind), why,
	    whysz)) {
		free(path);
		free(label);
		return -1;
	}
	reused = (p = h->keep ? unlink_running(label) : NULL) != NULL;
	if (p == NULL && (p = start(path, label)) == NULL) {
		snprintf(why, whysz, "cannot start handler %s: %s", label,
		    strerror(errno));
		free(path);
		free(label);
		return -1;
	}
	req = dphp_json_text(request, NULL);
	nl = xasprintf("%s\n", req);
	free(req);
	req = nl;

	/* A handler that exits unread must not kill us with SIGPIPE. */
	sigemptyset(&pipeset);
	sigaddset(&pipeset, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipeset, &old);
	deadline = h->timeout_ms > 0 ? dphp_monotonic_ms() + h->timeout_ms : 0;
	timedout = exchange(p, req, strlen(req), h->keep, deadline, &eof,
	    &overflow) != 0;
	if (reused && eof && p->olen == 0 && !timedout) {
		/* it ended between requests, after its last answer: once
		 * more with a new one (a new one that ends has failed) */
		finish(p, 0, NULL, 0);
		if ((p = start(path, label)) != NULL)
			timedout = exchange(p, req, strlen(req), h->keep,
			    deadline, &eof, &overflow) != 0;
	}
	while (sigtimedwait(&pipeset, NULL, &zero) > 0)
		;
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(req);
	if (p == NULL) {
		snprintf(why, whysz, "cannot start handler %s: %s", label,
		    strerror(errno));
		free(path);
		free(label);
		return -1;
	}

	nl = p->obuf ? memchr(p->obuf, '\n', p->olen) : NULL;
	linelen = h->keep && nl ? (size_t)(nl - p->obuf) : p->olen;
	answer = xmalloc(linelen + 1);
	memcpy(answer, p->obuf ? p->obuf : "", linelen);
	answer[linelen] = '\0';
	if (timedout)
		snprintf(why, whysz, "handler %s timed out after %lld ms",
		    label, (long long)h->timeout_ms);
	else if (overflow)
		snprintf(why, whysz, "handler %s printed more than %d bytes",
		    label, DPHP_MAX_LINE);
	else if (h->keep && nl == NULL)
		snprintf(why, whysz, "handler %s ended without answering",
		    label);
	else if (h->keep && linelen + 1 != p->olen)
		snprintf(why, whysz, "handler %s answered more than one line",
		    label);
	if (!h->keep || why[0] != '\0') {
		/* a one-shot's exit status tells more than its output */
		finish(p, timedout || h->keep, why[0] ? NULL : why, whysz);
		p = NULL;
	}
	if (why[0] == '\0' &&
	    (*out = json_loads(answer, JSON_REJECT_DUPLICATES, &err)) == NULL)
		snprintf(why, whysz, "handler %s printed invalid JSON: %s",
		    label, err.text);
	else if (*out != NULL && !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		snprintf(why, whysz, "handler %s did not print a JSON object",
		    label);
	}
	if (p != NULL && *out != NULL) {	/* kept for the next request */
		p->olen = 0;
		p->next = running;
		running = p;
	} else if (p != NULL)
		finish(p, 1, NULL, 0);	/* answered garbage: unusable */
	if (*out == NULL && !timedout)
		no_library(h, path, label, why, whysz);
	free(answer);
	free(path);
	free(label);
	return *out == NULL ? -1 : 0;
}

int
dphp_trouble_giveback(struct dphp_store *st, const struct dphp_reader *at,
    const struct dphp_desc *d, struct dphp_trouble *t)
{
	static const struct timespec settle = { 0, 200 * 1000 * 1000 };
	int r = 0;

	dphp_reader_error(at, "%s (a configuration error%s)", t->why,
	    d->receipt == NULL ? "" : t->event ?
	    ": the event is given back, a suspect" :
	    ": the event is given back");
	/*
	 * In a worker, stop reading first and give the stages before this
	 * one a moment to end: dphp-route then knows the worker stopped
	 * before the event is back in the queue, where it would take it
	 * again and count it a suspect when it finds the stages gone.
	 */
	if (d->receipt != NULL && dphp_worker_input(0)) {
		close(STDIN_FILENO);
		nanosleep(&settle, NULL);
	}
	if (d->receipt != NULL)
		r = t->event ? dphp_queue_fail(st, d->receipt, t->why) :
		    dphp_queue_nack(st, d->receipt);
	t->why[0] = '\0';
	return r != 0 ? DPHP_EXIT_SYS : DPHP_EXIT_CONFIG;
}

void
dphp_handlers_close(void)
{
	struct proc *p;

	while ((p = running) != NULL) {
		running = p->next;
		finish(p, 0, NULL, 0);
	}
	dphp_jq_close();
}
