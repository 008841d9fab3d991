/*
 * orchestration.c - the orchestration history and its replay: code that
 * reads linearly although the events it waits on arrive in any order.
 *
 * The handler is re-run from the start each time it can go further.  It
 * gets the results of every await point it passed before, frozen, and
 * answers every action it issued (in program order) and where it blocks
 * now, or that it is done.  Actions it issued before must be the same
 * again, or the instance fails: non-determinism is never silent.  New
 * actions become events (schedule, signal, start, a delayed timer).
 *
 * Results arrive in any order and are kept with their arrival number.
 * The point where the handler blocks is recorded; when the results it
 * waits on (one, all or any of some actions) are there, they are bound
 * to it in arrival order and frozen, and the handler is run again.  So
 * a handler runs only when an event unblocks it, a replay sees exactly
 * what the first run saw, and "replaying" never depends on the order of
 * arrival.  External events wait in the history until awaited.
 *
 * A lock action asks dphp-lock for the locks of some entities; the
 * instance holds them from the reply until it unlocks or ends (ending,
 * failing, being terminated or continuing as new lets go of them), and
 * its calls and signals to them meanwhile carry a "lock" wrapper naming
 * it, so that they pass.
 *
 * The document is described in dphp-handler(5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kinds.h"
#include "util.h"

#define RUNS_MAX 10000		/* handler runs for one event, a safety net */

/* The id of what an instance does: "START.GENERATION.WHAT". */
static void
action_id(json_t *doc, const char *what, char *out, size_t outsz)
{
	const char *start = json_string_value(json_object_get(doc, "start"));
	json_int_t gen = json_integer_value(json_object_get(doc, "generation"));
	char tail[64];

	size_t n, t;

	snprintf(tail, sizeof(tail), ".%lld.%s", (long long)gen, what);
	n = strlen(start);
	t = strlen(tail);
	if (n + t <= DPHP_NAME_MAX && n + t < outsz) {
		memcpy(out, start, n);
		memcpy(out + n, tail, t + 1);
	} else {
		char base[DPHP_NAME_MAX + 32];
		unsigned h = 0;
		const char *s;

		/* too long to read: derive a fixed-length id instead */
		snprintf(base, sizeof(base), "%s.%lld", start, (long long)gen);
		for (s = what; *s != '\0'; s++)
			h = h * 31 + (unsigned char)*s;
		dphp_derive_id(base, h, out);
	}
}

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int
finished(json_t *doc)
{
	const char *s = str(doc, "status");

	return strcmp(s, "completed") == 0 || strcmp(s, "failed") == 0 ||
	    strcmp(s, "terminated") == 0;
}

/* An event from the instance, acting as the user who started it. */
static json_t *
send(json_t *doc, const struct dphp_desc *d, const char *id, json_t *chain)
{
	return dphp_envelope_new(dphp_wrap("from", json_string(d->to), chain),
	    id, NULL, json_object_get(doc, "by"));
}

/* Tell every reply_to of the start how the instance ended. */
static void
answer_start(json_t *doc, const struct dphp_desc *d, json_t *emit)
{
	char base[DPHP_NAME_MAX + 1], id[DPHP_NAME_MAX + 32];
	json_t *origin, *core;
	size_t i;
	int ok = strcmp(str(doc, "status"), "completed") == 0;

	action_id(doc, "end", base, sizeof(base));
	json_array_foreach(json_object_get(doc, "reply_to"), i, origin) {
		if (ok)
			core = json_pack("{sssssO}", "type", "completed",
			    "scheduled_id", str(doc, "start"), "result",
			    json_object_get(doc, "output"));
		else
			core = json_pack("{sssssO}", "type", "failed",
			    "scheduled_id", str(doc, "start"), "reason",
			    json_object_get(doc, "error"));
		if (snprintf(id, sizeof(id), "%s.%zu", base, i) > DPHP_NAME_MAX)
			dphp_derive_id(base, i, id);
		json_array_append_new(emit, send(doc, d, id, dphp_wrap("to",
		    json_incref(origin), core)));
	}
}

/*
 * Let go of the locks the instance holds or asks for: an unlock to each
 * entity, naming the request, so that a late grant is taken back too.
 * what tells these unlocks from others of the same generation.
 */
