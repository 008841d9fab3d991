/*
 * lock.c - lock records: which owner holds an entity, with whom, until
 * when, the fencing token of the hold, and the events parked until it
 * ends.  A record lives beside the entity's state (STORE/lock/... in
 * the directory store) and changes only by ETag compare-and-set, so of
 * two owners racing for a free or expired lock exactly one wins, and an
 * event parked while the holder lets go is never lost: one of the two
 * writes fails and is made again from what is stored.  The token is the
 * record's generation when the hold began: it grows with every hold and
 * is never reused.  Renewing a lease keeps the token.  See dphp-lock(1).
 *
 * Letting go of a hold with plain events parked (operations, not lock
 * requests) releases them first: they are queued again and their
 * queue names kept in the free record as "ahead", and the lock
 * requests stay parked, held back until none of those events is left
 * in the queue (applied, or parked again).  A released event passes dphp-lock, then needs
 * a while to be applied and committed, and a lock granted meanwhile
 * would fail that commit (dphp-commit guards every entity commit with
 * the lock): without the hold-back, an entity with locks wanted one
 * after the other would starve every other operation.  An "expire"
 * event with the record's fence comes back to look again, sooner at
 * first, then less often.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lock.h"
#include "lockrec.h"
#include "qname.h"
#include "util.h"

#define RACES_MAX 1000	/* lost compare-and-sets in a row: give up */
#define RECHECK_MS 10	/* the first look at what was released */
#define RECHECK_MAX_MS 1000	/* and the longest wait between looks */

int
dphp_lock_read(struct dphp_store *st, const char *entity,
    struct dphp_lockrec *lr)
{
	const char *exp;
	int r;

	memset(lr, 0, sizeof(*lr));
	r = dphp_store_get_space(st, DPHP_SPACE_LOCK, entity, &lr->rec, lr->etag);
	if (r == DPHP_STORE_ERROR)
		return -1;
	if (r != DPHP_STORE_OK) {
		lr->rec = NULL;
		lr->etag[0] = '\0';
	}
	lr->parked = json_object_get(lr->rec, "parked");
	if (!json_is_array(lr->parked))
		lr->parked = NULL;
	lr->ahead = json_object_get(lr->rec, "ahead");
	if (lr->owner != NULL || !json_is_array(lr->ahead) ||
	    json_array_size(lr->ahead) == 0)
		lr->ahead = NULL;
	lr->fence = json_integer_value(json_object_get(lr->rec, "fence"));
	lr->owner = json_string_value(json_object_get(lr->rec, "owner"));
	lr->request = json_string_value(json_object_get(lr->rec, "request"));
	exp = json_string_value(json_object_get(lr->rec, "expires"));
	if (lr->owner != NULL && (exp == NULL ||
	    dphp_time_parse(exp, &lr->expires) != 0))
		lr->expires = 0;	/* unreadable: taken as run out */
	return 0;
}

void
dphp_lockrec_free(struct dphp_lockrec *lr)
{
	json_decref(lr->rec);
	memset(lr, 0, sizeof(*lr));
}

int
dphp_lock_held(const struct dphp_lockrec *lr, int64_t now)
{
	return lr->owner != NULL && lr->expires > now;
}

json_int_t
dphp_lock_next_fence(const struct dphp_lockrec *lr)
{
	return lr->etag[0] ? strtoll(lr->etag, NULL, 10) + 1 : 1;
}

json_t *
dphp_lock_record(const char *owner, json_t *participants, int64_t until,
    json_int_t fence, const char *request, json_t *parked)
{
	char t[32];
	json_t *rec;

	if (owner == NULL)
		rec = json_pack("{sns[]snsI}", "owner", "participants",
		    "expires", "fence", fence);
	else {
		dphp_time_format(until, t);
		rec = json_pack("{sssOsssI}", "owner", owner, "participants",
		    participants, "expires", t, "fence", fence);
		if (request != NULL)
			json_object_set_new(rec, "request",
			    json_string(request));
	}
	if (json_array_size(parked) > 0)
		json_object_set(rec, "parked", parked);
	return rec;
}

