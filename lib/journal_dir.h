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
	int written;		/* they were (maybe partly) */
	json_int_t next;	/* the seq of the next line */
	/* the seq the record of a state id carries (0: none) */
	int (*seqof)(struct dphp_store *, const char *, json_int_t *);
	/* how troubles are said: dphp_error, or dphp_warn (recovery) */
	void (*say)(const char *, ...);
};
/* lock the journal and settle its end (see journal_dir.c): 0 or -1 */
int dirj_open(struct dphp_store *, struct dirj *,
    int (*seqof)(struct dphp_store *, const char *, json_int_t *));
/* append the lines of the batch that begins at seq b (text, each line
 * ending in '\n'), synced; a new segment first when this one is full */
int dirj_write(struct dirj *, json_int_t b, const char *text, size_t len);
/* the batch that began at seq b is durable: say so */
int dirj_end(struct dirj *, json_int_t b);
/* the batch failed before any record was written: take its lines back
 * (if this fails too, the next writer voids them) */
void dirj_undo(struct dirj *);
void dirj_close(struct dirj *);	/* and let go of the lock */
/* end the last batch if its writer did not (journal_dir.c); what goes
 * wrong is a warning: the store is read as it is */
void dirj_recover(struct dphp_store *,
    int (*seqof)(struct dphp_store *, const char *, json_int_t *));
/* hold the journal's lock, shared: no state commits until thawed */
int dirj_freeze(struct dphp_store *);
void dirj_thaw(struct dphp_store *);

#endif
