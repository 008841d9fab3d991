/*
 * lockrec.h - lock records of entities (lock.c), dphp-lock(1), for
 * the lock stage, locked commands and the store's let-go.
 */
#ifndef DPHP_LOCKREC_H
#define DPHP_LOCKREC_H

#include "lock.h"

struct dphp_hold {
	const char *entity;
	const char *owner;
	json_int_t fence;		/* the token of this hold */
	char etag[DPHP_ETAG_MAX];	/* of the lock record as last written */
};
/*
 * Take the lock of h->entity for h->owner, until now + lease_ms, if it
 * is free or its lease has run out: OK (h->fence and h->etag set);
 * HELD if another holds it (*holder: its record); RACED if another
 * took it just now; -1 after a message.
 */
int dphp_lock_try(struct dphp_store *, struct dphp_hold *h,
    json_t *participants, int64_t lease_ms, json_t **holder);
/* extend the lease: OK, LOST, or -1 */
int dphp_lock_renew(struct dphp_store *, struct dphp_hold *h,
    json_t *participants, int64_t lease_ms);
/* let go: OK, LOST if the hold was lost meanwhile, or -1 */
int dphp_lock_release(struct dphp_store *, struct dphp_hold *h);
/*
 * A lock record as read: owner NULL when free; parked (borrowed from
 * rec, or NULL) the events waiting for the hold to end, in arrival
 * order; etag "" when there is no record yet.
 */
struct dphp_lockrec {
	json_t *rec;
	char etag[DPHP_ETAG_MAX];
	const char *owner, *request;
	json_int_t fence;
	int64_t expires;
	json_t *parked;
	json_t *ahead;		/* of a free record: the queue names of the
				 * events let go ahead of the parked lock
				 * requests (borrowed), or NULL */
};
int dphp_lock_read(struct dphp_store *, const char *entity,
    struct dphp_lockrec *);	/* 0 or -1 */
void dphp_lockrec_free(struct dphp_lockrec *);
int dphp_lock_held(const struct dphp_lockrec *, int64_t now);
/* the token the next hold of this record gets */
json_int_t dphp_lock_next_fence(const struct dphp_lockrec *);
/* a new lock record: a hold, or free when owner is NULL */
json_t *dphp_lock_record(const char *owner, json_t *participants,
    int64_t until, json_int_t fence, const char *request, json_t *parked);
/* compare-and-set the record lr was read as to rec (stolen): OK (lr's
 * etag updated), RACED, or -1 */
int dphp_lock_write(struct dphp_store *, const char *entity,
    struct dphp_lockrec *lr, json_t *rec);
/* let go of the hold lr read (how, when not NULL, is kept in the free
 * record for audit): its parked events are queued, then the record is
 * written free; lock requests wait while plain events parked with them
 * go ahead (lock.c).  As dphp_lock_write. */
int dphp_lock_letgo(struct dphp_store *, const char *entity,
    struct dphp_lockrec *lr, const char *how);
/*
 * A free record lr holding lock requests back (lr->ahead): take from
 * its list the event of queue name done (NULL: none) and those no
 * longer in the queue; when none is left, the requests go on.  OK,
 * SAME when nothing changed, RACED, or -1.
 */
int dphp_lock_ahead(struct dphp_store *, const char *entity,
    struct dphp_lockrec *lr, const char *done);
/* the n-th look at a record holding lock requests back came: the next
 * is due later, if it still does.  As dphp_lock_write. */
int dphp_lock_recheck(struct dphp_store *, const char *entity,
    struct dphp_lockrec *lr, json_int_t n);
/* queue the "expire" event due when the lease of the hold lr read runs
 * out (for holds others wait on); 0 or -1 */
int dphp_lock_guard(struct dphp_store *, const char *entity,
    const struct dphp_lockrec *lr);
/* dphp_lock_letgo of a hold that ran out, with the audit line */
int dphp_lock_expire(struct dphp_store *, const char *entity,
    struct dphp_lockrec *lr);

#endif
