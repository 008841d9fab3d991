/*
 * tarball.h - tar archives that depend only on their content
 * (tarball.c), for snapshots and journal archives.
 */
#ifndef DPHP_TARBALL_H
#define DPHP_TARBALL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

struct dphp_tar;
/* write to fd, compressed by filter (or NULL); what names it in
 * messages; NULL on error, reported */
struct dphp_tar *dphp_tar_open(int fd, const char *filter, const char *what);
/* an entry of size bytes, which fill copies into buf (up to n of them;
 * returns how many, <= 0 if it has no more) */
typedef ssize_t dphp_tar_fill_fn(char *buf, size_t n, void *arg);
int dphp_tar_add(struct dphp_tar *, const char *name, int64_t size,
    dphp_tar_fill_fn *, void *arg);
struct dphp_tar_bytes {
	const char *data;
	size_t len, off;
};
ssize_t dphp_tar_bytes(char *, size_t, void *);	/* fill from bytes */
int dphp_tar_close(struct dphp_tar *);	/* the end: 0 or 4, reported */
void dphp_tar_abort(struct dphp_tar *);	/* no end: it is not whole */

#endif