static void
unlock_all(json_t *doc, const struct dphp_desc *d, const char *what,
    json_t *emit)
{
	json_t *locks = json_object_get(doc, "locks"), *e;
	char tail[64], id[DPHP_NAME_MAX + 1];
	size_t i;

	if (!json_is_object(locks))
		return;
	json_array_foreach(json_object_get(locks, "entities"), i, e) {
		snprintf(tail, sizeof(tail), "%s.%zu", what, i);
		action_id(doc, tail, id, sizeof(id));
		json_array_append_new(emit, send(doc, d, id, dphp_wrap("lock",
		    json_pack("{sss[]}", "owner", d->to, "participants"),
		    dphp_wrap("to", json_incref(e), json_pack("{ssss}", "type",
		    "unlock", "request", str(locks, "request"))))));
	}
	json_object_set_new(doc, "locks", json_null());
}

/* does the instance hold the lock of entity? */
static int
locked(json_t *doc, const char *entity)
{
	json_t *locks = json_object_get(doc, "locks"), *e;
	size_t i;

	if (!json_is_true(json_object_get(locks, "held")))
		return 0;
	json_array_foreach(json_object_get(locks, "entities"), i, e)
		if (strcmp(json_string_value(e), entity) == 0)
			return 1;
	return 0;
}

static void
end(json_t *doc, const struct dphp_desc *d, json_t *emit, const char *status,
    json_t *output, const char *error)
{
	unlock_all(doc, d, "end", emit);
	dphp_session_drop(doc, d->to);
	json_object_set_new(doc, "status", json_string(status));
	if (output != NULL)
		json_object_set(doc, "output", output);
	if (error != NULL)
		json_object_set_new(doc, "error", json_string(error));
	json_object_set_new(doc, "blocked", json_null());
	answer_start(doc, d, emit);
}

/*
 * What identifies an action for the determinism check: what the handler
 * said (kind, name, to, op), not its input nor dphp's bookkeeping.
 */
void
dphp_action_describe(json_t *a, char *buf, size_t bufsz)
{
	const char *kind = str(a, "kind"), *name = str(a, "name");
	const char *to = str(a, "to"), *op = str(a, "op");
	char *ents = json_object_get(a, "entities") ? dphp_json_text(
	    json_object_get(a, "entities"), NULL) : NULL;

	snprintf(buf, bufsz, "%s%s%s%s%s%s%s%s%s", kind, name ? " " : "",
	    name ? name : "", to ? " " : "", to ? to : "", op ? " " : "",
	    op ? op : "", ents ? " " : "", ents ? ents : "");
	free(ents);
}

/* the fields of a handler's answer */
static const char *const answer_fields[] = { "actions", "await", "output",
	"error", "continue", "status", "sticky", "evicted", NULL };

/* the entities of a lock, sorted bytewise, each once (a new array) */
static int
bytext(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
	    json_string_value(*(json_t *const *)b));
}

static json_t *
sorted(json_t *entities)
{
	size_t i, n = json_array_size(entities);
	json_t **v = xcalloc(n ? n : 1, sizeof(*v)), *out = json_array();

	for (i = 0; i < n; i++)
		v[i] = json_array_get(entities, i);
	qsort(v, n, sizeof(*v), bytext);
	for (i = 0; i < n; i++)
		if (i == 0 || bytext(&v[i - 1], &v[i]) != 0)
			json_array_append(out, v[i]);
	free(v);
	return out;
}

/* a core event of this type, with input if there is one */
static json_t *
core_of(const char *type, json_t *input)
{
	json_t *core = json_pack("{ss}", "type", type);

	if (input != NULL)
		json_object_set(core, "input", input);
	return core;
}

/* the chain that sends core to to, answered to d's target */
static json_t *
calling(const struct dphp_desc *d, const char *to, json_t *core)
{
	return dphp_wrap("reply_to", json_string(d->to), dphp_wrap("to",
	    json_string(to), core));
}

/*
 * Record the new action a (seq) and send what it asks for.  now is the
 * instance's time in the current segment.
 */
