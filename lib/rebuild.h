/*
 * rebuild.h - dphp-replay -J: a journal replayed offline (rebuild.c).
 */
#ifndef DPHP_REBUILD_H
#define DPHP_REBUILD_H

#include "history.h"

/* rebuild.c: dphp-replay -J, a journal replayed offline */
enum dphp_rebuild_mode {
	DPHP_REBUILD_STATES,	/* the states it leads to */
	DPHP_REBUILD_HISTORY,	/* the lines of one id */
	DPHP_REBUILD_CHECK,	/* what differs from the live store */
	DPHP_REBUILD_STEPS,	/* what each line did (trace.c) */
	DPHP_REBUILD_TIMELINE,	/* one orchestration, in Mermaid */
	DPHP_REBUILD_DETERMINISM,	/* today's handlers on the history */
	DPHP_REBUILD_VERIFY	/* every line read and checked: a count */
};
struct dphp_rebuild {
	enum dphp_rebuild_mode mode;
	json_int_t upto;	/* -S: up to this seq, or 0 */
	int64_t until;		/* -A: up to this time, or -1 */
	const char *only;	/* -I: this id only, or NULL */
	const char *spec;	/* the store (its journal by default) */
	const struct dphp_handlers *handlers;	/* DETERMINISM */
};
/* replay the journals named (the store's by default): 0, 1 when CHECK or
 * DETERMINISM found a difference, or an exit status */
int dphp_rebuild(const struct dphp_rebuild *, int argc, char **argv);

#endif
