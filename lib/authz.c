/*
 * authz.c - may this event be carried out?  dphp-route asks on every
 * event it admits and every event a worker takes (events handlers emit
 * reach the queue from a commit, never through admission).  The
 * operations an envelope needs are checked at its destination, the
 * source operation at the resource it says it comes from, and "signal"
 * at every reply_to, all for the user it acts for (dphp-policy(5)).
 */
#include <stdio.h>
#include <string.h>

#include "acl.h"
#include "authz.h"
#include "util.h"

/* the operations that make a resource the user's when it has no owner */
#define OPS_CREATE (DPHP_OP_START | DPHP_OP_SIGNAL | DPHP_OP_CALL | \
    DPHP_OP_SUBSCRIBE | DPHP_OP_LOCK)
/* the source operation: any one of these (its events made it act) */
#define OPS_SOURCE (DPHP_OP_START | DPHP_OP_SIGNAL | DPHP_OP_CALL)

/* dphp's own events, which no one sends from outside */
static const char *const internal[] = {
	"run", "completed", "failed", "lock", "unlock", "expire"
};

static const char *
who(const struct dphp_desc *d)
{
	return d->by ? json_string_value(json_object_get(d->by, "user")) :
	    NULL;
}

/* Write the ownership record of id if it is at etag (NULL: absent):
 * 0, 1 when it changed meanwhile, -1. */
static int
put(struct dphp_store *st, const char *id, json_t *rec, const char *etag)
{
	char newetag[DPHP_ETAG_MAX];
	int r = dphp_store_change(st, DPHP_SPACE_OWNER, id, DPHP_PUT, rec,
	    etag ? DPHP_IF_MATCH : DPHP_IF_ABSENT, etag, newetag);

	return r == DPHP_STORE_ERROR ? -1 : r == DPHP_STORE_CONFLICT;
}

/*
 * The first resource created by d gets its owner and, when the rule
 * says, its end: a delete due at the event's time (never later than
 * now: a time to come would stretch the ttl) plus the ttl, queued
 * before the record so that a crash between the two cannot lose it (a
 * redelivered event queues the same one again).
 */
static int
create(struct dphp_store *st, const struct dphp_rule *rule,
    const struct dphp_desc *d, const char *id, struct dphp_acl *a)
{
	char at[25], base[DPHP_NAME_MAX + 8], eid[37];
	json_t *rec, *env = NULL;
	int64_t from = d->ts_ms, now = dphp_now_ms();
	int r;

	rec = json_pack("{s[]s[]}", "owners", "shares");
	if (who(d) != NULL)
		json_array_append_new(json_object_get(rec, "owners"),
		    json_string(who(d)));
	if (rule->ttl_ms > 0) {
		dphp_time_format((from < now ? from : now) + rule->ttl_ms, at);
		snprintf(base, sizeof(base), "ttl.%s", d->id);
		dphp_derive_id(base, dphp_id_hash(id), eid);
		json_object_set_new(rec, "expiry", json_pack("{ssss}", "at", at,
		    "event", eid));
		env = dphp_acl_expiry(id, json_object_get(rec, "expiry"));
		if (dphp_queue_admit(st, &env, 1) != 0) {
			json_decref(env);
			json_decref(rec);
			return -1;
		}
	}
	r = put(st, id, rec, NULL);
	json_decref(rec);
	/* another made it first: the end queued here is not its end */
	if (r == 1 && env != NULL && dphp_queue_cancel(st, env) != 0)
		r = -1;
	json_decref(env);
	if (r < 0)
		return -1;
	/* made now, or by another just before: read what is there */
	return dphp_acl_read(st, id, a);
}

/* Is this the delete that ends id at its time-to-live? */
static int
expiring(const struct dphp_desc *d, const char *id, json_t *rec)
{
	json_t *e = json_object_get(rec, "expiry");
	int64_t at;

	return e != NULL && strcmp(id, d->to) == 0 &&
	    strcmp(d->type, "delete") == 0 && strcmp(d->id,
	    json_string_value(json_object_get(e, "event"))) == 0 &&
	    dphp_time_parse(json_string_value(json_object_get(e, "at")),
	    &at) == 0 && at <= dphp_now_ms();
}

/*
 * May d's user do ops at id (every one of them, or with any, one)?
 * With mayown, an id that has no owner yet becomes the user's when the
 * policy lets them create it.
 */
