/*
 * dphp-project - read models: the states in a store, as NDJSON.
 *
 *	dphp-project [-u] [-d store] get id ...
 *	dphp-project [-u] [-d store] ls [kind[:name]]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dphp.h"

static const char synopsis[] =
    "dphp-project [-u] [-d store] get id ...\n"
    "       dphp-project [-u] [-d store] ls [kind[:name]]";
static const char options[] =
    "  -d store   the store (default $DPHP_STORE)\n"
    "  -u         flush after every record\n"
    "  -h, --help     this help\n"
    "  -V, --version  the version\n"
    "commands:\n"
    "  get id ...            each state with its ETag\n"
    "  ls [kind[:name]]      the ids and ETags, sorted by id\n";

static struct dphp_store *store;

static int
get(int argc, char **argv)
{
	char etag[DPHP_ETAG_MAX];
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
		r = dphp_store_get(store, argv[i], &state, etag);
		if (r == DPHP_STORE_ERROR)
			return DPHP_EXIT_SYS;
		if (r == DPHP_STORE_NOTFOUND) {
			dphp_error("no state for '%s'", argv[i]);
			status = DPHP_EXIT_NO;
			continue;
		}
		rec = json_pack("{sssssO}", "id", argv[i], "etag", etag,
		    "state", state);
		dphp_write(rec);
		json_decref(rec);
		json_decref(state);
	}
	return status;
}

static int
collect(const char *id, const char *etag, void *arg)
{
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
	const char *spec = NULL;
	int c, r;

	dphp_setprog("dphp-project");
	while ((c = getopt_long(argc, argv, "d:huV", dphp_longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'd':
			spec = optarg;
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
	if (argc < 1 || (strcmp(argv[0], "get") == 0 && argc < 2) ||
	    (strcmp(argv[0], "ls") == 0 && argc > 2) ||
	    (strcmp(argv[0], "get") != 0 && strcmp(argv[0], "ls") != 0))
		dphp_usage(synopsis);
	if ((store = dphp_store_open(spec)) == NULL)
		return DPHP_EXIT_SYS;
	if (strcmp(argv[0], "get") == 0)
		r = get(argc - 1, argv + 1);
	else
		r = ls(argc > 1 ? argv[1] : NULL);
	dphp_store_close(store);
	dphp_fshut();
	return r;
}
