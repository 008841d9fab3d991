/*
 * emit.c - the events a history sends: each is caused by the event
 * being applied, so it carries that event's acting user, comes from its
 * destination, and has an id derived from it (the same on every
 * recomputation); and the replies owed to every reply_to of it.
 */
#include "kinds.h"

/* Wrap chain as the n-th event caused by d, emitted by its target. */
json_t *
dphp_caused(const struct dphp_desc *d, unsigned n, json_t *chain)
{
	char id[37];

	dphp_derive_id(d->id, n, id);
	return dphp_envelope_new(dphp_wrap("from", json_string(d->to), chain),
	    id, NULL, d->by);
}

void
dphp_reply(json_t *emit, const struct dphp_desc *d, json_t *result,
    const char *failure)
{
	json_t *core;
	int i;

	for (i = 0; i < d->nreply; i++) {
		core = json_object();
		if (failure == NULL) {
			json_object_set_new(core, "type", json_string(
			    "completed"));
			json_object_set_new(core, "scheduled_id",
			    json_string(d->id));
			json_object_set(core, "result", result ? result :
			    json_null());
		} else {
			json_object_set_new(core, "type", json_string("failed"));
			json_object_set_new(core, "scheduled_id",
			    json_string(d->id));
			json_object_set_new(core, "reason",
			    json_string(failure));
		}
		json_array_append_new(emit, dphp_caused(d, json_array_size(emit)
		    + 1, dphp_wrap("to", json_string(d->reply_to[i]), core)));
	}
}

