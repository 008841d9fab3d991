/*
 * qname.h - queue names and receipts (qname.c, dphp-store(5)), for the
 * queues of the backends, the lock records and the envelope check.
 */
#ifndef DPHP_QNAME_H
#define DPHP_QNAME_H

#include "store.h"

#define DPHP_EVENTID_MAX DPHP_NAME_MAX

struct dphp_qname {
	int64_t due_ms;		/* when the event is due */
	unsigned seq;		/* its order among those admitted with it */
	uint32_t hash;		/* of its destination: its shard */
	const char *id;		/* its id, idlen bytes of the text parsed */
	size_t idlen;
	size_t namelen;		/* the name, without "@REV" */
	json_int_t rev;		/* a receipt's claim revision (etcd); 0 */
};
/* "TIME.HASH.ID[@REV]": 0, or -1 if s is neither a name nor a receipt */
int dphp_qname_parse(const char *s, struct dphp_qname *);
/* is s a receipt (a name, and on etcd "@REV")?  a name alone? */
int dphp_receipt_valid(const char *s);
int dphp_qname_valid(const char *name);
/* how much of receipt r is the queue name (not "@REV") */
size_t dphp_receipt_name_len(const char *r);
/* the queue name of d, the seq-th of the events admitted together: new */
char *dphp_queue_name(const struct dphp_desc *d, size_t seq);
/* is name the queue name of d, in whatever order it was admitted? */
int dphp_qname_of(const char *name, const struct dphp_desc *d);
/* when it is due; is it in part?  (Not a name: due now, in shard 0,
 * so that a taker sets it aside.) */
int64_t dphp_queue_due(const char *name);
int dphp_queue_in_part(const char *name, const struct dphp_queue_part *);

#endif
