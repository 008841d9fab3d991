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

char *
dphp_slurpat(int dfd, const char *name, size_t max, size_t *lenp)
{
	struct stat sb;
	size_t len = 0, cap;
	ssize_t n;
	char *buf;
	int fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return NULL;
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