int
dphp_lock_write(struct dphp_store *st, const char *entity,
    struct dphp_lockrec *lr, json_t *rec)
{
	char newetag[DPHP_ETAG_MAX];
	int r;

	r = dphp_store_change(st, DPHP_SPACE_LOCK, entity, DPHP_PUT, rec,
	    lr->etag[0] ? DPHP_IF_MATCH : DPHP_IF_ABSENT, lr->etag, newetag);
	json_decref(rec);
	if (r == DPHP_STORE_OK)
		snprintf(lr->etag, sizeof(lr->etag), "%s", newetag);
	return r == DPHP_STORE_OK ? DPHP_LOCKREC_OK : r == DPHP_STORE_CONFLICT ?
	    DPHP_LOCKREC_RACED : -1;
}

/* the type of the core event of e */
static const char *
coretype(json_t *e)
{
	while (json_object_get(e, "event") != NULL &&
	    json_object_get(e, "type") == NULL)
		e = json_object_get(e, "event");
	return json_string_value(json_object_get(e, "type"));
}

/* the "expire" event due when the lease of the hold lr read runs out */
static json_t *
expiry(const char *entity, const struct dphp_lockrec *lr)
{
	const char *at = json_string_value(json_object_get(lr->rec, "expires"));
	char base[DPHP_NAME_MAX + 64], id[37];

	snprintf(base, sizeof(base), "expire.%lld.%s", (long long)lr->fence,
	    at);
	dphp_derive_id(base, dphp_id_hash(entity), id);
	return dphp_envelope_new(dphp_wrap("delay", json_string(at),
	    dphp_wrap("to", json_string(entity), json_pack("{sssI}", "type",
	    "expire", "fence", lr->fence))), id, NULL, NULL);
}

/* the look at what a let-go released, the n-th (from 1): delayed */
static json_t *
recheck(const char *entity, const struct dphp_lockrec *lr, json_int_t n)
{
	char base[64], id[37], at[25];
	int64_t ms = RECHECK_MS;
	json_int_t k;

	for (k = 1; k < n && ms < RECHECK_MAX_MS; k++)
		ms *= 2;
	dphp_time_format(dphp_now_ms() + (ms < RECHECK_MAX_MS ? ms :
	    RECHECK_MAX_MS), at);
	snprintf(base, sizeof(base), "recheck.%lld.%lld", (long long)lr->fence,
	    (long long)n);
	dphp_derive_id(base, dphp_id_hash(entity), id);
	return dphp_envelope_new(dphp_wrap("delay", json_string(at),
	    dphp_wrap("to", json_string(entity), json_pack("{sssIsI}", "type",
	    "expire", "fence", lr->fence, "recheck", n))), id, NULL, NULL);
}

/* the look lr waits for, no longer wanted: cancelled */
static int
nolook(struct dphp_store *st, const char *entity,
    const struct dphp_lockrec *lr)
{
	json_int_t n = json_integer_value(json_object_get(lr->rec, "recheck"));
	json_t *e;
	int r;

	if (lr->ahead == NULL || n < 1)
		return 0;
	e = recheck(entity, lr, n);
	r = dphp_queue_cancel(st, e);
	json_decref(e);
	return r;
}

/*
 * Queue the n-th look the record of entity now waits for (lr, just
 * written).  A let-go, take-over or ahead-done that raced this may have
 * cancelled the look before it was queued: read the record again, and
 * cancel the look here if the record no longer waits for it (else it
 * stays queued, a no-op, until it is due).
 */
static int
look(struct dphp_store *st, const char *entity,
    const struct dphp_lockrec *lr, json_int_t n)
{
	json_t *e = recheck(entity, lr, n);
	struct dphp_lockrec cur;
	int r = dphp_queue_admit(st, &e, 1);

	if (r == 0 && (r = dphp_lock_read(st, entity, &cur)) == 0) {
		if (cur.ahead == NULL || cur.fence != lr->fence ||
		    json_integer_value(json_object_get(cur.rec, "recheck")) !=
		    n)
			r = dphp_queue_cancel(st, e);
		dphp_lockrec_free(&cur);
	}
	json_decref(e);
	return r;
}

