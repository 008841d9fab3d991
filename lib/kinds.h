/*
 * kinds.h - the histories of the three kinds, for dphp_apply
 * (proposal.c) and the offline replay: entities (entity.c),
 * orchestrations (orchestration.c, determinism.c) and activities
 * (activity.c), with what they share: the handler call (handler.c),
 * and the events they cause (emit.c); the window of ids applied is
 * dedupe.h's.
 */
#ifndef DPHP_KINDS_H
#define DPHP_KINDS_H

#include "dedupe.h"
#include "history.h"

/* handler.c */
/*
 * Send request to the handler DIR/KIND/NAME (started, or kept from
 * before with keep) and read its answer; on 0 *out is the answer, a
 * JSON object.  On -1, why holds a reason fit for a failed reply (no
 * such handler, crash, status, time-out, invalid output), and a
 * co-process that failed is gone: the next request starts it again.
 */
int dphp_handler_call(const struct dphp_handlers *, const struct dphp_id *,
    json_t *request, json_t **out, char *why, size_t whysz);

/* emit.c */
/* an envelope around chain (stolen): the n-th event caused by d */
json_t *dphp_caused(const struct dphp_desc *d, unsigned n, json_t *chain);

/* entity.c: dphp_apply for an entity's operation, signal or delete */
json_t *dphp_entity_apply(const struct dphp_handlers *,
    const struct dphp_desc *, json_t *doc);

/* orchestration.c: dphp_apply for an orchestration's events */
json_t *dphp_orchestration_apply(const struct dphp_handlers *,
    const struct dphp_desc *, json_t *doc);
/* the request of dphp-handler(5) replaying the instance id at doc */
json_t *dphp_orchestration_request(json_t *doc, const char *id);
/*
 * session.c: sticky histories.  The request for instance id at doc: a
 * resume of the run its co-process kept (*from, the actions it issued
 * before, which its answer leaves out) or, *from 0, the whole history.
 */
json_t *dphp_session_request(const struct dphp_handlers *, json_t *doc,
    const char *id, size_t *from);
/* the co-process keeps id where it waits, having seen these many awaits
 * and issued these many actions: mark doc as that run's */
void dphp_session_keep(json_t *doc, const char *id, size_t awaits,
    size_t actions);
/* no co-process keeps id at doc: the next run replays it all */
void dphp_session_drop(json_t *doc, const char *id);
/*
 * retry.c: an activity's retry policy.  NULL if policy is one, else why
 * not; and for a failure (reason) of action, 1 and when its next attempt
 * is due (*at, from now), or 0: the failure stands.
 */
const char *dphp_retry_bad(json_t *policy);
int dphp_retry_due(json_t *action, const char *reason, int64_t now,
    int64_t *at);
/*
 * shape.c: an action as the handler asks for it: NULL if it may be, else
 * why not (in buf, or a constant); and the stored state doc of a history
 * of that kind: 0 if its shape is what dphp writes, or -1 and where not.
 */
const char *dphp_action_bad(json_t *action, char *buf, size_t bufsz);
int dphp_state_bad(enum dphp_kind, json_t *doc, char *why, size_t whysz);
/* what identifies an action for the determinism check: kind, name, to,
 * op (not its input, nor dphp's bookkeeping) */
void dphp_action_describe(json_t *action, char *buf, size_t bufsz);
/* is d a reply that binds to an action of doc's but does not come from
 * where that action went?  0, or 1 and why */
int dphp_orchestration_forged(json_t *doc, const struct dphp_desc *d,
    char *why, size_t whysz);
/*
 * determinism.c: run today's handler on the history of orchestration id
 * (doc, its stored state): NULL when it does what the history says, or
 * a new {"id","step","history","now"} saying where it first does not.
 */
json_t *dphp_orchestration_check(const struct dphp_handlers *,
    const char *id, json_t *doc);

/* activity.c: dphp_apply for an activity's schedule or delete */
json_t *dphp_activity_apply(const struct dphp_handlers *,
    const struct dphp_desc *, json_t *doc);

#endif
