/*
 * session.c - sticky histories (dphp-handler(5)): an orchestration's
 * co-process that answers "sticky" keeps the instance where it waits,
 * and its next run is sent only the await points passed since, not the
 * whole history.  What this stage remembers of each kept instance is
 * where the handler stopped (awaits seen, actions issued) and a token
 * that the same run wrote into the instance's state: the state carries
 * that token only if no other run came after it (committed or not, by
 * this stage or another), so a token that matches proves the handler's
 * copy is the stored history's prefix.  Anything else, and any doubt,
 * is a full replay, so correctness never depends on the cache.
 */
#include <string.h>

#include "id.h"
#include "kinds.h"
#include "util.h"

#define SESSIONS_MAX 4096	/* instances remembered; then one is forgotten */

static json_t *sessions;	/* instance id: {token, awaits, actions} */

/* a JSON array of the items of a from index i on (a new one) */
static json_t *
tail(json_t *a, size_t i)
{
	json_t *t = json_array();

	for (; i < json_array_size(a); i++)
		json_array_append(t, json_array_get(a, i));
	return t;
}

json_t *
dphp_session_request(const struct dphp_handlers *h, json_t *doc,
    const char *id, size_t *from)
{
	json_t *s = sessions ? json_object_get(sessions, id) : NULL;
	json_t *token = json_object_get(doc, "session");
	json_t *awaits = json_object_get(doc, "awaits");
	size_t k, m;

	*from = 0;
	if (s == NULL || !h->keep || !json_is_string(token) ||
	    !json_equal(token, json_object_get(s, "token")))
		return dphp_orchestration_request(doc, id);
	k = json_integer_value(json_object_get(s, "awaits"));
	m = json_integer_value(json_object_get(s, "actions"));
	if (k > json_array_size(awaits) ||
	    m > json_array_size(json_object_get(doc, "actions")))
		return dphp_orchestration_request(doc, id);
	*from = m;
	return json_pack("{sssOsOsIsososI}", "id", id, "name",
	    json_object_get(doc, "name"), "generation", json_object_get(doc,
	    "generation"), "resume", (json_int_t)k, "awaits", tail(awaits, k),
	    "times", tail(json_object_get(doc, "times"), k + 1), "reached",
	    json_integer_value(json_object_get(doc, "reached")));
}

void
dphp_session_keep(json_t *doc, const char *id, size_t awaits, size_t actions)
{
	char token[37];

	if (sessions == NULL)
		sessions = json_object();
	if (json_object_get(sessions, id) == NULL &&
	    json_object_size(sessions) >= SESSIONS_MAX)
		json_object_del(sessions, json_object_iter_key(
		    json_object_iter(sessions)));
	dphp_uuid7(token);
	json_object_set_new(doc, "session", json_string(token));
	json_object_set_new(sessions, id, json_pack("{sssIsI}", "token", token,
	    "awaits", (json_int_t)awaits, "actions", (json_int_t)actions));
}

void
dphp_session_drop(json_t *doc, const char *id)
{
	json_object_del(doc, "session");
	if (sessions != NULL)
		json_object_del(sessions, id);
}
