/*
 * journal.h - reading journals: segments in order (journal.c), a
 * directory's journal as a change feed (follow.c), and what each line
 * did (trace.c).
 */
#ifndef DPHP_JOURNAL_H
#define DPHP_JOURNAL_H

#include "store.h"

/*
 * journal.c: reading a store's journal, dphp-store(5).  Call fn with
 * each state line committed, in order, from the segments named (files,
 * or journal directories, whose segments are read in name order).
 * Returns 0, fn's non-zero return, 3 after a corrupt line or 4 after an
 * unreadable file (both reported).
 */
int dphp_journal_each(int argc, char **argv, dphp_journal_fn *, void *arg);
/* the segments of a journal directory, sorted: a NULL-ended list */
char **dphp_journal_segments(const char *dir);
/*
 * A reading, line by line (dphp_journal_each's parts): take each line
 * read from a segment; fn gets the lines of a batch when it ends.
 * settled: the last seq of an ended batch (0: none).  pending: lines
 * of a batch that has not ended; retract: forget them (they were taken
 * back); unended: warn that they are left out.
 */
struct dphp_journal *dphp_journal_new(dphp_journal_fn *, void *arg);
int dphp_journal_take(struct dphp_journal *, const char *file,
    unsigned long no, json_t *line);
/*
 * A line's text, n bytes without its newline: its checksum checked (a
 * line without one after one with is corrupt too), parsed and taken;
 * 0, or as dphp_journal_each.  A line is at most DPHP_JOURNAL_LINE_MAX
 * bytes: a state, under a line, and its seq, id, times and checksum.
 */
int dphp_journal_line(struct dphp_journal *, const char *file,
    unsigned long no, const char *text, size_t n);
#define DPHP_JOURNAL_LINE_MAX (DPHP_MAX_LINE + 4096)
json_int_t dphp_journal_settled(const struct dphp_journal *);
size_t dphp_journal_pending(const struct dphp_journal *);
void dphp_journal_retract(struct dphp_journal *);
void dphp_journal_unended(const struct dphp_journal *);
void dphp_journal_free(struct dphp_journal *);

/*
 * follow.c: the journal of a directory as a change feed.  Hand fn each
 * line committed after seq after, in order, and tick the last seq
 * settled after each run of lines; at the end, stop, or with forever
 * wait for more.  Returns 0, fn's or tick's non-zero return, or 3/4 as
 * dphp_journal_each.
 */
int dphp_journal_follow(const char *dir, json_int_t after, int forever,
    dphp_journal_fn *, dphp_tick_fn *, void *arg);

/* trace.c: what a journal line did, from the state before it (or NULL):
 * a new step record, dphp-replay(1) */
json_t *dphp_trace_step(json_t *before, json_t *line);
/* the steps of orchestration id, as a Mermaid sequence diagram */
int dphp_trace_mermaid(const char *id, json_t *steps, FILE *out);

#endif
