/*
 * envelope.c - the event record of dphp-event(5): an envelope around a
 * chain of wrappers ("to", "delay", "reply_to", "lock", "priority",
 * "from") that ends in one core event.  Validation is strict (unknown
 * keys and wrappers are errors) and produces, in the same single walk,
 * the flat description that routing needs.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "envelope.h"
#include "qname.h"
#include "util.h"

#define KIND(k) (1u << (k))
#define ANYKIND (KIND(DPHP_KIND_ENTITY) | KIND(DPHP_KIND_ORCHESTRATION) | \
    KIND(DPHP_KIND_ACTIVITY))

static const char *opnames[] = {
	"start", "signal", "call", "read", "subscribe", "lock", "delete",
	"share+", "share-", "owner"
};
#define NOPS (sizeof(opnames) / sizeof(opnames[0]))

const char *
dphp_op_name(unsigned op)
{
	unsigned i;

	for (i = 0; i < NOPS; i++)
		if (op == 1u << i)
			return opnames[i];
	return NULL;
}

unsigned
dphp_op_parse(const char *s)
{
	unsigned i;

	for (i = 0; i < NOPS; i++)
		if (strcmp(s, opnames[i]) == 0)
			return 1u << i;
	return 0;
}

/*
 * The core events.  A field is its name, '!' (required) or '?'
 * (optional), and a type letter: s = string, n = operation name,
 * i = event id, u = user or role, o = array of operations, d = duration,
 * g = positive integer, a = activity id, * = any JSON.
 */
static const struct core {
	const char *type;
	unsigned kinds;		/* destinations it may be sent to */
	unsigned ops;		/* operations it needs there */
	const char *fields[4];
} cores[] = {
	{ "start", KIND(DPHP_KIND_ORCHESTRATION), DPHP_OP_START,
	    { "input?*" } },
	{ "signal", KIND(DPHP_KIND_ENTITY), DPHP_OP_SIGNAL,
	    { "op!n", "input?*" } },
	{ "raise", KIND(DPHP_KIND_ORCHESTRATION), DPHP_OP_SIGNAL,
	    { "name!n", "input?*" } },
	{ "schedule", KIND(DPHP_KIND_ACTIVITY), DPHP_OP_CALL,
	    { "input?*", "key?a", "attempt?g" } },
	{ "completed", KIND(DPHP_KIND_ENTITY) | KIND(DPHP_KIND_ORCHESTRATION),
	    DPHP_OP_SIGNAL, { "scheduled_id!i", "result?*" } },
	{ "failed", KIND(DPHP_KIND_ENTITY) | KIND(DPHP_KIND_ORCHESTRATION),
	    DPHP_OP_SIGNAL, { "scheduled_id!i", "reason!s", "details?*" } },
	{ "terminate", KIND(DPHP_KIND_ORCHESTRATION), DPHP_OP_SIGNAL,
	    { "reason?s" } },
	{ "share", ANYKIND, DPHP_OP_SHARE_PLUS, { "user?u", "role?u",
	    "ops!o" } },
	{ "revoke", ANYKIND, DPHP_OP_SHARE_MINUS, { "user?u", "role?u",
	    "op?s" } },
	{ "give", ANYKIND, DPHP_OP_OWNER, { "user!u" } },
	{ "delete", ANYKIND, DPHP_OP_DELETE, { NULL } },
	/* dphp's own: an orchestration's signal to itself to run */
	{ "run", KIND(DPHP_KIND_ORCHESTRATION), DPHP_OP_SIGNAL, { NULL } },
	/* critical sections, granted by dphp-lock: see dphp-lock(1) */
	{ "lock", KIND(DPHP_KIND_ENTITY), DPHP_OP_LOCK,
	    { "request!i", "lease?d" } },
	{ "unlock", KIND(DPHP_KIND_ENTITY), DPHP_OP_LOCK, { "request?i" } },
	{ "expire", KIND(DPHP_KIND_ENTITY), 0, { "fence!g", "recheck?g" } },
};

static const struct core *
findcore(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof(cores) / sizeof(cores[0]); i++)
		if (strcmp(cores[i].type, type) == 0)
			return &cores[i];
	return NULL;
}

