/*
 * history.h - applying an event to its history, dphp-replay(1): the
 * user's handlers (handler.c), the proposal that results
 * (proposal.c) and the replies it sends (emit.c).
 */
#ifndef DPHP_HISTORY_H
#define DPHP_HISTORY_H

#include "store.h"

/* handler.c: running the user's handlers, dphp-handler(5) */
/*
 * A configuration error met while running a handler: the handlers'
 * directory or its KIND directory missing, no handler, one that is not
 * executable, or the sh library it sources unreadable.  It is no fault
 * of the operation, so no failure is committed: the stage gives the
 * event back and stops.  event says whether the event may be the cause
 * (a destination nobody has a handler for), so that it is counted as a
 * suspect, and set aside if it keeps coming.
 */
struct dphp_trouble {
	char why[1024];		/* empty: no trouble */
	int event;
};
struct dphp_handlers {
	char *dir;		/* -x or DPHP_HANDLERS */
	int64_t timeout_ms;	/* per request; 0 means none */
	int keep;		/* keep handlers running as co-processes */
	struct dphp_trouble *trouble;	/* where to say so, or NULL */
};
/*
 * 0, or DPHP_EXIT_CONFIG with a message: dir is not a directory.  A
 * stage checks at once, but for its input from a pipe, as in a worker:
 * there the first event that needs a handler finds the trouble, and is
 * given back, where a stage that ended at once would leave the events
 * in its pipe to count as suspects.
 */
int dphp_handlers_check(const char *dir);
/*
 * Report the trouble met with the event d, read at at, give it back
 * (failed, a suspect, when it may be the cause) and clear the trouble:
 * DPHP_EXIT_CONFIG, or DPHP_EXIT_SYS.
 */
int dphp_trouble_giveback(struct dphp_store *, const struct dphp_reader *at,
    const struct dphp_desc *d, struct dphp_trouble *);
/* end every co-process: end of input, then wait for it */
void dphp_handlers_close(void);

/* proposal.c: the record dphp-replay prints and dphp-commit reads */
/*
 * Apply a validated envelope (its description) to the stored document
 * doc (borrowed; NULL when absent) with the user's handlers: a new
 * object with "target", "state" (a new state), "delete" (true) or
 * neither (unchanged), "emit" and, when the operation failed, "failed".
 * NULL with a reason in why when this kind of event is not applied by
 * dphp-replay (see dphp-replay(1)).
 */
json_t *dphp_apply(const struct dphp_handlers *, const struct dphp_desc *,
    json_t *doc, char *why, size_t whysz);
/*
 * dphp_apply of d to doc, the stored document of its destination in st
 * (borrowed, or NULL), as a stage does it: d's id counts as in doc's
 * window when it is in cut (the ids cut from the window by proposals
 * perhaps not committed yet, or NULL) or the store keeps it apart, and
 * the window of the result is cut when the store keeps the older ids
 * apart (dphp-store(5)).  *applied is what dphp_apply returns (NULL:
 * why); -1 after a message when the store cannot be read.
 */
/*
 * Is doc, read from the store, not of the shape d's kind's states have
 * (shape.c), so that d cannot be applied to it?  1 and why, or 0.  What
 * a stage computed itself needs no look.
 */
int dphp_stored_bad(const struct dphp_desc *d, json_t *doc, char *why,
    size_t whysz);
int dphp_apply_stored(struct dphp_store *, const struct dphp_handlers *,
    const struct dphp_desc *d, json_t *doc, json_t *cut, json_t **applied,
    char *why, size_t whysz);
/* the proposal record around an applied result (stolen) */
json_t *dphp_proposal_new(json_t *env, json_t *applied, const char *base,
    const char *prev);
struct dphp_proposal {
	json_t *input;		/* the input envelope */
	struct dphp_desc desc;	/* its description */
	const char *target;
	const char *base;	/* ETag the state came from; NULL = absent */
	const char *prev;	/* input id of the proposal it builds on */
};
/* validate a proposal record (and the envelopes in it); as above */
int dphp_proposal_check(json_t *rec, struct dphp_proposal *, char *why,
    size_t whysz);

/* emit.c */
/* append to emit a reply to every reply_to of d: completed with
 * result, or failed with reason failure when it is not NULL */
void dphp_reply(json_t *emit, const struct dphp_desc *d, json_t *result,
    const char *failure);

/* entity.c */
/* is doc an entity's document, {"state":...,"seen":{...}}?  0, or -1
 * with why */
int dphp_entity_doc_check(json_t *doc, char *why, size_t whysz);

#endif
