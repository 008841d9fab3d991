/*
 * lockstage.c - dphp-lock in a worker: the critical sections of
 * orchestrations, kept in the lock records of their entities.
 *
 * For each event taken from the queue and bound for an entity, the
 * entity's lock record decides.  A "lock" event asks for the locks of
 * the participants, from its entity on, one at a time in sorted order,
 * each only once the one before is durably held; a lock held by another
 * parks the request there, to go on when that hold ends; when all are
 * held, the owner gets a "completed" reply with the tokens.  An
 * "unlock" lets go (its parked events are queued again, in the order
 * they came).  While an entity is held, the owner's events (a "lock"
 * wrapper naming it) pass, annotated with the hold's token so that
 * dphp-commit makes their change only while the hold lasts; every other
 * event is parked.  A hold whose lease ran out is let go of with an
 * audit line, by the first event that finds it so or by the "expire"
 * event scheduled for it when something was parked.
 *
 * Every step is a compare-and-set of one record and is made before the
 * input is acknowledged: a worker dying at any point makes the input
 * come back, and each step done twice is done once.  A lock request
 * whose orchestration no longer waits for it (ended, continued as new,
 * let go) grants nothing and takes back what it got.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kinds.h"
#include "lockrec.h"
#include "qname.h"
#include "util.h"

#define RACES_MAX 1000		/* lost compare-and-sets in a row */
#define LEASE_DEFAULT_MS (5 * 60 * 1000)

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int
same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/*
 * Read the lock record of entity, first letting go of a hold that ran
 * out and finishing a let-go cut short (a free lock with parked
 * events, unless they are lock requests held back: lock.c).  0 or -1.
 */
static int
readlock(struct dphp_store *st, const char *entity, struct dphp_lockrec *lr)
{
	int n, r;

	for (n = 0; n < RACES_MAX; n++) {
		if (dphp_lock_read(st, entity, lr) != 0)
			return -1;
		if (lr->owner != NULL && !dphp_lock_held(lr, dphp_now_ms()))
			r = dphp_lock_expire(st, entity, lr);
		else if (lr->ahead != NULL) {
			if ((r = dphp_lock_ahead(st, entity, lr, NULL)) ==
			    DPHP_LOCKREC_SAME)
				return 0;
		} else if (lr->owner == NULL && json_array_size(lr->parked) > 0)
			r = dphp_lock_letgo(st, entity, lr, NULL);
		else
			return 0;
		dphp_lockrec_free(lr);
		if (r < 0)
			return -1;
	}
	dphp_error("the lock record of '%s' keeps changing", entity);
	return -1;
}

/* the event as it waits in a lock record: no receipt, fence or ahead */
static json_t *
parkable(json_t *env)
{
	json_t *e = json_copy(env);

	json_object_del(e, "receipt");
	json_object_del(e, "fence");
	json_object_del(e, "ahead");
	return e;
}

/* queue the one event e (stolen): 0 or -1 */
static int
queue1(struct dphp_store *st, json_t *e)
{
	int r = dphp_queue_admit(st, &e, 1);

	json_decref(e);
	return r;
}

/* park e (stolen) on the hold lr read: OK, RACED, or -1 */
static int
park(struct dphp_store *st, const char *entity, struct dphp_lockrec *lr,
    json_t *e)
{
	json_t *parked, *rec;
	int r;

	/*
	 * Even if it is there already (parked before a crash, or queued
	 * twice): it may be there only until a let-go that has queued it
	 * again writes the record.  Of the two writes one fails and is
	 * made again; a copy too many is applied once downstream.
	 */
	parked = lr->parked ? json_copy(lr->parked) : json_array();
	json_array_append_new(parked, e);
	rec = json_copy(lr->rec);
	json_object_set_new(rec, "parked", parked);
	if ((r = dphp_lock_write(st, entity, lr, rec)) != 0 ||
	    lr->owner == NULL)	/* held back: a look is due already */
		return r;
	/* an "expire" event comes when its lease runs out, in case nothing
	 * else comes by then (the same hold and expiry: the same event) */
	return dphp_lock_guard(st, entity, lr);
}

