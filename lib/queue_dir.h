/*
 * queue_dir.h - the queue of the directory store (queue_dir.c), for
 * its backend table and batch commit (store_dir.c).
 */
#ifndef DPHP_QUEUE_DIR_H
#define DPHP_QUEUE_DIR_H

#include "dirstore.h"

void dirq_init(struct dirstore *);
int dirq_close(struct dirstore *);	/* 0, or -1 with a message */
/* seq[i]: the place of envs[i] among those emitted together (NULL: i) */
int dirq_cancel(struct dphp_store *, json_t *);
int dirq_admit(struct dphp_store *, json_t **envs, const size_t *seq,
    size_t n);
/* the same, unsynced without sync: for a caller that keeps the events
 * elsewhere, durable, until a syncfs (dir_batch: the journal) */
int dirq_deliver(struct dphp_store *, json_t **envs, const size_t *seq,
    size_t n, int sync);
/* is the event of receipt still in the inbox, claimed or not? 1, 0;
 * 1 too when that cannot be known */
int dirq_pending(struct dphp_store *, const char *receipt);
long dirq_take(struct dphp_store *, const struct dphp_queue_part *,
    size_t max, dphp_taken_fn *, void *, size_t *bad);
long dirq_release(struct dphp_store *);
int dirq_claimed(struct dphp_store *, const char *receipt);
int dirq_ack(struct dphp_store *, const char *receipt);
int dirq_nack(struct dphp_store *, const char *receipt);
int dirq_fail(struct dphp_store *, const char *receipt, const char *why);
int dirq_bury(struct dphp_store *, const char *receipt, const char *why);
int dirq_dead(struct dphp_store *, dphp_dead_fn *, void *);
int dirq_stat(struct dphp_store *, const struct dphp_queue_part *,
    struct dphp_queue_stat *);
int dirq_renew(struct dphp_store *);
int dirq_wait(struct dphp_store *, int64_t ms);

#endif
