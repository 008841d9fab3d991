/*
 * shape.c - what an orchestration's action may be, and the shape of the
 * stored states of orchestrations and activities (dphp-handler(5)),
 * checked once before anything reads them.  The code that applies events
 * trusts the documents it reads; a state written by dphp-commit -s or
 * -I, or by a failing disk, may be anything, so a state that is not of
 * this shape is never applied to (dphp-replay sets its event aside).
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "envelope.h"
#include "kinds.h"

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* the fields an action may have, as the handler asks for it */
static const char *const action_fields[] = { "kind", "name", "to", "op",
	"input", "at", "after", "entities", "lease", "retry", NULL };

const char *
dphp_action_bad(json_t *a, char *buf, size_t bufsz)
{
	struct dphp_id id;
	const char *kind = str(a, "kind"), *key;
	json_t *v;
	int64_t ms;

	if (!json_is_object(a) || kind == NULL)
		return "an action is an object with a \"kind\"";
	if ((key = dphp_unknown_key(a, action_fields)) != NULL) {
		snprintf(buf, bufsz, "unknown action field '%.64s'", key);
		return buf;
	}
	if (strcmp(kind, "activity") == 0 || strcmp(kind, "event") == 0) {
		if (str(a, "name") == NULL || !dphp_opname_valid(str(a,
		    "name")))
			return "an activity or event needs a valid \"name\"";
	} else if (strcmp(kind, "call") == 0 || strcmp(kind, "signal") == 0) {
		if (str(a, "to") == NULL || dphp_id_parse(str(a, "to"), &id,
		    NULL, 0) != 0 || id.kind != DPHP_KIND_ENTITY)
			return "a call or signal needs an entity id in \"to\"";
		if (str(a, "op") == NULL || !dphp_opname_valid(str(a, "op")))
			return "a call or signal needs a valid \"op\"";
	} else if (strcmp(kind, "start") == 0) {
		if (str(a, "to") != NULL ? dphp_id_parse(str(a, "to"), &id,
		    NULL, 0) != 0 || id.kind != DPHP_KIND_ORCHESTRATION :
		    str(a, "name") == NULL || !dphp_name_valid(str(a, "name")))
			return "a start needs an orchestration id in \"to\" "
			    "or a \"name\"";
	} else if (strcmp(kind, "timer") == 0) {
		if ((str(a, "at") != NULL) == (str(a, "after") != NULL) ||
		    (str(a, "at") && dphp_time_parse(str(a, "at"), &ms)) ||
		    (str(a, "after") && dphp_duration_parse(str(a, "after"),
		    &ms)))
			return "a timer needs \"at\" (a time) or \"after\" "
			    "(a duration)";
	} else if (strcmp(kind, "lock") == 0) {
		json_t *e;
		size_t i;

		v = json_object_get(a, "entities");
		if (!json_is_array(v) || json_array_size(v) == 0 ||
		    json_array_size(v) > 64)
			return "a lock needs \"entities\": 1 to 64 entity ids";
		json_array_foreach(v, i, e)
			if (!json_is_string(e) || dphp_id_parse(
			    json_string_value(e), &id, NULL, 0) != 0 ||
			    id.kind != DPHP_KIND_ENTITY)
				return "a lock needs \"entities\": 1 to 64 "
				    "entity ids";
		if (json_object_get(a, "lease") != NULL && (str(a,
		    "lease") == NULL || dphp_duration_parse(str(a, "lease"),
		    &ms) != 0 || ms < 1))
			return "a lock's \"lease\" is a duration (90s, 15m)";
	} else if (strcmp(kind, "unlock") != 0) {
		snprintf(buf, bufsz, "unknown action kind '%.64s'", kind);
		return buf;
	}
	if (strcmp(kind, "lock") != 0 && (json_object_get(a, "entities") ||
	    json_object_get(a, "lease")))
		return "only a lock has \"entities\" and \"lease\"";
	if ((v = json_object_get(a, "retry")) != NULL)
		return strcmp(kind, "activity") != 0 ? "only an activity has "
		    "\"retry\"" : dphp_retry_bad(v);
	return NULL;
}

/* is v one of the await modes? */
static int
ismode(json_t *v)
{
	const char *s = json_string_value(v);

	return s != NULL && (strcmp(s, "one") == 0 || strcmp(s, "all") == 0 ||
	    strcmp(s, "any") == 0);
}

/* seqs: an array of 1 to 256 action numbers below n */
static int
badseqs(json_t *seqs, size_t n)
{
	json_t *s;
	size_t i;

	if (!json_is_array(seqs) || json_array_size(seqs) == 0 ||
	    json_array_size(seqs) > 256)
		return 1;
	json_array_foreach(seqs, i, s)
		if (!json_is_integer(s) || json_integer_value(s) < 0 ||
		    (json_int_t)n <= json_integer_value(s))
			return 1;
	return 0;
}