/* is e a lock request of owner's request? */
static int
requested(json_t *e, const char *owner, const char *request)
{
	json_t *n = e;

	while (json_object_get(n, "event") != NULL &&
	    json_object_get(n, "type") == NULL) {
		if (json_object_get(n, "lock") != NULL &&
		    !same(str(json_object_get(n, "lock"), "owner"), owner))
			return 0;
		n = json_object_get(n, "event");
	}
	return same(str(n, "type"), "lock") && same(str(n, "request"), request);
}

/*
 * owner lets go of entity: the hold of request (any, if NULL), and its
 * request waiting there.  0 or -1.
 */
static int
drop(struct dphp_store *st, const char *entity, const char *owner,
    const char *request)
{
	struct dphp_lockrec lr;
	json_t *keep, *rec, *p;
	size_t i;
	int n, r;

	for (n = 0; n < RACES_MAX; n++) {
		if (readlock(st, entity, &lr) != 0)
			return -1;
		r = 0;
		if (same(lr.owner, owner) && (request == NULL ||
		    same(lr.request, request)))
			r = dphp_lock_letgo(st, entity, &lr, NULL);
		else if (request != NULL && lr.parked != NULL) {
			keep = json_array();
			json_array_foreach(lr.parked, i, p)
				if (!requested(p, owner, request))
					json_array_append(keep, p);
			if (json_array_size(keep) < json_array_size(lr.parked)) {
				rec = json_copy(lr.rec);
				json_object_set(rec, "parked", keep);
				r = dphp_lock_write(st, entity, &lr, rec);
			}
			json_decref(keep);
		}
		dphp_lockrec_free(&lr);
		if (r != DPHP_LOCKREC_RACED)
			return r;
	}
	return -1;
}

/* owner's request, if it got anything, lets go of all of it */
static int
undo(struct dphp_store *st, const char *owner, const char *request,
    json_t *participants)
{
	json_t *e;
	size_t i;

	json_array_foreach(participants, i, e)
		if (drop(st, json_string_value(e), owner, request) != 0)
			return -1;
	return 0;
}

/*
 * Does the orchestration owner still want (or hold) the locks of
 * request?  It does while it runs and its "locks" name the request.
 * 1, 0, or -1.
 */
static int
wanted(struct dphp_store *st, const char *owner, const char *request)
{
	char etag[DPHP_ETAG_MAX];
	json_t *doc = NULL;
	const char *status;
	int r, w;

	r = dphp_store_get(st, owner, &doc, etag);
	if (r == DPHP_STORE_ERROR)
		return -1;
	if (r != DPHP_STORE_OK)
		return 0;
	status = str(doc, "status");
	w = status != NULL && strcmp(status, "completed") != 0 &&
	    strcmp(status, "failed") != 0 &&
	    strcmp(status, "terminated") != 0 &&
	    same(str(json_object_get(doc, "locks"), "request"), request);
	json_decref(doc);
	return w;
}

/* the lock request d re-addressed to participant j */
static json_t *
forward(const struct dphp_desc *d, size_t j, const char *entity)
{
	char id[37];

	dphp_derive_id(str(d->core, "request"), (unsigned)j + 1, id);
	return dphp_envelope_new(dphp_wrap("lock", json_incref(d->lock),
	    dphp_wrap("to", json_string(entity), json_deep_copy(d->core))), id,
	    NULL, d->by);
}

/*
 * All participants are held: the tokens for the owner, or NULL when a
 * hold ran out while a later one was awaited.
 */
static json_t *
fences(struct dphp_store *st, json_t *participants, const char *owner,
    const char *request, int *err)
{
	struct dphp_lockrec lr;
	json_t *f = json_object(), *e;
	size_t i;

	*err = 0;
	json_array_foreach(participants, i, e) {
		if (readlock(st, json_string_value(e), &lr) != 0) {
			*err = 1;
			break;
		}
		if (!same(lr.owner, owner) || !same(lr.request, request)) {
			dphp_lockrec_free(&lr);
			break;
		}
		json_object_set_new(f, json_string_value(e),
		    json_integer(lr.fence));
		dphp_lockrec_free(&lr);
	}
	if (i < json_array_size(participants)) {
		json_decref(f);
		return NULL;
	}
	return f;
}

/* take participant entity for d's request: OK, HELD (by another: the
 * request parked there), or -1 */
