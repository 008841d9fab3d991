/*
 * etcd_kv.h - what the etcd backend's files share: the store handle
 * and the few ways of asking etcd's JSON gateway (etcd_kv.c), used by
 * the records (store_etcd.c) and the queue (queue_etcd.c).
 */
#ifndef DPHP_ETCD_KV_H
#define DPHP_ETCD_KV_H

#include "backend.h"
#include "etcd.h"

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

#endif
