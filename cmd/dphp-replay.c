/*
 * dphp-replay - the History and Context layers: load the target's
 * state, apply the event through the user's handler, print a proposal
 * for dphp-commit.
 *
 *	dphp-replay [-u] [-d store] [-T ms] [-x dir] [file ...]
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
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dphp.h"

static const char synopsis[] =
    "dphp-replay [-ku] [-d store] [-T ms] [-x dir] [file ...]";
static const char options[] =
    "  -d store   the store (default $DPHP_STORE)\n"
    "  -k         keep handlers running between events (co-processes)\n"
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

int
main(int argc, char *argv[])
{
	const char *spec = NULL;
	int c, r;

	dphp_setprog("dphp-replay");
	handlers.timeout_ms = 30000;
	while ((c = getopt_long(argc, argv, "d:hkT:uVx:", dphp_longopts,
	    NULL)) != -1) {
		switch (c) {
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
