/*
 * queue_dir.c - the queue of the directory backend: the inbox
 * STORE/queue/{tmp,new,cur} after Maildir, the delay spool STORE/delay,
 * and STORE/queue/bad for files found not to be events.
 *
 * A queue file holds one envelope and is named TIME.SHARD.ID: TIME the
 * millisecond time it is due (its delay, else its ts) in 13 digits and
 * its place among the events admitted together in 3 more, so that names
 * sort in queue order (events a handler emits at once keep their order);
 * SHARD the hash of its destination in hex,
 * so that a worker picks its part by name alone; ID the event id, so
 * that the same event delivered twice before it is taken is one file.
 * The name is also the receipt a worker acknowledges it with.
 *
 * Admitting writes tmp/NAME.PID.N, syncs it and renames it into new/
 * (or delay/), then syncs that directory: readers never look in tmp/,
 * and an event is admitted only once its name is durable.  Claiming
 * sets the mtime of new/NAME to the lease expiry and renames it into
 * cur/: of two workers one rename wins.  An ack unlinks cur/NAME, a
 * nack renames it back.  Neither is synced: lost on a crash, the claim
 * comes back and the event is applied again, which the histories'
 * dedupe window turns into a no-op.  Expired claims are moved into
 * retry/ under an flock on cur/, with the mtime checked again under
 * it, so that a claim just renewed by another worker is not stolen.
 *
 * An event taken and not finished (its claim ran out, or a stage gave
 * it back failed) is a suspect: it may be what stops the worker.  It is
 * written again, synced, into retry/ with a second line,
 * {"tries":N,"why":...},
 * and is taken from there only by a worker with nothing else in
 * flight, alone, so that the events taken with it are not counted
 * against.  One taken as often as the worker's limit is set aside into
 * bad/, the dead letters, with NAME.why saying why; so are files that
 * are not events.
 */
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "queue_dir.h"
#include "remover.h"
#include "store.h"
#include "util.h"

#define STALE_TMP_MS (36 * 3600 * 1000LL)	/* djb's rule for tmp/ */
#define EXPIRE_LOOK_MS 1000	/* the longest between looks for claims
				 * run out */

static const char *const qpath[Q_NDIRS] = {
	"queue/tmp", "queue/new", "queue/cur", "queue/bad", "queue/retry",
	"delay"
};

static void names_free(char **, size_t);

void
dirq_init(struct dirstore *ds)
{
	int i;

	for (i = 0; i < Q_NDIRS; i++)
		ds->q[i] = -1;
	ds->inotify = ds->wd_new = ds->wd_cur = -1;
	ds->remover = NULL;
	ds->expire_at = ds->expire_by = 0;	/* look at once */
}

int
dirq_close(struct dirstore *ds)
{
	int i, r = dphp_remover_stop(ds->remover);

	for (i = 0; i < Q_NDIRS; i++)
		if (ds->q[i] >= 0)
			close(ds->q[i]);
	if (ds->inotify >= 0)
		close(ds->inotify);
	json_decref(ds->claims);
	names_free(ds->ready, ds->nready);
	return r;
}

