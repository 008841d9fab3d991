/*
 * dphp-project - read models: the states in a store, as NDJSON.
 *
 *	dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy]
 *	    get id ...
 *	dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy]
 *	    ls [kind[:name]]
 *	dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy]
 *	    owner id ...
 *	dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy]
 *	    status id ...
 *	dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy]
 *	    [-w timeout] wait id [status[,status...]]
 *
 * With a policy, a user reads what the policy lets them read, and
 * nothing else: get refuses, ls leaves out.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dphp.h"

static const char synopsis[] =
    "dphp-project [-u] [-b user | -K keys -T token] [-d store] "
    "[-P policy] get id ...\n"
    "       dphp-project [-u] [-b user | -K keys -T token] [-d store] "
    "[-P policy]\n"
    "           ls [kind[:name]]\n"
    "       dphp-project [-u] [-b user | -K keys -T token] [-d store] "
    "[-P policy]\n"
    "           owner id ...\n"
    "       dphp-project [-u] [-b user | -K keys -T token] [-d store] "
    "[-P policy]\n"
    "           status id ...\n"
    "       dphp-project [-u] [-b user | -K keys -T token] [-d store] "
    "[-P policy]\n"
    "           [-w timeout] wait id [status[,status...]]";
static const char options[] =
    "  -b user[:role,...]  read as this user (trusted: not proven)\n"
    "  -d store   the store (default $DPHP_STORE)\n"
    "  -K keys    check -T's token with the keys of this file\n"
    "  -P policy  read only what the policy allows (default "
    "$DPHP_POLICY)\n"
    "  -T token   read as the user this token (or @file) proves\n"
    "  -w timeout with wait: give up after this long (90s, 15m; default: "
    "never)\n"
    "  -u         flush after every record\n"
    "  -h, --help     this help\n"
    "  -V, --version  the version\n"
    "commands:\n"
    "  get id ...            each state with its ETag\n"
    "  ls [kind[:name]]      the ids and ETags, sorted by id\n"
    "  owner id ...          each ownership record with its ETag\n"
    "  status id ...         where each orchestration or activity is\n"
    "  wait id [status,...]  until it is there (default: it has ended)\n";

static struct dphp_store *store;
static struct dphp_policy *policy;	/* -P */
static json_t *by;			/* -b, -T */

/* May the user do op at id?  1, 0 (why says why not), -1. */
static int
allowed(const char *id, unsigned op, char *why, size_t whysz)
{
	int r;

	if (policy == NULL)
		return 1;
	r = dphp_authz_may(store, policy, by, id, op, why, whysz);
	return r < 0 ? -1 : r == DPHP_AUTHZ_ALLOW;
}

/* get: the states of ids; owners: their ownership records instead */
static int
get(int argc, char **argv, int owners)
{
	char etag[DPHP_ETAG_MAX], denied[1024];
	struct dphp_id id;
	const char *why;
	json_t *state, *rec;
	int i, r, status = 0;

	for (i = 0; i < argc; i++)
		if (dphp_id_parse(argv[i], &id, &why) != 0) {
			dphp_error("invalid id '%.300s': %s", argv[i], why);
			return DPHP_EXIT_USAGE;
		}
	for (i = 0; i < argc; i++) {
		if ((r = allowed(argv[i], owners ? DPHP_OP_SHARE_MINUS :
		    DPHP_OP_READ, denied, sizeof(denied))) < 0)
			return DPHP_EXIT_SYS;
		if (r == 0) {
			dphp_error("%s", denied);
			status = DPHP_EXIT_NO;
			continue;
		}
		r = dphp_store_get_space(store, owners ? DPHP_SPACE_OWNER :
		    DPHP_SPACE_STATE, argv[i], &state, etag);
		if (r == DPHP_STORE_ERROR)
			return DPHP_EXIT_SYS;
		if (r == DPHP_STORE_NOTFOUND) {
			dphp_error("no %s for '%s'", owners ? "ownership record" :
			    "state", argv[i]);
			status = DPHP_EXIT_NO;
			continue;
		}
		rec = json_pack("{sssssO}", "id", argv[i], "etag", etag,
		    owners ? "owner" : "state", state);
		dphp_write(rec);
		json_decref(rec);
		json_decref(state);
	}
	return status;
}

/*
 * Where an orchestration or activity is, from its document: a new
 * {"id","etag","status","custom","output","error"} (nulls for what it
 * has not).
 */