static void
act(json_t *doc, const struct dphp_desc *d, json_t *a, size_t seq,
    int64_t now, json_t *emit)
{
	const char *kind = str(a, "kind");
	char what[32], id[DPHP_NAME_MAX + 1], at[25], *to;
	json_t *rec, *input, *core, *p, *v;
	size_t i;
	int64_t ms;

	snprintf(what, sizeof(what), "%zu", seq);
	action_id(doc, what, id, sizeof(id));
	rec = json_deep_copy(a);
	/* a retried activity keeps its input for the next attempts */
	if (json_object_get(a, "retry") != NULL)
		json_object_set_new(rec, "attempt", json_integer(1));
	else
		json_object_del(rec, "input");
	json_object_set_new(rec, "id", json_string(id));
	input = json_object_get(a, "input");
	if (strcmp(kind, "activity") == 0 || strcmp(kind, "start") == 0) {
		/* both are calls answered to this instance */
		int activity = kind[0] == 'a';

		if (activity)
			to = xasprintf("activity:%s:%s", str(a, "name"), id);
		else if (str(a, "to") != NULL)
			to = xstrdup(str(a, "to"));
		else
			to = xasprintf("orchestration:%s:%s", str(a, "name"),
			    id);
		json_array_append_new(emit, send(doc, d, id, calling(d, to,
		    core_of(activity ? "schedule" : "start", input))));
		json_object_set_new(rec, "target", json_string(to));
		free(to);
	} else if (strcmp(kind, "call") == 0 || strcmp(kind, "signal") == 0) {
		core = json_pack("{ssss}", "type", "signal", "op", str(a, "op"));
		if (input != NULL)
			json_object_set(core, "input", input);
		core = dphp_wrap("to", json_string(str(a, "to")), core);
		if (strcmp(kind, "call") == 0)
			core = dphp_wrap("reply_to", json_string(d->to), core);
		if (locked(doc, str(a, "to")))	/* the holder's: it passes */
			core = dphp_wrap("lock", json_pack("{sss[]}", "owner",
			    d->to, "participants"), core);
		json_array_append_new(emit, send(doc, d, id, core));
	} else if (strcmp(kind, "lock") == 0) {
		p = sorted(json_object_get(a, "entities"));
		core = json_pack("{ssss}", "type", "lock", "request", id);
		if (str(a, "lease") != NULL)
			json_object_set_new(core, "lease", json_string(str(a,
			    "lease")));
		/* to the first; dphp-lock takes the others in turn */
		json_array_append_new(emit, send(doc, d, id, dphp_wrap("lock",
		    json_pack("{sssO}", "owner", d->to, "participants", p),
		    dphp_wrap("to", json_incref(json_array_get(p, 0)), core))));
		json_object_set_new(doc, "locks", json_pack("{sssosb}",
		    "request", id, "entities", p, "held", 0));
	} else if (strcmp(kind, "unlock") == 0) {
		unlock_all(doc, d, what, emit);
	} else if (strcmp(kind, "timer") == 0) {
		if (str(a, "at") != NULL)
			dphp_time_parse(str(a, "at"), &ms);
		else {
			dphp_duration_parse(str(a, "after"), &ms);
			ms += now;
		}
		dphp_time_format(ms, at);
		json_object_set_new(rec, "at", json_string(at));
		json_object_del(rec, "after");
		/* the timer fires as a completion of itself, delivered at */
		json_array_append_new(emit, send(doc, d, id, dphp_wrap("delay",
		    json_string(at), dphp_wrap("to", json_string(d->to),
		    json_pack("{sssss{ss}}", "type", "completed",
		    "scheduled_id", id, "result", "timer", at)))));
	} else if (strcmp(kind, "event") == 0) {
		/* an external event raised before: bind the first waiting */
		p = json_object_get(doc, "pending");
		json_array_foreach(p, i, v)
			if (strcmp(str(v, "name"), str(a, "name")) == 0) {
				json_object_set_new(rec, "result", json_pack(
				    "{sbsO}", "ok", 1, "value",
				    json_object_get(v, "input")));
				json_object_set(rec, "arrived",
				    json_object_get(v, "arrived"));
				json_array_remove(p, i);
				break;
			}
	}
	json_array_append_new(json_object_get(doc, "actions"), rec);
}

/*
 * Schedule attempt k+1 of the failed activity action a (seq), at: a new
 * activity of its own (an activity's outcome is kept, a failure
 * included), delayed, answered to this instance like the first.  Its
 * idempotency key is the first attempt's id, so that a side effect
 * done by an attempt that failed afterwards is not done twice.
 */