int
dphp_lock_letgo(struct dphp_store *st, const char *entity,
    struct dphp_lockrec *lr, const char *how)
{
	json_t *rec, *once, *plain, *requests, *names, *e, *f;
	struct dphp_desc d;
	char *name;
	size_t i, k;
	int r, looks;

	/*
	 * Parked first: a crash after this only delivers twice.  Each event
	 * once, though the record may hold copies (a park and a let-go that
	 * race both win, in turn): else copies would multiply with every
	 * hold that ends, and the record grow without end.  With lock
	 * requests waiting, plain events go first (see above).
	 */
	once = json_array();
	json_array_foreach(lr->parked, i, e) {
		json_array_foreach(once, k, f)
			if (json_equal(json_object_get(e, "id"),
			    json_object_get(f, "id")))
				break;
		if (k == json_array_size(once))
			json_array_append(once, e);
	}
	plain = json_array();
	requests = json_array();
	json_array_foreach(once, i, e)
		json_array_append(strcmp(coretype(e), "lock") == 0 ? requests :
		    plain, e);
	names = json_array();
	if (json_array_size(plain) == 0 || json_array_size(requests) == 0)
		json_array_clear(requests);	/* all go now */
	else {
		json_array_foreach(plain, i, e)
			if (dphp_envelope_check(e, &d, NULL, 0) == 0) {
				name = dphp_queue_name(&d, i);
				json_array_append_new(names, json_string(name));
				free(name);
			}
		json_decref(once);
		once = json_incref(plain);
	}
	r = dphp_queue_admit_all(st, once);
	json_decref(once);
	json_decref(plain);
	rec = dphp_lock_record(NULL, NULL, 0, lr->fence, NULL, requests);
	json_decref(requests);
	if (json_array_size(names) > 0) {
		json_object_set(rec, "ahead", names);
		json_object_set_new(rec, "recheck", json_integer(1));
	}
	json_decref(names);
	if (how != NULL && lr->owner != NULL) {
		char t[32];

		dphp_time_format(dphp_now_ms(), t);
		json_object_set_new(rec, "released", json_pack("{sssssIsOss}",
		    "how", how, "owner", lr->owner, "fence", lr->fence,
		    "expires", json_object_get(lr->rec, "expires"), "at", t));
	}
	if (r != 0) {
		json_decref(rec);
		return -1;
	}
	looks = json_object_get(rec, "recheck") != NULL;
	if ((r = dphp_lock_write(st, entity, lr, rec)) == 0 && looks)
		r = look(st, entity, lr, 1);
	if (r != 0 || lr->owner == NULL)
		return r;
	/* the expire event scheduled for a hold someone waited on */
	rec = expiry(entity, lr);
	r = dphp_queue_cancel(st, rec);
	json_decref(rec);
	return r;
}

int
dphp_lock_ahead(struct dphp_store *st, const char *entity,
    struct dphp_lockrec *lr, const char *done)
{
	json_t *keep, *rec, *e;
	size_t i;
	int r = 0;

	keep = json_array();
	json_array_foreach(lr->ahead, i, e) {
		if (done != NULL && strcmp(json_string_value(e), done) == 0)
			continue;
		if ((r = dphp_queue_pending(st, json_string_value(e))) < 0)
			break;
		if (r > 0)
			json_array_append(keep, e);
	}
	if (r < 0 || json_array_size(keep) == json_array_size(lr->ahead)) {
		json_decref(keep);
		return r < 0 ? -1 : DPHP_LOCKREC_SAME;
	}
	rec = json_copy(lr->rec);
	if (json_array_size(keep) > 0) {
		json_object_set_new(rec, "ahead", keep);
		return dphp_lock_write(st, entity, lr, rec);
	}
	json_decref(keep);
	json_object_del(rec, "ahead");
	json_object_del(rec, "recheck");
	if ((r = dphp_lock_write(st, entity, lr, rec)) != 0 ||
	    (r = nolook(st, entity, lr)) != 0)
		return r;
	lr->ahead = NULL;
	return dphp_lock_letgo(st, entity, lr, NULL);
}

