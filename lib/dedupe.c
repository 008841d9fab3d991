/*
 * dedupe.c - the dedupe window: the ids of the events a history has
 * applied, kept in its document ({"seen": {ID: TIME, ...}}) so that it
 * is committed with the state it describes.  A redelivered event whose
 * id is in the window is not applied again.  Ids older than
 * DPHP_DEDUPE_MS, and the oldest beyond DPHP_DEDUPE_MAX, are pruned
 * whenever one is added: a redelivery later than that applies again.
 *
 * So that an operation costs the same however long the history, a store
 * that can keep the older ids apart (a directory store: seenidx.c) gets
 * the window cut to its few newest ids at each commit that makes it
 * longer than DPHP_SEEN_MAX; it writes the others beside the record
 * before the record without them, and the stages ask it about an id the
 * document does not hold (dphp_store_seen).
 */
#include <string.h>

#include "dedupe.h"
#include "id.h"

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

json_t *
dphp_seen_mark(json_t *doc, const char *id)
{
	json_t *copy = doc ? json_copy(doc) : json_object(), *seen;
	char ts[25];

	seen = json_copy(json_object_get(copy, "seen"));
	if (seen == NULL)
		seen = json_object();
	dphp_time_format(dphp_now_ms(), ts);
	json_object_set_new(seen, id, json_string(ts));
	json_object_set_new(copy, "seen", seen);
	return copy;
}

void
dphp_seen_compact(json_t *applied)
{
	json_t *state = json_object_get(applied, "state"), *seen, *kept,
	    *evict, *v;
	size_t n;
	const char *key;

	seen = json_object_get(state, "seen");
	if (!json_is_object(seen) || json_object_size(seen) <= DPHP_SEEN_MAX)
		return;
	n = json_object_size(seen) - DPHP_SEEN_KEEP;
	kept = json_object();
	evict = json_object();
	/* insertion order is kept, so the oldest come first */
	json_object_foreach(seen, key, v) {
		json_object_set(n > 0 ? evict : kept, key, v);
		if (n > 0)
			n--;
	}
	state = json_copy(state);
	json_object_set_new(state, "seen", kept);
	json_object_set_new(applied, "state", state);
	json_object_set_new(applied, "evict", evict);
}
