/*
 * dphp-replay - the History and Context layers: load the target's
 * state, apply the event through the user's handler, print a proposal
 * for dphp-commit.
 *
 *	dphp-replay [-ku] [-d store] [-T ms] [-x dir] [file ...]
 *	dphp-replay -J [-su] [-A time] [-d store] [-I id] [-S seq]
 *	    [journal ...]
 *	dphp-replay -J -c [-u] [-A time] [-d store] [-S seq] [journal ...]
 *	dphp-replay -J -M [-A time] [-d store] [-S seq] -I id [journal ...]
 *	dphp-replay -J -D [-ku] [-A time] [-d store] [-I id] [-S seq]
 *	    [-T ms] [-x dir] [journal ...]
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
 * is computed from the stored state.  That state is read once the
 * commit of the last proposal made on it has landed (its event is in
 * the stored window), as long as that event is claimed (not given
 * back) and SETTLE_MS at most: read before, while dphp-commit still
 * holds proposals, it would be one the next proposal cannot build on,
 * and a busy entity would be computed again at every pause.  Such an
 * event that dphp-replay cannot apply is rejected (reported and
 * acknowledged) rather than stopping the worker.
 *
 * With -J it replays a journal instead, offline (lib/rebuild.c).
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dedupe.h"
#include "dphp.h"

static const char synopsis[] =
    "dphp-replay [-ku] [-d store] [-T ms] [-x dir] [file ...]\n"
    "       dphp-replay -J [-su] [-A time] [-d store] [-I id] [-S seq] "
    "[journal ...]\n"
    "       dphp-replay -J -c [-u] [-A time] [-d store] [-S seq] "
    "[journal ...]\n"
    "       dphp-replay -J -M [-A time] [-d store] [-S seq] -I id "
    "[journal ...]\n"
    "       dphp-replay -J -v [-d store] [journal ...]\n"
    "       dphp-replay -J -D [-ku] [-A time] [-d store] [-I id] [-S seq] "
    "[-T ms]\n"
    "           [-x dir] [journal ...]";
static const char options[] =
    "  -A time    with -J: the states as they were at time (RFC 3339)\n"
    "  -c         with -J: compare with the live store; print what "
    "differs\n"
    "  -d store   the store (default $DPHP_STORE)\n"
    "  -D         with -J: run today's orchestration handlers on the "
    "history; print\n"
    "             where they do otherwise\n"
    "  -I id      with -J: the history of one id, every state it had\n"
    "  -J         rebuild the states a journal holds (default: the "
    "store's)\n"
    "  -k         keep handlers running between events (co-processes)\n"
    "  -M         with -J -I: the orchestration's timeline, a Mermaid "
    "diagram\n"
    "  -s         with -J: what each line did (applied, emitted, bound)\n"
    "  -S seq     with -J: the states as they were after line seq\n"
    "  -T ms      handler time limit (30000; 0: none)\n"
    "  -u         flush after every record\n"
    "  -v         with -J: check every line, print how many\n"
    "  -x dir     the handlers (default $DPHP_HANDLERS)\n"
    "  -h, --help     this help\n"
    "  -V, --version  the version\n";

#define OVERLAY_MAX 100000	/* targets whose last proposal is kept */
#define CUT_MAX 10000		/* ids cut from a window, kept with it */
#define SETTLE_MS 50		/* the longest wait for a commit in flight */

static struct dphp_store *store;
static struct dphp_trouble trouble;
static struct dphp_handlers handlers = { .trouble = &trouble };
static json_t *overlay;	/* target -> {"doc","base","input","receipt",
			 * "cut"} */
static json_t *settling;	/* target -> {"input","receipt","gone"}: the
				 * last event proposed on it before the input
				 * paused */
static int rejected;

/*
 * Remember what target looks like once prop is committed: its new
 * state, nothing after a delete, or doc, the state it was computed
 * from, when it changes nothing.  With it, the ids the proposals built
 * on each other cut from its window, which the store keeps apart only
 * once they are committed: the newest CUT_MAX, far more than can wait
 * between here and the commit.
 */
static void
remember(const char *target, json_t *prop, json_t *doc, const char *base,
    const struct dphp_desc *d)
{
	json_t *last = json_object_get(overlay, target), *cut;

	cut = last ? json_incref(json_object_get(last, "cut")) : NULL;
	if (json_object_get(prop, "evict") != NULL) {
		if (cut == NULL)
			cut = json_object();
		json_object_update(cut, json_object_get(prop, "evict"));
		while (json_object_size(cut) > CUT_MAX)
			json_object_del(cut, json_object_iter_key(
			    json_object_iter(cut)));
	}
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
	    json_null(), "input", d->id));
	if (d->receipt != NULL)
		json_object_set_new(json_object_get(overlay, target),
		    "receipt", json_string(d->receipt));
	if (cut != NULL)
		json_object_set_new(json_object_get(overlay, target), "cut",
		    cut);
}

