/*
 * file.h - whole files beneath a directory (file.c): written all, read
 * all, and replaced atomically; paths opened beneath a directory
 * (beneath.c).
 */
#ifndef DPHP_FILE_H
#define DPHP_FILE_H

#include <sys/types.h>

#include <stddef.h>

/* an input named on the command line, "-" standard input (dup'ed, to
 * be closed): an fd, or -1 and errno */
int dphp_open_input(const char *path);
/* its name in messages: "<stdin>" for "-" */
const char *dphp_input_name(const char *path);
/* standard input copied whole into an unlinked file under $TMPDIR, for
 * a reader that reads it more than once: an fd at 0, or -1 (reported) */
int dphp_spool_stdin(void);
/* flock(2) fd how, again after EINTR: 0, or -1 and errno */
int dphp_flock(int fd, int how);
/* write all n bytes, again after EINTR: 0, or -1 and errno */
int dphp_write_all(int fd, const char *, size_t n);
/* a whole small regular file relative to dfd, not through a link,
 * NUL-terminated: new, or NULL and errno (EFBIG: longer than max) */
char *dphp_slurpat(int dfd, const char *name, size_t max, size_t *len);
/* the same for a file named by path, a link followed */
char *dphp_slurp(const char *path, size_t max, size_t *len);
/* the same, read under a shared flock(2): never while it is overwritten */
char *dphp_slurpat_shared(int dfd, const char *name, size_t max,
    size_t *len);
/*
 * Overwrite the file NAME (relative to dfd; old bytes long) with text in
 * place, under an exclusive flock(2), so that readers that take a shared
 * one see the old text or the new, never a part.  A shorter text that
 * ends in a newline is padded with blanks before it to the old length
 * (JSON readers skip them), unless that would be more than half of the
 * file's length past 4096 bytes: then it is truncated.  Not synced; a
 * crash may leave it torn.  0, or -1 and errno.
 */
int dphp_overwrite_at(int dfd, const char *name, const char *text,
    size_t len, size_t old);

/*
 * Replacing NAME (relative to dfd) whole: the new content is written to
 * .NAME.tmp beside it, which is synced, closed and renamed over NAME,
 * so that a reader finds the old file or the new one, never a part.
 * The temporary name must be the caller's alone (under its lock, or
 * the file only it writes): a stale one, left by a writer that died,
 * is removed first.  Making the rename durable (an fsync of the
 * directory) is the caller's, once for all the files it replaced.
 * The steps are apart so that a group commit can write all its files,
 * sync them at once and then rename them.  Each returns 0, or -1 with
 * errno and step naming what failed; after a failure, or to give up,
 * dphp_temp_discard removes the temporary file (it is safe to call at
 * any time, and once the rename is made it does nothing).
 */
struct dphp_tempfile {
	int dfd, fd;		/* the directory; the temporary, or -1 */
	char *name, *tmp;	/* NAME and .NAME.tmp, or NULL once done */
	const char *step;	/* "create", "write", "fsync", "rename"... */
};
int dphp_temp_open(struct dphp_tempfile *, int dfd, const char *name);
int dphp_temp_write(struct dphp_tempfile *, const char *, size_t);
/* close, first syncing it if sync */
int dphp_temp_close(struct dphp_tempfile *, int sync);
int dphp_temp_rename(struct dphp_tempfile *);
void dphp_temp_discard(struct dphp_tempfile *);
/* all the steps for text: 0, or -1 and errno (the temporary removed) */
int dphp_replace_at(int dfd, const char *name, const char *text,
    size_t len, int sync);

/*
 * beneath.c: open path (of several components) beneath the directory
 * dfd, following no symbolic link on the way (ELOOP), as openat(2)
 * otherwise; make the directories of path that are missing, the same
 * way (*made set when one was made).  0 or -1 and errno.
 */
int dphp_openat_beneath(int dfd, const char *path, int flags, mode_t mode);
int dphp_mkdirs_beneath(int dfd, const char *path, mode_t mode, int *made);

#endif
