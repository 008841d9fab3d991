/*
 * dedupe.c - the dedupe window: the ids of the events a history has
 * applied, kept in its document ({"seen": {ID: TIME, ...}}) so that it
 * is committed with the state it describes.  A redelivered event whose
 * id is in the window is not applied again.  Ids older than
 * DPHP_DEDUPE_MS, and the oldest beyond DPHP_DEDUPE_MAX, are pruned
 * whenever one is added: a redelivery later than that applies again.
 */
#include <string.h>

#include "kinds.h"

int
dphp_seen(json_t *doc, const char *id)
{
	return doc != NULL && json_object_get(json_object_get(doc, "seen"),
	    id) != NULL;
}

json_t *
dphp_seen_add(json_t *doc, const char *id)
{
	json_t *old = doc ? json_object_get(doc, "seen") : NULL, *seen, *v;
	int64_t now = dphp_now_ms(), t;
	const char *key;
	size_t skip = 0;
	char ts[25];

	if (json_object_size(old) >= DPHP_DEDUPE_MAX)
		skip = json_object_size(old) - DPHP_DEDUPE_MAX + 1;
	seen = json_object();
	/* insertion order is kept, so the oldest come first */
	json_object_foreach(old, key, v) {
		if (skip > 0) {
			skip--;
			continue;
		}
		if (json_is_string(v) && dphp_time_parse(json_string_value(v),
		    &t) == 0 && now - t < DPHP_DEDUPE_MS)
			json_object_set(seen, key, v);
	}
	dphp_time_format(now, ts);
	json_object_set_new(seen, id, json_string(ts));
	return seen;
}