int
dphp_lock_ahead_done(struct dphp_store *st, const struct dphp_desc *d)
{
	struct dphp_lockrec lr;
	char *name;
	int n, r = -1;

	/* its queue name: the receipt, but etcd's "@REV" */
	name = xasprintf("%.*s", (int)dphp_receipt_name_len(d->receipt),
	    d->receipt);
	for (n = 0; n < RACES_MAX; n++) {
		if (dphp_lock_read(st, d->to, &lr) != 0)
			break;
		r = lr.ahead != NULL && lr.fence == d->ahead ?
		    dphp_lock_ahead(st, d->to, &lr, name) : DPHP_LOCKREC_SAME;
		dphp_lockrec_free(&lr);
		if (r != DPHP_LOCKREC_RACED)
			break;
	}
	free(name);
	return r < 0 || r == DPHP_LOCKREC_RACED ? -1 : 0;
}

int
dphp_lock_recheck(struct dphp_store *st, const char *entity,
    struct dphp_lockrec *lr, json_int_t n)
{
	json_t *rec;
	int r;

	if (lr->ahead == NULL || n != json_integer_value(json_object_get(
	    lr->rec, "recheck")))
		return 0;	/* not the look the record waits for */
	rec = json_copy(lr->rec);
	json_object_set_new(rec, "recheck", json_integer(n + 1));
	if ((r = dphp_lock_write(st, entity, lr, rec)) != 0)
		return r;
	return look(st, entity, lr, n + 1);
}

/* say that the hold in lr ran out and is let go of (the audit line) */
static void
expired(const char *entity, const struct dphp_lockrec *lr)
{
	dphp_warn("the lock of %s held by %s (token %lld) ran out at %s: "
	    "let go", entity, lr->owner, (long long)lr->fence,
	    json_string_value(json_object_get(lr->rec, "expires")));
}

int
dphp_lock_expire(struct dphp_store *st, const char *entity,
    struct dphp_lockrec *lr)
{
	int r = dphp_lock_letgo(st, entity, lr, "expired");

	if (r == 0)
		expired(entity, lr);
	return r;
}

int
dphp_lock_guard(struct dphp_store *st, const char *entity,
    const struct dphp_lockrec *lr)
{
	json_t *e = expiry(entity, lr);
	struct dphp_lockrec cur;
	int r = dphp_queue_admit(st, &e, 1);

	/*
	 * A let-go that raced this cancelled the event before it was
	 * there: look again, and cancel it here if the hold is gone.
	 */
	if (r == 0 && (r = dphp_lock_read(st, entity, &cur)) == 0) {
		if (cur.owner == NULL || cur.fence != lr->fence)
			r = dphp_queue_cancel(st, e);
		dphp_lockrec_free(&cur);
	}
	json_decref(e);
	return r;
}

/*
 * A lock record, once made, is never deleted: letting go writes a free
 * record.  So the generation a write makes is always the one read plus
 * one (1 for the first), and the token can go into the record that
 * starts the hold.  Events parked on the lock stay parked: they wait
 * for whoever holds it.
 */