/* a result: {"ok":true,"value":V} or {"ok":false,"reason":R} */
static int
badresult(json_t *r)
{
	json_t *ok = json_object_get(r, "ok");

	return !json_is_object(r) || !json_is_boolean(ok) ||
	    (json_is_true(ok) ? json_object_get(r, "value") == NULL :
	    !json_is_string(json_object_get(r, "reason")));
}

static int
natural(json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0;
}

static int
isid(json_t *v, enum dphp_kind kind)
{
	struct dphp_id id;

	return json_is_string(v) && dphp_id_parse(json_string_value(v), &id,
	    NULL, 0) == 0 && (kind == DPHP_KIND_NONE || id.kind == kind);
}

/* An action as the history keeps it: as asked for, and dphp's fields. */
static int
badrecord(json_t *a, size_t i, char *why, size_t whysz)
{
	static const char *const kept[] = { "id", "target", "attempt",
	    "result", "arrived", NULL };
	const char *kind = str(a, "kind"), *bad;
	json_t *asked, *v;
	char buf[256];
	size_t k;

	if (!json_is_object(a))
		FAIL("actions[%zu]: not an object", i);
	asked = json_copy(a);
	for (k = 0; kept[k] != NULL; k++)
		json_object_del(asked, kept[k]);
	bad = dphp_action_bad(asked, buf, sizeof(buf));
	json_decref(asked);
	if (bad != NULL)
		FAIL("actions[%zu]: %s", i, bad);
	if (!json_is_string(json_object_get(a, "id")) ||
	    !dphp_eventid_valid(str(a, "id")))
		FAIL("actions[%zu]: 'id' must be an event id", i);
	if ((strcmp(kind, "activity") == 0 || strcmp(kind, "start") == 0) &&
	    !isid(json_object_get(a, "target"), strcmp(kind, "activity") == 0 ?
	    DPHP_KIND_ACTIVITY : DPHP_KIND_ORCHESTRATION))
		FAIL("actions[%zu]: 'target' must be the id it went to", i);
	if (strcmp(kind, "timer") == 0 && str(a, "at") == NULL)
		FAIL("actions[%zu]: a timer is kept with its 'at'", i);
	v = json_object_get(a, "attempt");
	if ((json_object_get(a, "retry") != NULL || v != NULL) &&
	    (!json_is_integer(v) || json_integer_value(v) < 1))
		FAIL("actions[%zu]: a retried activity's 'attempt' must be a "
		    "positive integer", i);
	if ((v = json_object_get(a, "result")) != NULL && badresult(v))
		FAIL("actions[%zu]: 'result' must be {\"ok\":true,\"value\"} "
		    "or {\"ok\":false,\"reason\"}", i);
	if ((v = json_object_get(a, "arrived")) != NULL && !natural(v))
		FAIL("actions[%zu]: 'arrived' must be a count", i);
	return 0;
}

