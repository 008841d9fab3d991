/*
 * file.c - whole files beneath a directory: written all, read all, and
 * replaced atomically (file.h states the contract of a replacement).
 */
#include <sys/stat.h>

#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "util.h"

#define OVERWRITE_PAD_MAX 4096	/* a shorter text is padded to the old
				 * length within this, or half of it */

int
dphp_open_input(const char *path)
{
	if (strcmp(path, "-") == 0)
		return fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
	return open(path, O_RDONLY | O_CLOEXEC);
}

const char *
dphp_input_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

int
dphp_spool_stdin(void)
{
	const char *dir = getenv("TMPDIR");
	char *path, buf[65536];
	ssize_t n;
	int fd;

	path = xasprintf("%s/dphp-stdin.XXXXXX", dir && *dir ? dir : "/tmp");
	if ((fd = mkostemp(path, O_CLOEXEC)) < 0) {
		dphp_error("cannot make a file to hold <stdin> in '%s':", path);
		free(path);
		return -1;
	}
	unlink(path);
	free(path);
	for (;;) {
		if ((n = read(STDIN_FILENO, buf, sizeof(buf))) < 0 &&
		    errno == EINTR)
			continue;
		if (n < 0) {
			dphp_error("cannot read <stdin>:");
			break;
		}
		if (n == 0)
			return lseek(fd, 0, SEEK_SET) == 0 ? fd : (close(fd), -1);
		if (dphp_write_all(fd, buf, n) != 0) {
			dphp_error("cannot hold <stdin> in a temporary file:");
			break;
		}
	}
	close(fd);
	return -1;
}

int
dphp_write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= w;
	}
	return 0;
}

/* the whole file fd, closed after: see dphp_slurpat */
static char *
slurpfd(int fd, size_t max, size_t *lenp)
{
	struct stat sb;
	size_t len = 0, cap;
	ssize_t n;
	char *buf;

	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		if (errno == 0 || !S_ISREG(sb.st_mode))
			errno = EINVAL;
		close(fd);
		return NULL;
	}
	if ((uintmax_t)sb.st_size > max) {
		close(fd);
		errno = EFBIG;
		return NULL;
	}
	cap = (size_t)sb.st_size + 4096;
	buf = xmalloc(cap);
	for (;;) {
		if (len > max) {	/* the file grew under us */
			free(buf);
			close(fd);
			errno = EFBIG;
			return NULL;
		}
		if (len + 1 >= cap)
			buf = xrealloc(buf, cap *= 2);
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

char *
dphp_slurpat(int dfd, const char *name, size_t max, size_t *lenp)
{
	int fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return NULL;
	return slurpfd(fd, max, lenp);
}

char *
dphp_slurp(const char *path, size_t max, size_t *lenp)
{
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	return slurpfd(fd, max, lenp);
}

char *
dphp_slurpat_shared(int dfd, const char *name, size_t max, size_t *lenp)
{
	int fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return NULL;
	if (dphp_flock(fd, LOCK_SH) != 0) {
		close(fd);
		return NULL;
	}
	return slurpfd(fd, max, lenp);
}

int
dphp_overwrite_at(int dfd, const char *name, const char *text, size_t len,
    size_t old)
{
	char *padded = NULL;
	size_t n = len;
	int fd, r = -1, shrink;

	if ((fd = openat(dfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	/* blanks fill what is left of the old text, until it halves */
	shrink = len < old && ((old > OVERWRITE_PAD_MAX && len < old / 2) ||
	    len == 0 || text[len - 1] != '\n');
	if (len < old && !shrink) {
		n = old;
		padded = xmalloc(n);
		memcpy(padded, text, len - 1);
		memset(padded + len - 1, ' ', n - len);
		padded[n - 1] = '\n';
		text = padded;
	}
	if (dphp_flock(fd, LOCK_EX) == 0 &&
	    pwrite(fd, text, n, 0) == (ssize_t)n &&
	    (!shrink || ftruncate(fd, n) == 0))
		r = 0;
	free(padded);
	if (close(fd) != 0)
		r = -1;
	return r;
}

int
dphp_flock(int fd, int how)
{
	while (flock(fd, how) != 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

int
dphp_temp_open(struct dphp_tempfile *t, int dfd, const char *name)
{
	const char *base = strrchr(name, '/');

	base = base ? base + 1 : name;
	t->dfd = dfd;
	t->fd = -1;
	t->name = xstrdup(name);
	t->tmp = xasprintf("%.*s.%s.tmp", (int)(base - name), name, base);
	t->step = "create";
	t->fd = openat(dfd, t->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0666);
	if (t->fd < 0 && errno == EEXIST) {
		/* a stale one, left by a writer that died: only then */
		t->step = "remove stale";
		if (unlinkat(dfd, t->tmp, 0) != 0 && errno != ENOENT)
			return -1;
		t->step = "create";
		t->fd = openat(dfd, t->tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0666);
	}
	return t->fd < 0 ? -1 : 0;
}

int
dphp_temp_write(struct dphp_tempfile *t, const char *p, size_t n)
{
	t->step = "write";
	return dphp_write_all(t->fd, p, n);
}

int
dphp_temp_close(struct dphp_tempfile *t, int sync)
{
	int fd = t->fd;

	t->step = "fsync";
	if (sync && fsync(fd) != 0)
		return -1;
	t->step = "close";
	t->fd = -1;
	return close(fd);
}

int
dphp_temp_rename(struct dphp_tempfile *t)
{
	t->step = "rename";
	if (renameat(t->dfd, t->tmp, t->dfd, t->name) != 0)
		return -1;
	free(t->name);
	free(t->tmp);
	t->name = t->tmp = NULL;
	return 0;
}

void
dphp_temp_discard(struct dphp_tempfile *t)
{
	int e = errno;

	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->tmp != NULL)
		unlinkat(t->dfd, t->tmp, 0);
	free(t->name);
	free(t->tmp);
	t->name = t->tmp = NULL;
	errno = e;
}

int
dphp_replace_at(int dfd, const char *name, const char *text, size_t len,
    int sync)
{
	struct dphp_tempfile t;

	if (dphp_temp_open(&t, dfd, name) != 0 ||
	    dphp_temp_write(&t, text, len) != 0 ||
	    dphp_temp_close(&t, sync) != 0 || dphp_temp_rename(&t) != 0) {
		dphp_temp_discard(&t);
		return -1;
	}
	return 0;
}