static void
again(json_t *doc, const struct dphp_desc *d, json_t *a, size_t seq,
    int64_t at, json_t *emit)
{
	json_int_t k = json_integer_value(json_object_get(a, "attempt")) + 1;
	char what[48], id[DPHP_NAME_MAX + 1], ts[25], *to, *key;
	json_t *core;

	snprintf(what, sizeof(what), "%zu", seq);
	action_id(doc, what, id, sizeof(id));
	key = xasprintf("activity:%s:%s", str(a, "name"), id);
	snprintf(what, sizeof(what), "%zu.r%" JSON_INTEGER_FORMAT, seq, k);
	action_id(doc, what, id, sizeof(id));
	to = xasprintf("activity:%s:%s", str(a, "name"), id);
	dphp_time_format(at, ts);
	core = core_of("schedule", json_object_get(a, "input"));
	json_object_set_new(core, "key", json_string(key));
	json_object_set_new(core, "attempt", json_integer(k));
	json_array_append_new(emit, send(doc, d, id, dphp_wrap("delay",
	    json_string(ts), calling(d, to, core))));
	free(key);
	json_object_set_new(a, "id", json_string(id));
	json_object_set_new(a, "target", json_string(to));
	json_object_set_new(a, "attempt", json_integer(k));
	free(to);
}

/* the reply to the lock request: the locks are held (or not) */
static void
granted(json_t *doc, const char *request, int ok)
{
	json_t *locks = json_object_get(doc, "locks");

	if (!json_is_object(locks) || strcmp(str(locks, "request"),
	    request) != 0)
		return;
	if (ok)
		json_object_set_new(locks, "held", json_true());
	else
		json_object_set_new(doc, "locks", json_null());
}

/* A result for action seq has arrived. */
static void
arrive(json_t *doc, json_t *action, int ok, json_t *value)
{
	json_int_t n = json_integer_value(json_object_get(doc, "arrivals")) + 1;

	json_object_set_new(doc, "arrivals", json_integer(n));
	json_object_set_new(action, "result", ok ? json_pack("{sbsO}", "ok", 1,
	    "value", value ? value : json_null()) : json_pack("{sbsO}", "ok",
	    0, "reason", value));
	json_object_set_new(action, "arrived", json_integer(n));
}

static int
byarrival(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a,
	    "arrived"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b,
	    "arrived"));

	return x < y ? -1 : x > y;
}

/*
 * If the results the blocked await waits for are there, bind them (in
 * arrival order; for "any", only the first), freeze them as the next
 * await point with the time it passes, and say 1.
 */
static int
bind(json_t *doc, int64_t now)
{
	json_t *blocked = json_object_get(doc, "blocked"), *seqs, *s, *a;
	json_t *acts = json_object_get(doc, "actions"), *frozen, *results;
	json_t *got[256];
	const char *mode;
	size_t i, n = 0;
	char ts[25];

	if (!json_is_object(blocked))
		return 0;
	mode = str(blocked, "mode");
	seqs = json_object_get(blocked, "seqs");
	json_array_foreach(seqs, i, s) {
		a = json_array_get(acts, json_integer_value(s));
		if (json_object_get(a, "result") != NULL && n < 256)
			got[n++] = a;
	}
	if (n == 0 || (strcmp(mode, "any") != 0 && n < json_array_size(seqs)))
		return 0;
	qsort(got, n, sizeof(got[0]), byarrival);
	if (strcmp(mode, "any") == 0)
		n = 1;
	results = json_array();
	for (i = 0; i < n; i++) {
		json_t *r = json_deep_copy(json_object_get(got[i], "result"));
		size_t k;

		json_array_foreach(acts, k, a)
			if (a == got[i])
				break;
		json_object_set_new(r, "seq", json_integer(k));
		json_array_append_new(results, r);
	}
	frozen = json_pack("{sOsOso}", "mode", json_object_get(blocked, "mode"),
	    "seqs", seqs, "results", results);
	json_array_append_new(json_object_get(doc, "awaits"), frozen);
	dphp_time_format(now, ts);
	json_array_append_new(json_object_get(doc, "times"), json_string(ts));
	json_object_set_new(doc, "blocked", json_null());
	return 1;
}

/*
 * Locks are taken all at once: a lock while holding (or asking for)
 * locks, or an unlock while holding none, is a bug in the handler.
 */
static const char *
badlocking(json_t *a, int *locking)
{
	const char *kind = str(a, "kind");

	if (strcmp(kind, "lock") == 0) {
		if (*locking)
			return "a lock while holding locks (unlock first: "
			    "locks are taken all at once, never nested)";
		*locking = 1;
	} else if (strcmp(kind, "unlock") == 0) {
		if (!*locking)
			return "an unlock while holding no locks";
		*locking = 0;
	}
	return NULL;
}