/* make (durably) and open the queue's directories; 0 or -1 */
static int
qopen(struct dphp_store *st)
{
	struct dirstore *ds = (struct dirstore *)st;
	int i, made = 0, fd;

	if (ds->q[0] >= 0)
		return 0;
	for (i = 0; i < Q_NDIRS; i++)
		if (dphp_mkdirs_beneath(ds->fd, qpath[i], 0777, &made) != 0) {
			dphp_error("cannot make '%s':", qpath[i]);
			return -1;
		}
	if (made && ((fd = openat(ds->fd, "queue", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) < 0 || fsync(fd) != 0 || close(fd) != 0 ||
	    fsync(ds->fd) != 0)) {
		dphp_error("cannot sync the new queue directories:");
		return -1;
	}
	for (i = 0; i < Q_NDIRS; i++)
		if ((ds->q[i] = dphp_openat_beneath(ds->fd, qpath[i], O_RDONLY |
		    O_DIRECTORY | O_CLOEXEC, 0)) < 0) {
			dphp_error("cannot open '%s':", qpath[i]);
			while (i-- > 0) {
				close(ds->q[i]);
				ds->q[i] = -1;
			}
			return -1;
		}
	return 0;
}

#define Q(st, i) (((struct dirstore *)(st))->q[i])

static int
syncq(struct dphp_store *st, int i)
{
	if (fsync(Q(st, i)) == 0)
		return 0;
	dphp_error("cannot sync '%s':", qpath[i]);
	return -1;
}

/* not synced: an event that comes anyway must be harmless */
int
dirq_cancel(struct dphp_store *st, json_t *env)
{
	struct dphp_desc d;
	char buf[1024], *name;
	int r = 0;

	if (dphp_envelope_check(env, &d, buf, sizeof(buf)) != 0 ||
	    d.delay == NULL || qopen(st) != 0)
		return -1;
	name = dphp_queue_name(&d, 0);
	if (unlinkat(Q(st, Q_DELAY), name, 0) != 0 && errno != ENOENT) {
		dphp_error("cannot remove 'delay/%s':", name);
		r = -1;
	}
	free(name);
	return r;
}

int
dirq_admit(struct dphp_store *st, json_t **envs, const size_t *seq, size_t n)
{
	return dirq_deliver(st, envs, seq, n, 1);
}

int
dirq_deliver(struct dphp_store *st, json_t **envs, const size_t *seq,
    size_t n, int sync)
{
	struct dphp_desc d;
	char buf[1024], **name, **tmp, *text;
	json_t *e;
	int64_t now = dphp_now_ms();
	int *fd, *dest, used[Q_NDIRS] = { 0 };
	size_t i;
	int r = -1;

	if (n == 0)
		return 0;
	if (qopen(st) != 0)
		return -1;
	name = xcalloc(n, sizeof(*name));
	tmp = xcalloc(n, sizeof(*tmp));
	fd = xcalloc(n, sizeof(*fd));
	dest = xcalloc(n, sizeof(*dest));
	for (i = 0; i < n; i++)
		fd[i] = -1;
	for (i = 0; i < n; i++) {
		if (dphp_envelope_check(envs[i], &d, buf, sizeof(buf))) {
			dphp_error("cannot queue an invalid event: %s", buf);
			goto out;
		}
		name[i] = dphp_queue_name(&d, seq ? seq[i] : i);
		dest[i] = d.delay && d.delay_ms > now ? Q_DELAY : Q_NEW;
		tmp[i] = xasprintf("%s.%ld.%zu", name[i], (long)getpid(), i);
		e = json_copy(envs[i]);	/* receipt, fence, ahead: not part of it */
		json_object_del(e, "receipt");
		json_object_del(e, "fence");
		json_object_del(e, "ahead");
		text = dphp_json_text(e, NULL);
		json_decref(e);
		fd[i] = openat(Q(st, Q_TMP), tmp[i], O_WRONLY | O_CREAT |
		    O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd[i] < 0 || dphp_write_all(fd[i], text, strlen(text)) ||
		    dphp_write_all(fd[i], "\n", 1)) {
			dphp_error("cannot queue event %s: %s:", d.id,
			    fd[i] < 0 ? "create" : "write");
			free(text);
			goto out;
		}
		free(text);
	}
	/* one syncfs for many files: see dir_batch in store_dir.c */
	if (sync && n > 1 && syncfs(Q(st, Q_TMP)) != 0) {
		dphp_error("cannot queue %zu events: syncfs:", n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((sync && n == 1 && fsync(fd[i]) != 0) ||
		    close(fd[i]) != 0) {
			fd[i] = -1;
			dphp_error("cannot queue event %s: fsync:", name[i] +
			    26);
			goto out;
		}
		fd[i] = -1;
	}
	for (i = 0; i < n; i++) {
		if (renameat(Q(st, Q_TMP), tmp[i], Q(st, dest[i]),
		    name[i]) != 0) {
			dphp_error("cannot deliver '%s/%s':", qpath[dest[i]],
			    name[i]);
			goto out;
		}
		free(tmp[i]);
		tmp[i] = NULL;
		used[dest[i]] = 1;
	}
	if (sync && ((used[Q_NEW] && syncq(st, Q_NEW)) ||
	    (used[Q_DELAY] && syncq(st, Q_DELAY))))
		goto out;
	r = 0;
out:
	for (i = 0; i < n; i++) {
		if (fd[i] >= 0)
			close(fd[i]);
		if (tmp[i] != NULL)
			unlinkat(Q(st, Q_TMP), tmp[i], 0);
		free(tmp[i]);
		free(name[i]);
	}
	free(name);
	free(tmp);
	free(fd);
	free(dest);
	return r;
}

/* a claim this program acknowledged is not pending, removed or not */
int
dirq_pending(struct dphp_store *st, const char *receipt)
{
	struct stat sb;

	if (qopen(st) != 0)
		return 1;	/* when in doubt, deliver again */
	return (!dphp_remover_has(((struct dirstore *)st)->remover, receipt) &&
	    fstatat(Q(st, Q_CUR), receipt, &sb, AT_SYMLINK_NOFOLLOW) == 0) ||
	    fstatat(Q(st, Q_NEW), receipt, &sb, AT_SYMLINK_NOFOLLOW) == 0 ||
	    fstatat(Q(st, Q_RETRY), receipt, &sb, AT_SYMLINK_NOFOLLOW) == 0;
}

static int
byname(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in queue directory i, sorted; NULL after a message. */
static char **
names(struct dphp_store *st, int i, size_t *n)
{
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0;
	DIR *d;
	int fd;

	*n = 0;
	if ((fd = dup(Q(st, i))) < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		dphp_error("cannot read '%s':", qpath[i]);
		return NULL;
	}
	rewinddir(d);
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (*n + 1 >= cap)
			v = xrealloc(v, (cap = cap ? 2 * cap : 64) * sizeof(*v));
		v[(*n)++] = xstrdup(de->d_name);
	}
	if (errno != 0) {
		dphp_error("cannot read '%s':", qpath[i]);
		closedir(d);
		while (*n > 0)
			free(v[--*n]);
		free(v);
		return NULL;
	}
	closedir(d);
	if (v == NULL)
		v = xmalloc(sizeof(*v));
	qsort(v, *n, sizeof(*v), byname);
	return v;
}

static void
names_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	while (n > 0)
		free(v[--n]);
	free(v);
}

/* the claims set from a listing of queue/cur (NULL if it fails) */
static json_t *
list_claims(struct dphp_store *st)
{
	json_t *set;
	char **v;
	size_t i, n;

	if ((v = names(st, Q_CUR, &n)) == NULL)
		return NULL;
	set = json_object();
	for (i = 0; i < n; i++)
		json_object_set_new_nocheck(set, v[i], json_true());
	names_free(v, n);
	return set;
}

/*
 * Watch the queue's directories, once: a wait wakes when anything
 * comes or goes, a take knows whether queue/new has to be listed again,
 * and the claims in queue/cur are known without a look at each.  The
 * claims are listed after the watch is set, so that with its events,
 * read in order, the set follows queue/cur exactly.  Without inotify,
 * waits poll the clock and claims are looked at.
 */
static void
watch(struct dphp_store *st)
{
	struct dirstore *ds = (struct dirstore *)st;
	char path[64];
	int i, wd;

	if (ds->inotify >= 0 ||
	    (ds->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
		return;
	for (i = Q_NEW; i <= Q_DELAY; i++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", ds->q[i]);
		wd = inotify_add_watch(ds->inotify, path, IN_CREATE |
		    IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE);
		if (i == Q_NEW)
			ds->wd_new = wd;
		if (i == Q_CUR)
			ds->wd_cur = wd;
	}
	ds->arrivals = 1;
	if (ds->wd_cur >= 0)
		ds->claims = list_claims(st);
}

/*
 * Read what the watch saw, in order: arrivals in queue/new, claims
 * coming into and leaving queue/cur.  When events were lost (the
 * kernel's queue ran over), queue/new is listed again and queue/cur
 * too.  Events read here (not by a wait) wake the next wait at once.
 */
static void
drain(struct dphp_store *st)
{
	struct dirstore *ds = (struct dirstore *)st;
	char buf[4096] __attribute__((aligned(__alignof__(struct
	    inotify_event))));
	const struct inotify_event *ev;
	int lost = 0;
	ssize_t len;
	char *p;

	if (ds->inotify < 0)
		return;
	while ((len = read(ds->inotify, buf, sizeof(buf))) > 0) {
		ds->woken = 1;
		for (p = buf; p < buf + len; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW)
				lost = 1;
			else if (ev->wd == ds->wd_new &&
			    (ev->mask & (IN_CREATE | IN_MOVED_TO)))
				ds->arrivals = 1;
			else if (ev->wd != ds->wd_cur || ev->len == 0 ||
			    ds->claims == NULL)
				continue;
			else if (ev->mask & (IN_CREATE | IN_MOVED_TO))
				json_object_set_new_nocheck(ds->claims,
				    ev->name, json_true());
			else
				json_object_del(ds->claims, ev->name);
		}
	}
	if (lost) {
		ds->arrivals = 1;
		json_decref(ds->claims);
		ds->claims = ds->wd_cur >= 0 ? list_claims(st) : NULL;
	}
}

/* Has anything come into queue/new since it was last listed? */
static int
arrived(struct dphp_store *st)
{
	struct dirstore *ds = (struct dirstore *)st;
	int any;

	if (ds->inotify < 0 || ds->ready == NULL)
		return 1;
	drain(st);
	any = ds->arrivals;
	ds->arrivals = 0;
	return any;
}

/*
 * The ready names to try, in queue order: the rest of the last listing
 * of queue/new while nothing came into it (names claimed by others
 * meanwhile are found gone when claimed), else a new listing.  Listing
 * a long queue at every round made draining it quadratic.
 */
static int
ready_names(struct dphp_store *st)
{
	struct dirstore *ds = (struct dirstore *)st;

	if (!arrived(st) && ds->iready < ds->nready)
		return 0;
	names_free(ds->ready, ds->nready);
	ds->iready = 0;
	ds->ready = names(st, Q_NEW, &ds->nready);
	return ds->ready == NULL ? -1 : 0;
}

/*
 * Set the file from/NAME aside into bad/, with bad/NAME.why saying why
 * (and after how many tries), and say so.  0, or -1 after a message.
 */
static int
bury(struct dphp_store *st, int from, const char *name, const char *why,
    unsigned tries)
{
	char at[25], *side, *text;
	json_t *v;
	int fd, r = -1;

	dphp_time_format(dphp_now_ms(), at);
	v = json_pack("{sssssi}", "reason", why, "at", at, "tries", (int)tries);
	text = dphp_json_text(v, NULL);
	json_decref(v);
	side = xasprintf("%s.why", name);
	if ((fd = openat(Q(st, Q_BAD), side, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0666)) >= 0 && dphp_write_all(fd, text,
	    strlen(text)) == 0 && dphp_write_all(fd, "\n", 1) == 0 &&
	    fsync(fd) == 0 && close(fd) == 0) {
		fd = -1;
		if (renameat(Q(st, from), name, Q(st, Q_BAD), name) == 0 ||
		    errno == ENOENT)
			r = syncq(st, Q_BAD);
	}
	if (fd >= 0)
		close(fd);
	if (r != 0)
		dphp_error("cannot set '%s/%s' aside in queue/bad:",
		    qpath[from], name);
	else
		dphp_error("%s/%s: %s (moved to queue/bad)", qpath[from],
		    name, why);
	free(side);
	free(text);
	return r;
}

/* Move a file that is not an event out of the way, and say so. */
static void
setaside(struct dphp_store *st, int from, const char *name, const char *why)
{
	bury(st, from, name, why, 0);
}

long
dirq_release(struct dphp_store *st)
{
	struct stat sb;
	char **v;
	size_t i, n;
	int64_t now = dphp_now_ms();
	long moved = 0;

	if (qopen(st) != 0 || (v = names(st, Q_DELAY, &n)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (!dphp_qname_valid(v[i])) {
			setaside(st, Q_DELAY, v[i], "not a queue file name");
			continue;
		}
		if (dphp_queue_due(v[i]) > now)
			break;	/* sorted: the rest are later */
		if (renameat(Q(st, Q_DELAY), v[i], Q(st, Q_NEW), v[i]) == 0)
			moved++;
		else if (errno != ENOENT) {
			dphp_error("cannot move 'delay/%s' to queue/new:", v[i]);
			names_free(v, n);
			return -1;
		}
	}
	names_free(v, n);
	if (moved > 0 && (syncq(st, Q_NEW) || syncq(st, Q_DELAY)))
		return -1;
	/* temporary files of admissions killed long ago */
	if ((v = names(st, Q_TMP, &n)) != NULL) {
		for (i = 0; i < n; i++)
			if (fstatat(Q(st, Q_TMP), v[i], &sb,
			    AT_SYMLINK_NOFOLLOW) == 0 && sb.st_mtime * 1000LL <
			    now - STALE_TMP_MS)
				unlinkat(Q(st, Q_TMP), v[i], 0);
		names_free(v, n);
	}
	return moved;
}

static int64_t
mtime_ms(const struct stat *sb)
{
	return sb->st_mtim.tv_sec * 1000LL + sb->st_mtim.tv_nsec / 1000000;
}

/*
 * A queue file as read: the envelope's text, and its second line, what
 * the queue knows of it ({"tries":N,"why":...}), or NULL.  0, or -1 and
 * errno (EFBIG for a file longer than a line may be).
 */
struct qfile {
	char *text;
	size_t len;		/* of the envelope's line */
	json_t *meta;
};

static int
qread(struct dphp_store *st, int dir, const char *name, struct qfile *q)
{
	char *nl;

	memset(q, 0, sizeof(*q));
	/* never read more than a line may hold, and its second line */
	if ((q->text = dphp_slurpat(Q(st, dir), name, DPHP_MAX_LINE + 4096,
	    &q->len)) == NULL)
		return -1;
	if ((nl = memchr(q->text, '\n', q->len)) != NULL) {
		q->meta = json_loadb(nl + 1, q->len - (nl + 1 - q->text), 0,
		    NULL);
		if (!json_is_object(q->meta)) {
			json_decref(q->meta);
			q->meta = NULL;
		}
		q->len = nl - q->text;
	}
	return 0;
}

static void
qfree(struct qfile *q)
{
	free(q->text);
	json_decref(q->meta);
}

static unsigned
tries_of(const struct qfile *q)
{
	json_int_t n = json_integer_value(json_object_get(q->meta, "tries"));

	return n > 0 && n < 1000000 ? (unsigned)n : 0;
}

/*
 * The event dir/NAME taken and not finished, for why: written again,
 * its tries counted, into retry/ (not synced: a count lost in a crash
 * only allows one more try).  0, or -1 after a message.
 */
static int
suspect(struct dphp_store *st, int dir, const char *name, const char *why)
{
	struct qfile q;
	char *tmp, *meta;
	json_t *m;
	int fd, r = -1;

	if (qread(st, dir, name, &q) != 0)
		return errno == ENOENT ? 0 : -1;
	m = json_pack("{siss}", "tries", (int)tries_of(&q) + 1, "why", why);
	meta = dphp_json_text(m, NULL);
	json_decref(m);
	tmp = xasprintf("%s.%ld.retry", name, (long)getpid());
	if ((fd = openat(Q(st, Q_TMP), tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0666)) >= 0 &&
	    dphp_write_all(fd, q.text, q.len) == 0 &&
	    dphp_write_all(fd, "\n", 1) == 0 &&
	    dphp_write_all(fd, meta, strlen(meta)) == 0 &&
	    dphp_write_all(fd, "\n", 1) == 0 && fsync(fd) == 0 &&
	    close(fd) == 0) {
		/* the only copy moves: durable in retry/ before it leaves */
		fd = -1;
		if (renameat(Q(st, Q_TMP), tmp, Q(st, Q_RETRY), name) == 0 &&
		    syncq(st, Q_RETRY) == 0 &&
		    (unlinkat(Q(st, dir), name, 0) == 0 || errno == ENOENT))
			r = 0;
	}
	if (fd >= 0)
		close(fd);
	if (r != 0) {
		dphp_error("cannot give back '%s/%s':", qpath[dir], name);
		unlinkat(Q(st, Q_TMP), tmp, 0);
	}
	free(tmp);
	free(meta);
	qfree(&q);
	return r;
}

/*
 * Give expired claims back to the queue, as suspects.  Looking costs a
 * stat of every claim, so it is done when the earliest lease seen (here
 * or by dirq_stat) ends, and otherwise every EXPIRE_LOOK_MS (a quarter
 * of this worker's lease, if shorter), for the claims made since by
 * other workers: a claim that runs out is given back that much late at
 * most.
 */
static int
expire(struct dphp_store *st, int64_t lease_ms)
{
	struct dirstore *ds = (struct dirstore *)st;
	struct stat sb;
	char **v;
	size_t i, n;
	int64_t now = dphp_now_ms(), mono = dphp_monotonic_ms(), t;
	int r = 0;

	if (now < ds->expire_at && mono < ds->expire_by)
		return 0;
	ds->expire_at = INT64_MAX;
	ds->expire_by = mono + (lease_ms / 4 < EXPIRE_LOOK_MS ?
	    lease_ms / 4 : EXPIRE_LOOK_MS);
	if (flock(Q(st, Q_CUR), LOCK_EX) != 0) {
		dphp_error("cannot lock queue/cur:");
		return -1;
	}
	if ((v = names(st, Q_CUR, &n)) == NULL)
		r = -1;
	for (i = 0; r == 0 && i < n; i++) {
		if (fstatat(Q(st, Q_CUR), v[i], &sb, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if ((t = mtime_ms(&sb)) <= now)
			r = suspect(st, Q_CUR, v[i], "its claim ran out: the "
			    "worker stopped or hung");
		else if (t < ds->expire_at)
			ds->expire_at = t;
	}
	if (v != NULL)
		names_free(v, n);
	flock(Q(st, Q_CUR), LOCK_UN);
	return r;
}

/*
 * Claim from/NAME (new/ or retry/) until now + lease: 1, 0 if another
 * worker was first.
 */
static int
claim(struct dphp_store *st, int from, const char *name, int64_t lease_ms)
{
	struct timespec ts[2];
	int64_t until = dphp_now_ms() + lease_ms;

	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = until / 1000;
	ts[1].tv_nsec = until % 1000 * 1000000;
	/*
	 * Not over a claim of the same name: an event queued again (let
	 * go by a lock it was parked on) while the claim that parked it
	 * is not yet acknowledged would be unlinked by that ack.  It is
	 * taken once that claim is gone.
	 */
	if (utimensat(Q(st, from), name, ts, AT_SYMLINK_NOFOLLOW) != 0 ||
	    renameat2(Q(st, from), name, Q(st, Q_CUR), name,
	    RENAME_NOREPLACE) != 0) {
		if (errno == ENOENT || errno == EEXIST)
			return 0;
		dphp_error("cannot claim '%s/%s':", qpath[from], name);
		return -1;
	}
	return 1;
}

/*
 * The claimed event cur/NAME (described in d, its receipt added, its
 * tries counted), or NULL after setting it aside: not an event, or
 * taken too often (part's limit).
 */
static json_t *
load(struct dphp_store *st, const struct dphp_queue_part *part,
    const char *name, struct dphp_desc *d)
{
	json_error_t err;
	struct qfile q;
	const char *last;
	char buf[1200], reason[1024];
	json_t *env = NULL;
	unsigned tries;

	if (qread(st, Q_CUR, name, &q) != 0) {
		if (errno == ENOENT)	/* expired and taken meanwhile */
			return NULL;
		if (errno == EFBIG)
			snprintf(buf, sizeof(buf), "longer than a line may be "
			    "(%d bytes)", DPHP_MAX_LINE);
		else
			snprintf(buf, sizeof(buf), "cannot read: %s",
			    strerror(errno));
		setaside(st, Q_CUR, name, buf);
		return NULL;
	}
	tries = tries_of(&q);
	if ((env = json_loadb(q.text, q.len, JSON_REJECT_DUPLICATES,
	    &err)) == NULL) {
		snprintf(buf, sizeof(buf), "invalid JSON: %s", err.text);
		goto aside;
	}
	if (!json_is_object(env) ||
	    dphp_envelope_check(env, d, reason, sizeof(reason)) != 0) {
		snprintf(buf, sizeof(buf), "invalid event: %s",
		    json_is_object(env) ? reason : "not an object");
		goto aside;
	}
	if (!dphp_qname_of(name, d)) {
		snprintf(buf, sizeof(buf), "the name does not match the event");
		goto aside;
	}
	if (part->tries > 0 && tries >= part->tries) {
		last = json_string_value(json_object_get(q.meta, "why"));
		snprintf(buf, sizeof(buf), "taken %u times and never finished; "
		    "the last time, %s", tries, last ? last : "?");
		bury(st, Q_CUR, name, buf, tries);
		json_decref(env);
		qfree(&q);
		return NULL;
	}
	qfree(&q);
	json_object_set_new(env, "receipt", json_string(name));
	d->receipt = json_string_value(json_object_get(env, "receipt"));
	d->tries = tries;
	return env;
aside:
	json_decref(env);
	qfree(&q);
	setaside(st, Q_CUR, name, buf);
	return NULL;
}

/*
 * Take name from dir (claimed, loaded, handed to fn): 1 taken, 0 not
 * (another worker was first, or it was set aside: ++*bad), -1 error.
 */
static int
take1(struct dphp_store *st, const struct dphp_queue_part *part, int dir,
    const char *name, dphp_taken_fn *fn, void *arg, size_t *bad)
{
	struct dirstore *ds = (struct dirstore *)st;
	struct dphp_desc d;
	json_t *env;
	int r;

	if ((r = claim(st, dir, name, part->lease_ms)) <= 0)
		return r;
	/* known at once, not when the watch's event is read */
	if (ds->claims != NULL)
		json_object_set_new_nocheck(ds->claims, name, json_true());
	if ((env = load(st, part, name, &d)) == NULL) {
		++*bad;
		return 0;
	}
	r = fn(env, &d, arg);
	json_decref(env);
	return r != 0 ? -1 : 1;
}

long
dirq_take(struct dphp_store *st, const struct dphp_queue_part *part,
    size_t max, dphp_taken_fn *fn, void *arg, size_t *bad)
{
	struct dirstore *ds = (struct dirstore *)st;
	char **v;
	size_t i, n;
	long taken = 0;
	int r;

	if (qopen(st) != 0 || dirq_release(st) < 0 ||
	    expire(st, part->lease_ms) != 0)
		return -1;
	watch(st);
	/* a suspect goes alone: to a worker with nothing in flight, and
	 * nothing with it */
	if (part->idle && (v = names(st, Q_RETRY, &n)) != NULL) {
		for (i = 0; i < n && taken == 0; i++)
			if (dphp_qname_valid(v[i]) &&
			    dphp_queue_in_part(v[i], part))
				taken = take1(st, part, Q_RETRY, v[i], fn, arg,
				    bad);
		names_free(v, n);
		if (taken != 0)
			return taken;
	}
	if (ready_names(st) != 0)
		return -1;
	v = ds->ready;
	while (ds->iready < ds->nready && (size_t)taken < max) {
		i = ds->iready++;
		if (!dphp_qname_valid(v[i])) {
			setaside(st, Q_NEW, v[i], "not a queue file name");
			++*bad;
			continue;
		}
		if (!dphp_queue_in_part(v[i], part))
			continue;
		if ((r = take1(st, part, Q_NEW, v[i], fn, arg, bad)) < 0)
			return -1;
		taken += r;
	}
	return taken;
}

/*
 * A worker asks about each claim it has in flight, often: the watch
 * its takes set answers without a look at the file.  Its events are
 * read once a millisecond at most, not once a claim: a claim of this
 * worker's is in the set from the take on, so what is stale is only an
 * acknowledgement not seen yet.
 */
int
dirq_claimed(struct dphp_store *st, const char *receipt)
{
	struct dirstore *ds = (struct dirstore *)st;
	struct stat sb;
	int64_t now = dphp_monotonic_ms();

	if (qopen(st) != 0)
		return -1;
	if (dphp_remover_has(ds->remover, receipt))
		return 0;	/* acknowledged here */
	if (now != ds->drained_ms) {
		drain(st);
		ds->drained_ms = now;
	}
	if (ds->claims != NULL)
		return json_object_get(ds->claims, receipt) != NULL;
	if (fstatat(Q(st, Q_CUR), receipt, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	dphp_error("cannot look at 'queue/cur/%s':", receipt);
	return -1;
}

/* the claim's removal is left to a thread (remover.c): nothing waits
 * for it but the router's window, which sees it land */
int
dirq_ack(struct dphp_store *st, const char *receipt)
{
	struct dirstore *ds = (struct dirstore *)st;

	if (qopen(st) != 0)
		return -1;
	if (ds->remover == NULL && (ds->remover = dphp_remover_start(
	    Q(st, Q_CUR), "queue/cur")) == NULL)
		return -1;
	return dphp_remover_add(ds->remover, receipt);
}

int
dirq_fail(struct dphp_store *st, const char *receipt, const char *why)
{
	if (qopen(st) != 0)
		return -1;
	return suspect(st, Q_CUR, receipt, why);
}

int
dirq_bury(struct dphp_store *st, const char *receipt, const char *why)
{
	struct qfile q;
	unsigned tries = 0;

	if (qopen(st) != 0)
		return -1;
	if (qread(st, Q_CUR, receipt, &q) == 0) {
		tries = tries_of(&q);
		qfree(&q);
	}
	return bury(st, Q_CUR, receipt, why, tries + 1);
}

int
dirq_dead(struct dphp_store *st, dphp_dead_fn *fn, void *arg)
{
	struct qfile q;
	struct stat sb;
	json_t *why;
	char **v, *side, *text;
	size_t i, n, len;
	int r = 0;

	if (qopen(st) != 0 || (v = names(st, Q_BAD, &n)) == NULL)
		return -1;
	for (i = 0; r == 0 && i < n; i++) {
		/* NAME.why beside NAME says why; alone, it is an event */
		len = strlen(v[i]);
		if (len > 4 && strcmp(v[i] + len - 4, ".why") == 0) {
			v[i][len - 4] = '\0';
			r = fstatat(Q(st, Q_BAD), v[i], &sb,
			    AT_SYMLINK_NOFOLLOW);
			v[i][len - 4] = '.';
			if (r == 0)
				continue;
			r = 0;
		}
		side = xasprintf("%s.why", v[i]);
		text = dphp_slurpat(Q(st, Q_BAD), side, SIZE_MAX, &len);
		why = text ? json_loadb(text, len, 0, NULL) : NULL;
		free(text);
		free(side);
		if (qread(st, Q_BAD, v[i], &q) != 0)
			q.text = NULL, q.len = 0, q.meta = NULL;
		r = fn(v[i], why, q.text, q.len, arg);
		json_decref(why);
		qfree(&q);
	}
	names_free(v, n);
	return r;
}

int
dirq_nack(struct dphp_store *st, const char *receipt)
{
	if (qopen(st) != 0)
		return -1;
	if (renameat(Q(st, Q_CUR), receipt, Q(st, Q_NEW), receipt) != 0 &&
	    errno != ENOENT) {
		dphp_error("cannot give back 'queue/cur/%s':", receipt);
		return -1;
	}
	return 0;
}

int
dirq_stat(struct dphp_store *st, const struct dphp_queue_part *part,
    struct dphp_queue_stat *qs)
{
	struct dirstore *ds = (struct dirstore *)st;
	struct stat sb;
	char **v;
	size_t i, n;
	int64_t now = dphp_now_ms(), t;

	memset(qs, 0, sizeof(*qs));
	qs->next_ms = INT64_MAX;
	if (qopen(st) != 0)
		return -1;
	/*
	 * cur/, then delay/, then retry/ and new/: an event only ever moves
	 * into retry/ or new/ from the others (given back, run out, due, or
	 * queued by a stage before it acknowledges its input), so read in
	 * this order every event is seen somewhere, and a worker never
	 * takes the store for quiescent while an event is on its way.  (One
	 * claimed by another worker meanwhile can be missed: that worker
	 * finishes it.)
	 */
	if ((v = names(st, Q_CUR, &n)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (dphp_queue_in_part(v[i], part) && fstatat(Q(st, Q_CUR),
		    v[i], &sb, AT_SYMLINK_NOFOLLOW) == 0) {
			qs->claimed++;
			if ((t = mtime_ms(&sb)) < qs->next_ms)
				qs->next_ms = t;
			if (t < ds->expire_at)	/* one made since */
				ds->expire_at = t;
		}
	names_free(v, n);
	if ((v = names(st, Q_DELAY, &n)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (dphp_queue_in_part(v[i], part)) {
			qs->delayed++;
			if ((t = dphp_queue_due(v[i])) <= now)
				qs->due++;
			if (t < qs->next_ms)
				qs->next_ms = t;
		}
	names_free(v, n);
	if ((v = names(st, Q_RETRY, &n)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		qs->suspects += dphp_queue_in_part(v[i], part);
	names_free(v, n);
	if ((v = names(st, Q_NEW, &n)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		qs->ready += dphp_queue_in_part(v[i], part);
	names_free(v, n);
	return 0;
}

/*
 * A claim here lasts its lease and no longer: on one machine a worker
 * that ran late only finds its input done (the dedupe window), where a
 * claim kept alive would hold the event from a worker that is not.
 */
int
dirq_renew(struct dphp_store *st)
{
	(void)st;
	return 0;
}

int
dirq_wait(struct dphp_store *st, int64_t ms)
{
	struct dirstore *ds = (struct dirstore *)st;
	struct pollfd pf;

	if (qopen(st) != 0)
		return -1;
	watch(st);
	if (ds->inotify < 0) {		/* no inotify: poll the clock */
		pf.fd = -1;
		if (ms > 100)
			ms = 100;
	} else
		pf.fd = ds->inotify;
	if (ds->woken)		/* a take read what would wake it */
		ms = 0;
	ds->woken = 0;
	pf.events = POLLIN;
	if (poll(&pf, 1, ms > 0x7fffffff ? 0x7fffffff : (int)ms) > 0) {
		drain(st);
		ds->woken = 0;	/* this is the wait they woke */
	}
	return 0;
}
