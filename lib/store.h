/*
 * store.h - the store and its queue (store.c), dphp-store(5), as the
 * programs and the rest of libdphp see them, whatever the backend
 * (backend.h).
 */
#ifndef DPHP_STORE_H
#define DPHP_STORE_H

#include "envelope.h"

/* store.c: the store, dphp-store(5) */
#define DPHP_ETAG_MAX 64
struct dphp_store;
enum {
	DPHP_STORE_OK = 0,
	DPHP_STORE_NOTFOUND = 1,	/* no such key (or deleted) */
	DPHP_STORE_CONFLICT = 2,	/* precondition failed */
	DPHP_STORE_ERROR = -1		/* message already printed */
};
/* a precondition on a put or delete */
enum dphp_cond {
	DPHP_IF_ANY,		/* unconditional */
	DPHP_IF_MATCH,		/* stored ETag equals etag */
	DPHP_IF_ABSENT		/* create only */
};
/*
 * Open the store named by spec (the -d option; NULL means $DPHP_STORE):
 * the path of a directory store, or etcd://HOST:PORT[,...]/PREFIX (see
 * dphp-store(5)).  On failure a message is printed and NULL returned.
 */
struct dphp_store *dphp_store_open(const char *spec);
int dphp_store_open_status(void);
void dphp_store_misnamed(void);
/* make spec an empty store (idempotent); 0, or -1 with a message */
int dphp_store_init(const char *spec);
/* 0, or -1 with a message when what it had left to do failed */
int dphp_store_close(struct dphp_store *);
/*
 * Get the state of id: OK with *state (new reference) and etag, or
 * NOTFOUND.  A torn blob/sidecar pair is repaired on the way.
 */
int dphp_store_get(struct dphp_store *, const char *id, json_t **state,
    char etag[DPHP_ETAG_MAX]);
/*
 * Group commit: carry out the changes to n distinct records together,
 * sharing the flushes.  A change happens only if its cond holds for
 * etag: DPHP_PUT writes state (borrowed), DPHP_DELETE removes the
 * record (NOTFOUND when there is none), DPHP_CHECK only tests.  Each
 * gets its result: OK with newetag the new ETag, or CONFLICT with
 * newetag the stored one ("" if absent).  The batch is durable when it
 * returns OK; ERROR means an I/O error failed it (a failed fsync
 * included, and then the commit must be taken as failed): when it
 * struck before any record was replaced, none of the changes happened;
 * after, some may be visible but not durable.
 */
/*
 * Guards test the lock record of id (space DPHP_SPACE_LOCK) and write
 * nothing: DPHP_FENCE that it is held, unexpired, by owner with token
 * fence; DPHP_FREE that no one holds it (absent, free, or run out).
 * The change a guard guards (or every change of the batch) happens
 * only while the guard holds, and fails with CONFLICT otherwise: so a
 * lock is kept at the commit of every entity state, whatever read the
 * lock record before.
 */
enum dphp_op { DPHP_PUT, DPHP_DELETE, DPHP_CHECK, DPHP_FENCE, DPHP_FREE };
#define DPHP_IS_GUARD(op) ((op) == DPHP_FENCE || (op) == DPHP_FREE)
struct dphp_change {
	const char *id;
	enum dphp_op op;
	json_t *state;			/* DPHP_PUT: the new state (borrowed) */
	enum dphp_cond cond;
	const char *etag;
	/*
	 * Queue mode: cause is the id of the input event, receipt its
	 * queue receipt (or NULL), and outbox (borrowed, or NULL) the
	 * envelopes it emits.  They are kept with the record and delivered
	 * to the queue once it is durable, and again by a later change
	 * with the same cause (the input redelivered after a crash).
	 */
	const char *cause, *receipt;
	json_t *outbox;
	/*
	 * The input stays claimed after the batch, until dphp_queue_ack:
	 * what its commit sets off afterwards is queued while it is still
	 * claimed, so that no worker finds the queue quiescent meanwhile.
	 */
	int ack_apart;
	/*
	 * DPHP_PUT of a state whose dedupe window was cut (dedupe.h): the
	 * ids cut ({ID:TIME}, borrowed, or NULL).  Those the stored
	 * window holds (applied, then) are kept apart, durably, before
	 * the record without them is written.
	 */
	json_t *evict;
	enum dphp_space space;		/* which record of id */
	const char *owner;		/* DPHP_FENCE */
	json_int_t fence;		/* DPHP_FENCE */
	size_t guards;			/* guards: 1 + the index of the
					 * change it guards; 0: all of them */
	/*
	 * 1 + the index of the earlier change of the batch to the same id
	 * that this one follows (dphp_store_chains), instead of cond and
	 * etag: it is made if that one is, on the state it writes, with
	 * the next ETag.  Both DPHP_PUT, and the earlier emits nothing:
	 * only the last of a chain writes the record (every one its line
	 * of the journal).  0: none.
	 */
	size_t after;
	int result;			/* out */
	char newetag[DPHP_ETAG_MAX];	/* out */
	int fenced;			/* out: CONFLICT because the claim
					 * of receipt ran out (etcd) */
};
int dphp_store_batch(struct dphp_store *, struct dphp_change *, size_t n);
/* can a batch change one state several times in a row (after)? */
int dphp_store_chains(const struct dphp_store *);
/* one change alone, to a record of any space: its result, or ERROR */
int dphp_store_change(struct dphp_store *, enum dphp_space, const char *id,
    enum dphp_op, json_t *state, enum dphp_cond, const char *etag,
    char newetag[DPHP_ETAG_MAX]);
/*
 * Does the store keep the older ids of dedupe windows apart from the
 * records (a directory store does, dphp-store(5))?  Is event among
 * those of id?  1, 0, or -1 after a message.
 */