static int
checkfield(const char *key, char t, json_t *v, char *why, size_t whysz)
{
	struct dphp_id id;
	const char *s;
	int64_t ms;
	size_t i;
	json_t *e;

	if (t == '*')
		return 0;
	if (t == 'g') {
		if (!json_is_integer(v) || json_integer_value(v) < 1)
			FAIL("'%s' must be a positive integer", key);
		return 0;
	}
	if (t == 'o') {
		if (!json_is_array(v) || json_array_size(v) == 0)
			FAIL("'%s' must be a non-empty array of operations",
			    key);
		json_array_foreach(v, i, e)
			if (!json_is_string(e) ||
			    dphp_op_parse(json_string_value(e)) == 0)
				FAIL("'%s' holds an unknown operation", key);
		return 0;
	}
	if (!json_is_string(v))
		FAIL("'%s' must be a string", key);
	s = json_string_value(v);
	if (t == 'n' && !dphp_opname_valid(s))
		FAIL("'%s' must match [A-Za-z0-9._-]{1,128} and start with a "
		    "letter, digit or '-'", key);
	if (t == 'i' && !dphp_eventid_valid(s))
		FAIL("'%s' is not a valid event id", key);
	if (t == 'd' && (dphp_duration_parse(s, &ms) != 0 || ms < 1))
		FAIL("'%s' must be a duration (90s, 15m, 2h)", key);
	if (t == 'a' && (dphp_id_parse(s, &id, NULL, 0) != 0 ||
	    id.kind != DPHP_KIND_ACTIVITY))
		FAIL("'%s' must be an activity id", key);
	if (t == 'u' && !dphp_user_valid(s))
		FAIL("'%s' is not a valid user or role name", key);
	if (t == 's' && strcmp(key, "op") == 0 && dphp_op_parse(s) == 0)
		FAIL("'op' is not an operation");
	return 0;
}

int
dphp_core_check(json_t *core, enum dphp_kind dest, char *why, size_t whysz)
{
	const struct core *c;
	const char *key, *type;
	json_t *v;
	size_t i, nf;
	int found;

	v = json_object_get(core, "type");
	if (!json_is_string(v))
		FAIL("core event 'type' must be a string");
	type = json_string_value(v);
	if ((c = findcore(type)) == NULL)
		FAIL("unknown core event type '%.64s'", type);
	for (nf = 0; nf < 4 && c->fields[nf] != NULL; nf++)
		;
	json_object_foreach(core, key, v) {
		if (strcmp(key, "type") == 0)
			continue;
		found = 0;
		for (i = 0; i < nf; i++) {
			size_t kl = strlen(c->fields[i]) - 2;

			if (strlen(key) == kl &&
			    strncmp(key, c->fields[i], kl) == 0) {
				found = 1;
				if (checkfield(key, c->fields[i][kl + 1], v, why,
				    whysz))
					return -1;
			}
		}
		if (!found)
			FAIL("unknown field '%.64s' in a '%s' event", key, type);
	}
	for (i = 0; i < nf; i++) {
		const char *f = c->fields[i];
		size_t kl = strlen(f) - 2;

		if (f[kl] == '!') {
			char name[32];

			snprintf(name, sizeof(name), "%.*s", (int)kl, f);
			if (json_object_get(core, name) == NULL)
				FAIL("a '%s' event needs '%s'", type, name);
		}
	}
	if ((strcmp(type, "share") == 0 || strcmp(type, "revoke") == 0) &&
	    (json_object_get(core, "user") == NULL) ==
	    (json_object_get(core, "role") == NULL))
		FAIL("a '%s' event needs exactly one of 'user' and 'role'",
		    type);
	if (dest != DPHP_KIND_NONE && !(c->kinds & KIND(dest)))
		FAIL("a '%s' event cannot be sent to an %s", type,
		    dphp_kind_name(dest));
	return 0;
}

/*
 * What locks need beyond the grammar: a lock or unlock says whose, in a
 * lock wrapper, and a lock names the entity it is sent to among the
 * participants.  "fence" is what dphp-lock adds to an owner's event it
 * lets through (the token of the hold, which dphp-commit checks), and
 * "ahead" to an event it lets through ahead of lock requests it holds
 * back (dphp-commit tells the lock record when it is committed).
 */
