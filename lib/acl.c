/*
 * acl.c - ownership records (dphp-policy(5)): who owns a resource, what
 * it is shared for, and when it ends; the access decision over one; and
 * the changes ownership events make to one.  A record is kept in the
 * store's owner space, ETag-guarded like a state:
 *
 *	{"owners":[user...],"shares":[{"user"|"role":name,"ops":[op...]}],
 *	 "expiry":{"at":time,"event":id}}
 */
#include <stdio.h>
#include <string.h>

#include "acl.h"
#include "check.h"

/* is v a user or role name (an operation's, op)? */
static int
isname(json_t *v, int op)
{
	return json_is_string(v) && (op ? dphp_op_parse(json_string_value(v))
	    != 0 : dphp_user_valid(json_string_value(v)));
}

/* a JSON array of such names, or not */
static int
badnames(json_t *v, int op)
{
	json_t *e;
	size_t i;

	if (!json_is_array(v))
		return 1;
	json_array_foreach(v, i, e)
		if (!isname(e, op))
			return 1;
	return 0;
}

int
dphp_acl_bad(json_t *rec, char *why, size_t whysz)
{
	static const char *const fields[] = { "owners", "shares", "expiry",
	    NULL };
	json_t *v, *s;
	const char *key;
	int64_t ms;
	size_t i;

	if (!json_is_object(rec))
		FAIL("an ownership record is an object");
	if ((key = dphp_unknown_key(rec, fields)) != NULL)
		FAIL("unknown field '%.64s' in an ownership record", key);
	if (badnames(json_object_get(rec, "owners"), 0))
		FAIL("'owners' must be an array of user names");
	v = json_object_get(rec, "shares");
	if (v != NULL && !json_is_array(v))
		FAIL("'shares' must be an array");
	json_array_foreach(v, i, s)
		if (!json_is_object(s) || json_object_size(s) != 2 ||
		    badnames(json_object_get(s, "ops"), 1) ||
		    json_array_size(json_object_get(s, "ops")) == 0 ||
		    !isname(json_object_get(s, json_object_get(s, "user") ?
		    "user" : "role"), 0))
			FAIL("shares[%zu]: want {\"user\" or \"role\","
			    "\"ops\"}, with one operation or more", i);
	v = json_object_get(rec, "expiry");
	if (v != NULL && (!json_is_object(v) || json_object_size(v) != 2 ||
	    !json_is_string(json_object_get(v, "at")) ||
	    dphp_time_parse(json_string_value(json_object_get(v, "at")),
	    &ms) != 0 || !json_is_string(json_object_get(v, "event")) ||
	    !dphp_eventid_valid(json_string_value(json_object_get(v,
	    "event")))))
		FAIL("'expiry' must be {\"at\":time,\"event\":id}");
	return 0;
}

int
dphp_acl_read(struct dphp_store *st, const char *id, struct dphp_acl *a)
{
	a->rec = NULL;
	switch (dphp_store_get_space(st, DPHP_SPACE_OWNER, id, &a->rec,
	    a->etag)) {
	case DPHP_STORE_OK:
		return 0;
	case DPHP_STORE_NOTFOUND:
		a->etag[0] = '\0';
		return 0;
	default:
		return -1;
	}
}

