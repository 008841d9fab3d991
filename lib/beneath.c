/*
 * beneath.c - paths opened and made beneath a directory, never through a
 * symbolic link.  Everything dphp keeps lives beneath its store's
 * directory; a link planted there (queue -> /etc) must never lead a
 * program out of it, nor make it write elsewhere.  openat(2) with
 * O_NOFOLLOW guards only the last component of a path, so a path of
 * several is opened with openat2(2) where the kernel has it
 * (RESOLVE_NO_SYMLINKS, RESOLVE_BENEATH: one call), else one component
 * at a time.  A link met is ELOOP.
 */
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

#include "file.h"
#include "util.h"

/* the walk, for kernels without openat2 */
static int
walk(int dfd, const char *path, int flags, mode_t mode)
{
	char *copy = xstrdup(path), *comp = copy, *slash;
	int fd = dfd, next;

	while ((slash = strchr(comp, '/')) != NULL) {
		*slash = '\0';
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd != dfd)
			close(fd);
		if (next < 0) {
			free(copy);
			return -1;
		}
		fd = next;
		comp = slash + 1;
	}
	next = openat(fd, comp, flags | O_NOFOLLOW, mode);
	if (fd != dfd) {
		int saved = errno;

		close(fd);
		errno = saved;
	}
	free(copy);
	return next;
}

int
dphp_openat_beneath(int dfd, const char *path, int flags, mode_t mode)
{
#ifdef SYS_openat2
	static int none;	/* the kernel has no openat2 */
	struct open_how how;
	long fd;

	if (!none) {
		memset(&how, 0, sizeof(how));
		how.flags = (unsigned)flags | O_NOFOLLOW;
		how.mode = flags & O_CREAT ? mode : 0;
		how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH;
		fd = syscall(SYS_openat2, dfd, path, &how, sizeof(how));
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return (int)fd;
		none = 1;	/* or seccomp says no: walk */
	}
#endif
	return walk(dfd, path, flags, mode);
}

int
dphp_mkdirs_beneath(int dfd, const char *path, mode_t mode, int *made)
{
	char *copy = xstrdup(path), *slash = copy;
	int fd, r = 0;

	do {
		slash = strchr(slash + 1, '/');
		if (slash != NULL)
			*slash = '\0';
		/* made relative to its parent, opened without following */
		if ((fd = dphp_openat_beneath(dfd, copy, O_RDONLY |
		    O_DIRECTORY | O_CLOEXEC, 0)) >= 0)
			close(fd);
		else if (errno != ENOENT)
			r = -1;
		else {
			char *leaf = strrchr(copy, '/');
			int pfd = dfd;

			if (leaf != NULL) {
				*leaf = '\0';
				pfd = dphp_openat_beneath(dfd, copy, O_RDONLY |
				    O_DIRECTORY | O_CLOEXEC, 0);
				*leaf = '/';
			}
			if (pfd < 0 || (mkdirat(pfd, leaf ? leaf + 1 : copy,
			    mode) != 0 && errno != EEXIST))
				r = -1;
			else if (made != NULL)
				*made = 1;
			if (pfd >= 0 && pfd != dfd)
				close(pfd);
		}
		if (slash != NULL)
			*slash = '/';
	} while (r == 0 && slash != NULL);
	free(copy);
	return r;
}