static int
checklocking(json_t *env, struct dphp_desc *d, char *why, size_t whysz)
{
	json_t *v = json_object_get(env, "fence"), *p, *e;
	size_t i;
	int in = 0;

	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    d->lock == NULL || d->receipt == NULL))
		FAIL("'fence' must be a positive integer, on an event taken "
		    "from the queue with a 'lock' wrapper");
	if (v != NULL)
		d->fence = json_integer_value(v);
	v = json_object_get(env, "ahead");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    d->receipt == NULL || d->dest.kind != DPHP_KIND_ENTITY))
		FAIL("'ahead' must be a positive integer, on an event for an "
		    "entity taken from the queue");
	if (v != NULL)
		d->ahead = json_integer_value(v);
	if ((strcmp(d->type, "lock") == 0 || strcmp(d->type, "unlock") == 0) &&
	    d->lock == NULL)
		FAIL("a '%s' event needs a 'lock' wrapper naming its owner",
		    d->type);
	if (strcmp(d->type, "lock") == 0) {
		p = json_object_get(d->lock, "participants");
		json_array_foreach(p, i, e)
			in |= strcmp(json_string_value(e), d->to) == 0;
		if (!in)
			FAIL("a 'lock' event goes to one of the lock's "
			    "participants");
	}
	return 0;
}

static int
checkid(const char *what, json_t *v, struct dphp_id *id, char *why,
    size_t whysz)
{
	char r[128];

	if (!json_is_string(v))
		FAIL("'%s' must be an id string", what);
	if (dphp_id_parse(json_string_value(v), id, r, sizeof(r)) != 0)
		FAIL("'%s' is not a valid id: %s", what, r);
	return 0;
}

static int
checklock(json_t *v, char *why, size_t whysz)
{
	struct dphp_id id;
	const char *key, *prev = NULL;
	json_t *e, *parts;
	size_t i;

	if (!json_is_object(v))
		FAIL("'lock' must be an object");
	json_object_foreach(v, key, e)
		if (strcmp(key, "owner") != 0 &&
		    strcmp(key, "participants") != 0)
			FAIL("unknown field '%.64s' in 'lock'", key);
	if (checkid("lock.owner", json_object_get(v, "owner"), &id, why,
	    whysz))
		return -1;
	parts = json_object_get(v, "participants");
	if (!json_is_array(parts))
		FAIL("'lock.participants' must be an array");
	json_array_foreach(parts, i, e) {
		if (checkid("lock.participants", e, &id, why, whysz))
			return -1;
		if (id.kind != DPHP_KIND_ENTITY)
			FAIL("lock participants must be entities");
		if (prev != NULL && strcmp(prev, json_string_value(e)) >= 0)
			FAIL("lock participants must be sorted and unique");
		prev = json_string_value(e);
	}
	return 0;
}

int
dphp_by_check(json_t *by, char *why, size_t whysz)
{
	const char *key;
	json_t *v, *e;
	size_t i;

	if (!json_is_object(by))
		FAIL("'by' must be an object");
	json_object_foreach(by, key, v) {
		if (strcmp(key, "user") == 0) {
			if (!json_is_string(v) ||
			    !dphp_user_valid(json_string_value(v)))
				FAIL("'by.user' is not a valid user name");
		} else if (strcmp(key, "roles") == 0) {
			if (!json_is_array(v))
				FAIL("'by.roles' must be an array");
			json_array_foreach(v, i, e)
				if (!json_is_string(e) ||
				    !dphp_user_valid(json_string_value(e)))
					FAIL("'by.roles' holds an invalid "
					    "role name");
		} else
			FAIL("unknown field '%.64s' in 'by'", key);
	}
	if (json_object_get(by, "user") == NULL)
		FAIL("'by' needs 'user'");
	return 0;
}

static const char *wrappers[] = {
	"to", "delay", "reply_to", "lock", "priority", "from"
};

