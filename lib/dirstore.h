/*
 * dirstore.h - the handle of a directory store, which its three files
 * share: the records (store_dir.c), the queue (queue_dir.c) and the
 * journal (journal_dir.c).
 */
#ifndef DPHP_DIRSTORE_H
#define DPHP_DIRSTORE_H

#include "backend.h"

/* the queue's directories, opened on first use */
enum { Q_TMP, Q_NEW, Q_CUR, Q_BAD, Q_RETRY, Q_DELAY, Q_NDIRS };

struct dirstore {
	struct dphp_store base;
	int fd;			/* the store's root directory */
	int q[Q_NDIRS];		/* -1 until opened */
	int inotify;		/* for dphp_queue_wait; -1 until made */
	int wd_new, wd_cur;	/* its watches of queue/new and queue/cur */
	int woken;		/* events of it read by a take, not waited */
	int arrivals;		/* something came into queue/new, as read
				 * from it, since it was last listed */
	json_t *claims;		/* the names in queue/cur as the watch saw
				 * them come and go (a set); NULL if unknown */
	int64_t drained_ms;	/* when dirq_claimed last read the watch */
	char **ready;		/* queue/new as last listed, sorted: what a
				 * take goes on with while nothing came */
	size_t nready, iready;	/* its length, and the next to try */
	int64_t expire_at;	/* the next look for claims run out: the
				 * earliest lease seen to end (wall clock) */
	int64_t expire_by;	/* and at the latest (monotonic) */
	struct dphp_remover *remover;	/* of acknowledged claims; NULL
					 * until the first */
	int frozen;		/* journal/.lock held shared; -1 if not */
	int booted;		/* the records are known to be up to the
				 * journal in this boot (journal_dir.c) */
};

#define ROOT(st) (((struct dirstore *)(st))->fd)

#endif
