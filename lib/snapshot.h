/*
 * snapshot.h - a store's archives: snapshots (snapshot.c), the
 * journal's settled segments (journal.c), and their compression
 * (tarball.c).
 */
#ifndef DPHP_SNAPSHOT_H
#define DPHP_SNAPSHOT_H

#include "store.h"

/* tarball.c */
int dphp_tar_filter_valid(const char *);	/* gzip, xz, zstd, bzip2 */

/* journal.c */
/* a tar of the segments of journal directory dir but the newest (still
 * written), to fd, compressed by filter (or NULL): 0 or an exit */
int dphp_journal_archive(const char *dir, const char *filter, int fd);

/*
 * snapshot.c: a store as a tar archive (dphp-store(5) "Snapshots").
 * export: the states and ownership records of the ids matching pat (all
 * when npat is 0), to fd; 0 or an exit status.  import: those of the
 * archive at path into st, where absent (force: wherever they differ);
 * counts: written, already there, refused; 0, 1 if any was refused, or
 * an exit status (a bad archive writes nothing).
 */
int dphp_snapshot_export(struct dphp_store *, int npat, char **pat,
    const char *filter, int fd);
int dphp_snapshot_import(struct dphp_store *, const char *path, int npat,
    char **pat, int force, unsigned long counts[3]);

#endif
