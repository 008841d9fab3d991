/*
 * dphp-emit - build events from the command line, or wrap the events
 * read on stdin in more wrappers (composable events in a pipeline).
 *
 *	dphp-emit [options] command id [argument ...]
 *	dphp-emit -w [wrapper options] [file ...]
 *	dphp-emit -K keys [-t time] token user[:role,...] [lifetime]
 *
 * Wrappers nest in one fixed order, outermost first: delay, priority,
 * from, lock, reply_to (in the order given), to; then the core event.
 * Everything printed has passed the library's own validation.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dphp.h"

static const char synopsis[] =
    "dphp-emit [-u] [-A time | -D duration] [-b user[:role,...] | "
    "-T token]\n"
    "           [-f from] [-i id]\n"
    "           [-l owner [-p participant ...]] [-P priority] "
    "[-r reply-to ...] [-t time]\n"
    "           command id [argument ...]\n"
    "       dphp-emit -w [-u] [-A time | -D duration] [-f from] "
    "[-l owner [-p participant ...]]\n"
    "           [-P priority] [-r reply-to ...] [-T token] [file ...]\n"
    "       dphp-emit -K keys [-t time] token user[:role,...] [lifetime]";
static const char options[] =
    "  -A time        deliver at time (RFC 3339 UTC)\n"
    "  -b user[:role,...]  the acting user and roles\n"
    "  -D duration    deliver after duration (90, 90s, 15m, 2h, 1d, "
    "500ms)\n"
    "  -f from        the emitting resource\n"
    "  -i id          the event id (default: a new UUIDv7)\n"
    "  -K keys        with token: sign with the last key of this file\n"
    "  -l owner       a lock wrapper owned by owner\n"
    "  -p participant an entity in the lock (repeatable)\n"
    "  -P priority    0 (most urgent) to 1000\n"
    "  -r reply-to    send the reply to this id (repeatable)\n"
    "  -T token       attach this token (or @file) to prove the user\n"
    "  -t time        the envelope's time (default: now)\n"
    "  -u             flush after every record\n"
    "  -w             wrap the envelopes read from files or stdin\n"
    "  -h, --help     this help\n"
    "  -V, --version  the version\n"
    "commands:\n"
    "  start ORCHESTRATION [INPUT]        signal ENTITY OP [INPUT]\n"
    "  call ENTITY OP [INPUT] (needs -r)  raise ORCHESTRATION NAME [INPUT]\n"
    "  schedule ACTIVITY [INPUT]          terminate ORCHESTRATION [REASON]\n"
    "  completed ID SCHEDULED-ID [RESULT] failed ID SCHEDULED-ID REASON\n"
    "  share ID user|role NAME OP[,OP...] revoke ID user|role NAME [OP]\n"
    "  give ID USER                       delete ID\n"
    "  token USER[:ROLE,...] [LIFETIME]   (with -K) print a token, 1h\n"
    "INPUT and RESULT are JSON text, @FILE, or - for stdin.\n";

static const char *delay, *from, *lockowner, *priority;
static const char *replyto[DPHP_REPLY_MAX];
static int nreply;
static json_t *participants;
static json_t *token;		/* -T */

static void __attribute__((noreturn, format(printf, 1, 2)))
bad(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dphp_vsay(NULL, "error: ", fmt, ap);
	va_end(ap);
	exit(DPHP_EXIT_USAGE);
}

static void
checkid(const char *s)
{
	struct dphp_id id;
	char why[128];

	if (dphp_id_parse(s, &id, why, sizeof(why)) != 0)
		bad("invalid id '%.300s': %s", s, why);
}

/* JSON text, @file, or - for stdin */
static json_t *
input(const char *arg)
{
	int status = DPHP_EXIT_INPUT;
	json_t *v;

	if (strcmp(arg, "-") == 0)
		v = dphp_json_load_file("-", &status);
	else if (arg[0] == '@')
		v = dphp_json_load_file(arg + 1, &status);
	else
		v = dphp_json_parse(arg, strlen(arg), "argument");
	if (v == NULL)
		exit(status);
	return v;
}