int
dphp_lock_try(struct dphp_store *st, struct dphp_hold *h, json_t *participants,
    int64_t lease_ms, json_t **holder)
{
	struct dphp_lockrec lr;
	int64_t now = dphp_now_ms();
	size_t parked;
	int r;

	*holder = NULL;
	if (dphp_lock_read(st, h->entity, &lr) != 0)
		return -1;
	if (dphp_lock_held(&lr, now)) {
		*holder = json_incref(lr.rec);
		dphp_lockrec_free(&lr);
		return DPHP_LOCKREC_HELD;
	}
	if (lr.owner != NULL)
		expired(h->entity, &lr);
	h->fence = dphp_lock_next_fence(&lr);
	parked = json_array_size(lr.parked);
	r = dphp_lock_write(st, h->entity, &lr, dphp_lock_record(h->owner,
	    participants, now + lease_ms, h->fence, NULL, lr.parked));
	if (r == 0)
		snprintf(h->etag, sizeof(h->etag), "%s", lr.etag);
	if (r == 0)	/* taken over from a let-go holding back */
		r = nolook(st, h->entity, &lr);
	dphp_lockrec_free(&lr);
	if (r == 0 && parked > 0) {	/* they wait on this hold now */
		if (dphp_lock_read(st, h->entity, &lr) != 0)
			return -1;
		r = dphp_lock_guard(st, h->entity, &lr);
		dphp_lockrec_free(&lr);
	}
	return r;
}

/*
 * Read the record of h's lock until a write of it wins: OK with lr
 * read, LOST when the hold is gone, -1.
 */
static int
mine(struct dphp_store *st, struct dphp_hold *h, struct dphp_lockrec *lr)
{
	if (dphp_lock_read(st, h->entity, lr) != 0)
		return -1;
	if (lr->owner == NULL || strcmp(lr->owner, h->owner) != 0 ||
	    lr->fence != h->fence || !dphp_lock_held(lr, dphp_now_ms())) {
		dphp_lockrec_free(lr);
		return DPHP_LOCKREC_LOST;
	}
	return 0;
}

/*
 * A hold with events parked on it, renewed: the expire event for its
 * new expiry, then none for the old (which lr, read before, names), so
 * that the let-go finds the one it cancels.
 */
static int
reguard(struct dphp_store *st, const char *entity,
    const struct dphp_lockrec *lr)
{
	struct dphp_lockrec now;
	json_t *old;
	int r;

	if (dphp_lock_read(st, entity, &now) != 0)
		return -1;
	r = dphp_lock_guard(st, entity, &now);
	dphp_lockrec_free(&now);
	if (r != 0)
		return -1;
	old = expiry(entity, lr);
	r = dphp_queue_cancel(st, old);
	json_decref(old);
	return r ? -1 : 0;
}

int
dphp_lock_renew(struct dphp_store *st, struct dphp_hold *h,
    json_t *participants, int64_t lease_ms)
{
	struct dphp_lockrec lr;
	int r, n;

	for (n = 0; n < RACES_MAX; n++) {
		if ((r = mine(st, h, &lr)) != 0)
			return r;
		r = dphp_lock_write(st, h->entity, &lr, dphp_lock_record(
		    h->owner, participants, dphp_now_ms() + lease_ms, h->fence,
		    lr.request, lr.parked));
		if (r == 0 && json_array_size(lr.parked) > 0)
			r = reguard(st, h->entity, &lr);
		dphp_lockrec_free(&lr);
		/* raced: an event was parked meanwhile */
		if (r != DPHP_LOCKREC_RACED)
			return r;
	}
	return DPHP_LOCKREC_LOST;
}

int
dphp_lock_release(struct dphp_store *st, struct dphp_hold *h)
{
	struct dphp_lockrec lr;
	int r, n;

	for (n = 0; n < RACES_MAX; n++) {
		if ((r = mine(st, h, &lr)) != 0)
			return r;
		r = dphp_lock_letgo(st, h->entity, &lr, NULL);
		dphp_lockrec_free(&lr);
		if (r != DPHP_LOCKREC_RACED)
			return r;
	}
	return DPHP_LOCKREC_LOST;
}

int
dphp_lock_force(struct dphp_store *st, const char *entity, json_t **was)
{
	struct dphp_lockrec lr;
	int r;

	*was = NULL;
	if (dphp_lock_read(st, entity, &lr) != 0)
		return -1;
	if (lr.owner == NULL) {
		dphp_lockrec_free(&lr);
		return DPHP_LOCKREC_FREE;
	}
	if ((r = dphp_lock_letgo(st, entity, &lr, "forced")) == 0)
		*was = json_incref(lr.rec);
	dphp_lockrec_free(&lr);
	return r;
}