static int
take(struct dphp_store *st, const struct dphp_desc *d, json_t *env,
    size_t j, const char *entity, int64_t lease)
{
	struct dphp_lockrec lr;
	const char *owner = str(d->lock, "owner");
	const char *request = str(d->core, "request");
	json_t *p = json_object_get(d->lock, "participants");
	int n, r;

	for (n = 0; n < RACES_MAX; n++) {
		if (readlock(st, entity, &lr) != 0)
			return -1;
		if (same(lr.owner, owner) && same(lr.request, request))
			r = DPHP_LOCKREC_OK;	/* taken before a crash */
		else if (lr.owner != NULL || lr.ahead != NULL) {
			r = park(st, entity, &lr, strcmp(entity, d->to) == 0 ?
			    parkable(env) : forward(d, j, entity));
			if (r == DPHP_LOCKREC_OK)
				r = DPHP_LOCKREC_HELD;
		} else
			r = dphp_lock_write(st, entity, &lr, dphp_lock_record(
			    owner, p, dphp_now_ms() + lease,
			    dphp_lock_next_fence(&lr), request, lr.parked));
		dphp_lockrec_free(&lr);
		if (r != DPHP_LOCKREC_RACED)
			return r;
	}
	return -1;
}

/* a lock request: returns as dphp_lock_stage */
static int
grant(struct dphp_store *st, const struct dphp_reader *rd, json_t *env,
    const struct dphp_desc *d)
{
	const char *owner = str(d->lock, "owner");
	const char *request = str(d->core, "request");
	json_t *p = json_object_get(d->lock, "participants"), *e, *f, *reply;
	struct dphp_id oid;
	char id[37];
	int64_t lease = LEASE_DEFAULT_MS;
	size_t j, k = 0;
	int r, err;

	if (dphp_id_parse(owner, &oid, NULL, 0) != 0 ||
	    oid.kind != DPHP_KIND_ORCHESTRATION) {
		dphp_reader_error(rd, "event %s: locks are granted to "
		    "orchestrations, not to %s (rejected)", d->id, owner);
		return dphp_queue_ack(st, d->receipt) ? -1 : DPHP_LOCK_REJECTED;
	}
	if (str(d->core, "lease") != NULL)
		dphp_duration_parse(str(d->core, "lease"), &lease);
	json_array_foreach(p, k, e)
		if (strcmp(json_string_value(e), d->to) == 0)
			break;
	if ((r = wanted(st, owner, request)) <= 0)
		goto unwanted;
	for (j = k; j < json_array_size(p); j++) {
		r = take(st, d, env, j, json_string_value(json_array_get(p,
		    j)), lease);
		if (r != 0)	/* parked: it goes on when that hold ends */
			return r < 0 || dphp_queue_ack(st, d->receipt) ? -1 :
			    DPHP_LOCK_DONE;
	}
	/* asked again once all are held: a grant that raced with the end
	 * of its orchestration is taken back here */
	if ((r = wanted(st, owner, request)) <= 0)
		goto unwanted;
	if ((f = fences(st, p, owner, request, &err)) == NULL) {
		/* one ran out meanwhile: start again from the first */
		if (err || undo(st, owner, request, p) != 0 || queue1(st,
		    forward(d, 0, json_string_value(json_array_get(p, 0)))))
			return -1;
		return dphp_queue_ack(st, d->receipt) ? -1 : DPHP_LOCK_DONE;
	}
	dphp_derive_id(request, 0, id);
	reply = json_pack("{sssss{sOso}}", "type", "completed",
	    "scheduled_id", request, "result", "entities", p, "fences", f);
	if (queue1(st, dphp_envelope_new(dphp_wrap("from", json_string(d->to),
	    dphp_wrap("to", json_string(owner), reply)), id, NULL, d->by)))
		return -1;
	return dphp_queue_ack(st, d->receipt) ? -1 : DPHP_LOCK_DONE;
unwanted:
	if (r < 0 || undo(st, owner, request, p) != 0 ||
	    dphp_queue_ack(st, d->receipt) != 0)
		return -1;
	return DPHP_LOCK_DONE;
}

/* was the event of receipt let go ahead of the requests lr holds back? */
static int
isahead(const struct dphp_lockrec *lr, const char *receipt)
{
	size_t i, n = dphp_receipt_name_len(receipt);
	json_t *e;

	json_array_foreach(lr->ahead, i, e)
		if (strlen(json_string_value(e)) == n &&
		    strncmp(json_string_value(e), receipt, n) == 0)
			return 1;
	return 0;
}

