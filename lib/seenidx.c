/*
 * seenidx.c - the older ids of an entity's dedupe window, kept by a
 * directory store beside the record (KEY.seen, dphp-store(5)), so that
 * the record holds only the newest few and an operation costs the same
 * however long its history.
 *
 * The file is a hash table of pages of SLOTS slots, each the 128-bit
 * hash of an id and when it was applied (ms; 0: empty), written in
 * place; the number of pages is the file's size over PAGE.  An id's
 * hash picks its page; adding it takes a slot of the same hash, else an
 * empty or expired one.  A page full of live ids doubles the table (a
 * new file, synced and renamed over the old), up to MAXPAGES, where the
 * oldest id of the page gives way instead: the newest DPHP_DEDUPE_MAX
 * ids fall about DPHP_DEDUPE_MAX / MAXPAGES to a page, so that none is
 * pushed out before its hour in practice (a page would need more than
 * twice its share).  A file starts at one page, 4 KiB.  It is in the
 * machine's byte order: it is not part of a snapshot.
 *
 * Its writer syncs it before the record that drops the ids from the
 * window is written: an id is in the window, or here, or forgotten by
 * age.  A page torn by a crash in the middle of its write can only
 * garble ids the record still holds (the write of the record comes
 * after), or its other slots' bytes, which are written unchanged.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dedupe.h"
#include "file.h"
#include "id.h"
#include "util.h"

#define PAGE 4096
#define MAXPAGES 128

struct slot {
	uint64_t h[2];
	int64_t t;
};
#define SLOTS (PAGE / sizeof(struct slot))
struct page {
	struct slot s[SLOTS];
	char pad[PAGE - SLOTS * sizeof(struct slot)];
};
typedef char page_is_page_size[sizeof(struct page) == PAGE ? 1 : -1];

static size_t
pages(int fd)
{
	struct stat sb;

	if (fstat(fd, &sb) != 0)
		return 0;
	return sb.st_size < PAGE ? 1 : (size_t)(sb.st_size / PAGE);
}

static int
readpage(int fd, size_t p, struct page *page)
{
	ssize_t n;

	memset(page, 0, PAGE);
	/* a page past the end, or a hole, reads as empty slots */
	while ((n = pread(fd, page, PAGE, (off_t)p * PAGE)) < 0 &&
	    errno == EINTR)
		;
	return n < 0 ? -1 : 0;
}

static int
writepage(int fd, size_t p, const struct page *page)
{
	const char *b = (const char *)page;
	size_t done = 0;
	ssize_t n;

	while (done < PAGE) {
		n = pwrite(fd, b + done, PAGE - done, (off_t)p * PAGE + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

static int
live(const struct slot *s, int64_t now)
{
	return s->t != 0 && now - s->t < DPHP_DEDUPE_MS;
}

/* the slot of page for h: its own, else a free one, else NULL */
static struct slot *
slotfor(struct page *page, const uint64_t h[2], int64_t now)
{
	struct slot *s, *free = NULL;

	for (s = page->s; s < page->s + SLOTS; s++) {
		if (s->h[0] == h[0] && s->h[1] == h[1] && s->t != 0)
			return s;
		if (free == NULL && !live(s, now))
			free = s;
	}
	return free;
}

/*
 * The table of fd, n pages, as a new file of 2n (its live ids moved to
 * their pages there), synced and renamed over name: the new fd, or -1.
 */
static int
grow(int dfd, const char *name, int fd, size_t n, int64_t now)
{
	struct dphp_tempfile t;
	struct page page, *to;
	struct slot *from, *s;
	size_t p;
	int nfd;

	to = xcalloc(2 * n, sizeof(*to));
	for (p = 0; p < n; p++) {
		if (readpage(fd, p, &page) != 0) {
			free(to);
			return -1;
		}
		/* page p's ids go to p or p + n: each has room for all */
		for (from = page.s; from < page.s + SLOTS; from++)
			if (live(from, now) && (s = slotfor(&to[from->h[0] %
			    (2 * n)], from->h, now)) != NULL)
				*s = *from;
	}
	if (dphp_temp_open(&t, dfd, name) != 0 ||
	    dphp_temp_write(&t, (const char *)to, 2 * n * sizeof(*to)) != 0 ||
	    dphp_temp_close(&t, 1) != 0 || dphp_temp_rename(&t) != 0) {
		dphp_temp_discard(&t);
		free(to);
		return -1;
	}
	free(to);
	nfd = openat(dfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (nfd >= 0)
		close(fd);
	return nfd;
}

/* add id, applied at t: fd, or another after the table grew, or -1 */
static int
add(int dfd, const char *name, int fd, const char *id, int64_t t,
    int64_t now)
{
	struct page page;
	struct slot *s, *o;
	uint64_t h[2];
	size_t n, p;

	dphp_id_hash128(id, h);
	for (;;) {
		n = pages(fd);
		p = h[0] % n;
		if (readpage(fd, p, &page) != 0)
			return -1;
		if ((s = slotfor(&page, h, now)) != NULL || n >= MAXPAGES)
			break;
		if ((fd = grow(dfd, name, fd, n, now)) < 0)
			return -1;
	}
	if (s == NULL) {	/* the oldest of a full page gives way */
		for (s = o = page.s; o < page.s + SLOTS; o++)
			if (o->t < s->t)
				s = o;
		if (s->t >= t)
			return fd;	/* older than all it keeps */
	}
	if (s->h[0] != h[0] || s->h[1] != h[1] || s->t < t) {
		s->h[0] = h[0];
		s->h[1] = h[1];
		s->t = t;
	}
	return writepage(fd, p, &page) != 0 ? -1 : fd;
}

int
dphp_seenidx_add(int dfd, const char *name, json_t *evict, int64_t now,
    int sync)
{
	const char *id;
	json_t *v;
	int64_t t;
	int fd, r = 0;

	fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0666);
	json_object_foreach(evict, id, v) {
		if (fd < 0)
			break;
		if (!json_is_string(v) ||
		    dphp_time_parse(json_string_value(v), &t) != 0 || t <= 0)
			t = now;
		if (now - t < DPHP_DEDUPE_MS)	/* else forgotten already */
			fd = add(dfd, name, fd, id, t, now);
	}
	if (fd < 0 || (sync && fdatasync(fd) != 0))
		r = -1;
	if (fd >= 0)
		close(fd);
	return r;
}

int
dphp_seenidx_has(int fd, const char *id, int64_t now)
{
	struct page page;
	struct slot *s;
	uint64_t h[2];

	dphp_id_hash128(id, h);
	if (readpage(fd, h[0] % pages(fd), &page) != 0)
		return -1;
	for (s = page.s; s < page.s + SLOTS; s++)
		if (s->h[0] == h[0] && s->h[1] == h[1] && live(s, now))
			return 1;
	return 0;
}
