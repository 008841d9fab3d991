/*
 * floor.c - the physical floor of one durable atomic replace on this
 * disk, for make bench: N times write a 200-byte file under a fresh
 * name (O_EXCL), fsync it, rename it over the target, fsync the
 * directory.  Prints the elapsed seconds.
 *
 *	floor dir n
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void
die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(4);
}

int
main(int argc, char *argv[])
{
	struct timespec t0, t1;
	char buf[200], tmp[64];
	long i, n;
	int dfd, fd;

	if (argc != 3 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: floor dir n\n");
		return 2;
	}
	if ((dfd = open(argv[1], O_RDONLY | O_DIRECTORY)) < 0)
		die(argv[1]);
	memset(buf, 'x', sizeof(buf));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		snprintf(tmp, sizeof(tmp), ".tmp.%ld", i);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			die("open");
		if (write(fd, buf, sizeof(buf)) != sizeof(buf))
			die("write");
		if (fsync(fd) != 0)
			die("fsync");
		if (close(fd) != 0)
			die("close");
		if (renameat(dfd, tmp, dfd, "target") != 0)
			die("rename");
		if (fsync(dfd) != 0)
			die("fsync dir");
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.6f\n", (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) /
	    1e9);
	return 0;
}
