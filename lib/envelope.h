/*
 * envelope.h - the event record (envelope.c), dphp-event(5).
 */
#ifndef DPHP_ENVELOPE_H
#define DPHP_ENVELOPE_H

#include "id.h"
#include "ndjson.h"

/* envelope.c: the event record, dphp-event(5) */
#define DPHP_ENVELOPE_VERSION 1
#define DPHP_REPLY_MAX 16	/* reply_to wrappers in one envelope */
struct dphp_desc {
	const char *id;
	int64_t ts_ms;
	const char *receipt;	/* the queue receipt, or NULL */
	unsigned tries;		/* taken before and not finished (queue) */
	const char *token;	/* a JWT saying who acts, or NULL */
	const char *to;		/* destination id */
	struct dphp_id dest;
	const char *type;	/* core event type */
	const char *delay;	/* RFC 3339 or NULL */
	int64_t delay_ms;
	const char *reply_to[DPHP_REPLY_MAX];	/* outermost first */
	int nreply;
	json_t *lock;		/* lock wrapper value or NULL (borrowed) */
	json_int_t fence;	/* the hold's token dphp-lock added, or 0 */
	json_int_t ahead;	/* dphp-lock let it go ahead of the requests
				 * held back by the record with this token;
				 * or 0 */
	json_int_t priority;	/* -1 when absent */
	const char *from;
	json_t *by;		/* borrowed or NULL */
	json_t *core;		/* the core event (borrowed) */
	unsigned ops;		/* DPHP_OP_* needed at the destination */
};
enum {
	DPHP_OP_START = 1 << 0,
	DPHP_OP_SIGNAL = 1 << 1,
	DPHP_OP_CALL = 1 << 2,
	DPHP_OP_READ = 1 << 3,
	DPHP_OP_SUBSCRIBE = 1 << 4,
	DPHP_OP_LOCK = 1 << 5,
	DPHP_OP_DELETE = 1 << 6,
	DPHP_OP_SHARE_PLUS = 1 << 7,
	DPHP_OP_SHARE_MINUS = 1 << 8,
	DPHP_OP_OWNER = 1 << 9
};
/* the ownership events, carried out by dphp-route (by their ops) */
#define DPHP_OPS_OWNERSHIP (DPHP_OP_SHARE_PLUS | DPHP_OP_SHARE_MINUS | \
    DPHP_OP_OWNER)
/* an operation's name and back; 0 for an unknown name */
const char *dphp_op_name(unsigned op);
unsigned dphp_op_parse(const char *);
/*
 * Validate a whole envelope and describe it by walking the chain once.
 * 0 on success; -1 with a reason in why.  The description borrows
 * from env.
 */
int dphp_envelope_check(json_t *env, struct dphp_desc *, char *why,
    size_t whysz);
/* the flat description as a new JSON object */
json_t *dphp_desc_json(const struct dphp_desc *);
/*
 * dphp_each_record for envelopes: fn gets each one validated and
 * described; an invalid one stops with "FILE:LINE: invalid event: ..."
 * and status 3.
 */
typedef int dphp_event_fn(struct dphp_reader *, json_t *env,
    struct dphp_desc *, void *arg);
int dphp_each_event(int argc, char **argv, dphp_event_fn *, void *arg);
/* validate a "by" (who acts) alone; as above */
int dphp_by_check(json_t *by, char *why, size_t whysz);
/* validate one core event alone (for builders); as above */
int dphp_core_check(json_t *core, enum dphp_kind dest, char *why,
    size_t whysz);
/* wrap: a new {"KEY":value,"event":inner}; steals value and inner */
json_t *dphp_wrap(const char *key, json_t *value, json_t *inner);
/* a new envelope around chain (stolen); id/ts NULL make fresh ones */
json_t *dphp_envelope_new(json_t *chain, const char *id, const char *ts,
    json_t *by);

#endif