int dphp_store_keeps_seen(const struct dphp_store *);
int dphp_store_seen(struct dphp_store *, const char *id, const char *event);
/* dphp_store_get of another record of id: its lock or ownership record */
int dphp_store_get_space(struct dphp_store *, enum dphp_space,
    const char *id, json_t **rec, char etag[DPHP_ETAG_MAX]);
/*
 * Call fn for every existing id whose kind (and name, if not NULL)
 * match, in no particular order; a non-zero return from fn stops the
 * walk and is returned.
 */
typedef int dphp_list_fn(const char *id, const char *etag, void *arg);
int dphp_store_list(struct dphp_store *, enum dphp_kind, const char *name,
    dphp_list_fn *, void *arg);
/* the same for the ids that have a record in another space */
int dphp_store_list_space(struct dphp_store *, enum dphp_space,
    enum dphp_kind, dphp_list_fn *, void *arg);
/* where the store's journal is, for the readers of journal.c: new, or
 * NULL (reported) for a store whose journal is not a directory */
char *dphp_store_journal(const struct dphp_store *);
/*
 * The store's journal as a change feed, whatever the backend: as
 * dphp_journal_follow (follow.c) does for a directory's (tick may be
 * NULL).
 */
typedef int dphp_journal_fn(json_t *line, void *arg);
typedef int dphp_tick_fn(json_int_t settled, void *arg);
int dphp_store_journal_read(struct dphp_store *, json_int_t after,
    int forever, dphp_journal_fn *, dphp_tick_fn *, void *arg);
/*
 * Hold every commit of a state off (by any process, this one too: it
 * must not commit meanwhile) until thawed, for a consistent reading of
 * many: 0, or -1 with a message.
 */
int dphp_store_freeze(struct dphp_store *);
void dphp_store_thaw(struct dphp_store *);

/*
 * The queue of a store (dphp-store(5)): a durable inbox and a delay
 * spool.  Functions return 0, or -1 after a message.
 */
/* make envs[0..n) (valid envelopes) durable in the inbox or, when
 * delayed past now, the spool */
int dphp_queue_admit(struct dphp_store *, json_t **envs, size_t n);
/* which part of the queue a worker takes: shard I of N by destination */
struct dphp_queue_part {
	unsigned shard, nshards;	/* nshards 0 or 1: everything */
	int64_t lease_ms;		/* how long a claim lasts */
	unsigned tries;			/* set an event aside (dead letter)
					 * once taken this often unfinished;
					 * 0: never */
	int idle;			/* the worker has nothing in flight:
					 * it may take a suspect, alone */
};
/*
 * One round of taking: move due delays into the inbox, release
 * expired claims (suspects now: taken before and not finished), then
 * claim up to max ready events of the part in queue order and call fn
 * with each, "receipt" added and d->tries set; an idle worker (part)
 * takes one suspect, alone, first.  A queue file that is not a valid
 * envelope, or an event taken part->tries times, is reported and set
 * aside in queue/bad with why.  The number taken, or -1; *bad counts
 * the files set aside.
 */
typedef int dphp_taken_fn(json_t *env, const struct dphp_desc *d,
    void *arg);
long dphp_queue_take(struct dphp_store *, const struct dphp_queue_part *,
    size_t max, dphp_taken_fn *, void *arg, size_t *bad);
/* dphp_queue_admit of the events of a JSON array */
int dphp_queue_admit_all(struct dphp_store *, json_t *array);
/* forget the delayed event env if it is still waiting in the spool */
int dphp_queue_cancel(struct dphp_store *, json_t *env);
/* move the delays due by now into the inbox; how many, or -1 */
long dphp_queue_release(struct dphp_store *);
/* is the event of receipt claimed (by anyone)? 1, 0, or -1 */
int dphp_queue_claimed(struct dphp_store *, const char *receipt);
/* is the event of queue name (no receipt suffix) still in the inbox,
 * ready or claimed?  1, 0, or -1 */
int dphp_queue_pending(struct dphp_store *, const char *name);
/* finished with a claimed event: forget it (ack), or give it back */
int dphp_queue_ack(struct dphp_store *, const char *receipt);
int dphp_queue_nack(struct dphp_store *, const char *receipt);
/* give it back failed, for why: a suspect, its tries counted */
int dphp_queue_fail(struct dphp_store *, const char *receipt,
    const char *why);
/* set it aside for good, for why: a dead letter (reported) */
int dphp_queue_bury(struct dphp_store *, const char *receipt,
    const char *why);
/*
 * The dead letters: fn gets each one's name, why ({"reason","at",
 * "tries"}, or NULL) and its text (the event's line, or NULL when it
 * cannot be read), len bytes; a non-zero return stops and is returned.
 */
typedef int dphp_dead_fn(const char *name, json_t *why, const char *text,
    size_t len, void *arg);
int dphp_queue_dead(struct dphp_store *, dphp_dead_fn *, void *arg);
/* what the part of the queue holds; next_ms is the earliest time a
 * delay falls due or a claim expires (INT64_MAX: never) */
struct dphp_queue_stat {
	size_t ready, claimed, delayed, due;
	size_t suspects;	/* ready, but taken only alone */
	int64_t next_ms;
};
int dphp_queue_stat(struct dphp_store *, const struct dphp_queue_part *,
    struct dphp_queue_stat *);
/*
 * Keep the claims this handle took from running out while they are
 * not finished (etcd: their leases kept alive); a worker calls it more
 * often than a third of its lease.  0, or -1 with a message.
 */
int dphp_queue_renew(struct dphp_store *);
/* sleep until the queue may have changed, at most ms */
int dphp_queue_wait(struct dphp_store *, int64_t ms);

#endif