static int
check(struct dphp_store *st, const struct dphp_policy *pol,
    const struct dphp_desc *d, const char *id, unsigned ops, int any,
    int mayown, char *why, size_t whysz)
{
	const struct dphp_rule *rule;
	struct dphp_acl a;
	struct dphp_id pid;
	const char *user = who(d);
	unsigned op, ok = 0;
	int r = DPHP_AUTHZ_ALLOW;

	if (ops == 0 || dphp_id_parse(id, &pid, NULL, 0) != 0)
		return DPHP_AUTHZ_ALLOW;	/* nothing asked; ids checked */
	rule = dphp_policy_find(pol, &pid);
	if (rule->mode == DPHP_MODE_ANON)
		return DPHP_AUTHZ_ALLOW;
	if (dphp_acl_read(st, id, &a) != 0)
		return -1;
	if (a.rec == NULL && mayown && !(ops & ~OPS_CREATE) &&
	    user != NULL && dphp_acl_may_create(rule, d->by) &&
	    create(st, rule, d, id, &a) != 0)
		return -1;
	if (expiring(d, id, a.rec))
		goto done;
	for (op = 1; op <= DPHP_OP_OWNER; op <<= 1)
		if ((ops & op) && dphp_acl_allows(rule->mode, a.rec, d->by,
		    op))
			ok |= op;
	if (any ? ok != 0 : ok == ops)
		goto done;
	r = DPHP_AUTHZ_DENY;
	for (op = 1; !(ops & op & ~ok); op <<= 1)
		;
	if (any)
		snprintf(why, whysz, "%s cannot act through %s, where it comes "
		    "from (no 'start', 'signal' or 'call' right)",
		    user ? user : "no one without a user", id);
	else if (user == NULL)
		snprintf(why, whysz, "without a user there is no '%s' right "
		    "on %s (mode %s)", dphp_op_name(op), id,
		    dphp_mode_name(rule->mode));
	else if (a.rec == NULL && mayown && !(ops & ~OPS_CREATE))
		snprintf(why, whysz, "%s has no owner and %s may not create "
		    "it", id, user);
	else if (a.rec == NULL)
		snprintf(why, whysz, "%s has no owner: only an admin has a "
		    "'%s' right on it", id, dphp_op_name(op));
	else
		snprintf(why, whysz, "%s has no '%s' right on %s", user,
		    dphp_op_name(op), id);
done:
	json_decref(a.rec);
	return r;
}

int
dphp_authorize(struct dphp_store *st, const struct dphp_policy *pol,
    const struct dphp_desc *d, int outside, char *why, size_t whysz)
{
	const char *owner;
	unsigned need;
	size_t i;
	int r;

	for (i = 0; outside && i < sizeof(internal) / sizeof(*internal); i++)
		if (strcmp(d->type, internal[i]) == 0) {
			snprintf(why, whysz, "'%s' events are dphp's own: "
			    "not admitted from outside", d->type);
			return DPHP_AUTHZ_DENY;
		}
	/* the holder's events pass a lock: only the holder sends them */
	if (d->lock != NULL) {
		owner = json_string_value(json_object_get(d->lock, "owner"));
		if (outside || d->from == NULL || strcmp(owner, d->from) != 0) {
			snprintf(why, whysz, "a 'lock' wrapper names %s, and "
			    "only %s itself sends those", owner, owner);
			return DPHP_AUTHZ_DENY;
		}
	}
	/* a call is a signal that is answered: call alone lets one make it;
	 * letting go of a lock is never refused (it comes from the holder,
	 * as the wrapper check above made sure, and dphp-lock checks that) */
	need = d->ops & DPHP_OP_CALL ? d->ops & ~DPHP_OP_SIGNAL : d->ops;
	if (strcmp(d->type, "unlock") == 0)
		need = 0;
	if ((r = check(st, pol, d, d->to, need, 0, 1, why, whysz)) != 0)
		return r;
	if (d->from != NULL && strcmp(d->from, d->to) != 0 &&
	    (r = check(st, pol, d, d->from, OPS_SOURCE, 1, 0, why, whysz)) != 0)
		return r;
	for (i = 0; i < (size_t)d->nreply; i++)
		if ((r = check(st, pol, d, d->reply_to[i], DPHP_OP_SIGNAL, 0, 0,
		    why, whysz)) != 0)
			return r;
	return DPHP_AUTHZ_ALLOW;
}

int
dphp_authz_own(struct dphp_store *st, const struct dphp_policy *pol,
    const struct dphp_desc *d, char *why, size_t whysz)
{
	struct dphp_acl a;
	json_t *rec;
	int r, tries;

	/* decided and written on the same record, or again */
	for (tries = 0; tries < 1000; tries++) {
		if (pol != NULL &&
		    (r = dphp_authorize(st, pol, d, 0, why, whysz)) != 0)
			return r;
		if (dphp_acl_read(st, d->to, &a) != 0)
			return -1;
		rec = dphp_acl_change(a.rec, d);
		r = put(st, d->to, rec, a.rec ? a.etag : NULL);
		json_decref(rec);
		json_decref(a.rec);
		if (r <= 0)
			return r < 0 ? -1 : DPHP_AUTHZ_ALLOW;
	}
	dphp_error("%s: the ownership record keeps changing", d->to);
	return -1;
}

int
dphp_authz_may(struct dphp_store *st, const struct dphp_policy *pol,
    json_t *by, const char *id, unsigned ops, char *why, size_t whysz)
{
	struct dphp_desc d;

	memset(&d, 0, sizeof(d));
	d.id = d.type = "read";
	d.to = id;
	d.by = by;
	return check(st, pol, &d, id, ops, 0, 0, why, whysz);
}