/* Check the handler's await: NULL or why it is bad. */
static const char *
badawait(json_t *w, size_t nactions, json_t *actions)
{
	const char *mode = str(w, "mode"), *kind;
	json_t *seqs = json_object_get(w, "seqs"), *s;
	size_t i, k;

	if (!json_is_object(w) || mode == NULL || (strcmp(mode, "one") != 0 &&
	    strcmp(mode, "all") != 0 && strcmp(mode, "any") != 0))
		return "\"await\" needs a \"mode\": one, all or any";
	if (!json_is_array(seqs) || json_array_size(seqs) == 0 ||
	    (strcmp(mode, "one") == 0 && json_array_size(seqs) != 1) ||
	    json_array_size(seqs) > 256)
		return "\"await\" needs \"seqs\": one action for \"one\", "
		    "1 to 256 for \"all\" and \"any\"";
	json_array_foreach(seqs, i, s) {
		if (!json_is_integer(s) || json_integer_value(s) < 0 ||
		    (size_t)json_integer_value(s) >= nactions)
			return "\"await\" names an action that was not issued";
		kind = str(json_array_get(actions, json_integer_value(s)),
		    "kind");
		if (strcmp(kind, "signal") == 0)
			return "a signal cannot be awaited: it has no reply";
		for (k = 0; k < i; k++)
			if (json_integer_value(json_array_get(seqs, k)) ==
			    json_integer_value(s))
				return "\"await\" names an action twice";
	}
	return NULL;
}

json_t *
dphp_orchestration_request(json_t *doc, const char *id)
{
	return json_pack("{sssOsOsOsOsOsOsI}", "id", id, "name",
	    json_object_get(doc, "name"), "input", json_object_get(doc,
	    "input"), "user", json_object_get(doc, "by"), "generation",
	    json_object_get(doc, "generation"), "times", json_object_get(doc,
	    "times"), "awaits", json_object_get(doc, "awaits"), "reached",
	    json_integer_value(json_object_get(doc, "reached")));
}

/*
 * Run the handler until it blocks on results that are not there yet, or
 * ends.  Any failure, the handler's or a broken rule, fails the instance
 * with the reason.
 */