static int
has(json_t *array, const char *s)
{
	json_t *v;
	size_t i;

	json_array_foreach(array, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

static int
has_role(json_t *by, const char *role)
{
	return has(json_object_get(by, "roles"), role);
}

int
dphp_is_admin(json_t *by)
{
	return by != NULL && has_role(by, "admin");
}

/* Does the share s name by (its user, or one of its roles)? */
static int
names(json_t *s, json_t *by)
{
	const char *u = json_string_value(json_object_get(s, "user"));
	const char *r = json_string_value(json_object_get(s, "role"));

	if (u != NULL)
		return strcmp(u, json_string_value(json_object_get(by,
		    "user"))) == 0;
	return r != NULL && has_role(by, r);
}

/* The decision order of dphp-policy(5), for one operation. */
int
dphp_acl_allows(enum dphp_mode mode, json_t *rec, json_t *by, unsigned op)
{
	json_t *s;
	size_t i;

	if (mode == DPHP_MODE_ANON)
		return 1;
	if (by == NULL)
		return 0;
	if (mode == DPHP_MODE_AUTH && !(op & DPHP_OPS_OWNER))
		return 1;
	if (dphp_is_admin(by))
		return 1;
	if (rec == NULL)
		return 0;
	if (has(json_object_get(rec, "owners"), json_string_value(
	    json_object_get(by, "user"))))
		return 1;
	json_array_foreach(json_object_get(rec, "shares"), i, s)
		if (names(s, by) && has(json_object_get(s, "ops"),
		    dphp_op_name(op)))
			return 1;
	return 0;
}

int
dphp_acl_may_create(const struct dphp_rule *r, json_t *by)
{
	json_t *c;
	size_t i;

	if (r->mode == DPHP_MODE_ANON)
		return 1;
	if (by == NULL)
		return 0;
	if (dphp_is_admin(by))
		return 1;
	if (r->creators == NULL)
		return r->mode == DPHP_MODE_AUTH;
	json_array_foreach(r->creators, i, c)
		if (names(c, by))
			return 1;
	return 0;
}

/* The share of rec (created when absent) that names who as a user or
 * as a role (kind). */
static json_t *
share(json_t *rec, const char *kind, const char *who, int create)
{
	json_t *shares = json_object_get(rec, "shares"), *s;
	size_t i;

	json_array_foreach(shares, i, s)
		if (json_is_string(json_object_get(s, kind)) &&
		    strcmp(json_string_value(json_object_get(s, kind)),
		    who) == 0)
			return s;
	if (!create)
		return NULL;
	s = json_pack("{sss[]}", kind, who, "ops");
	json_array_append_new(shares, s);
	return s;
}

json_t *
dphp_acl_change(json_t *rec, const struct dphp_desc *d)
{
	const char *kind, *who, *op;
	json_t *n, *s, *ops, *v;
	size_t i;

	n = rec ? json_deep_copy(rec) : json_pack("{s[]}", "owners");
	if (json_object_get(n, "shares") == NULL)
		json_object_set_new(n, "shares", json_array());
	if (strcmp(d->type, "give") == 0) {
		json_object_set_new(n, "owners", json_pack("[O]",
		    json_object_get(d->core, "user")));
		return n;
	}
	kind = json_object_get(d->core, "user") ? "user" : "role";
	who = json_string_value(json_object_get(d->core, kind));
	if (strcmp(d->type, "share") == 0) {
		ops = json_object_get(share(n, kind, who, 1), "ops");
		json_array_foreach(json_object_get(d->core, "ops"), i, v)
			if (!has(ops, json_string_value(v)))
				json_array_append(ops, v);
		return n;
	}
	/* revoke: one operation, or the whole share */
	if ((s = share(n, kind, who, 0)) == NULL)
		return n;
	op = json_string_value(json_object_get(d->core, "op"));
	ops = json_object_get(s, "ops");
	for (i = 0; op != NULL && i < json_array_size(ops); i++)
		if (strcmp(json_string_value(json_array_get(ops, i)), op) == 0)
			json_array_remove(ops, i--);
	if (op == NULL || json_array_size(ops) == 0) {
		json_array_foreach(json_object_get(n, "shares"), i, v)
			if (v == s)
				break;
		json_array_remove(json_object_get(n, "shares"), i);
	}
	return n;
}

json_t *
dphp_acl_expiry(const char *id, json_t *expiry)
{
	return dphp_envelope_new(dphp_wrap("delay", json_incref(
	    json_object_get(expiry, "at")), dphp_wrap("to", json_string(id),
	    json_pack("{ss}", "type", "delete"))), json_string_value(
	    json_object_get(expiry, "event")), NULL, NULL);
}

int
dphp_acl_forget(struct dphp_store *st, const char *id)
{
	char newetag[DPHP_ETAG_MAX];
	struct dphp_acl a;
	json_t *expiry, *env;
	int r = 0;

	if (dphp_acl_read(st, id, &a) != 0)
		return -1;
	if (a.rec == NULL)
		return 0;
	switch (dphp_store_change(st, DPHP_SPACE_OWNER, id, DPHP_DELETE, NULL,
	    DPHP_IF_MATCH, a.etag, newetag)) {
	case DPHP_STORE_ERROR:
		r = -1;
		break;
	case DPHP_STORE_CONFLICT:
		/* changed meanwhile (a share, a new owner): it still goes,
		 * as the resource did; a second try finds it */
		r = dphp_acl_forget(st, id);
		break;
	default:
		/* its time-to-live has nothing left to end */
		if ((expiry = json_object_get(a.rec, "expiry")) != NULL) {
			env = dphp_acl_expiry(id, expiry);
			r = dphp_queue_cancel(st, env);
			json_decref(env);
		}
	}
	json_decref(a.rec);
	return r;
}
