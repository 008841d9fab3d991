/*
 * dphp-lock - the locking half of the History layer: a stage between
 * dphp-route and dphp-replay, and a command that runs another holding
 * the locks of entities.
 *
 *	dphp-lock [-u] [-d store] [file ...]
 *	dphp-lock [-d store] [-l lease] [-o owner] [-w wait] entity ... --
 *	    command [argument ...]
 *	dphp-lock [-d store] -L
 *	dphp-lock [-d store] -F entity
 *
 * In a worker (events taken from a store's queue carry a receipt) the
 * stage grants, parks and lets go as lockstage.c says.  A stream has no
 * queue to park events in or to answer through, so there an event that
 * takes part in a lock stops the stage: nothing meant to run inside a
 * critical section ever runs outside one.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dphp.h"

static const char synopsis[] =
    "dphp-lock [-u] [-d store] [file ...]\n"
    "       dphp-lock [-d store] [-l lease] [-o owner] [-w wait] entity ... "
    "--\n"
    "           command [argument ...]\n"
    "       dphp-lock [-d store] -L\n"
    "       dphp-lock [-d store] -F entity";
static const char options[] =
    "  -d store    the store (default $DPHP_STORE)\n"
    "  -F entity   let go of the lock of entity, whoever holds it\n"
    "  -L          list the locks held\n"
    "  -l lease    how long a lock lasts unless renewed (30s)\n"
    "  -o owner    who holds the locks (default dphp-lock:HOST:PID)\n"
    "  -w wait     give up after waiting this long for the locks "
    "(default: no limit)\n"
    "  -u          flush after every record\n"
    "  -h, --help     this help\n"
    "  -V, --version  the version\n";

static const char *spec;
static struct dphp_store *store;
static int rejected;

static int
pass(struct dphp_reader *rd, json_t *env, struct dphp_desc *d, void *arg)
{
	json_t *out;

	(void)arg;
	if (d->receipt == NULL) {
		if (d->lock != NULL || strcmp(d->type, "expire") == 0) {
			dphp_reader_error(rd, "event %s takes part in a lock; "
			    "locks are kept only for events taken from a "
			    "store's queue", d->id);
			return DPHP_EXIT_INPUT;
		}
		dphp_write(env);
		return 0;
	}
	if (store == NULL && (store = dphp_store_open(spec)) == NULL)
		return dphp_store_open_status();
	switch (dphp_lock_stage(store, rd, env, d, &out)) {
	case DPHP_LOCK_PASS:
		dphp_write(out);
		json_decref(out);
		return 0;
	case DPHP_LOCK_DONE:
		return 0;
	case DPHP_LOCK_REJECTED:
		rejected = 1;
		return 0;
	default:
		return DPHP_EXIT_SYS;
	}
}

/* one line of -L for a lock record with an owner or parked events */
static int
listed(const char *id, const char *etag, void *arg)
{
	char e[DPHP_ETAG_MAX];
	json_t *rec = NULL, *line;
	int64_t now = *(int64_t *)arg, until = 0;
	int r;

	(void)etag;
	if ((r = dphp_store_get_space(store, DPHP_SPACE_LOCK, id, &rec,
	    e)) != DPHP_STORE_OK)
		return r == DPHP_STORE_NOTFOUND ? 0 : DPHP_EXIT_SYS;
	if (json_is_string(json_object_get(rec, "owner")) ||
	    json_array_size(json_object_get(rec, "parked")) > 0) {
		json_t *ids = json_array(), *p;
		size_t i;

		json_array_foreach(json_object_get(rec, "parked"), i, p)
			json_array_append(ids, json_object_get(p, "id"));
		dphp_time_parse(json_string_value(json_object_get(rec,
		    "expires")), &until);
		line = json_pack("{sssOsOsOsOsIsbso}", "entity", id,
		    "owner", json_object_get(rec, "owner"),
		    "participants", json_object_get(rec, "participants"),
		    "fence", json_object_get(rec, "fence"),
		    "expires", json_object_get(rec, "expires"),
		    "lease_left_ms", (json_int_t)(until > now ? until - now : 0),
		    "expired", until <= now, "parked", ids);
		dphp_write(line);
		json_decref(line);
	}
	json_decref(rec);
	return 0;
}

/* -F: let go by force, and say what was let go of (the audit record) */
static int
force(const char *entity)
{
	struct dphp_id id;
	char ts[32];
	json_t *was, *audit;

	if (dphp_id_parse(entity, &id, NULL, 0) != 0 ||
	    id.kind != DPHP_KIND_ENTITY)
		dphp_die(DPHP_EXIT_USAGE, "'%.300s' is not an entity id",
		    entity);
	switch (dphp_lock_force(store, entity, &was)) {
	case DPHP_LOCKREC_OK:
		dphp_time_format(dphp_now_ms(), ts);
		audit = json_pack("{sssssssOsOsOsb}", "kind", "unlock", "ts", ts,
		    "entity", entity, "owner", json_object_get(was, "owner"),
		    "fence", json_object_get(was, "fence"), "expires",
		    json_object_get(was, "expires"), "forced", 1);
		dphp_write(audit);
		json_decref(audit);
		json_decref(was);
		return 0;
	case DPHP_LOCKREC_FREE:
		dphp_error("'%s' is not locked", entity);
		return DPHP_EXIT_NO;
	case DPHP_LOCKREC_RACED:
		dphp_error("the lock of %s changed meanwhile; try again",
		    entity);
		return DPHP_EXIT_NO;
	default:
		return DPHP_EXIT_SYS;
	}
}