static void
execute(const struct dphp_handlers *h, json_t *doc,
    const struct dphp_desc *d, json_t *emit)
{
	char why[1024], was[256], now_[256], abuf[256];
	json_t *req, *resp, *acts, *a, *old, *w;
	const char *key, *bad;
	size_t i, nold, from, seen;
	int runs, ends, locking;
	int64_t now = dphp_now_ms(), seg;

	for (runs = 0; runs < RUNS_MAX; runs++) {
		seen = json_array_size(json_object_get(doc, "awaits"));
		req = dphp_session_request(h, doc, d->to, &from);
		resp = NULL;
		if (dphp_handler_call(h, &d->dest, req, &resp, why,
		    sizeof(why)) != 0) {
			json_decref(req);
			end(doc, d, emit, "failed", NULL, why);
			return;
		}
		json_decref(req);
		bad = NULL;
		if ((key = dphp_unknown_key(resp, answer_fields)) != NULL) {
			snprintf(why, sizeof(why), "handler orchestration/%s "
			    "answered an unknown field '%.64s'", d->dest.name,
			    key);
			bad = why;
		}
		if (bad == NULL && json_object_get(resp, "evicted") != NULL) {
			json_decref(resp);
			if (from == 0) {
				end(doc, d, emit, "failed", NULL, "the "
				    "handler answered \"evicted\" to the whole "
				    "history");
				return;
			}
			/* it no longer has the instance: the whole history */
			dphp_session_drop(doc, d->to);
			continue;
		}
		if (bad == NULL && json_object_get(resp, "sticky") != NULL &&
		    !json_is_boolean(json_object_get(resp, "sticky")))
			bad = "\"sticky\" must be true or false";
		acts = json_object_get(resp, "actions");
		if (bad == NULL && from > 0 && json_is_array(acts)) {
			/* a resumed run answers what it issued since */
			json_t *all = json_array();

			for (i = 0; i < from; i++)
				json_array_append(all, json_array_get(
				    json_object_get(doc, "actions"), i));
			json_array_extend(all, acts);
			json_object_set_new(resp, "actions", all);
			acts = all;
		}
		ends = (json_object_get(resp, "await") != NULL) +
		    (json_object_get(resp, "output") != NULL) +
		    (json_object_get(resp, "error") != NULL) +
		    (json_object_get(resp, "continue") != NULL);
		if (bad == NULL && (!json_is_array(acts) || ends != 1))
			bad = "the answer needs \"actions\" and one of "
			    "\"await\", \"output\", \"error\", \"continue\"";
		old = json_object_get(doc, "actions");
		nold = json_array_size(old);
		locking = json_is_object(json_object_get(doc, "locks"));
		if (bad == NULL && json_array_size(acts) < nold) {
			snprintf(why, sizeof(why), "non-deterministic: the "
			    "history has %zu actions, the handler issued %zu",
			    nold, json_array_size(acts));
			bad = why;
		}
		json_array_foreach(acts, i, a) {
			if (bad != NULL)
				break;
			if (i < nold) {
				dphp_action_describe(json_array_get(old, i), was,
				    sizeof(was));
				if (!json_is_object(a) || str(a, "kind") == NULL)
					snprintf(now_, sizeof(now_), "nothing");
				else
					dphp_action_describe(a, now_,
					    sizeof(now_));
				if (strcmp(was, now_) != 0) {
					snprintf(why, sizeof(why), "non-"
					    "deterministic: step %zu was %s in "
					    "the history, the handler now asks "
					    "for %s", i, was, now_);
					bad = why;
				}
			} else if ((bad = dphp_action_bad(a, abuf, sizeof(abuf))) !=
			    NULL || (bad = badlocking(a, &locking)) != NULL) {
				snprintf(why, sizeof(why), "handler "
				    "orchestration/%s: action %zu: %s",
				    d->dest.name, i, bad);
				bad = why;
			}
		}
		w = json_object_get(resp, "await");
		if (bad == NULL && w != NULL)
			bad = badawait(w, json_array_size(acts), acts);
		if (bad == NULL && json_object_get(resp, "error") != NULL &&
		    !json_is_string(json_object_get(resp, "error")))
			bad = "\"error\" must be a string";
		if (bad != NULL) {
			end(doc, d, emit, "failed", NULL, bad);
			json_decref(resp);
			return;
		}
		seg = now;
		if (json_array_size(json_object_get(doc, "times")) > 0)
			dphp_time_parse(json_string_value(json_array_get(
			    json_object_get(doc, "times"), json_array_size(
			    json_object_get(doc, "times")) - 1)), &seg);
		for (i = nold; i < json_array_size(acts); i++)
			act(doc, d, json_array_get(acts, i), i, seg, emit);
		if (json_object_get(resp, "status") != NULL)
			json_object_set(doc, "custom", json_object_get(resp,
			    "status"));
		/* what the next run replays: up to and with this await */
		json_object_set_new(doc, "reached", json_integer(
		    json_array_size(json_object_get(doc, "awaits")) +
		    (w != NULL)));
		if (w != NULL && h->keep &&
		    json_is_true(json_object_get(resp, "sticky")))
			dphp_session_keep(doc, d->to, seen,
			    json_array_size(acts));
		else
			dphp_session_drop(doc, d->to);
		if (w != NULL) {
			json_object_set_new(doc, "blocked", json_pack("{sOsO}",
			    "mode", json_object_get(w, "mode"), "seqs",
			    json_object_get(w, "seqs")));
			json_decref(resp);
			if (!bind(doc, now))
				return;
			continue;
		}
		if (json_object_get(resp, "output") != NULL)
			end(doc, d, emit, "completed", json_object_get(resp,
			    "output"), NULL);
		else if (json_object_get(resp, "error") != NULL)
			end(doc, d, emit, "failed", NULL, str(resp, "error"));
		else {
			/* a new generation; early events are kept */
			char id[DPHP_NAME_MAX + 1];
			json_int_t gen = json_integer_value(json_object_get(doc,
			    "generation"));

			unlock_all(doc, d, "continue", emit);
			json_object_set(doc, "input", json_object_get(resp,
			    "continue"));
			json_object_set_new(doc, "generation",
			    json_integer(gen + 1));
			json_object_set_new(doc, "status",
			    json_string("continued-as-new"));
			json_object_set_new(doc, "actions", json_array());
			json_object_set_new(doc, "awaits", json_array());
			json_object_set_new(doc, "times", json_array());
			json_object_set_new(doc, "blocked", json_null());
			json_object_set_new(doc, "reached", json_integer(0));
			action_id(doc, "run", id, sizeof(id));
			json_array_append_new(emit, send(doc, d, id,
			    dphp_wrap("to", json_string(d->to),
			    json_pack("{ss}", "type", "run"))));
		}
		json_decref(resp);
		return;
	}
	end(doc, d, emit, "failed", NULL, "the handler ran more than 10000 "
	    "times for one event");
}