int
dphp_envelope_check(json_t *env, struct dphp_desc *d, char *why,
    size_t whysz)
{
	static const char *const known[] = { "v", "id", "ts", "by", "event",
	    "receipt", "fence", "ahead", "token", NULL };
	struct dphp_id id;
	const char *key, *wkey;
	json_t *v, *node, *w;
	int64_t ms;
	size_t i, depth;

	memset(d, 0, sizeof(*d));
	d->priority = -1;
	if ((key = dphp_unknown_key(env, known)) != NULL)
		FAIL("unknown envelope field '%.64s'", key);
	v = json_object_get(env, "v");
	if (!json_is_integer(v) || json_integer_value(v) != DPHP_ENVELOPE_VERSION)
		FAIL("'v' must be %d", DPHP_ENVELOPE_VERSION);
	v = json_object_get(env, "id");
	if (!json_is_string(v) || !dphp_eventid_valid(json_string_value(v)))
		FAIL("'id' must be an event id ([A-Za-z0-9._-]{1,128}, not "
		    "starting with '.')");
	d->id = json_string_value(v);
	v = json_object_get(env, "ts");
	if (!json_is_string(v) || dphp_time_parse(json_string_value(v), &ms))
		FAIL("'ts' must be an RFC 3339 UTC time");
	d->ts_ms = ms;
	if ((v = json_object_get(env, "receipt")) != NULL) {
		/* TIME.SHARD.ID, then "@CLAIM" on etcd: ID this event's */
		const char *r = json_string_value(v);
		struct dphp_qname q;

		if (r == NULL || dphp_qname_parse(r, &q) != 0 ||
		    q.idlen != strlen(d->id) ||
		    strncmp(q.id, d->id, q.idlen) != 0)
			FAIL("'receipt' must be the queue receipt of the event "
			    "(TIME.SHARD.ID[@CLAIM])");
		d->receipt = r;
	}
	if ((v = json_object_get(env, "token")) != NULL) {
		/* its shape is the checker's: a bad token rejects its
		 * event alone (jwt.c) */
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > 8192)
			FAIL("'token' must be a string of 1 to 8192 characters "
			    "(a JSON Web Token)");
		d->token = json_string_value(v);
	}
	if ((v = json_object_get(env, "by")) != NULL) {
		if (dphp_by_check(v, why, whysz))
			return -1;
		d->by = v;
	}
	if ((node = json_object_get(env, "event")) == NULL)
		FAIL("the envelope has no 'event'");
	for (depth = 0;; depth++) {
		if (!json_is_object(node))
			FAIL("'event' must be an object");
		if (json_object_get(node, "type") != NULL)
			break;
		if (json_object_size(node) != 2 ||
		    (w = json_object_get(node, "event")) == NULL) {
			json_object_foreach(node, wkey, v)
				if (strcmp(wkey, "event") != 0)
					break;
			FAIL("a wrapper is one key and 'event'%s%.64s%s",
			    wkey ? " (saw '" : "", wkey ? wkey : "",
			    wkey ? "')" : "");
		}
		json_object_foreach(node, wkey, v)
			if (strcmp(wkey, "event") != 0)
				break;
		for (i = 0; i < sizeof(wrappers) / sizeof(wrappers[0]); i++)
			if (strcmp(wkey, wrappers[i]) == 0)
				break;
		if (i == sizeof(wrappers) / sizeof(wrappers[0]))
			FAIL("unknown wrapper '%.64s'", wkey);
		if (strcmp(wkey, "to") == 0) {
			if (d->to != NULL)
				FAIL("more than one 'to' wrapper");
			if (checkid("to", v, &d->dest, why, whysz))
				return -1;
			d->to = json_string_value(v);
		} else if (strcmp(wkey, "delay") == 0) {
			if (d->delay != NULL)
				FAIL("more than one 'delay' wrapper");
			if (!json_is_string(v) ||
			    dphp_time_parse(json_string_value(v), &d->delay_ms))
				FAIL("'delay' must be an RFC 3339 UTC time");
			d->delay = json_string_value(v);
		} else if (strcmp(wkey, "reply_to") == 0) {
			if (checkid("reply_to", v, &id, why, whysz))
				return -1;
			if (id.kind == DPHP_KIND_ACTIVITY)
				FAIL("'reply_to' cannot be an activity");
			if (d->nreply == DPHP_REPLY_MAX)
				FAIL("more than %d 'reply_to' wrappers",
				    DPHP_REPLY_MAX);
			d->reply_to[d->nreply++] = json_string_value(v);
		} else if (strcmp(wkey, "lock") == 0) {
			if (d->lock != NULL)
				FAIL("more than one 'lock' wrapper");
			if (checklock(v, why, whysz))
				return -1;
			d->lock = v;
			d->ops |= DPHP_OP_LOCK;
		} else if (strcmp(wkey, "priority") == 0) {
			if (d->priority >= 0)
				FAIL("more than one 'priority' wrapper");
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 1000)
				FAIL("'priority' must be an integer from 0 "
				    "to 1000");
			d->priority = json_integer_value(v);
		} else {
			if (d->from != NULL)
				FAIL("more than one 'from' wrapper");
			if (checkid("from", v, &id, why, whysz))
				return -1;
			d->from = json_string_value(v);
		}
		if (depth > 64)
			FAIL("wrappers nested deeper than 64");
		node = w;
	}
	if (d->to == NULL)
		FAIL("the envelope has no 'to' wrapper");
	if (dphp_core_check(node, d->dest.kind, why, whysz))
		return -1;
	d->core = node;
	d->type = json_string_value(json_object_get(node, "type"));
	d->ops |= findcore(d->type)->ops;
	/* a reply asked for: a call, or for a start its end (subscribe) */
	if (d->nreply > 0)
		d->ops |= strcmp(d->type, "start") == 0 ? DPHP_OP_SUBSCRIBE :
		    DPHP_OP_CALL;
	return checklocking(env, d, why, whysz);
}

