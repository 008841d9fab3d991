/*
 * journal_dir.h - the journal of the directory store (journal_dir.c),
 * used by the batch commit of store_dir.c.
 */
#ifndef DPHP_JOURNAL_DIR_H
#define DPHP_JOURNAL_DIR_H

#include <sys/types.h>

#include "dirstore.h"

struct dirj {
	int dfd, lfd, fd;	/* journal/, journal/.lock, the segment */
	char *name;		/* the segment's file name, or NULL */
	off_t size;
	off_t start;		/* where this batch's lines begin */
	json_int_t first;	/* and its first seq */
	int written;		/* they were (maybe partly) */
	json_int_t next;	/* the seq of the next line */
	/* the seq the record of a state id carries (0: none) */
	int (*seqof)(struct dphp_store *, const char *, json_int_t *);
	/* bring the record of a state line up to it: 0 or -1 */
	int (*redo)(struct dphp_store *, json_t *line);
	/* queue again, synced, the events of lines (arrays): 0 or -1 */
	int (*resend)(struct dphp_store *, json_t *events);
	/* how troubles are said: dphp_error, or dphp_warn (recovery) */
	void (*say)(const char *, ...);
};
/* what the journal asks of the records (store_dir.c) */
struct dirj_records {
	int (*seqof)(struct dphp_store *, const char *, json_int_t *);
	int (*redo)(struct dphp_store *, json_t *line);
	int (*resend)(struct dphp_store *, json_t *events);
};
/* lock the journal and settle its end (see journal_dir.c): 0 or -1 */
int dirj_open(struct dphp_store *, struct dirj *, const struct dirj_records *);
/* append the lines of the batch that begins at seq b (text, each line
 * ending in '\n'), synced: the batch is committed; a new segment first
 * when this one is full */
int dirj_write(struct dphp_store *, struct dirj *, json_int_t b,
    const char *text, size_t len);
/* the records of the batch that began at seq b are written: say so */
int dirj_end(struct dirj *, json_int_t b);
/* a checkpoint when the batch just ended crossed the mark (see
 * journal_dir.c): 0, or -1 after a warning */
int dirj_checkpoint_due(struct dphp_store *, struct dirj *);
/* the batch failed before its lines were synced: take them back (if
 * this fails, void them) */
void dirj_undo(struct dirj *);
void dirj_close(struct dirj *);	/* and let go of the lock */
/* bring the records up to the journal (journal_dir.c); what goes wrong
 * is a warning: the store is read as it is */
void dirj_recover(struct dphp_store *, const struct dirj_records *);
/* the journal's lock, taken shared: an fd to close, or -1 */
int dirj_share(struct dphp_store *);
/* hold the journal's lock, shared: no state commits until thawed */
int dirj_freeze(struct dphp_store *);
void dirj_thaw(struct dphp_store *);

#endif