/*
 * Where a reply to action a may come from: the id its call went to (an
 * activity or orchestration its target, a call its entity, a lock one
 * of its entities, a timer the instance itself); or, without "from",
 * the infrastructure (dphp-route's refusals, a test playing the
 * scheduler on a stream: under a policy no reply is admitted from
 * outside).  0 if d may answer a, else 1 and why not.
 */
static int
forged(json_t *a, const struct dphp_desc *d, char *why, size_t whysz)
{
	const char *kind = str(a, "kind"), *want = NULL;
	json_t *e;
	size_t i;

	if (d->from == NULL)
		return 0;
	if (strcmp(kind, "activity") == 0 || strcmp(kind, "start") == 0)
		want = str(a, "target");
	else if (strcmp(kind, "call") == 0)
		want = str(a, "to");
	else if (strcmp(kind, "timer") == 0)
		want = d->to;
	else if (strcmp(kind, "lock") == 0) {
		json_array_foreach(json_object_get(a, "entities"), i, e)
			if (strcmp(json_string_value(e), d->from) == 0)
				return 0;
		snprintf(why, whysz, "event %s: a reply to %s from %s, which is "
		    "not one of the entities that lock asked for", d->id,
		    str(a, "id"), d->from);
		return 1;
	}
	if (want != NULL && strcmp(want, d->from) == 0)
		return 0;
	snprintf(why, whysz, "event %s: a reply to %s from %s, where that %s "
	    "did not go%s%s%s", d->id, str(a, "id"), d->from, kind,
	    want ? " (it went to " : "", want ? want : "", want ? ")" : "");
	return 1;
}

int
dphp_orchestration_forged(json_t *doc, const struct dphp_desc *d, char *why,
    size_t whysz)
{
	const char *sid = str(d->core, "scheduled_id");
	json_t *a;
	size_t i;

	if (doc == NULL || (strcmp(d->type, "completed") != 0 &&
	    strcmp(d->type, "failed") != 0) || dphp_seen(doc, d->id))
		return 0;
	json_array_foreach(json_object_get(doc, "actions"), i, a)
		if (str(a, "id") != NULL && strcmp(str(a, "id"), sid) == 0)
			return forged(a, d, why, whysz);
	return 0;
}

/* A new instance for a start event. */
static json_t *
create(const struct dphp_desc *d, int64_t now)
{
	char ts[25];
	json_t *doc, *rt;
	int i;

	dphp_time_format(now, ts);
	rt = json_array();
	for (i = 0; i < d->nreply; i++)
		json_array_append_new(rt, json_string(d->reply_to[i]));
	doc = json_pack("{sssssOsssssisosO}", "name", d->dest.name, "status",
	    "pending", "input", json_object_get(d->core, "input") ?
	    json_object_get(d->core, "input") : json_null(), "created", ts,
	    "start", d->id, "generation", 0, "reply_to", rt, "by",
	    d->by ? d->by : json_null());
	json_object_set_new(doc, "actions", json_array());
	json_object_set_new(doc, "awaits", json_array());
	json_object_set_new(doc, "times", json_array());
	json_object_set_new(doc, "pending", json_array());
	json_object_set_new(doc, "arrivals", json_integer(0));
	json_object_set_new(doc, "blocked", json_null());
	json_object_set_new(doc, "reached", json_integer(0));
	json_object_set_new(doc, "locks", json_null());
	return doc;
}

