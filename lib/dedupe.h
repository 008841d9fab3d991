/*
 * dedupe.h - the dedupe window: the ids of the events a history has
 * applied (dedupe.c), and the older part of it that a directory store
 * keeps beside the record (seenidx.c), dphp-store(5).
 */
#ifndef DPHP_DEDUPE_H
#define DPHP_DEDUPE_H

#include <stdint.h>

#include <jansson.h>

#define DPHP_DEDUPE_MS (3600 * 1000)	/* how long an id is remembered */
#define DPHP_DEDUPE_MAX 10000		/* and how many at least */
/* a window longer than DPHP_SEEN_MAX, where the store keeps the older
 * ids apart, is cut to its DPHP_SEEN_KEEP newest */
#define DPHP_SEEN_MAX 12
#define DPHP_SEEN_KEEP 8

/* dedupe.c */
int dphp_seen(json_t *doc, const char *id);	/* in doc's window? */
/* a copy of doc's window with id added and old ids pruned */
json_t *dphp_seen_add(json_t *doc, const char *id);
/* a new doc: doc (NULL: {}) with id added to its window */
json_t *dphp_seen_mark(json_t *doc, const char *id);
/*
 * Cut the window of applied's new state (a result of dphp_apply) to its
 * DPHP_SEEN_KEEP newest ids when it holds more than DPHP_SEEN_MAX: the
 * others move to applied's "evict" ({ID:TIME}), for the store to keep.
 */
void dphp_seen_compact(json_t *applied);

/*
 * seenidx.c: a window's older ids in a file written in place: add the
 * ids of evict ({ID:TIME}) to the file name beneath dfd, made if need
 * be, synced when sync (0, or -1 and errno); is id in the file fd,
 * applied less than DPHP_DEDUPE_MS before now?  (1, 0, or -1 and errno).
 */
int dphp_seenidx_add(int dfd, const char *name, json_t *evict, int64_t now,
    int sync);
int dphp_seenidx_has(int fd, const char *id, int64_t now);

#endif
