/*
 * dphp-replay - the History and Context layers: load the target's
 * state, apply the event through the user's handler, print a proposal
 * for dphp-commit.
 *
 *	dphp-replay [-u] [-d store] [-T ms] [-x dir] [file ...]
 *	dphp-replay -J [-u] [-A time] [-d store] [-I id] [-S seq] [journal ...]
 *	dphp-replay -J -c [-u] [-A time] [-d store] [-S seq] [journal ...]
 *
 * The stage runs ahead of dphp-commit, so it remembers the states it
 * proposed: the next event for the same target is applied on top of
 * the last proposal (marked "prev") rather than on a stored state that
 * is about to change.  dphp-commit accepts such a proposal only if the
 * one it builds on was committed.
 *
 * An event taken from the queue (it carries a receipt) may be given
 * back by dphp-commit and come again: what the stage remembers is
 * forgotten whenever its input pauses, so that an event taken again
 * is computed from the stored state.  Such an event that dphp-replay
 * cannot apply is rejected (reported and acknowledged) rather than
 * stopping the worker.
 *
 * With -J it replays a journal instead, offline: the states it holds at
 * its end (or at a seq, or a time) are printed as dphp-project prints
 * the live ones, so that the two can be compared.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dphp.h"

static const char synopsis[] =
    "dphp-replay [-ku] [-d store] [-T ms] [-x dir] [file ...]\n"
    "       dphp-replay -J [-u] [-A time] [-d store] [-I id] [-S seq] "
    "[journal ...]\n"
    "       dphp-replay -J -c [-u] [-A time] [-d store] [-S seq] "
    "[journal ...]";
static const char options[] =
    "  -A time    with -J: the states as they were at time (RFC 3339)\n"
    "  -c         with -J: compare with the live store; print what "
    "differs\n"
    "  -d store   the store (default $DPHP_STORE)\n"
    "  -I id      with -J: the history of one id, every state it had\n"
    "  -J         rebuild the states a journal holds (default: the "
    "store's)\n"
    "  -k         keep handlers running between events (co-processes)\n"
    "  -S seq     with -J: the states as they were after line seq\n"
    "  -T ms      handler time limit (30000; 0: none)\n"
    "  -u         flush after every record\n"
    "  -x dir     the handlers (default $DPHP_HANDLERS)\n"
    "  -h, --help     this help\n"
    "  -V, --version  the version\n";

#define OVERLAY_MAX 100000	/* targets whose last proposal is kept */

static struct dphp_store *store;
static struct dphp_handlers handlers;
static json_t *overlay;		/* target -> {"doc","base","input"} */
static int rejected;

/*
 * Remember what target looks like once prop is committed: its new
 * state, nothing after a delete, or doc, the state it was computed
 * from, when it changes nothing.
 */
static void
remember(const char *target, json_t *prop, json_t *doc, const char *base,
    const char *input)
{
	if (json_object_get(prop, "state") != NULL)
		doc = json_object_get(prop, "state");
	else if (json_object_get(prop, "delete") != NULL)
		doc = NULL;

	if (json_object_size(overlay) >= OVERLAY_MAX)
		json_object_del(overlay, json_object_iter_key(
		    json_object_iter(overlay)));
	json_object_del(overlay, target);
	json_object_set_new(overlay, target, json_pack("{sOsoss}", "doc",
	    doc ? doc : json_null(), "base", base ? json_string(base) :
	    json_null(), "input", input));
}

static int
replay(struct dphp_reader *rd, json_t *env, struct dphp_desc *d, void *arg)
{
	char why[1024], etag[DPHP_ETAG_MAX];
	const char *base = NULL, *prev = NULL;
	json_t *doc = NULL, *applied, *prop, *last;

	(void)arg;
	if ((last = json_object_get(overlay, d->to)) != NULL) {
		doc = json_object_get(last, "doc");
		doc = json_is_null(doc) ? NULL : json_incref(doc);
		base = json_string_value(json_object_get(last, "base"));
		prev = json_string_value(json_object_get(last, "input"));
	} else {
		switch (dphp_store_get(store, d->to, &doc, etag)) {
		case DPHP_STORE_OK:
			base = etag;
			break;
		case DPHP_STORE_NOTFOUND:
			break;
		default:
			return DPHP_EXIT_SYS;
		}
	}
	applied = dphp_apply(&handlers, d, doc, why, sizeof(why));
	if (applied == NULL) {
		json_decref(doc);
		dphp_reader_error(rd, "%s%s", why, d->receipt ? " (rejected)" :
		    "");
		if (d->receipt == NULL)
			return DPHP_EXIT_INPUT;
		rejected = 1;
		return dphp_queue_ack(store, d->receipt) ? DPHP_EXIT_SYS : 0;
	}
	prop = dphp_proposal_new(env, applied, base, prev);
	dphp_write(prop);
	/* base and prev may point into the entry replaced here */
	remember(d->to, prop, doc, json_string_value(json_object_get(prop,
	    "base")), d->id);
	json_decref(doc);
	json_decref(prop);
	if (d->receipt != NULL && !dphp_reader_pending(rd))
		json_object_clear(overlay);
	return 0;
}