/*
 * A reason (failed, terminate): a JSON string, as every other operand is
 * JSON, or, for convenience, text that is not JSON at all, taken as it
 * is.  JSON of another type is refused, not turned into text: 42 could
 * mean either.
 */
static json_t *
reason(const char *arg)
{
	json_t *v;

	if (strcmp(arg, "-") == 0 || arg[0] == '@')
		v = input(arg);
	else if ((v = json_loads(arg, JSON_DECODE_ANY |
	    JSON_REJECT_DUPLICATES, NULL)) == NULL) {
		if ((v = json_string(arg)) == NULL)
			bad("the reason is not valid UTF-8");
		return v;
	}
	if (!json_is_string(v)) {
		json_decref(v);
		bad("the reason '%.64s' is JSON but not a string: quote it",
		    arg);
	}
	return v;
}

/* Wrap chain in the wrappers given as options, innermost first. */
static json_t *
wrap(json_t *chain)
{
	char *end;
	int i;

	for (i = nreply - 1; i >= 0; i--)
		chain = dphp_wrap("reply_to", json_string(replyto[i]), chain);
	if (lockowner != NULL)
		chain = dphp_wrap("lock", json_pack("{sssO}", "owner",
		    lockowner, "participants", participants), chain);
	if (from != NULL)
		chain = dphp_wrap("from", json_string(from), chain);
	if (priority != NULL)
		chain = dphp_wrap("priority", json_integer(strtol(priority,
		    &end, 10)), chain);
	if (delay != NULL)
		chain = dphp_wrap("delay", json_string(delay), chain);
	return chain;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
	    json_string_value(*(json_t *const *)b));
}