static json_t *
statusof(const char *id, const char *etag, json_t *doc, int activity)
{
	json_t *v = json_object_get(doc, activity ? "result" : "output");

	return json_pack("{sssssOsOsOsO}", "id", id, "etag", etag, "status",
	    json_object_get(doc, "status") ? json_object_get(doc, "status") :
	    json_null(), "custom", json_object_get(doc, "custom") ?
	    json_object_get(doc, "custom") : json_null(), "output",
	    v ? v : json_null(), "error", json_object_get(doc, "error") ?
	    json_object_get(doc, "error") : json_null());
}

/*
 * The status record of id (which may have none: entities, and ids not
 * yet started): 0 with *out set or NULL when it has no state, or an
 * exit status after a message.
 */
static int
status1(const char *id, unsigned op, json_t **out)
{
	char etag[DPHP_ETAG_MAX], why[1024];
	struct dphp_id pid;
	const char *e;
	json_t *doc;
	int r;

	*out = NULL;
	if (dphp_id_parse(id, &pid, &e) != 0) {
		dphp_error("invalid id '%.300s': %s", id, e);
		return DPHP_EXIT_USAGE;
	}
	if (pid.kind == DPHP_KIND_ENTITY) {
		dphp_error("'%s' has no status: only orchestrations and "
		    "activities do", id);
		return DPHP_EXIT_USAGE;
	}
	if ((r = allowed(id, op, why, sizeof(why))) <= 0) {
		if (r == 0)
			dphp_error("%s", why);
		return r < 0 ? DPHP_EXIT_SYS : DPHP_EXIT_NO;
	}
	r = dphp_store_get(store, id, &doc, etag);
	if (r == DPHP_STORE_ERROR)
		return DPHP_EXIT_SYS;
	if (r == DPHP_STORE_OK) {
		*out = statusof(id, etag, doc, pid.kind == DPHP_KIND_ACTIVITY);
		json_decref(doc);
	}
	return 0;
}

static int
status(int argc, char **argv)
{
	json_t *rec;
	int i, r, st = 0;

	for (i = 0; i < argc; i++) {
		if ((r = status1(argv[i], DPHP_OP_READ, &rec)) != 0) {
			if (r != DPHP_EXIT_NO)
				return r;
			st = r;
			continue;
		}
		if (rec == NULL) {
			dphp_error("no state for '%s'", argv[i]);
			st = DPHP_EXIT_NO;
			continue;
		}
		dphp_write(rec);
		json_decref(rec);
	}
	return st;
}

static int
among(const char *s, const char *list)
{
	size_t n = strlen(s);
	const char *p;

	for (p = list; (p = strstr(p, s)) != NULL; p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

/*
 * Wait until id is in one of the statuses (default: it has ended), for
 * timeout_ms at most (-1: for ever), reading its state again at growing
 * intervals.  0 when it got there (by default: completed), 1 when it
 * ended otherwise, 75 on a time-out.
 */
static int
waitfor(const char *id, const char *want, int64_t timeout_ms)
{
	const char *ended = "completed,failed,terminated", *s;
	int64_t deadline = timeout_ms < 0 ? -1 :
	    dphp_monotonic_ms() + timeout_ms;
	int64_t pause = 20;
	json_t *rec;
	int r;

	for (;;) {
		if ((r = status1(id, DPHP_OP_SUBSCRIBE, &rec)) != 0)
			return r;
		s = rec ? json_string_value(json_object_get(rec, "status")) :
		    NULL;
		if (s != NULL && among(s, want ? want : ended)) {
			r = want || strcmp(s, "completed") == 0 ? 0 :
			    DPHP_EXIT_NO;
			dphp_write(rec);
			json_decref(rec);
			return r;
		}
		if (deadline >= 0 && dphp_monotonic_ms() >= deadline) {
			dphp_error("'%s' is %s after %lld ms", id, s ? s :
			    "not started", (long long)timeout_ms);
			json_decref(rec);
			return DPHP_EXIT_LOCKED;
		}
		json_decref(rec);
		if (fflush(stdout) == EOF)
			return DPHP_EXIT_SYS;
		dphp_nap(pause);
		if (pause < 500)
			pause *= 2;
	}
}

static int
collect(const char *id, const char *etag, void *arg)
{
	char why[1024];
	int r;

	if ((r = allowed(id, DPHP_OP_READ, why, sizeof(why))) <= 0)
		return r;
	json_array_append_new(arg, json_pack("{ssss}", "id", id, "etag",
	    etag));
	return 0;
}

static int
byid(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a,
	    "id")), json_string_value(json_object_get(*(json_t *const *)b,
	    "id")));
}

