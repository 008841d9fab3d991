/*
 * queue_etcd.h - the queue on etcd (queue_etcd.c, dphp-store(5)), for
 * the backend table and the batch commit of store_etcd.c.
 */
#ifndef DPHP_QUEUE_ETCD_H
#define DPHP_QUEUE_ETCD_H

#include "etcd_kv.h"

/*
 * A receipt there is NAME@REV, REV the revision of the claim.  For a
 * batch in queue mode (store_etcd.c), which acknowledges its input and
 * delivers its events in its own transaction:
 */
struct claimref {
	char *name;		/* the queue name, NULL: no receipt */
	json_int_t rev;		/* the claim's revision */
	char *claimkey, *newkey, *trieskey;
};
int etcdq_receipt(struct dphp_store *, const char *receipt,
    struct claimref *);
void etcdq_claimref_free(struct claimref *);
/* the requests that queue envs (admitted together, in order) */
int etcdq_admitops(struct dphp_store *, json_t *envs, json_t *ops);
/* remember that the commit acknowledged receipt */
void etcdq_acked(struct dphp_store *, const char *receipt);

int etcdq_admit(struct dphp_store *, json_t **, const size_t *, size_t);
long etcdq_take(struct dphp_store *, const struct dphp_queue_part *, size_t,
    dphp_taken_fn *, void *, size_t *);
long etcdq_release(struct dphp_store *);
int etcdq_claimed(struct dphp_store *, const char *);
int etcdq_pending(struct dphp_store *, const char *);
int etcdq_ack(struct dphp_store *, const char *);
int etcdq_nack(struct dphp_store *, const char *);
int etcdq_fail(struct dphp_store *, const char *, const char *);
int etcdq_bury(struct dphp_store *, const char *, const char *);
int etcdq_dead(struct dphp_store *, dphp_dead_fn *, void *);
int etcdq_cancel(struct dphp_store *, json_t *);
int etcdq_stat(struct dphp_store *, const struct dphp_queue_part *,
    struct dphp_queue_stat *);
int etcdq_wait(struct dphp_store *, int64_t);
int etcdq_renew(struct dphp_store *);

#endif
