/*
 * jqhandler.c - a handler that is a jq program, run in-process.  The
 * file DIR/KIND/NAME.jq is compiled once with libjq, the library of the
 * jq(1) that users already run (loaded when first needed, dynlib.c),
 * and applied to each request as jq -c would be to a line of its input:
 * the same request in, the same one answer out, so that a program
 * moves between this form and a co-process (exec jq -c --unbuffered
 * -f NAME.jq) without a change of meaning.  The request and the answer
 * cross as JSON text, parsed by jq's own parser, so numbers are jq's.
 *
 * What goes wrong fails the one operation with a reason, as a
 * co-process's failure does: an error the program raises, halt and
 * halt_error, no answer, a second answer, an answer that is not an
 * object, a run past the time limit.  The limit is kept by SIGALRM,
 * whose handler asks jq to halt (jq_halt only stores into the state,
 * and jq looks at that flag before each instruction); a state halted
 * so is reset by the next jq_start.  A program that does not compile is
 * the configuration's trouble, as a handler that is not executable is.
 */
#include <sys/time.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jq.h>

#include "dynlib.h"
#include "file.h"
#include "jqhandler.h"
#include "ndjson.h"
#include "util.h"

#define PROGRAM_MAX (1 << 20)	/* bytes of a program file */

struct program {
	char *label;		/* KIND/NAME */
	jq_state *jq;
	struct program *next;
};

static struct program *programs;
static jq_state *volatile running;	/* the one SIGALRM halts */
static volatile sig_atomic_t expired;

static void
on_alarm(int sig)
{
	jq_state *jq = running;

	(void)sig;
	/* not over a halt of the program's own, which jq asserts */
	if (jq != NULL && !jq_halted(jq)) {
		expired = 1;
		jq_halt(jq, jv_invalid(), jv_invalid());
	}
}

/* jq's messages (compile errors) into the caller's buffer, the first */
static void
collect(void *data, jv msg)
{
	char *buf = data;

	if (buf[0] == '\0' && jv_get_kind(msg) == JV_KIND_STRING)
		snprintf(buf, 1024, "%s", jv_string_value(msg));
	jv_free(msg);
}

/* debug's messages on stderr as jq prints them, with the handler's
 * name, as a co-process's stderr is passed on */
static void
debugged(void *data, jv msg)
{
	jv text = jv_dump_string(msg, 0);

	fprintf(stderr, "%s: [\"DEBUG:\",%s]\n", (const char *)data,
	    jv_string_value(text));
	jv_free(text);
}

static struct program *
find(const char *label)
{
	struct program *p;

	for (p = programs; p != NULL; p = p->next)
		if (strcmp(p->label, label) == 0)
			return p;
	return NULL;
}