/* dphp-lock ENTITY... -- CMD: check the entities, then run CMD */
static int
command(int n, char **entities, char **cmd, struct dphp_locked *o)
{
	struct dphp_id id;
	char why[128], host[256], *owner = NULL;
	int i, r;

	for (i = 0; i < n; i++) {
		if (dphp_id_parse(entities[i], &id, why, sizeof(why)) != 0)
			dphp_die(DPHP_EXIT_USAGE, "invalid id '%.300s': %s",
			    entities[i], why);
		if (id.kind != DPHP_KIND_ENTITY)
			dphp_die(DPHP_EXIT_USAGE, "'%.300s' is not an entity; "
			    "only entities are locked", entities[i]);
	}
	if (o->owner == NULL) {
		if (gethostname(host, sizeof(host)) != 0)
			strcpy(host, "localhost");
		host[sizeof(host) - 1] = '\0';
		o->owner = owner = xasprintf("dphp-lock:%s:%ld", host,
		    (long)getpid());
	}
	if ((store = dphp_store_open(spec)) == NULL)
		return dphp_store_open_status();
	r = dphp_run_locked(store, entities, n, cmd, o);
	if (dphp_store_close(store) != 0 && r == 0)
		r = DPHP_EXIT_SYS;
	free(owner);
	return r;
}

int
main(int argc, char *argv[])
{
	struct dphp_locked o = { -1, 30000, NULL };
	const char *Fflag = NULL;
	int64_t now;
	int c, i, r, cflag = 0, Lflag = 0;

	dphp_setprog("dphp-lock");
	while ((c = getopt_long(argc, argv, "+d:F:hLl:o:uVw:", dphp_longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'F':
			Fflag = optarg;
			break;
		case 'L':
			Lflag = 1;
			break;
		case 'd':
			spec = optarg;
			break;
		case 'l':
			if (dphp_duration_parse(optarg, &o.lease_ms) != 0 ||
			    o.lease_ms < 3)
				dphp_die(DPHP_EXIT_USAGE, "invalid lease '%s' "
				    "(a duration: 90s, 15m, 2h)", optarg);
			cflag = 1;
			break;
		case 'o':
			o.owner = optarg;
			cflag = 1;
			break;
		case 'w':
			if (dphp_duration_parse(optarg, &o.wait_ms) != 0)
				dphp_die(DPHP_EXIT_USAGE, "invalid wait '%s' "
				    "(a duration: 0, 90s, 15m, 2h)", optarg);
			cflag = 1;
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
	/* "--" right after the options: a command with no entities */
	if (optind > 1 && strcmp(argv[optind - 1], "--") == 0 &&
	    !(optind > 2 && strlen(argv[optind - 2]) == 2 &&
	    strchr("dlow", argv[optind - 2][1]) && argv[optind - 2][0] == '-'))
		dphp_usage_error(synopsis, "the entities to lock go before --");
	argc -= optind;
	argv += optind;
	if (Lflag || Fflag) {
		if (Lflag && Fflag)
			dphp_usage_error(synopsis, "-L and -F cannot be used "
			    "together");
		if (argc > 0 || cflag || dphp_unbuffered)
			dphp_usage_error(synopsis, "%s takes no other option "
			    "and no argument", Lflag ? "-L" : "-F");
		if ((store = dphp_store_open(spec)) == NULL)
			return dphp_store_open_status();
		now = dphp_now_ms();
		r = Fflag ? force(Fflag) :
		    dphp_store_list_space(store, DPHP_SPACE_LOCK,
		    DPHP_KIND_ENTITY, listed, &now) ? DPHP_EXIT_SYS : 0;
		if (dphp_store_close(store) != 0 && r == 0)
			r = DPHP_EXIT_SYS;
		dphp_fshut();
		return r;
	}
	for (i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		;
	if (i < argc) {		/* entity ... -- command */
		if (i == 0)
			dphp_usage_error(synopsis, "the entities to lock go "
			    "before --");
		if (i + 1 == argc)
			dphp_usage_error(synopsis, "a command goes after --");
		if (dphp_unbuffered)
			dphp_usage_error(synopsis, "-u is for the stage, not "
			    "for a command");
		argv[i] = NULL;
		return command(i, argv, argv + i + 1, &o);
	}
	if (cflag)
		dphp_usage_error(synopsis, "-l, -o and -w go with a command "
		    "(entity ... -- command)");
	dphp_stop_on_signals(1);
	r = dphp_each_event(argc, argv, pass, NULL);
	if (r == 0 && rejected)
		r = DPHP_EXIT_INPUT;
	if (dphp_store_close(store) != 0 && r == 0)
		r = DPHP_EXIT_SYS;
	dphp_fshut();
	return r;
}
