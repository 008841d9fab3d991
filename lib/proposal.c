/*
 * proposal.c - the proposal, the record between dphp-replay and
 * dphp-commit: an input envelope, the state it leads to and the events
 * it emits, with the ETag the state was computed from ("base") or the
 * earlier proposal it was computed on top of ("prev").  A proposal with
 * neither "state" nor "delete" changes nothing, but was still computed
 * from that state, so it too commits only if the state is unchanged.
 * See dphp-replay(1) for the fields.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "kinds.h"

json_t *
dphp_apply(const struct dphp_handlers *h, const struct dphp_desc *d,
    json_t *doc, char *why, size_t whysz)
{
	if (d->dest.kind == DPHP_KIND_ENTITY &&
	    (strcmp(d->type, "signal") == 0 || strcmp(d->type, "delete") == 0))
		return dphp_entity_apply(h, d, doc);
	/* a reply binds only where it comes from: else rejected */
	if (d->dest.kind == DPHP_KIND_ORCHESTRATION &&
	    dphp_orchestration_forged(doc, d, why, whysz))
		return NULL;
	if (d->dest.kind == DPHP_KIND_ORCHESTRATION &&
	    (d->ops & DPHP_OPS_OWNERSHIP) == 0)
		return dphp_orchestration_apply(h, d, doc);
	if (d->dest.kind == DPHP_KIND_ACTIVITY &&
	    (strcmp(d->type, "schedule") == 0 || strcmp(d->type, "delete") == 0))
		return dphp_activity_apply(h, d, doc);
	snprintf(why, whysz, "'%s' events are applied by the Infrastructure "
	    "layer, not by dphp-replay", d->type);
	return NULL;
}

int
dphp_stored_bad(const struct dphp_desc *d, json_t *doc, char *why,
    size_t whysz)
{
	char reason[512];

	/* what applies to doc trusts its shape: a delete does not need it */
	if (doc == NULL || strcmp(d->type, "delete") == 0 ||
	    dphp_state_bad(d->dest.kind, doc, reason, sizeof(reason)) == 0)
		return 0;
	snprintf(why, whysz, "event %s: the stored state of %s is not valid: "
	    "%s", d->id, d->to, reason);
	return 1;
}

int
dphp_apply_stored(struct dphp_store *st, const struct dphp_handlers *h,
    const struct dphp_desc *d, json_t *doc, json_t *cut, json_t **applied,
    char *why, size_t whysz)
{
	json_t *marked = NULL;
	int r = 0;

	*applied = NULL;
	if (doc != NULL && dphp_store_keeps_seen(st) && !dphp_seen(doc, d->id)) {
		r = json_object_get(cut, d->id) != NULL ? 1 :
		    dphp_store_seen(st, d->to, d->id);
		if (r < 0)
			return -1;
		if (r > 0)
			doc = marked = dphp_seen_mark(doc, d->id);
	}
	*applied = dphp_apply(h, d, doc, why, whysz);
	json_decref(marked);
	if (*applied != NULL && dphp_store_keeps_seen(st))
		dphp_seen_compact(*applied);
	return 0;
}

json_t *
dphp_proposal_new(json_t *env, json_t *applied, const char *base,
    const char *prev)
{
	json_t *p;

	p = json_pack("{sisssO}", "v", 1, "kind", "proposal", "input", env);
	json_object_set_new(p, "base", base ? json_string(base) : json_null());
	if (prev != NULL)
		json_object_set_new(p, "prev", json_string(prev));
	json_object_update(p, applied);
	json_decref(applied);
	return p;
}

int
dphp_proposal_check(json_t *rec, struct dphp_proposal *p, char *why,
    size_t whysz)
{
	static const char *const known[] = { "v", "kind", "input", "target",
	    "base", "prev", "state", "delete", "emit", "failed", "duplicate",
	    "memoised", "ignored", "evict", NULL };
	struct dphp_desc ed;
	const char *key;
	char reason[512];
	json_t *v, *e;
	size_t i;

	memset(p, 0, sizeof(*p));
	if ((key = dphp_unknown_key(rec, known)) != NULL)
		FAIL("unknown proposal field '%.64s'", key);
	v = json_object_get(rec, "kind");
	if (!json_is_string(v) || strcmp(json_string_value(v), "proposal") != 0)
		FAIL("not a proposal (want \"kind\":\"proposal\")");
	v = json_object_get(rec, "v");
	if (!json_is_integer(v) || json_integer_value(v) != 1)
		FAIL("'v' must be 1");
	p->input = json_object_get(rec, "input");
	if (!json_is_object(p->input))
		FAIL("'input' must be an envelope");
	if (dphp_envelope_check(p->input, &p->desc, reason,
	    sizeof(reason)) != 0)
		FAIL("input: %s", reason);
	v = json_object_get(rec, "target");
	if (!json_is_string(v) || strcmp(json_string_value(v), p->desc.to) != 0)
		FAIL("'target' must be the input's destination");
	p->target = json_string_value(v);
	v = json_object_get(rec, "base");
	if (v == NULL || (!json_is_null(v) && !(json_is_string(v) &&
	    json_string_length(v) > 0 && json_string_length(v) <
	    DPHP_ETAG_MAX)))
		FAIL("'base' must be an ETag or null");
	p->base = json_string_value(v);
	if ((v = json_object_get(rec, "prev")) != NULL) {
		if (!json_is_string(v) ||
		    !dphp_eventid_valid(json_string_value(v)))
			FAIL("'prev' must be an event id");
		p->prev = json_string_value(v);
	}
	v = json_object_get(rec, "delete");
	if ((v != NULL && json_object_get(rec, "state") != NULL) ||
	    (v != NULL && !json_is_true(v)))
		FAIL("a proposal has 'state', \"delete\":true, or neither");
	v = json_object_get(rec, "state");
	if (v != NULL && p->desc.dest.kind == DPHP_KIND_ENTITY &&
	    dphp_entity_doc_check(v, why, whysz) != 0)
		return -1;
	if ((v = json_object_get(rec, "evict")) != NULL) {
		if (json_object_get(rec, "state") == NULL || !json_is_object(v))
			FAIL("'evict' must be an object of the ids cut from "
			    "the window of the new 'state'");
		json_object_foreach(v, key, e)
			if (!dphp_eventid_valid(key) || !json_is_string(e))
				FAIL("evict: '%.64s' must be an event id and "
				    "a time", key);
	}
	v = json_object_get(rec, "failed");
	if (v != NULL && !json_is_string(v))
		FAIL("'failed' must be a string");
	v = json_object_get(rec, "emit");
	if (!json_is_array(v))
		FAIL("'emit' must be an array of envelopes");
	json_array_foreach(v, i, e) {
		if (!json_is_object(e))
			FAIL("emit[%zu]: not an object", i);
		if (dphp_envelope_check(e, &ed, reason, sizeof(reason)) != 0)
			FAIL("emit[%zu]: %s", i, reason);
	}
	return 0;
}
