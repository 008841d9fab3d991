/*
 * dphp-project - read models: the states in a store, as NDJSON.
 *
 *	dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy]
 *	    get id ...
 *	dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy]
 *	    ls [kind[:name]]
 *	dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy]
 *	    owner id ...
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
    "           owner id ...";
static const char options[] =
    "  -b user[:role,...]  read as this user (trusted: not proven)\n"
    "  -d store   the store (default $DPHP_STORE)\n"
    "  -K keys    check -T's token with the keys of this file\n"
    "  -P policy  read only what the policy allows (default "
    "$DPHP_POLICY)\n"
    "  -T token   read as the user this token (or @file) proves\n"
    "  -u         flush after every record\n"
    "  -h, --help     this help\n"
    "  -V, --version  the version\n"
    "commands:\n"
    "  get id ...            each state with its ETag\n"
    "  ls [kind[:name]]      the ids and ETags, sorted by id\n"
    "  owner id ...          each ownership record with its ETag\n";

static struct dphp_store *store;
static struct dphp_policy *policy;	/* -P */
static json_t *by;			/* -b, -T */

/* May the user read id (with owners: its ownership record)?  1, 0 (why
 * says why not), -1. */
static int
readable(const char *id, int owners, char *why, size_t whysz)
{
	int r;

	if (policy == NULL)
		return 1;
	r = dphp_authz_may(store, policy, by, id, owners ?
	    DPHP_OP_SHARE_MINUS : DPHP_OP_READ, why, whysz);
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
		if ((r = readable(argv[i], owners, denied, sizeof(denied))) <
		    0)
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

static int
collect(const char *id, const char *etag, void *arg)
{
	char why[1024];
	int r;

	if ((r = readable(id, 0, why, sizeof(why))) <= 0)
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
	char buf[1024];
	const char *Pflag = getenv("DPHP_POLICY");
	struct dphp_keys *keys;
	json_t *token = NULL;
	int c, r;

	dphp_setprog("dphp-project");
	if (Pflag != NULL && *Pflag == '\0')
		Pflag = NULL;
	while ((c = getopt_long(argc, argv, "b:d:hK:P:T:uV", dphp_longopts,
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
		default:
			dphp_usage(synopsis);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || (strcmp(argv[0], "ls") == 0 ? argc > 2 : argc < 2) ||
	    (strcmp(argv[0], "get") != 0 && strcmp(argv[0], "ls") != 0 &&
	    strcmp(argv[0], "owner") != 0) ||
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
	if (strcmp(argv[0], "ls") != 0)
		r = get(argc - 1, argv + 1, strcmp(argv[0], "owner") == 0);
	else
		r = ls(argc > 1 ? argv[1] : NULL);
	dphp_store_close(store);
	dphp_policy_free(policy);
	json_decref(by);
	dphp_fshut();
	return r;
}
