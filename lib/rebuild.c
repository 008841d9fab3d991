/*
 * rebuild.c - dphp-replay -J: a journal replayed offline, with no
 * handler and no worker (but for the determinism check): the states it
 * leads to, up to a seq or a time; one instance's history; what each
 * line did; a Mermaid timeline; a comparison with the live store; and
 * today's orchestration handlers checked against the history.  On a
 * terminal, a long replay says how far it is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "kinds.h"
#include "progress.h"
#include "rebuild.h"
#include "util.h"

#define STOPPED 1000	/* from fold: the rest is after the point asked */

struct rebuilding {
	const struct dphp_rebuild *o;
	json_t *states;		/* id -> {"id","etag","state"} */
	json_t *steps;		/* TIMELINE: the steps of the instance */
	json_int_t lines;	/* lines handed on */
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
		return dphp_store_open_status();
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
		    "etag"))) != 0 || !json_equal(doc, json_object_get(mine,
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
static int
fold(json_t *line, void *arg)
{
	struct rebuilding *rb = arg;
	const struct dphp_rebuild *o = rb->o;
	const char *id = json_string_value(json_object_get(line, "id"));
	json_t *step, *before;
	int64_t at;

	dphp_progress_add(1);
	rb->lines++;
	if ((o->upto && json_integer_value(json_object_get(line, "seq")) >
	    o->upto) || (o->until >= 0 && dphp_time_parse(
	    json_string_value(json_object_get(line, "at")), &at) == 0 &&
	    at > o->until))
		return STOPPED;
	if (o->only != NULL && strcmp(id, o->only) != 0)
		return 0;
	if (o->mode == DPHP_REBUILD_HISTORY) {
		dphp_write(line);
		return 0;
	}
	if (o->mode == DPHP_REBUILD_STEPS || o->mode ==
	    DPHP_REBUILD_TIMELINE) {
		before = json_object_get(json_object_get(rb->states, id),
		    "state");
		step = dphp_trace_step(before, line);
		if (o->mode == DPHP_REBUILD_STEPS)
			dphp_write(step);
		else
			json_array_append(rb->steps, step);
		json_decref(step);
	}
	if (json_is_true(json_object_get(line, "deleted")))
		json_object_del(rb->states, id);
	else
		json_object_set_new(rb->states, id, json_pack("{sssOsO}",
		    "id", id, "etag", json_object_get(line, "etag"), "state",
		    json_object_get(line, "state")));
	return 0;
}

/* -D: each orchestration rebuilt, checked against today's handler */
static int
determinism(const char **ids, size_t n, json_t *states,
    const struct dphp_handlers *h)
{
	json_t *diff;
	size_t i;
	int r = 0;

	for (i = 0; i < n; i++) {
		if (strncmp(ids[i], "orchestration:", 14) != 0)
			continue;
		diff = dphp_orchestration_check(h, ids[i], json_object_get(
		    json_object_get(states, ids[i]), "state"));
		if (diff != NULL) {
			dphp_write(diff);
			json_decref(diff);
			r = DPHP_EXIT_NO;
		}
	}
	return r;
}

int
dphp_rebuild(const struct dphp_rebuild *o, int argc, char **argv)
{
	struct rebuilding rb = { o, NULL, NULL, 0 };
	struct dphp_store *st = NULL;
	const char *key, **ids, *store_dir = o->spec ? o->spec :
	    getenv("DPHP_STORE");
	char *dir = NULL;
	size_t n = 0, i;
	json_t *v;
	int r;

	if (argc == 0 && store_dir == NULL) {
		dphp_error("no journal: name one, or give -d STORE or set "
		    "DPHP_STORE");
		return DPHP_EXIT_USAGE;
	}
	/* opened first, so that a batch left open is ended */
	if (argc == 0 && (st = dphp_store_open(store_dir)) == NULL)
		return dphp_store_open_status();
	/* a store with no commit yet has no journal, and nothing to
	 * replay; one not of files reads its journal itself */
	if (st != NULL && strstr(store_dir, "://") == NULL) {
		dir = dphp_store_journal(st);
		dphp_store_close(st);
		st = NULL;
		if (dir == NULL)
			return DPHP_EXIT_SYS;
	}
	rb.states = json_object();
	rb.steps = json_array();
	dphp_progress_begin("lines", -1);
	if (st != NULL) {
		r = dphp_store_journal_read(st, 0, 0, fold, NULL, &rb);
		dphp_store_close(st);
	} else if (dir != NULL)
		r = access(dir, F_OK) != 0 && errno == ENOENT ? 0 :
		    dphp_journal_each(1, &dir, fold, &rb);
	else
		r = dphp_journal_each(argc, argv, fold, &rb);
	dphp_progress_end();
	free(dir);
	if (r == STOPPED)
		r = 0;
	ids = xcalloc(json_object_size(rb.states) + 1, sizeof(*ids));
	json_object_foreach(rb.states, key, v)
		ids[n++] = key;
	qsort(ids, n, sizeof(*ids), byid);
	if (r != 0)
		;
	else if (o->mode == DPHP_REBUILD_CHECK)
		r = compare(ids, n, rb.states, o->spec);
	else if (o->mode == DPHP_REBUILD_DETERMINISM)
		r = determinism(ids, n, rb.states, o->handlers);
	else if (o->mode == DPHP_REBUILD_TIMELINE)
		r = dphp_trace_mermaid(o->only, rb.steps, stdout);
	else if (o->mode == DPHP_REBUILD_VERIFY)
		printf("{\"lines\":%" JSON_INTEGER_FORMAT ",\"states\":%zu}\n",
		    rb.lines, n);
	else if (o->mode == DPHP_REBUILD_STATES)
		for (i = 0; i < n; i++)
			dphp_write(json_object_get(rb.states, ids[i]));
	free(ids);
	json_decref(rb.states);
	json_decref(rb.steps);
	return r;
}
