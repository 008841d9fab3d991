/*
 * store_etcd.h - what the etcd backend's files share: the store handle
 * and the few ways of asking etcd's JSON gateway (store_etcd.c), used
 * by the queue (queue_etcd.c).
 */
#ifndef DPHP_STORE_ETCD_H
#define DPHP_STORE_ETCD_H

#include "backend.h"

struct etcdstore {
	struct dphp_store base;
	struct dphp_etcd *e;
	char *prefix;
	json_int_t atrev;	/* frozen: read at this revision; 0: now */
	char *lastmark;		/* the marker of the last commit */
	json_t *acked;		/* receipts acknowledged by a commit */
	json_t *leases;		/* of claims: [{"id","ms","at"}] */
	json_t *claimview;	/* claims as read for etcdq_claimed */
	json_int_t looked;	/* the queue last read at; 0: not since */
	long maxops;		/* requests one transaction may hold */
};

#define ES(st) ((struct etcdstore *)(st))

/* a string as the gateway wants it, base64 */
json_t *es_b64(const char *);
/* a request of a transaction: range of key, at the frozen revision */
json_t *es_rangeop(struct dphp_store *, const char *key);
/* the gateway's numbers are strings */
json_int_t es_num(json_t *);
/* the revision an answer was given at */
json_int_t es_revision(json_t *resp);
/* a request that may be done twice, asked again when unanswered: 0 and
 * *out, or -1 (reported) */
int es_call(struct dphp_store *, const char *path, json_t *body,
    json_t **out);
/* a range request (taken) that may be asked twice: 0 and *out, or -1 */
int es_range(struct dphp_store *, json_t *body, json_t **out);
/* a transaction that may be run twice (takes its arguments): its answer,
 * or NULL; es_txnf with requests for when a compare fails */
json_t *es_txn(struct dphp_store *, json_t *compare, json_t *success);
json_t *es_txnf(struct dphp_store *, json_t *compare, json_t *success,
    json_t *failure);
/* the kv of the i-th range response of a transaction, or NULL */
json_t *es_kvat(json_t *resp, size_t i);
/* the key of a kv, a new string, or NULL */
char *es_unb64key(json_t *kv);
/* the JSON a kv holds, or NULL */
json_t *es_decoded(json_t *kv);
/* compare: key still at mod_revision rev (0: still absent) */
json_t *es_unchanged(const char *key, json_int_t rev);
json_t *es_putop(const char *key, const char *val);
json_t *es_deleteop(const char *key);

/*
 * queue_etcd.c: the queue on etcd (dphp-store(5)).  A receipt there is
 * NAME@REV, REV the revision of the claim.  For a batch in queue mode
 * (store_etcd.c), which acknowledges its input and delivers its events
 * in its own transaction:
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