json_t *
dphp_orchestration_apply(const struct dphp_handlers *h,
    const struct dphp_desc *d, json_t *stored)
{
	json_t *prop, *emit, *doc = NULL, *a = NULL, *seen;
	const char *type = d->type;
	char id[DPHP_NAME_MAX + 1], ts[25];
	int64_t now = dphp_now_ms();
	int changed = 1;
	size_t i;

	prop = json_pack("{ss}", "target", d->to);
	emit = json_array();
	if (dphp_seen(stored, d->id)) {
		json_object_set_new(prop, "duplicate", json_true());
		json_object_set_new(prop, "emit", emit);
		return prop;
	}
	if (strcmp(type, "delete") == 0) {
		json_object_set_new(prop, "delete", json_true());
		dphp_reply(emit, d, NULL, NULL);
		/* gone: what it held is let go, if that can be read */
		if (stored != NULL && dphp_state_bad(DPHP_KIND_ORCHESTRATION,
		    stored, NULL, 0) == 0) {
			doc = json_deep_copy(stored);
			unlock_all(doc, d, "delete", emit);
			json_decref(doc);
		}
		json_object_set_new(prop, "emit", emit);
		return prop;
	}
	if (stored != NULL)
		doc = json_deep_copy(stored);
	if (strcmp(type, "start") == 0) {
		if (doc != NULL) {
			char why[512];

			snprintf(why, sizeof(why), "%s already exists", d->to);
			json_object_set_new(prop, "failed", json_string(why));
			dphp_reply(emit, d, NULL, why);
			changed = 0;
		} else {
			doc = create(d, now);
			action_id(doc, "run", id, sizeof(id));
			json_array_append_new(emit, send(doc, d, id, dphp_wrap(
			    "to", json_string(d->to), json_pack("{ss}",
			    "type", "run"))));
		}
	} else if (doc == NULL || finished(doc)) {
		/* nothing to apply it to: noted, changes nothing */
		json_object_set_new(prop, "ignored", json_string(doc == NULL ?
		    "no such orchestration" : "the orchestration has ended"));
		changed = 0;
	} else if (strcmp(type, "run") == 0) {
		if (strcmp(str(doc, "status"), "running") == 0)
			changed = 0;
		else {
			json_object_set_new(doc, "status", json_string(
			    "running"));
			dphp_time_format(now, ts);
			json_array_append_new(json_object_get(doc, "times"),
			    json_string(ts));
			execute(h, doc, d, emit);
		}
	} else if (strcmp(type, "terminate") == 0) {
		end(doc, d, emit, "terminated", NULL, str(d->core, "reason") ?
		    str(d->core, "reason") : "terminated");
	} else if (strcmp(type, "raise") == 0) {
		const char *name = str(d->core, "name");
		json_t *input = json_object_get(d->core, "input");

		json_array_foreach(json_object_get(doc, "actions"), i, a)
			if (strcmp(str(a, "kind"), "event") == 0 &&
			    strcmp(str(a, "name"), name) == 0 &&
			    json_object_get(a, "result") == NULL)
				break;
		if (i < json_array_size(json_object_get(doc, "actions")))
			arrive(doc, a, 1, input);
		else {
			json_int_t n = json_integer_value(json_object_get(doc,
			    "arrivals")) + 1;

			json_object_set_new(doc, "arrivals", json_integer(n));
			json_array_append_new(json_object_get(doc, "pending"),
			    json_pack("{sssOsI}", "name", name, "input",
			    input ? input : json_null(), "arrived", n));
		}
		if (strcmp(str(doc, "status"), "running") == 0 && bind(doc, now))
			execute(h, doc, d, emit);
	} else {	/* completed or failed */
		const char *sid = str(d->core, "scheduled_id");

		json_array_foreach(json_object_get(doc, "actions"), i, a)
			if (str(a, "id") != NULL && strcmp(str(a, "id"), sid) == 0)
				break;
		if (i == json_array_size(json_object_get(doc, "actions")) ||
		    json_object_get(a, "result") != NULL) {
			json_object_set_new(prop, "ignored", json_string(
			    "a reply to nothing this orchestration waits for"));
			changed = 0;
		} else {
			const char *why = str(d->core, "reason");
			int64_t at;

			if (strcmp(type, "completed") == 0)
				arrive(doc, a, 1, json_object_get(d->core,
				    "result"));
			else if (strcmp(str(a, "kind"), "activity") == 0 &&
			    dphp_retry_due(a, why ? why : "", now, &at))
				again(doc, d, a, i, at, emit);	/* not yet */
			else
				arrive(doc, a, 0, json_object_get(d->core,
				    "reason"));
			if (strcmp(str(a, "kind"), "lock") == 0)
				granted(doc, sid, strcmp(type, "completed") == 0);
			if (strcmp(str(doc, "status"), "running") == 0 &&
			    bind(doc, now))
				execute(h, doc, d, emit);
		}
	}
	if (changed) {
		dphp_time_format(now, ts);
		json_object_set_new(doc, "updated", json_string(ts));
		seen = dphp_seen_add(stored, d->id);
		json_object_set_new(doc, "seen", seen);
		json_object_set(prop, "state", doc);
		if (strcmp(str(doc, "status"), "failed") == 0)
			json_object_set(prop, "failed", json_object_get(doc,
			    "error"));
	}
	json_decref(doc);
	json_object_set_new(prop, "emit", emit);
	return prop;
}