static int
ls(const char *filter)
{
	enum dphp_kind k, first = DPHP_KIND_ENTITY, last = DPHP_KIND_ACTIVITY;
	char *kind = NULL, *name = NULL;
	json_t *all, **v;
	size_t n, i;
	int r = 0;

	if (filter != NULL) {
		kind = xstrdup(filter);
		if ((name = strchr(kind, ':')) != NULL)
			*name++ = '\0';
		for (k = first; k <= last; k++)
			if (strcmp(kind, dphp_kind_name(k)) == 0)
				break;
		if (k > last || (name != NULL && !dphp_name_valid(name))) {
			dphp_error("invalid filter '%.300s' (want KIND or "
			    "KIND:NAME)", filter);
			free(kind);
			return DPHP_EXIT_USAGE;
		}
		first = last = k;
	}
	all = json_array();
	for (k = first; r == 0 && k <= last; k++)
		r = dphp_store_list(store, k, name, collect, all);
	free(kind);
	if (r != 0) {
		json_decref(all);
		return DPHP_EXIT_SYS;
	}
	n = json_array_size(all);
	v = xcalloc(n, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = json_array_get(all, i);
	qsort(v, n, sizeof(*v), byid);
	for (i = 0; i < n; i++)
		dphp_write(v[i]);
	free(v);
	json_decref(all);
	return 0;
}

int
main(int argc, char *argv[])
{
	const char *spec = NULL, *Kflag = NULL, *why;
	int64_t timeout_ms = -1;
	char buf[1024];
	const char *Pflag = getenv("DPHP_POLICY");
	struct dphp_keys *keys;
	json_t *token = NULL;
	int c, r;

	dphp_setprog("dphp-project");
	if (Pflag != NULL && *Pflag == '\0')
		Pflag = NULL;
	while ((c = getopt_long(argc, argv, "b:d:hK:P:T:uVw:", dphp_longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'b':
			json_decref(by);
			if ((by = dphp_by_parse(optarg, buf, sizeof(buf))) ==
			    NULL)
				dphp_die(DPHP_EXIT_USAGE, "%s", buf);
			break;
		case 'd':
			spec = optarg;
			break;
		case 'K':
			Kflag = optarg;
			break;
		case 'P':
			Pflag = optarg;
			break;
		case 'T':
			json_decref(token);
			token = dphp_token_arg(optarg);
			break;
		case 'h':
			dphp_help(synopsis, options);
		case 'u':
			dphp_unbuffered = 1;
			break;
		case 'V':
			dphp_version();
		case 'w':
			if (dphp_duration_parse(optarg, &timeout_ms) != 0)
				dphp_die(DPHP_EXIT_USAGE, "invalid timeout '%s' "
				    "(a duration: 90s, 15m, 2h)", optarg);
			break;
		default:
			dphp_usage(synopsis);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || (strcmp(argv[0], "ls") == 0 ? argc > 2 : argc < 2) ||
	    (strcmp(argv[0], "wait") == 0 && argc > 3) ||
	    (timeout_ms >= 0 && strcmp(argv[0], "wait") != 0) ||
	    (strcmp(argv[0], "get") != 0 && strcmp(argv[0], "ls") != 0 &&
	    strcmp(argv[0], "owner") != 0 && strcmp(argv[0], "status") != 0 &&
	    strcmp(argv[0], "wait") != 0) ||
	    (by && token) || (!Kflag != !token))
		dphp_usage(synopsis);
	if ((by || token) && Pflag == NULL)
		dphp_die(DPHP_EXIT_USAGE, "a user reads under a policy: give "
		    "-P or set DPHP_POLICY");
	if (token != NULL) {
		if ((keys = dphp_keys_load(Kflag)) == NULL)
			return DPHP_EXIT_USAGE;
		by = dphp_jwt_verify(keys, json_string_value(token),
		    dphp_now_ms(), &why);
		dphp_keys_free(keys);
		json_decref(token);
		if (by == NULL)
			dphp_die(DPHP_EXIT_USAGE, "the token is refused: %s",
			    why);
	}
	if (Pflag != NULL && (policy = dphp_policy_load(Pflag)) == NULL)
		return DPHP_EXIT_USAGE;
	if ((store = dphp_store_open(spec)) == NULL)
		return DPHP_EXIT_SYS;
	if (strcmp(argv[0], "status") == 0)
		r = status(argc - 1, argv + 1);
	else if (strcmp(argv[0], "wait") == 0)
		r = waitfor(argv[1], argc > 2 ? argv[2] : NULL, timeout_ms);
	else if (strcmp(argv[0], "ls") != 0)
		r = get(argc - 1, argv + 1, strcmp(argv[0], "owner") == 0);
	else
		r = ls(argc > 1 ? argv[1] : NULL);
	dphp_store_close(store);
	dphp_policy_free(policy);
	json_decref(by);
	dphp_fshut();
	return r;
}
