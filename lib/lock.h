/*
 * lock.h - dphp-lock(1): the lock stage of a worker (lockstage.c), a
 * command run holding locks (locked.c), and what the programs do to
 * lock records themselves (lock.c; the records are lockrec.h's).
 */
#ifndef DPHP_LOCK_H
#define DPHP_LOCK_H

#include "store.h"

/* lock.c */
/* what a step on a lock record came to (or -1: an error, reported) */
enum dphp_lockrec_outcome {
	DPHP_LOCKREC_OK,
	DPHP_LOCKREC_HELD,	/* another holds it (and waits for it) */
	DPHP_LOCKREC_RACED,	/* it changed since it was read */
	DPHP_LOCKREC_LOST,	/* the caller's hold is gone */
	DPHP_LOCKREC_FREE,	/* no one held it */
	DPHP_LOCKREC_SAME	/* nothing to change */
};
/* let go of whoever holds the lock of entity: OK (*was: the record it
 * had), FREE if no one held it, RACED, or -1 */
int dphp_lock_force(struct dphp_store *, const char *entity, json_t **was);
/* the event d (d->ahead set), let go ahead of lock requests held back,
 * is finished with: 0 or -1 */
int dphp_lock_ahead_done(struct dphp_store *, const struct dphp_desc *d);

/*
 * lockstage.c: dphp-lock in a worker.  Decide about env (described by
 * d, taken from the queue): PASS with *out the event to pass on
 * (annotated with its hold's token when it is the holder's), DONE when
 * it was carried out or parked here (and acknowledged), REJECTED when
 * it was refused (reported at rd's record, answered and acknowledged),
 * or -1.
 */
enum { DPHP_LOCK_PASS, DPHP_LOCK_DONE, DPHP_LOCK_REJECTED };
int dphp_lock_stage(struct dphp_store *, const struct dphp_reader *rd,
    json_t *env, const struct dphp_desc *d, json_t **out);
/* locked.c: run cmd holding the locks of entities (sorted in place) */
struct dphp_locked {
	int64_t wait_ms;	/* for the locks; -1: as long as it takes */
	int64_t lease_ms;
	const char *owner;
};
/* cmd's exit status, 128 + signal, 126/127 if it could not be run,
 * DPHP_EXIT_LOCKED, or DPHP_EXIT_SYS; messages printed */
int dphp_run_locked(struct dphp_store *, char **entities, size_t n,
    char **cmd, const struct dphp_locked *);

#endif