/* Sort and deduplicate the lock participants. */
static void
sortparticipants(void)
{
	size_t n = json_array_size(participants), i;
	json_t **v, *out;

	v = xcalloc(n, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = json_array_get(participants, i);
	qsort(v, n, sizeof(*v), cmpstr);
	out = json_array();
	for (i = 0; i < n; i++)
		if (i == 0 || cmpstr(&v[i - 1], &v[i]) != 0)
			json_array_append(out, v[i]);
	free(v);
	json_decref(participants);
	participants = out;
}

struct command {
	const char *name;
	const char *type;
	int min, max;		/* arguments after the id */
	const char *operands;	/* for the message when they are wrong */
};

static const struct command commands[] = {
	{ "start", "start", 0, 1, "orchestration [input]" },
	{ "signal", "signal", 1, 2, "entity op [input]" },
	{ "call", "signal", 1, 2, "entity op [input]" },
	{ "raise", "raise", 1, 2, "orchestration name [input]" },
	{ "schedule", "schedule", 0, 1, "activity [input]" },
	{ "completed", "completed", 1, 2, "id scheduled-id [result]" },
	{ "failed", "failed", 2, 2, "id scheduled-id reason" },
	{ "terminate", "terminate", 0, 1, "orchestration [reason]" },
	{ "share", "share", 3, 3, "id user|role name op[,op...]" },
	{ "revoke", "revoke", 2, 3, "id user|role name [op]" },
	{ "give", "give", 1, 1, "id user" },
	{ "delete", "delete", 0, 0, "id" },
};

/* The core event of command c with arguments av (after the id). */
static json_t *
core(const struct command *c, int ac, char **av)
{
	json_t *e = json_pack("{ss}", "type", c->type), *ops;
	char *list, *op, *save;

	if (strcmp(c->type, "signal") == 0) {
		json_object_set_new(e, "op", json_string(av[0]));
		if (ac > 1)
			json_object_set_new(e, "input", input(av[1]));
	} else if (strcmp(c->type, "raise") == 0) {
		json_object_set_new(e, "name", json_string(av[0]));
		if (ac > 1)
			json_object_set_new(e, "input", input(av[1]));
	} else if (strcmp(c->type, "start") == 0 ||
	    strcmp(c->type, "schedule") == 0) {
		if (ac > 0)
			json_object_set_new(e, "input", input(av[0]));
	} else if (strcmp(c->type, "completed") == 0) {
		json_object_set_new(e, "scheduled_id", json_string(av[0]));
		if (ac > 1)
			json_object_set_new(e, "result", input(av[1]));
	} else if (strcmp(c->type, "failed") == 0) {
		json_object_set_new(e, "scheduled_id", json_string(av[0]));
		json_object_set_new(e, "reason", reason(av[1]));
	} else if (strcmp(c->type, "terminate") == 0) {
		if (ac > 0)
			json_object_set_new(e, "reason", reason(av[0]));
	} else if (strcmp(c->type, "share") == 0 ||
	    strcmp(c->type, "revoke") == 0) {
		if (strcmp(av[0], "user") != 0 && strcmp(av[0], "role") != 0)
			bad("'%s': want 'user' or 'role'", av[0]);
		json_object_set_new(e, av[0], json_string(av[1]));
		if (strcmp(c->type, "share") == 0) {
			ops = json_array();
			list = xstrdup(av[2]);
			for (op = strtok_r(list, ",", &save); op != NULL;
			    op = strtok_r(NULL, ",", &save))
				json_array_append_new(ops, json_string(op));
			free(list);
			json_object_set_new(e, "ops", ops);
		} else if (ac > 2)
			json_object_set_new(e, "op", json_string(av[2]));
	} else if (strcmp(c->type, "give") == 0)
		json_object_set_new(e, "user", json_string(av[0]));
	return e;
}

/* dphp-emit -K keys token USER[:ROLE,...] [LIFETIME] */
static int
mint(const char *keyfile, int argc, char **argv, int64_t iat)
{
	struct dphp_keys *ks;
	json_t *by, *roles;
	int64_t life = 3600 * 1000;
	char *tok, why[512];

	if (argc < 2 || argc > 3 || strcmp(argv[0], "token") != 0)
		dphp_usage(synopsis);
	if (argc == 3 && (dphp_duration_parse(argv[2], &life) != 0 ||
	    life < 1000))
		bad("'%s' is not a lifetime (a duration of 1s or more)",
		    argv[2]);
	if ((by = dphp_by_parse(argv[1], why, sizeof(why))) == NULL)
		bad("%s", why);
	if ((roles = json_object_get(by, "roles")) == NULL)
		json_object_set_new(by, "roles", roles = json_array());
	if ((ks = dphp_keys_load(keyfile)) == NULL)
		exit(DPHP_EXIT_CONFIG);
	tok = dphp_jwt_sign(ks, json_string_value(json_object_get(by,
	    "user")), roles, iat, life);
	if (printf("%s\n", tok) < 0)
		dphp_die(DPHP_EXIT_SYS, "cannot write:");
	free(tok);
	dphp_keys_free(ks);
	json_decref(by);
	dphp_fshut();
	return 0;
}

/* Print env if it is valid; if not, the options made it so: usage. */
static void
emit(json_t *env)
{
	struct dphp_desc d;
	char why[1024];

	if (dphp_envelope_check(env, &d, why, sizeof(why)) != 0)
		dphp_die(DPHP_EXIT_USAGE, "%s", why);
	dphp_write(env);
}

static int
wrapone(struct dphp_reader *rd, json_t *env, struct dphp_desc *d, void *arg)
{
	char why[1024];

	(void)arg;
	json_object_set_new(env, "event", wrap(json_incref(json_object_get(env,
	    "event"))));
	if (token != NULL)
		json_object_set(env, "token", token);
	if (dphp_envelope_check(env, d, why, sizeof(why)) != 0) {
		dphp_reader_error(rd, "cannot wrap: %s", why);
		return DPHP_EXIT_INPUT;
	}
	dphp_write(env);
	return 0;
}

int
main(int argc, char *argv[])
{
	const struct command *cmd = NULL;
	const char *at = NULL, *dur = NULL, *id = NULL, *ts = NULL;
	const char *Kflag = NULL;
	char when[25], stamp[25], why[512];
	json_t *by = NULL, *chain, *env;
	int64_t ms, base;
	size_t i;
	int c, wflag = 0, r;

	dphp_setprog("dphp-emit");
	participants = json_array();
	while ((c = getopt_long(argc, argv, "A:b:D:f:hi:K:l:p:P:r:T:t:uVw",
	    dphp_longopts, NULL)) != -1) {
		switch (c) {
		case 'A':
			at = optarg;
			break;
		case 'b':
			if ((by = dphp_by_parse(optarg, why, sizeof(why))) ==
			    NULL)
				bad("%s", why);
			break;
		case 'D':
			dur = optarg;
			break;
		case 'f':
			checkid(from = optarg);
			break;
		case 'h':
			dphp_help(synopsis, options);
		case 'i':
			if (!dphp_eventid_valid(id = optarg))
				bad("invalid event id '%.300s'", optarg);
			break;
		case 'K':
			Kflag = optarg;
			break;
		case 'l':
			checkid(lockowner = optarg);
			break;
		case 'T':
			json_decref(token);
			token = dphp_token_arg(optarg);
			break;
		case 'p':
			checkid(optarg);
			json_array_append_new(participants,
			    json_string(optarg));
			break;
		case 'P':
			dphp_strtonum(optarg, 0, 1000, "priority");
			priority = optarg;
			break;
		case 'r':
			checkid(optarg);
			if (nreply == DPHP_REPLY_MAX)
				bad("more than %s -r options", "16");
			replyto[nreply++] = optarg;
			break;
		case 't':
			if (dphp_time_parse(ts = optarg, &ms) != 0)
				bad("'%s' is not an RFC 3339 UTC time", optarg);
			break;
		case 'u':
			dphp_unbuffered = 1;
			break;
		case 'V':
			dphp_version();
		case 'w':
			wflag = 1;
			break;
		default:
			dphp_usage(synopsis);
		}
	}
	argc -= optind;
	argv += optind;
	if (Kflag != NULL) {
		if (at || dur || by || from || id || lockowner || nreply ||
		    priority || token || wflag || dphp_unbuffered)
			dphp_usage(synopsis);
		return mint(Kflag, argc, argv, ts ? (dphp_time_parse(ts, &ms),
		    ms) : dphp_now_ms());
	}
	if ((at && dur) || (json_array_size(participants) && !lockowner) ||
	    (wflag && (by || id || ts)) || (by && token))
		dphp_usage(synopsis);
	if (!wflag && argc == 0) {
		dphp_error("no command (start, signal, call, raise, schedule, "
		    "completed, failed, terminate, share, revoke, give or delete; "
		    "or -K keys token)");
		dphp_usage(synopsis);
	}
	sortparticipants();
	base = ts ? (dphp_time_parse(ts, &ms), ms) : dphp_now_ms();
	if (at != NULL) {
		if (dphp_time_parse(at, &ms) != 0)
			bad("'%s' is not an RFC 3339 UTC time", at);
		dphp_time_format(ms, when);
		delay = when;
	} else if (dur != NULL) {
		if (dphp_duration_parse(dur, &ms) != 0)
			bad("'%s' is not a duration", dur);
		dphp_time_format(base + ms, when);
		delay = when;
	}
	if (wflag) {
		r = dphp_each_event(argc, argv, wrapone, NULL);
		dphp_fshut();
		return r;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL)
		bad("unknown command '%.64s'", argv[0]);
	if (argc < 2 || argc - 2 < cmd->min || argc - 2 > cmd->max) {
		dphp_error("%s: %s operands: %s %s", cmd->name, argc < 2 ?
		    "missing" : argc - 2 < cmd->min ? "too few" : "too many",
		    cmd->name, cmd->operands);
		dphp_usage(synopsis);
	}
	if (strcmp(cmd->name, "call") == 0 && nreply == 0)
		bad("'%s' needs a reply-to (-r)", "call");
	checkid(argv[1]);
	chain = wrap(dphp_wrap("to", json_string(argv[1]),
	    core(cmd, argc - 2, argv + 2)));
	if (ts == NULL) {
		dphp_time_format(base, stamp);
		ts = stamp;
	}
	env = dphp_envelope_new(chain, id, ts, by);
	if (token != NULL)
		json_object_set(env, "token", token);
	emit(env);
	json_decref(env);
	json_decref(by);
	json_decref(participants);
	dphp_fshut();
	return 0;
}