/* the program of path, compiled once; NULL and why */
static struct program *
program(const char *path, const char *label, char *why, size_t whysz)
{
	struct program *p;
	char errs[1024] = "";
	size_t len;
	char *text;

	if ((p = find(label)) != NULL)
		return p;
	if (dphp_jq_load() != 0) {
		snprintf(why, whysz, "handler %s: cannot load libjq", label);
		return NULL;
	}
	if ((text = dphp_slurp(path, PROGRAM_MAX, &len)) == NULL) {
		snprintf(why, whysz, "handler %s: cannot read '%s': %s", label,
		    path, errno == EFBIG ? "longer than 1 MiB" :
		    strerror(errno));
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	p->label = xstrdup(label);
	if ((p->jq = jq_init()) == NULL) {
		snprintf(why, whysz, "handler %s: cannot start jq", label);
		goto bad;
	}
	jq_set_error_cb(p->jq, collect, errs);
	if (!jq_compile(p->jq, text)) {
		/* "jq: error: ... at <top-level>, line N:" and the line */
		*strchrnul(errs, '\n') = '\0';
		if ((len = strlen(errs)) > 0 && errs[len - 1] == ':')
			errs[len - 1] = '\0';
		snprintf(why, whysz, "handler %s: '%s' does not compile: %s",
		    label, path, errs[0] ? errs : "jq: error");
		goto bad;
	}
	jq_set_error_cb(p->jq, NULL, NULL);
	jq_set_debug_cb(p->jq, debugged, p->label);
	free(text);
	p->next = programs;
	programs = p;
	return p;
bad:
	free(text);
	if (p->jq != NULL)
		jq_teardown(&p->jq);
	free(p->label);
	free(p);
	return NULL;
}

/* v as text (consumed): a string as it is, anything else as JSON */
static void
describe(jv v, char *buf, size_t bufsz)
{
	jv text;

	if (jv_get_kind(v) == JV_KIND_STRING) {
		snprintf(buf, bufsz, "%s", jv_string_value(v));
		jv_free(v);
		return;
	}
	text = jv_dump_string(v, 0);
	snprintf(buf, bufsz, "%s", jv_string_value(text));
	jv_free(text);
}

/* jq_next under the time limit, armed by the caller */
static jv
next(jq_state *jq)
{
	jv v;

	running = jq;
	v = jq_next(jq);
	running = NULL;
	return v;
}

/* why the program stopped with halt or halt_error */
static void
halted(jq_state *jq, const char *label, char *why, size_t whysz)
{
	jv code = jq_get_exit_code(jq), msg = jq_get_error_message(jq);
	char text[1024] = "";
	int status = 0;

	if (jv_get_kind(code) == JV_KIND_NUMBER)
		status = (int)jv_number_value(code);
	jv_free(code);
	if (jv_get_kind(msg) != JV_KIND_INVALID)
		describe(msg, text, sizeof(text));
	else
		jv_free(msg);
	*strchrnul(text, '\n') = '\0';	/* halt_error's text ends so */
	if (text[0] != '\0')
		snprintf(why, whysz, "handler %s stopped with status %d: %s",
		    label, status, text);
	else
		snprintf(why, whysz, "handler %s stopped with status %d "
		    "without answering", label, status);
}

int
dphp_jq_known(const char *label)
{
	return find(label) != NULL;
}

enum dphp_jq_outcome
dphp_jq_call(const char *path, const char *label, json_t *request,
    int64_t timeout_ms, json_t **out, char *why, size_t whysz)
{
	struct itimerval limit = { { 0, 0 }, { 0, 0 } }, off = limit;
	static int armed;	/* the SIGALRM handler is there */
	struct sigaction sa;
	struct program *p;
	json_error_t err;
	char *req, *s, msg[1024];
	jv input, answer, more, text;

	*out = NULL;
	why[0] = '\0';
	if ((p = program(path, label, why, whysz)) == NULL)
		return DPHP_JQ_TROUBLE;
	req = dphp_json_text(request, NULL);
	input = jv_parse_sized(req, (int)strlen(req));
	free(req);
	if (jv_get_kind(input) == JV_KIND_INVALID) {
		/* jq 1.6 reads 256 levels of nesting at most; its message
		 * goes on with the whole request */
		describe(jv_invalid_get_msg(input), msg, sizeof(msg));
		if ((s = strstr(msg, " (while parsing")) != NULL)
			*s = '\0';
		snprintf(why, whysz, "handler %s: jq cannot read the request: "
		    "%s", label, msg);
		return DPHP_JQ_FAILED;
	}
	if (!armed) {	/* once: it does nothing while jq does not run */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alarm;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGALRM, &sa, NULL);
		armed = 1;
	}
	expired = 0;
	limit.it_value.tv_sec = timeout_ms / 1000;
	limit.it_value.tv_usec = timeout_ms % 1000 * 1000;
	if (timeout_ms > 0)
		setitimer(ITIMER_REAL, &limit, NULL);
	jq_start(p->jq, input, 0);
	answer = next(p->jq);
	/* one answer, as a line from a co-process: a second is an error */
	more = jv_get_kind(answer) == JV_KIND_INVALID || jq_halted(p->jq) ?
	    jv_invalid() : next(p->jq);
	if (timeout_ms > 0)
		setitimer(ITIMER_REAL, &off, NULL);

	if (expired)
		snprintf(why, whysz, "handler %s timed out after %lld ms",
		    label, (long long)timeout_ms);
	else if (jq_halted(p->jq))
		halted(p->jq, label, why, whysz);
	else if (jv_get_kind(answer) == JV_KIND_INVALID &&
	    jv_invalid_has_msg(jv_copy(answer))) {
		describe(jv_invalid_get_msg(jv_copy(answer)), msg, sizeof(msg));
		snprintf(why, whysz, "handler %s: jq: error: %s", label, msg);
	} else if (jv_get_kind(answer) == JV_KIND_INVALID)
		snprintf(why, whysz, "handler %s ended without answering",
		    label);
	else if (jv_get_kind(more) != JV_KIND_INVALID)
		snprintf(why, whysz, "handler %s answered more than one line",
		    label);
	else if (jv_invalid_has_msg(jv_copy(more))) {
		describe(jv_invalid_get_msg(jv_copy(more)), msg, sizeof(msg));
		snprintf(why, whysz, "handler %s: jq: error after its answer: "
		    "%s", label, msg);
	} else if (jv_get_kind(answer) != JV_KIND_OBJECT)
		snprintf(why, whysz, "handler %s did not print a JSON object",
		    label);
	jv_free(more);
	if (why[0] != '\0') {
		jv_free(answer);
		return DPHP_JQ_FAILED;
	}
	text = jv_dump_string(answer, 0);
	if ((size_t)jv_string_length_bytes(jv_copy(text)) > DPHP_MAX_LINE)
		snprintf(why, whysz, "handler %s printed more than %d bytes",
		    label, DPHP_MAX_LINE);
	else if ((*out = json_loads(jv_string_value(text),
	    JSON_REJECT_DUPLICATES, &err)) == NULL)
		snprintf(why, whysz, "handler %s printed invalid JSON: %s",
		    label, err.text);
	jv_free(text);
	return *out == NULL ? DPHP_JQ_FAILED : DPHP_JQ_OK;
}

void
dphp_jq_close(void)
{
	struct program *p;

	while ((p = programs) != NULL) {
		programs = p->next;
		jq_teardown(&p->jq);
		free(p->label);
		free(p);
	}
}