/* What the overlay held when the input paused, to wait for. */
static void
forget(void)
{
	const char *target;
	json_t *last;

	json_object_foreach(overlay, target, last) {
		if (json_object_size(settling) >= OVERLAY_MAX)
			json_object_del(settling, json_object_iter_key(
			    json_object_iter(settling)));
		json_object_set_new(settling, target, json_pack("{sOsOsb}",
		    "input", json_object_get(last, "input"), "receipt",
		    json_object_get(last, "receipt"), "gone",
		    json_is_null(json_object_get(last, "doc"))));
	}
	json_object_clear(overlay);
}

/*
 * The stored state of target (dphp_store_get), once the commit of the
 * last event proposed on it before a pause has landed: while that
 * event is still claimed (dphp-commit acknowledges it once its record
 * is written, and gives it back when it must be computed again), for
 * SETTLE_MS at most.
 */
static int
stored(const char *target, json_t **doc, char *etag)
{
	json_t *last = json_object_get(settling, target);
	const char *input = json_string_value(json_object_get(last, "input"));
	const char *receipt = json_string_value(json_object_get(last,
	    "receipt"));
	int gone = json_is_true(json_object_get(last, "gone"));
	int64_t until = dphp_monotonic_ms() + SETTLE_MS;
	int r, held = receipt != NULL;

	for (;;) {
		*doc = NULL;
		r = dphp_store_get(store, target, doc, etag);
		if (input == NULL || r == DPHP_STORE_ERROR ||
		    (r == DPHP_STORE_OK ? !gone && dphp_seen(*doc, input) :
		    gone) || !held || dphp_monotonic_ms() >= until)
			break;
		json_decref(*doc);
		*doc = NULL;
		/* no longer claimed: landed just now (read once more), or
		 * given back */
		if ((held = dphp_queue_claimed(store, receipt)) < 0) {
			r = DPHP_STORE_ERROR;
			break;
		}
		/* what was proposed since goes on first: dphp-commit may
		 * hold a part of a line, and with it the batch waited for */
		fflush(stdout);
		if (held)
			dphp_nap(1);
	}
	json_object_del(settling, target);
	return r;
}

/*
 * An event no stage can pass on (its proposal too long, its stored
 * state not valid): on a stream, stop at its line; from the queue, set
 * it aside as a dead letter with why, and go on.
 */
static int
setaside(struct dphp_reader *rd, const struct dphp_desc *d, const char *why)
{
	if (d->receipt == NULL) {
		dphp_reader_error(rd, "%s", why);
		return DPHP_EXIT_INPUT;
	}
	rejected = 1;
	if (d->ahead != 0 && dphp_lock_ahead_done(store, d) != 0)
		return DPHP_EXIT_SYS;
	return dphp_queue_bury(store, d->receipt, why) ? DPHP_EXIT_SYS : 0;
}

static int
replay(struct dphp_reader *rd, json_t *env, struct dphp_desc *d, void *arg)
{
	char why[1024], etag[DPHP_ETAG_MAX];
	const char *base = NULL, *prev = NULL;
	json_t *doc = NULL, *applied, *prop, *last;
	size_t len;
	char *text;
	int r;

	(void)arg;
	if ((last = json_object_get(overlay, d->to)) != NULL) {
		doc = json_object_get(last, "doc");
		doc = json_is_null(doc) ? NULL : json_incref(doc);
		base = json_string_value(json_object_get(last, "base"));
		prev = json_string_value(json_object_get(last, "input"));
	} else {
		switch (stored(d->to, &doc, etag)) {
		case DPHP_STORE_OK:
			base = etag;
			break;
		case DPHP_STORE_NOTFOUND:
			break;
		default:
			return DPHP_EXIT_SYS;
		}
	}
	/* the stored state, not one proposed here: its shape is looked at */
	if (last == NULL && dphp_stored_bad(d, doc, why, sizeof(why))) {
		json_decref(doc);
		return setaside(rd, d, why);
	}
	r = dphp_apply_stored(store, &handlers, d, doc, last ?
	    json_object_get(last, "cut") : NULL, &applied, why, sizeof(why));
	if (r != 0) {
		json_decref(doc);
		return DPHP_EXIT_SYS;
	}
	if (trouble.why[0] != '\0') {
		/* not the operation's failure: nothing is proposed */
		json_decref(applied);
		json_decref(doc);
		return dphp_trouble_giveback(store, rd, d, &trouble);
	}
	if (applied == NULL) {
		json_decref(doc);
		dphp_reader_error(rd, "%s%s", why, d->receipt ? " (rejected)" :
		    "");
		if (d->receipt == NULL)
			return DPHP_EXIT_INPUT;
		rejected = 1;
		if (d->ahead != 0 && dphp_lock_ahead_done(store, d) != 0)
			return DPHP_EXIT_SYS;
		return dphp_queue_ack(store, d->receipt) ? DPHP_EXIT_SYS : 0;
	}
	prop = dphp_proposal_new(env, applied, base, prev);
	text = dphp_json_text(prop, &len);
	if (len > DPHP_MAX_LINE) {
		free(text);
		json_decref(prop);
		json_decref(doc);
		snprintf(why, sizeof(why), "event %s: its proposal is longer "
		    "than a line may be (%zu bytes; at most %d)", d->id, len,
		    DPHP_MAX_LINE);
		return setaside(rd, d, why);
	}
	dphp_write_text(text, len);
	free(text);
	/* base and prev may point into the entry replaced here */
	remember(d->to, prop, doc, json_string_value(json_object_get(prop,
	    "base")), d);
	json_decref(doc);
	json_decref(prop);
	if (d->receipt != NULL && !dphp_reader_pending(rd))
		forget();
	return 0;
}

