/*
 * entity.c - the entity history: one operation at a time, applied by
 * the entity's handler to the state found in the store, answered to
 * every reply_to origin in the envelope.  The stored document is
 * {"state": USER-STATE, "seen": DEDUPE-WINDOW}; an operation already
 * in the window is not applied again.  A handler that answers no
 * "state" leaves it as it was; so do a refused operation ({"error":
 * REASON}) and a failed handler, which become "failed" replies.  None
 * of them creates an entity: nothing exists until an operation has
 * given it a state.  A stored document of another shape (written by
 * hand) fails the operation rather than being read as no state.
 */
#include <stdio.h>
#include <string.h>

#include "kinds.h"

/*
 * Check the handler's answer; on success fill *state (borrowed, NULL if
 * unchanged), *result and the events it asked to emit.
 */
static int
answer(json_t *resp, const struct dphp_desc *d, json_t *emit,
    json_t **state, json_t **result, char *why, size_t whysz)
{
	static const char *const known[] = { "state", "result", "emit",
	    "error", NULL };
	struct dphp_desc ed;
	const char *key;
	json_t *v, *e, *list;
	size_t i;

	if ((key = dphp_unknown_key(resp, known)) != NULL) {
		snprintf(why, whysz, "handler entity/%s answered an unknown "
		    "field '%.64s'", d->dest.name, key);
		return -1;
	}
	if ((v = json_object_get(resp, "error")) != NULL) {
		/* the operation refused: a failed reply with this reason */
		if (!json_is_string(v) || json_object_size(resp) != 1)
			snprintf(why, whysz, "handler entity/%s: 'error' must "
			    "be a string, alone", d->dest.name);
		else
			snprintf(why, whysz, "%s", json_string_value(v));
		return -1;
	}
	*state = json_object_get(resp, "state");
	*result = json_object_get(resp, "result");
	list = json_object_get(resp, "emit");
	if (list == NULL)
		return 0;
	if (!json_is_array(list)) {
		snprintf(why, whysz, "handler entity/%s: 'emit' must be an "
		    "array", d->dest.name);
		return -1;
	}
	json_array_foreach(list, i, e) {
		json_t *ev = dphp_caused(d, json_array_size(emit) + 1,
		    json_incref(e));

		char reason[512];

		if (dphp_envelope_check(ev, &ed, reason, sizeof(reason)) != 0) {
			snprintf(why, whysz, "handler entity/%s: emit[%zu]: %s",
			    d->dest.name, i, reason);
			json_decref(ev);
			return -1;
		}
		json_array_append_new(emit, ev);
	}
	return 0;
}

int
dphp_entity_doc_check(json_t *doc, char *why, size_t whysz)
{
	const char *key, *bad = NULL;
	json_t *v;

	if (!json_is_object(doc))
		bad = "is not an object";
	json_object_foreach(doc, key, v)
		if (strcmp(key, "state") != 0 && (strcmp(key, "seen") != 0 ||
		    !json_is_object(v))) {
			snprintf(why, whysz, "an entity's document is "
			    "{\"state\":STATE,\"seen\":WINDOW}; this one has "
			    "'%.64s'", key);
			return -1;
		}
	if (bad == NULL && json_object_get(doc, "state") == NULL)
		bad = "has no \"state\"";
	if (bad != NULL)
		snprintf(why, whysz, "an entity's document is {\"state\":STATE,"
		    "\"seen\":WINDOW}; this one %s", bad);
	return bad != NULL ? -1 : 0;
}

json_t *
dphp_entity_apply(const struct dphp_handlers *h, const struct dphp_desc *d,
    json_t *doc)
{
	json_t *prop, *req, *resp = NULL, *emit, *state = NULL, *result = NULL;
	json_t *user = doc ? json_object_get(doc, "state") : NULL;
	char why[1024];
	int failed = 0;

	prop = json_object();
	json_object_set_new(prop, "target", json_string(d->to));
	if (dphp_seen(doc, d->id)) {
		json_object_set_new(prop, "duplicate", json_true());
		json_object_set_new(prop, "emit", json_array());
		return prop;
	}
	emit = json_array();
	if (strcmp(d->type, "delete") == 0) {
		json_object_set_new(prop, "delete", json_true());
		dphp_reply(emit, d, NULL, NULL);
		json_object_set_new(prop, "emit", emit);
		return prop;
	}
	if (doc != NULL && dphp_entity_doc_check(doc, why, sizeof(why)) != 0) {
		char reason[1200];

		snprintf(reason, sizeof(reason), "the stored document of %s: %s",
		    d->to, why);
		json_object_set_new(prop, "failed", json_string(reason));
		dphp_reply(emit, d, NULL, reason);
		json_object_set_new(prop, "emit", emit);
		return prop;
	}
	req = json_object();
	json_object_set_new(req, "id", json_string(d->to));
	json_object_set(req, "op", json_object_get(d->core, "op"));
	json_object_set(req, "input", json_object_get(d->core, "input") ?
	    json_object_get(d->core, "input") : json_null());
	json_object_set(req, "state", user ? user : json_null());
	json_object_set_new(req, "caller", d->from ? json_string(d->from) :
	    json_null());
	json_object_set(req, "user", d->by ? d->by : json_null());
	if (dphp_handler_call(h, &d->dest, req, &resp, why, sizeof(why)) != 0 ||
	    answer(resp, d, emit, &state, &result, why, sizeof(why)) != 0)
		failed = 1;
	json_decref(req);
	if (failed) {
		json_array_clear(emit);
		json_object_set_new(prop, "failed", json_string(why));
		dphp_reply(emit, d, NULL, why);
		state = NULL;
	} else
		dphp_reply(emit, d, result, NULL);
	/*
	 * An event taken from the queue comes again after a crash: its
	 * outcome is remembered even when it changed nothing, or a
	 * refusal could turn into a success the second time round.  Not
	 * by an entity that does not exist: that would create it.
	 */
	if (state == NULL && d->receipt != NULL && doc != NULL)
		state = user ? user : json_null();
	if (state != NULL)
		json_object_set_new(prop, "state", json_pack("{sOso}", "state",
		    state, "seen", dphp_seen_add(doc, d->id)));
	json_object_set_new(prop, "emit", emit);
	json_decref(resp);
	return prop;
}
