/*
 * backend.h - what a store backend provides to store.c.  The directory
 * backend (store_dir.c) is the first; a new one is a file and an entry
 * in store.c's table.  Each member NAME has the contract of the front
 * end's dphp_store_NAME in store.h, and queue_NAME of dphp_queue_NAME.
 */
#ifndef DPHP_BACKEND_H
#define DPHP_BACKEND_H

#include "qname.h"

struct dphp_backend {
	const char *scheme;
	const char *prefix;	/* of the specs it opens; NULL: a path */
	int segments;		/* its journal is files in SPEC/journal */
	int chains;		/* takes changes that follow others (after) */
	struct dphp_store *(*open)(const char *spec);
	int (*init)(const char *spec);
	int (*close)(struct dphp_store *);
	int (*get)(struct dphp_store *, const struct dphp_id *, json_t **,
	    char *);
	/* ids[i] is changes[i].id, parsed, and distinct but for guards and
	 * chains (store.c checks them) */
	int (*batch)(struct dphp_store *, const struct dphp_id *ids,
	    struct dphp_change *changes, size_t n);
	int (*list)(struct dphp_store *, enum dphp_space, enum dphp_kind,
	    const char *, dphp_list_fn *, void *);
	/* the older ids of windows, kept apart (dphp_store_seen); NULL:
	 * the backend keeps whole windows in the records, and batches
	 * carry no evict */
	int (*seen)(struct dphp_store *, const struct dphp_id *,
	    const char *);
	/* the queue: the dphp_queue_* functions */
	int (*queue_admit)(struct dphp_store *, json_t **, const size_t *, size_t);
	long (*queue_take)(struct dphp_store *, const struct dphp_queue_part *,
	    size_t, dphp_taken_fn *, void *, size_t *);
	long (*queue_release)(struct dphp_store *);
	int (*queue_claimed)(struct dphp_store *, const char *);
	int (*queue_pending)(struct dphp_store *, const char *);
	int (*queue_ack)(struct dphp_store *, const char *);
	int (*queue_nack)(struct dphp_store *, const char *);
	int (*queue_fail)(struct dphp_store *, const char *, const char *);
	int (*queue_bury)(struct dphp_store *, const char *, const char *);
	int (*queue_dead)(struct dphp_store *, dphp_dead_fn *, void *);
	int (*queue_cancel)(struct dphp_store *, json_t *);
	int (*queue_stat)(struct dphp_store *, const struct dphp_queue_part *,
	    struct dphp_queue_stat *);
	int (*queue_wait)(struct dphp_store *, int64_t);
	int (*queue_renew)(struct dphp_store *);
	int (*freeze)(struct dphp_store *);
	void (*thaw)(struct dphp_store *);
	int (*journal_read)(struct dphp_store *, json_int_t, int, dphp_journal_fn *,
	    dphp_tick_fn *, void *);
};

struct dphp_store {
	const struct dphp_backend *be;
	char *spec;
};

/* where each space's records live: state/, lock/, owner/ */
extern const char *const dphp_space_dir[];

/*
 * The rules of a batch, which every backend applies alike to what it
 * read under its locks or in its transaction: decide each change
 * against its record as it is now, now[i] (its ETag, "" when there is
 * none, and its state, for guards), then fail what a guard that does
 * not hold guards.  Sets each result and newetag; write[i] says whether
 * change i is to be written.  The backend then only writes.  A change
 * that follows another (after) is decided with it: now[i] is not read.
 */
struct dphp_now {
	char etag[DPHP_ETAG_MAX];	/* "": no record */
	json_t *state;			/* borrowed; NULL: no record */
};
void dphp_batch_decide(struct dphp_change *, size_t n,
    const struct dphp_now *now, int *write);

extern const struct dphp_backend dphp_dir_backend;
extern const struct dphp_backend dphp_etcd_backend;

#endif