int
main(int argc, char *argv[])
{
	struct dphp_rebuild rb = { DPHP_REBUILD_STATES, 0, -1, NULL, NULL,
	    &handlers };
	struct dphp_id only;
	const char *spec = NULL;
	char why[128];
	int c, r, Jflag = 0, modes = 0;

	dphp_setprog("dphp-replay");
	handlers.timeout_ms = 30000;
	while ((c = getopt_long(argc, argv, "A:cDd:hI:JkMsS:T:uvVx:",
	    dphp_longopts, NULL)) != -1) {
		switch (c) {
		case 'A':
			if (dphp_time_parse(optarg, &rb.until) != 0)
				dphp_die(DPHP_EXIT_USAGE, "invalid time '%s' "
				    "(RFC 3339 UTC)", optarg);
			break;
		case 'c':
			rb.mode = DPHP_REBUILD_CHECK;
			modes++;
			break;
		case 'D':
			rb.mode = DPHP_REBUILD_DETERMINISM;
			modes++;
			break;
		case 'I':
			if (dphp_id_parse(optarg, &only, why, sizeof(why)) != 0)
				dphp_die(DPHP_EXIT_USAGE, "invalid id '%.300s': "
				    "%s", optarg, why);
			rb.only = optarg;
			break;
		case 'J':
			Jflag = 1;
			break;
		case 'M':
			rb.mode = DPHP_REBUILD_TIMELINE;
			modes++;
			break;
		case 's':
			rb.mode = DPHP_REBUILD_STEPS;
			modes++;
			break;
		case 'v':
			rb.mode = DPHP_REBUILD_VERIFY;
			modes++;
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
	if ((!Jflag && (rb.upto || rb.until >= 0 || rb.only || modes)) ||
	    modes > 1 || (rb.mode == DPHP_REBUILD_CHECK && rb.only) ||
	    (rb.mode == DPHP_REBUILD_VERIFY && (rb.only || rb.upto ||
	    rb.until >= 0)) ||
	    (rb.mode == DPHP_REBUILD_TIMELINE && (rb.only == NULL ||
	    only.kind != DPHP_KIND_ORCHESTRATION)) ||
	    (Jflag && rb.mode != DPHP_REBUILD_DETERMINISM && (handlers.keep ||
	    handlers.dir != NULL)))
		dphp_usage(synopsis);
	if (Jflag && rb.mode == DPHP_REBUILD_STATES && rb.only)
		rb.mode = DPHP_REBUILD_HISTORY;
	if (Jflag && rb.mode != DPHP_REBUILD_DETERMINISM) {
		rb.spec = spec;
		r = dphp_rebuild(&rb, argc, argv);
		dphp_fshut();
		return r;
	}
	if (handlers.dir == NULL && (handlers.dir = getenv("DPHP_HANDLERS")) ==
	    NULL) {
		dphp_error("no handlers: give -x DIR or set DPHP_HANDLERS");
		dphp_usage(synopsis);
	}
	if (!dphp_worker_input(argc) &&
	    (r = dphp_handlers_check(handlers.dir)) != 0)
		return r;
	if (Jflag) {
		rb.spec = spec;
		r = dphp_rebuild(&rb, argc, argv);
		dphp_handlers_close();
		dphp_fshut();
		return r;
	}
	if ((store = dphp_store_open(spec)) == NULL)
		return dphp_store_open_status();
	overlay = json_object();
	settling = json_object();
	dphp_stop_on_signals(1);
	r = dphp_each_event(argc, argv, replay, NULL);
	if (r == 0 && rejected)
		r = DPHP_EXIT_INPUT;
	json_decref(overlay);
	json_decref(settling);
	dphp_handlers_close();
	if (dphp_store_close(store) != 0 && r == 0)
		r = DPHP_EXIT_SYS;
	dphp_fshut();
	return r;
}