/*
 * Has the entity applied d already?  A copy of an owner's event
 * delivered twice can come after the owner let go: it passes, and
 * dphp-replay drops it as the duplicate it is.  1, 0 or -1.
 */
static int
applied(struct dphp_store *st, const struct dphp_desc *d)
{
	char etag[DPHP_ETAG_MAX];
	json_t *doc = NULL;
	int r;

	if ((r = dphp_store_get(st, d->to, &doc, etag)) == DPHP_STORE_ERROR)
		return -1;
	if (r == DPHP_STORE_OK && !dphp_seen(doc, d->id))
		r = dphp_store_seen(st, d->to, d->id);
	else
		r = r == DPHP_STORE_OK;
	json_decref(doc);
	return r;
}

/* an owner's event finds its lock gone: fail it, say so */
static int
lost(struct dphp_store *st, const struct dphp_reader *rd,
    const struct dphp_desc *d)
{
	char why[512];
	json_t *emit = json_array();
	int r;

	snprintf(why, sizeof(why), "the lock of %s is not held by %s (its "
	    "lease ran out, or it was let go)", d->to, str(d->lock, "owner"));
	dphp_reader_error(rd, "event %s: %s (rejected)", d->id, why);
	dphp_reply(emit, d, NULL, why);
	r = dphp_queue_admit_all(st, emit);
	json_decref(emit);
	if (r != 0 || dphp_queue_ack(st, d->receipt) != 0)
		return -1;
	return DPHP_LOCK_REJECTED;
}

int
dphp_lock_stage(struct dphp_store *st, const struct dphp_reader *rd,
    json_t *env, const struct dphp_desc *d, json_t **out)
{
	struct dphp_lockrec lr;
	const char *owner = str(d->lock, "owner");
	int n, r;

	*out = NULL;
	if (d->dest.kind != DPHP_KIND_ENTITY) {
		*out = json_incref(env);
		return DPHP_LOCK_PASS;
	}
	if (strcmp(d->type, "lock") == 0)
		return grant(st, rd, env, d);
	if (strcmp(d->type, "unlock") == 0)
		return drop(st, d->to, owner, str(d->core, "request")) ||
		    dphp_queue_ack(st, d->receipt) ? -1 : DPHP_LOCK_DONE;
	for (n = 0; n < RACES_MAX; n++) {
		if (readlock(st, d->to, &lr) != 0)
			return -1;
		if (strcmp(d->type, "expire") == 0) {
			json_int_t fence = json_integer_value(
			    json_object_get(d->core, "fence"));

			/* run out: let go by readlock; renewed: come again;
			 * free, holding requests back: look again later */
			r = 0;
			if (lr.owner != NULL && lr.fence == fence &&
			    json_array_size(lr.parked) > 0)
				r = dphp_lock_guard(st, d->to, &lr);
			else if (lr.ahead != NULL && lr.fence == fence)
				r = dphp_lock_recheck(st, d->to, &lr,
				    json_integer_value(json_object_get(d->core,
				    "recheck")));
			dphp_lockrec_free(&lr);
			if (r == DPHP_LOCKREC_RACED)
				continue;
			return r || dphp_queue_ack(st, d->receipt) ? -1 :
			    DPHP_LOCK_DONE;
		}
		if (lr.owner == NULL) {
			if (d->lock != NULL && (r = applied(st, d)) <= 0) {
				dphp_lockrec_free(&lr);
				return r < 0 ? -1 : lost(st, rd, d);
			}
			if (isahead(&lr, d->receipt)) {
				/* dphp-commit says when it is done */
				*out = json_copy(env);
				json_object_set_new(*out, "ahead",
				    json_integer(lr.fence));
			} else
				*out = json_incref(env);
			dphp_lockrec_free(&lr);
			return DPHP_LOCK_PASS;
		}
		if (same(owner, lr.owner)) {
			*out = json_copy(env);
			json_object_set_new(*out, "fence",
			    json_integer(lr.fence));
			dphp_lockrec_free(&lr);
			return DPHP_LOCK_PASS;
		}
		r = park(st, d->to, &lr, parkable(env));
		dphp_lockrec_free(&lr);
		if (r == 0)
			return dphp_queue_ack(st, d->receipt) ? -1 :
			    DPHP_LOCK_DONE;
		if (r < 0)
			return -1;
	}
	dphp_error("the lock record of '%s' keeps changing", d->to);
	return -1;
}