static int
badorchestration(json_t *doc, char *why, size_t whysz)
{
	static const char *const fields[] = { "name", "status", "input",
	    "output", "error", "custom", "created", "updated", "generation",
	    "start", "reply_to", "by", "actions", "awaits", "times",
	    "blocked", "reached", "arrivals", "pending", "locks", "session",
	    "seen", NULL };
	static const char *const statuses[] = { "pending", "running",
	    "completed", "failed", "terminated", "continued-as-new", NULL };
	const char *key, *s;
	json_t *v, *e, *acts = json_object_get(doc, "actions");
	size_t i, k;
	int64_t ms;

	if ((key = dphp_unknown_key(doc, fields)) != NULL)
		FAIL("unknown field '%.64s'", key);
	if (!json_is_string(json_object_get(doc, "name")) ||
	    !dphp_name_valid(str(doc, "name")))
		FAIL("'name' must be a name");
	s = str(doc, "status");
	for (k = 0; s != NULL && statuses[k] != NULL; k++)
		if (strcmp(s, statuses[k]) == 0)
			break;
	if (s == NULL || statuses[k] == NULL)
		FAIL("'status' must be one of pending, running, completed, "
		    "failed, terminated and continued-as-new");
	if (json_object_get(doc, "input") == NULL)
		FAIL("'input' is missing");
	if (json_object_get(doc, "error") != NULL &&
	    !json_is_string(json_object_get(doc, "error")))
		FAIL("'error' must be a string");
	if (!json_is_string(json_object_get(doc, "start")) ||
	    !dphp_eventid_valid(str(doc, "start")))
		FAIL("'start' must be an event id");
	if (!natural(json_object_get(doc, "generation")))
		FAIL("'generation' must be a count");
	v = json_object_get(doc, "reply_to");
	if (!json_is_array(v))
		FAIL("'reply_to' must be an array of ids");
	json_array_foreach(v, i, e)
		if (!isid(e, DPHP_KIND_NONE))
			FAIL("reply_to[%zu]: not an id", i);
	v = json_object_get(doc, "by");
	if (v == NULL || (!json_is_null(v) && dphp_by_check(v, why, whysz)))
		FAIL("'by' must be null or who started it");
	if (!json_is_array(acts))
		FAIL("'actions' must be an array");
	json_array_foreach(acts, i, e)
		if (badrecord(e, i, why, whysz))
			return -1;
	v = json_object_get(doc, "awaits");
	if (!json_is_array(v))
		FAIL("'awaits' must be an array");
	json_array_foreach(v, i, e) {
		json_t *rs = json_object_get(e, "results"), *r;

		if (!json_is_object(e) || !ismode(json_object_get(e, "mode")) ||
		    badseqs(json_object_get(e, "seqs"), json_array_size(acts)) ||
		    !json_is_array(rs))
			FAIL("awaits[%zu]: want {\"mode\",\"seqs\",\"results\"} "
			    "of the actions", i);
		json_array_foreach(rs, k, r)
			if (badresult(r) || !natural(json_object_get(r, "seq")))
				FAIL("awaits[%zu].results[%zu]: want {\"seq\","
				    "\"ok\",\"value\"} or {\"seq\",\"ok\","
				    "\"reason\"}", i, k);
	}
	v = json_object_get(doc, "times");
	if (!json_is_array(v))
		FAIL("'times' must be an array of times");
	json_array_foreach(v, i, e)
		if (!json_is_string(e) || dphp_time_parse(json_string_value(e),
		    &ms) != 0)
			FAIL("times[%zu]: not a time", i);
	/* the code reads these four where they are and does without */
	v = json_object_get(doc, "blocked");
	if (v != NULL && (!json_is_null(v) && (!json_is_object(v) ||
	    !ismode(json_object_get(v, "mode")) ||
	    badseqs(json_object_get(v, "seqs"), json_array_size(acts)))))
		FAIL("'blocked' must be null or {\"mode\",\"seqs\"} of the "
		    "actions");
	if ((v = json_object_get(doc, "reached")) != NULL && !natural(v))
		FAIL("'reached' must be a count");
	if ((v = json_object_get(doc, "arrivals")) != NULL && !natural(v))
		FAIL("'arrivals' must be a count");
	v = json_object_get(doc, "pending");
	if (v != NULL && !json_is_array(v))
		FAIL("'pending' must be an array");
	json_array_foreach(v, i, e)
		if (!json_is_string(json_object_get(e, "name")) ||
		    json_object_get(e, "input") == NULL ||
		    !natural(json_object_get(e, "arrived")))
			FAIL("pending[%zu]: want {\"name\",\"input\","
			    "\"arrived\"}", i);
	v = json_object_get(doc, "locks");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_object(v) || !json_is_string(json_object_get(v,
		    "request")) || !json_is_boolean(json_object_get(v, "held")) ||
		    !json_is_array(json_object_get(v, "entities")) ||
		    json_array_size(json_object_get(v, "entities")) == 0)
			FAIL("'locks' must be null or {\"request\",\"entities\","
			    "\"held\"}");
		json_array_foreach(json_object_get(v, "entities"), i, e)
			if (!isid(e, DPHP_KIND_ENTITY))
				FAIL("locks.entities[%zu]: not an entity id",
				    i);
	}
	v = json_object_get(doc, "session");
	if (v != NULL && !json_is_string(v))
		FAIL("'session' must be a string");
	v = json_object_get(doc, "seen");
	if (v != NULL && !json_is_object(v))
		FAIL("'seen' must be an object");
	return 0;
}

static int
badactivity(json_t *doc, char *why, size_t whysz)
{
	static const char *const fields[] = { "status", "result", "error",
	    NULL };
	const char *key, *s = str(doc, "status");

	if ((key = dphp_unknown_key(doc, fields)) != NULL)
		FAIL("unknown field '%.64s'", key);
	if (s != NULL && strcmp(s, "completed") == 0) {
		if (json_object_get(doc, "error") != NULL)
			FAIL("a completed activity has no 'error'");
	} else if (s != NULL && strcmp(s, "failed") == 0) {
		if (!json_is_string(json_object_get(doc, "error")) ||
		    json_object_get(doc, "result") != NULL)
			FAIL("a failed activity has an 'error', a string, and "
			    "no 'result'");
	} else
		FAIL("'status' must be completed or failed");
	return 0;
}

int
dphp_state_bad(enum dphp_kind kind, json_t *doc, char *why, size_t whysz)
{
	if (!json_is_object(doc))
		FAIL("not an object");
	if (kind == DPHP_KIND_ORCHESTRATION)
		return badorchestration(doc, why, whysz);
	if (kind == DPHP_KIND_ACTIVITY)
		return badactivity(doc, why, whysz);
	return 0;
}
