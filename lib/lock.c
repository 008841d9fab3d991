/*
 * lock.c - lock records: which owner holds an entity, with whom, until
 * when, and the fencing token of the hold.  A record lives beside the
 * entity's state (STORE/lock/... in the directory store) and changes
 * only by ETag compare-and-set, so of two owners racing for a free or
 * expired lock exactly one wins.  The token is the record's generation
 * when the hold began: it grows with every hold and is never reused.
 * Renewing a lease keeps the token.  See dphp-lock(1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dphp.h"

/* rec is held by someone at now: it has an owner whose lease has not run out */
static int
held(json_t *rec, int64_t now)
{
	int64_t until;

	return rec != NULL && json_is_string(json_object_get(rec, "owner")) &&
	    dphp_time_parse(json_string_value(json_object_get(rec,
	    "expires")), &until) == 0 && until > now;
}

/* the record of a hold, or of a free lock when owner is NULL */
static json_t *
record(const char *owner, json_t *participants, int64_t until,
    json_int_t fence)
{
	char t[32];

	if (owner == NULL)
		return json_pack("{sns[]snsI}", "owner", "participants",
		    "expires", "fence", fence);
	dphp_time_format(until, t);
	return json_pack("{sssOsssI}", "owner", owner, "participants",
	    participants, "expires", t, "fence", fence);
}

/* compare-and-set the lock record of h to rec (stolen): a store result */
static int
cas(struct dphp_store *st, struct dphp_hold *h, const char *etag, json_t *rec)
{
	struct dphp_change c;

	memset(&c, 0, sizeof(c));
	c.id = h->entity;
	c.lock = 1;
	c.op = DPHP_PUT;
	c.state = rec;
	c.cond = etag ? DPHP_IF_MATCH : DPHP_IF_ABSENT;
	c.etag = etag;
	if (dphp_store_batch(st, &c, 1) != DPHP_STORE_OK)
		c.result = DPHP_STORE_ERROR;
	json_decref(rec);
	if (c.result == DPHP_STORE_OK)
		snprintf(h->etag, sizeof(h->etag), "%s", c.newetag);
	return c.result;
}

/*
 * A lock record, once made, is never deleted: letting go writes a free
 * record.  So the generation a write makes is always the one read plus
 * one (1 for the first), and the token can go into the record that
 * starts the hold.
 */
int
dphp_lock_try(struct dphp_store *st, struct dphp_hold *h, json_t *participants,
    int64_t lease_ms, json_t **holder)
{
	char etag[DPHP_ETAG_MAX];
	json_t *rec = NULL;
	int r;

	*holder = NULL;
	r = dphp_store_get_lock(st, h->entity, &rec, etag);
	if (r == DPHP_STORE_ERROR)
		return -1;
	if (r == DPHP_STORE_OK && held(rec, dphp_now_ms())) {
		*holder = rec;
		return 1;
	}
	json_decref(rec);
	h->fence = r == DPHP_STORE_OK ? strtoll(etag, NULL, 10) + 1 : 1;
	r = cas(st, h, r == DPHP_STORE_OK ? etag : NULL, record(h->owner,
	    participants, dphp_now_ms() + lease_ms, h->fence));
	return r == DPHP_STORE_OK ? 0 : r == DPHP_STORE_CONFLICT ? 2 : -1;
}

int
dphp_lock_renew(struct dphp_store *st, struct dphp_hold *h,
    json_t *participants, int64_t lease_ms)
{
	int r;

	r = cas(st, h, h->etag, record(h->owner, participants, dphp_now_ms() +
	    lease_ms, h->fence));
	return r == DPHP_STORE_OK ? 0 : r == DPHP_STORE_CONFLICT ? 3 : -1;
}

int
dphp_lock_release(struct dphp_store *st, struct dphp_hold *h)
{
	int r;

	r = cas(st, h, h->etag, record(NULL, NULL, 0, h->fence));
	return r == DPHP_STORE_OK ? 0 : r == DPHP_STORE_CONFLICT ? 3 : -1;
}

int
dphp_lock_force(struct dphp_store *st, const char *entity, json_t **was)
{
	struct dphp_hold h;
	char etag[DPHP_ETAG_MAX];
	json_t *rec = NULL;
	int r;

	*was = NULL;
	r = dphp_store_get_lock(st, entity, &rec, etag);
	if (r == DPHP_STORE_ERROR)
		return -1;
	if (r != DPHP_STORE_OK || !json_is_string(json_object_get(rec,
	    "owner"))) {
		json_decref(rec);
		return 1;
	}
	memset(&h, 0, sizeof(h));
	h.entity = entity;
	h.fence = json_integer_value(json_object_get(rec, "fence"));
	r = cas(st, &h, etag, record(NULL, NULL, 0, h.fence));
	if (r != DPHP_STORE_OK) {
		json_decref(rec);
		return r == DPHP_STORE_CONFLICT ? 2 : -1;
	}
	*was = rec;
	return 0;
}