json_t *
dphp_desc_json(const struct dphp_desc *d)
{
	json_t *o, *a;
	unsigned op;
	int i;

	o = json_object();
	json_object_set_new(o, "id", json_string(d->id));
	json_object_set_new(o, "to", json_string(d->to));
	json_object_set_new(o, "kind", json_string(dphp_kind_name(
	    d->dest.kind)));
	json_object_set_new(o, "type", json_string(d->type));
	json_object_set_new(o, "delay", d->delay ? json_string(d->delay) :
	    json_null());
	a = json_array();
	for (i = 0; i < d->nreply; i++)
		json_array_append_new(a, json_string(d->reply_to[i]));
	json_object_set_new(o, "reply_to", a);
	json_object_set(o, "lock", d->lock ? d->lock : json_null());
	json_object_set_new(o, "priority", d->priority >= 0 ?
	    json_integer(d->priority) : json_null());
	json_object_set_new(o, "from", d->from ? json_string(d->from) :
	    json_null());
	json_object_set_new(o, "by", d->by ? json_incref(json_object_get(d->by,
	    "user")) : json_null());
	a = json_array();
	for (op = 1; dphp_op_name(op) != NULL; op <<= 1)
		if (d->ops & op)
			json_array_append_new(a, json_string(dphp_op_name(op)));
	json_object_set_new(o, "ops", a);
	return o;
}

json_t *
dphp_wrap(const char *key, json_t *value, json_t *inner)
{
	json_t *o = json_object();

	json_object_set_new(o, key, value);
	json_object_set_new(o, "event", inner);
	return o;
}

json_t *
dphp_envelope_new(json_t *chain, const char *id, const char *ts, json_t *by)
{
	char idbuf[37], tsbuf[25];
	json_t *env;

	if (id == NULL) {
		dphp_uuid7(idbuf);
		id = idbuf;
	}
	if (ts == NULL) {
		dphp_time_format(dphp_now_ms(), tsbuf);
		ts = tsbuf;
	}
	env = json_object();
	json_object_set_new(env, "v", json_integer(DPHP_ENVELOPE_VERSION));
	json_object_set_new(env, "id", json_string(id));
	json_object_set_new(env, "ts", json_string(ts));
	if (json_is_object(by))
		json_object_set(env, "by", by);
	json_object_set_new(env, "event", chain);
	return env;
}

struct each_event {
	dphp_event_fn *fn;
	void *arg;
};

static int
checked(struct dphp_reader *rd, json_t *env, void *arg)
{
	struct each_event *e = arg;
	struct dphp_desc d;
	char why[1024];

	if (dphp_envelope_check(env, &d, why, sizeof(why)) != 0) {
		dphp_reader_error(rd, "invalid event: %s", why);
		return DPHP_EXIT_INPUT;
	}
	return e->fn(rd, env, &d, e->arg);
}

int
dphp_each_event(int argc, char **argv, dphp_event_fn *fn, void *arg)
{
	struct each_event e = { fn, arg };

	return dphp_each_record(argc, argv, checked, &e);
}