/* -J: the states a journal leads to, up to a seq or a time */
struct rebuild {
	json_t *states;		/* id -> {"id","etag","state"} */
	json_int_t upto;	/* -S, or 0 */
	int64_t until;		/* -A, or -1 */
	const char *only;	/* -I: print its lines instead */
	int check;		/* -c: compare with the store instead */
};

static int
byid(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* -c: add every live id to ids (an object used as a set) */
static int
livelist(const char *id, const char *etag, void *arg)
{
	(void)etag;
	json_object_set_new(arg, id, json_true());
	return 0;
}

/*
 * -c: compare the states rebuilt with the store's, id by id (sorted),
 * printing {"id","journal","store"} (their ETags, null where absent, or
 * "state":"differs") for each that differs.  0, 1 when any did, 4.
 */
static int
compare(const char **ids, size_t n, json_t *states, const char *spec)
{
	struct dphp_store *st;
	char etag[DPHP_ETAG_MAX];
	json_t *live, *doc, *mine, *rec;
	const char *key;
	size_t i, m = 0;
	enum dphp_kind k;
	int r = 0, g;

	if ((st = dphp_store_open(spec)) == NULL)
		return DPHP_EXIT_SYS;
	live = json_object();
	for (k = DPHP_KIND_ENTITY; r == 0 && k <= DPHP_KIND_ACTIVITY; k++)
		if (dphp_store_list(st, k, NULL, livelist, live) != 0)
			r = DPHP_EXIT_SYS;
	for (i = 0; i < n; i++)
		json_object_set_new(live, ids[i], json_true());
	ids = xcalloc(json_object_size(live) + 1, sizeof(*ids));
	json_object_foreach(live, key, doc)
		ids[m++] = key;
	qsort(ids, m, sizeof(*ids), byid);
	for (i = 0; r >= 0 && r != DPHP_EXIT_SYS && i < m; i++) {
		doc = NULL;
		if ((g = dphp_store_get(st, ids[i], &doc, etag)) ==
		    DPHP_STORE_ERROR) {
			r = DPHP_EXIT_SYS;
			break;
		}
		mine = json_object_get(states, ids[i]);
		rec = NULL;
		if (mine == NULL || g != DPHP_STORE_OK)
			rec = json_pack("{sssOss?}", "id", ids[i], "journal",
			    mine ? json_object_get(mine, "etag") : json_null(),
			    "store", g == DPHP_STORE_OK ? etag : NULL);
		else if (strcmp(etag, json_string_value(json_object_get(mine,
		    "etag"))) || !json_equal(doc, json_object_get(mine,
		    "state")))
			rec = json_pack("{sssOssss}", "id", ids[i], "journal",
			    json_object_get(mine, "etag"), "store", etag,
			    "state", "differs");
		if (rec != NULL) {
			dphp_write(rec);
			json_decref(rec);
			r = DPHP_EXIT_NO;
		}
		json_decref(doc);
	}
	free(ids);
	json_decref(live);
	dphp_store_close(st);
	return r;
}
#define STOPPED 1000	/* from fold: the rest is after the point asked */

static int
fold(json_t *line, void *arg)
{
	struct rebuild *rb = arg;
	const char *id = json_string_value(json_object_get(line, "id"));
	int64_t at;

	if ((rb->upto && json_integer_value(json_object_get(line, "seq")) >
	    rb->upto) || (rb->until >= 0 && dphp_time_parse(
	    json_string_value(json_object_get(line, "at")), &at) == 0 &&
	    at > rb->until))
		return STOPPED;
	if (rb->only != NULL) {
		if (strcmp(id, rb->only) == 0)
			dphp_write(line);
		return 0;
	}
	if (json_is_true(json_object_get(line, "deleted")))
		json_object_del(rb->states, id);
	else
		json_object_set_new(rb->states, id, json_pack("{sssOsO}",
		    "id", id, "etag", json_object_get(line, "etag"), "state",
		    json_object_get(line, "state")));
	return 0;
}

static int
rebuild(int argc, char **argv, const char *spec, struct rebuild *rb)
{
	const char *key, **ids, *store_dir = spec ? spec :
	    getenv("DPHP_STORE");
	char *dir = NULL;
	size_t n = 0, i;
	json_t *v;
	int r;

	if (argc == 0) {
		if (store_dir == NULL) {
			dphp_error("no journal: name one, or give -d STORE "
			    "or set DPHP_STORE");
			return DPHP_EXIT_USAGE;
		}
		dir = xasprintf("%s/journal", store_dir);
		argc = 1;
		argv = &dir;
	}
	rb->states = json_object();
	r = dphp_journal_each(argc, argv, fold, rb);
	free(dir);
	if (r == STOPPED)
		r = 0;
	ids = xcalloc(json_object_size(rb->states) + 1, sizeof(*ids));
	json_object_foreach(rb->states, key, v)
		ids[n++] = key;
	qsort(ids, n, sizeof(*ids), byid);
	if (r == 0 && rb->check)
		r = compare(ids, n, rb->states, spec);
	for (i = 0; r == 0 && !rb->check && i < n; i++)
		dphp_write(json_object_get(rb->states, ids[i]));
	free(ids);
	json_decref(rb->states);
	return r;
}

int
main(int argc, char *argv[])
{
	struct rebuild rb = { NULL, 0, -1, NULL, 0 };
	struct dphp_id only;
	const char *spec = NULL, *why;
	int c, r, Jflag = 0;

	dphp_setprog("dphp-replay");
	handlers.timeout_ms = 30000;
	while ((c = getopt_long(argc, argv, "A:cd:hI:JkS:T:uVx:", dphp_longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'A':
			if (dphp_time_parse(optarg, &rb.until) != 0)
				dphp_die(DPHP_EXIT_USAGE, "invalid time '%s' "
				    "(RFC 3339 UTC)", optarg);
			break;
		case 'c':
			rb.check = 1;
			break;
		case 'I':
			if (dphp_id_parse(optarg, &only, &why) != 0)
				dphp_die(DPHP_EXIT_USAGE, "invalid id '%.300s': "
				    "%s", optarg, why);
			rb.only = optarg;
			break;
		case 'J':
			Jflag = 1;
			break;
		case 'S':
			rb.upto = dphp_strtonum(optarg, 1, INT64_MAX, "seq");
			break;
		case 'd':
			spec = optarg;
			break;
		case 'h':
			dphp_help(synopsis, options);
		case 'k':
			handlers.keep = 1;
			break;
		case 'T':
			handlers.timeout_ms = dphp_strtonum(optarg, 0,
			    86400000, "time limit");
			break;
		case 'u':
			dphp_unbuffered = 1;
			break;
		case 'V':
			dphp_version();
		case 'x':
			handlers.dir = optarg;
			break;
		default:
			dphp_usage(synopsis);
		}
	}
	argc -= optind;
	argv += optind;
	if ((!Jflag && (rb.upto || rb.until >= 0 || rb.only || rb.check)) ||
	    (rb.check && rb.only))
		dphp_usage(synopsis);
	if (Jflag) {
		if (handlers.keep || handlers.dir != NULL)
			dphp_usage(synopsis);
		r = rebuild(argc, argv, spec, &rb);
		dphp_fshut();
		return r;
	}
	if (handlers.dir == NULL && (handlers.dir = getenv("DPHP_HANDLERS")) ==
	    NULL) {
		dphp_error("no handlers: give -x DIR or set DPHP_HANDLERS");
		dphp_usage(synopsis);
	}
	if ((store = dphp_store_open(spec)) == NULL)
		return DPHP_EXIT_SYS;
	overlay = json_object();
	r = dphp_each_event(argc, argv, replay, NULL);
	if (r == 0 && rejected)
		r = DPHP_EXIT_INPUT;
	json_decref(overlay);
	dphp_handlers_close();
	dphp_store_close(store);
	dphp_fshut();
	return r;
}
