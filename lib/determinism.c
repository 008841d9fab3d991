/*
 * determinism.c - the determinism check of dphp-replay -J -D: today's
 * orchestration handler run on yesterday's history must do what the
 * history says it did: the same actions in the same order, and then
 * block on the same await, or end the same way.  A worker would fail
 * the instance on the first difference; this finds it first, offline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kinds.h"
#include "util.h"

static json_t *
differs(const char *id, json_t *step, const char *was, const char *now)
{
	return json_pack("{sssossss}", "id", id, "step", step, "history", was,
	    "now", now);
}

/* How the history says the last run ended: new text. */
static char *
recorded(json_t *doc)
{
	const char *status = json_string_value(json_object_get(doc, "status"));
	json_t *blocked = json_object_get(doc, "blocked");
	char *v, *r;

	if (strcmp(status, "completed") == 0) {
		v = dphp_json_text(json_object_get(doc, "output"), NULL);
		r = xasprintf("output %s", v);
	} else if (json_is_object(blocked)) {
		v = dphp_json_text(blocked, NULL);
		r = xasprintf("await %s", v);
	} else
		return xstrdup(status);
	free(v);
	return r;
}

/* How the handler's answer resp ends: new text. */
static char *
answered(json_t *resp)
{
	json_t *w = json_object_get(resp, "await");
	char *v, *r;

	if (json_object_get(resp, "output") != NULL) {
		v = dphp_json_text(json_object_get(resp, "output"), NULL);
		r = xasprintf("output %s", v);
	} else if (w != NULL) {
		w = json_pack("{sOsO}", "mode", json_object_get(w, "mode"),
		    "seqs", json_object_get(w, "seqs"));
		v = dphp_json_text(w, NULL);
		json_decref(w);
		r = xasprintf("await %s", v);
	} else if (json_object_get(resp, "error") != NULL) {
		v = dphp_json_text(json_object_get(resp, "error"), NULL);
		r = xasprintf("failed %s", v);
	} else
		return xstrdup("continue");
	free(v);
	return r;
}

json_t *
dphp_orchestration_check(const struct dphp_handlers *h, const char *id,
    json_t *doc)
{
	json_t *req, *resp = NULL, *old, *acts, *out = NULL;
	const char *status = json_string_value(json_object_get(doc, "status"));
	char why[1024], was[256], now[256], *a, *b;
	struct dphp_id dest;
	size_t i, n;

	if (dphp_state_bad(DPHP_KIND_ORCHESTRATION, doc, why, sizeof(why)))
		return differs(id, json_string("state"), why, "nothing: the "
		    "stored state is not valid");
	old = json_object_get(doc, "actions");
	/* not run yet, or a new generation not run yet: nothing to check */
	if (status == NULL || strcmp(status, "pending") == 0 ||
	    json_array_size(old) + json_array_size(json_object_get(doc,
	    "awaits")) == 0 || dphp_id_parse(id, &dest, NULL, 0) != 0)
		return NULL;
	req = dphp_orchestration_request(doc, id);
	if (dphp_handler_call(h, &dest, req, &resp, why, sizeof(why)) != 0) {
		json_decref(req);
		return differs(id, json_string("run"), "an answer", why);
	}
	json_decref(req);
	acts = json_object_get(resp, "actions");
	n = json_array_size(old) > json_array_size(acts) ?
	    json_array_size(old) : json_array_size(acts);
	for (i = 0; out == NULL && i < n; i++) {
		if (i < json_array_size(old))
			dphp_action_describe(json_array_get(old, i), was,
			    sizeof(was));
		else
			snprintf(was, sizeof(was), "nothing more");
		if (i < json_array_size(acts) && json_is_object(json_array_get(
		    acts, i)))
			dphp_action_describe(json_array_get(acts, i), now,
			    sizeof(now));
		else
			snprintf(now, sizeof(now), "nothing more");
		if (strcmp(was, now) != 0)
			out = differs(id, json_integer(i), was, now);
	}
	/* the end: the await it blocked on, or how it ended */
	if (out == NULL && (strcmp(status, "completed") == 0 ||
	    json_is_object(json_object_get(doc, "blocked")))) {
		a = recorded(doc);
		b = answered(resp);
		if (strcmp(a, b) != 0)
			out = differs(id, json_string("end"), a, b);
		free(a);
		free(b);
	}
	json_decref(resp);
	return out;
}
