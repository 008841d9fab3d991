/*
 * activity.c - the activity history: an activity runs when it is first
 * scheduled, and its result or failure is remembered in its document
 * ({"status":"completed","result":R} or {"status":"failed",
 * "error":REASON}).  A schedule that finds one is answered from it and
 * runs nothing: an activity is never run again once its outcome is
 * committed.  Before that it may be (a worker stopped, a proposal that
 * lost its commit): activities run at least once, so each request
 * carries what a side effect needs to be done once: an idempotency key,
 * the same on every run and retry of one call, and the attempt.
 */
#include <stdio.h>
#include <string.h>

#include "kinds.h"

/* The outcome of running the activity: a new document. */
static json_t *
run(const struct dphp_handlers *h, const struct dphp_desc *d)
{
	json_t *req, *resp = NULL, *doc, *v, *ikey, *attempt;
	const char *key;
	char why[1024];

	/* a retry names the first attempt; else the key is the id */
	if ((ikey = json_object_get(d->core, "key")) != NULL)
		json_incref(ikey);
	else
		ikey = json_string(d->to);
	if ((attempt = json_object_get(d->core, "attempt")) != NULL)
		json_incref(attempt);
	else
		attempt = json_integer(1);
	req = json_pack("{sssssOsOsoso}", "id", d->to, "name", d->dest.name,
	    "input", json_object_get(d->core, "input") ?
	    json_object_get(d->core, "input") : json_null(), "user",
	    d->by ? d->by : json_null(), "key", ikey, "attempt", attempt);
	if (dphp_handler_call(h, &d->dest, req, &resp, why, sizeof(why)) == 0) {
		static const char *const known[] = { "result", "error", NULL };

		key = dphp_unknown_key(resp, known);
		v = json_object_get(resp, "error");
		if (key != NULL)
			snprintf(why, sizeof(why), "handler activity/%s "
			    "answered an unknown field '%.64s'", d->dest.name,
			    key);
		else if (v != NULL && (!json_is_string(v) ||
		    json_object_size(resp) != 1))
			snprintf(why, sizeof(why), "handler activity/%s: "
			    "'error' must be a string, alone", d->dest.name);
		else if (v != NULL)
			snprintf(why, sizeof(why), "%s", json_string_value(v));
		else {
			v = json_object_get(resp, "result");
			doc = json_pack("{sssO}", "status", "completed",
			    "result", v ? v : json_null());
			json_decref(req);
			json_decref(resp);
			return doc;
		}
	}
	json_decref(req);
	json_decref(resp);
	return json_pack("{ssss}", "status", "failed", "error", why);
}

json_t *
dphp_activity_apply(const struct dphp_handlers *h, const struct dphp_desc *d,
    json_t *doc)
{
	json_t *prop, *emit, *outcome;

	prop = json_pack("{ss}", "target", d->to);
	if (strcmp(d->type, "delete") == 0) {
		json_object_set_new(prop, "delete", json_true());
		emit = json_array();
		dphp_reply(emit, d, NULL, NULL);
		json_object_set_new(prop, "emit", emit);
		return prop;
	}
	if (doc == NULL) {
		outcome = run(h, d);
		json_object_set(prop, "state", outcome);
	} else {
		outcome = json_incref(doc);
		json_object_set_new(prop, "memoised", json_true());
	}
	if (strcmp(json_string_value(json_object_get(outcome, "status")),
	    "failed") == 0)
		json_object_set(prop, "failed", json_object_get(outcome,
		    "error"));
	emit = json_array();
	dphp_reply(emit, d, json_object_get(outcome, "result"),
	    json_string_value(json_object_get(outcome, "error")));
	json_object_set_new(prop, "emit", emit);
	json_decref(outcome);
	return prop;
}
