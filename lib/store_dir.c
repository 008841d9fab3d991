/*
 * store_dir.c - the directory backend: a state per file, named by the
 * reversible key encoding, under STORE/state/KIND/NAME/.  See
 * dphp-store(5) for the layout; the reasoning is here.
 *
 * The record file is the truth.  It holds {"etag":"G","state":...} or,
 * once deleted, the tombstone {"etag":"G","deleted":true}, where G is a
 * generation that grows by one with every commit and is never reused
 * (a tombstone keeps it, so a stale ETag cannot match a re-created
 * state: no ABA).  KEY.etag is a cache of G for shells; a crash after
 * the record's rename may leave it stale, and the next read repairs it.
 * A record committed by a worker also holds "outbox", the events the
 * commit emitted, so that state and outbox are one atomic write; they
 * go to the queue (queue_dir.c) once the record is durable.
 *
 * The journal is the write-ahead log of the states (journal_dir.c): a
 * commit of states holds the journal's lock from reading the records
 * to writing them, so two writers never both win, and is made when its
 * lines are synced; the records are then overwritten in place (a new
 * one written to .KEY.tmp and renamed into place) without a flush, and
 * a crash that loses or tears them is mended from the journal by the
 * next program to open the store.  Readers take a shared flock on the
 * record, its overwriting an exclusive one.  The
 * other records (locks, owners) are committed under an exclusive flock
 * on .KEY.lock, a batch taking the locks of all its keys in path order:
 * written to .KEY.tmp, fsynced, renamed over KEY, the directory
 * fsynced.  A failed flush fails the commit and is never retried (the
 * kernel may have dropped the dirty pages and cleared the error).
 * Because .KEY.tmp is only touched under a lock, a temp file left by a
 * killed writer is simply replaced by the next commit.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dedupe.h"
#include "file.h"
#include "jline.h"
#include "journal.h"
#include "journal_dir.h"
#include "queue_dir.h"
#include "util.h"

#define FORMAT "dphp-store 1\n"

/* the top directory of each space, indexed by enum dphp_space */

/* A record as read: gen 0 means no file at all. */
struct record {
	uint64_t gen;
	json_int_t seq;	/* its line in the journal; 0: none (not a state) */
	int deleted;
	json_t *state;
	json_t *outbox;	/* {"cause":ID,"receipt":R,"events":[...]} or NULL */
	size_t size;	/* of the file as read */
};

/* Where an id lives: its directory fd and the encoded leaf name. */
struct where {
	int dfd;
	char *leaf;		/* points into path */
	char *path;		/* relative to STORE, for messages */
	int committed;		/* its state's journal line is synced */
	int borrowed;		/* dfd belongs to a batch's directories */
};

static void
where_free(struct where *w)
{
	if (w->dfd >= 0 && !w->borrowed)
		close(w->dfd);
	free(w->path);
}

/* Name where id lives: w->path, SPACE/KIND/NAME/SEGMENTS/KEY in the store. */
static void
place(const struct dphp_id *id, struct where *w)
{
	char *enc = dphp_key_encode(id->key);

	w->path = xasprintf("%s/%s/%s/%s", dphp_space_dir[id->space],
	    dphp_kind_name(id->kind), id->name, enc);
	free(enc);
	w->leaf = strrchr(w->path, '/') + 1;
	w->dfd = -1;
	w->committed = w->borrowed = 0;
}

/*
 * Open w's directory (w named by place), each step O_NOFOLLOW so that
 * no link inside the store is followed, creating missing directories
 * when asked (made durable by syncparents once a key is committed in
 * them).  Returns 0, 1 when a directory is missing and create is 0, or
 * -1.
 */
static int
reach(struct dphp_store *st, int create, struct where *w)
{
	char *comp, *slash;
	int fd, next;

	/* the usual case, a directory there already: in one call */
	w->leaf[-1] = '\0';
	fd = dphp_openat_beneath(ROOT(st), w->path, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC, 0);
	w->leaf[-1] = '/';
	if (fd >= 0) {
		w->dfd = fd;
		return 0;
	}
	if (errno == ENOENT && !create)
		return 1;
	/* else step by step: to make what is missing, or to say where
	 * the trouble is */
	fd = ROOT(st);
	for (comp = w->path; comp < w->leaf; comp = slash + 1) {
		slash = strchr(comp, '/');
		*slash = '\0';
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, comp, 0777) != 0 && errno != EEXIST) {
				dphp_error("cannot create '%s':", w->path);
				goto fail;
			}
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0) {
			int missing = errno == ENOENT;

			if (!missing)
				dphp_error("cannot open directory '%s':",
				    w->path);
			*slash = '/';
			if (fd != ROOT(st))
				close(fd);
			return missing ? 1 : -1;
		}
		*slash = '/';
		if (fd != ROOT(st))
			close(fd);
		fd = next;
	}
	w->dfd = fd;
	return 0;
fail:
	*slash = '/';
	if (fd != ROOT(st))
		close(fd);
	return -1;
}

/* place and reach: where id lives, its directory opened */
static int
locate(struct dphp_store *st, const struct dphp_id *id, int create,
    struct where *w)
{
	place(id, w);
	return reach(st, create, w);
}

/*
 * locate, through dirs, the directories a batch has looked for so far
 * ({DIR: fd, or null when missing}): its changes mostly share one or
 * two (a kind's states, and its lock records, looked for by each
 * change's guard).  The batch closes them.
 */
static int
locate_in(struct dphp_store *st, const struct dphp_id *id, int create,
    struct where *w, json_t *dirs)
{
	json_t *d;
	char *dir;
	int r;

	place(id, w);
	dir = xasprintf("%.*s", (int)(w->leaf - 1 - w->path), w->path);
	d = json_object_get(dirs, dir);
	if (json_is_integer(d) || (d != NULL && !create)) {
		w->dfd = json_is_integer(d) ? json_integer_value(d) : -1;
		r = w->dfd >= 0 ? 0 : 1;
	} else if ((r = reach(st, create, w)) >= 0)
		json_object_set_new(dirs, dir, r == 0 ? json_integer(w->dfd) :
		    json_null());
	w->borrowed = w->dfd >= 0;
	free(dir);
	return r;
}

/*
 * fsync every directory above w's, from the store down.  A commit that
 * creates a key calls this: the directories it lives in may have been
 * made by a process that died before it fsynced their parents, and
 * until they are in their parents durably, so is nothing inside them.
 */
static int
syncparents(struct dphp_store *st, struct where *w, json_t *synced)
{
	char *slash;
	int fd, rc = 0;

	if (json_object_get(synced, "") == NULL) {
		if (fsync(ROOT(st)) != 0)
			return -1;
		json_object_set_new(synced, "", json_true());
	}
	for (slash = strchr(w->path, '/'); rc == 0 && slash != NULL &&
	    slash < w->leaf - 1; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		/* a batch creating many keys in one directory syncs it once */
		if (json_object_get(synced, w->path) == NULL) {
			fd = dphp_openat_beneath(ROOT(st), w->path, O_RDONLY |
			    O_DIRECTORY | O_CLOEXEC, 0);
			if (fd < 0 || fsync(fd) != 0)
				rc = -1;
			else
				json_object_set_new(synced, w->path,
				    json_true());
			if (fd >= 0)
				close(fd);
		}
		*slash = '/';
	}
	return rc;
}

/*
 * Read the record of w: 0 (rec->gen 0 when absent) or -1 with a
 * message; when corrupt is not NULL, a record that is not one sets it
 * instead, without a message.
 */
static int
readrec_or_not(struct where *w, struct record *rec, int *corrupt)
{
	json_error_t err;
	json_t *v, *e;
	const char *s;
	char *buf, *end;
	size_t len;

	memset(rec, 0, sizeof(*rec));
	if ((buf = dphp_slurpat_shared(w->dfd, w->leaf, SIZE_MAX,
	    &len)) == NULL) {
		if (errno == ENOENT)
			return 0;
		dphp_error("cannot read '%s':", w->path);
		return -1;
	}
	v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	free(buf);
	if (v == NULL && corrupt != NULL) {
		*corrupt = 1;
		return 0;
	}
	if (v == NULL) {
		dphp_error("corrupt record '%s': %s", w->path, err.text);
		return -1;
	}
	e = json_object_get(v, "etag");
	s = json_is_string(e) ? json_string_value(e) : "";
	errno = 0;
	rec->gen = strtoull(s, &end, 10);
	rec->deleted = json_is_true(json_object_get(v, "deleted"));
	rec->state = json_incref(json_object_get(v, "state"));
	rec->outbox = json_incref(json_object_get(v, "outbox"));
	e = json_object_get(v, "seq");
	rec->seq = json_is_integer(e) ? json_integer_value(e) : 0;
	if (s[0] < '1' || s[0] > '9' || *end != '\0' || errno != 0 ||
	    (e != NULL && rec->seq < 1) ||
	    json_object_size(v) != 2 + (rec->outbox != NULL) + (e != NULL) ||
	    (rec->state == NULL) == !rec->deleted || (rec->outbox != NULL &&
	    (!json_is_string(json_object_get(rec->outbox, "cause")) ||
	    !json_is_array(json_object_get(rec->outbox, "events"))))) {
		json_decref(v);
		json_decref(rec->state);
		json_decref(rec->outbox);
		memset(rec, 0, sizeof(*rec));
		if (corrupt != NULL) {
			*corrupt = 1;
			return 0;
		}
		dphp_error("corrupt record '%s': not a dphp record", w->path);
		return -1;
	}
	json_decref(v);
	rec->size = len;
	return 0;
}

static int
readrec(struct where *w, struct record *rec)
{
	return readrec_or_not(w, rec, NULL);
}

static void
genetag(uint64_t gen, char *etag)
{
	snprintf(etag, DPHP_ETAG_MAX, "%" PRIu64, gen);
}

static int
lockkey(struct where *w, int how)
{
	char *name = xasprintf(".%s.lock", w->leaf);
	int fd;

	fd = openat(w->dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0666);
	free(name);
	if (fd < 0)
		return -1;
	if (dphp_flock(fd, how) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Set the sidecar KEY.etag to rec's ETag, or remove it for a tombstone.
 * It is a cache, so it is neither renamed into place nor fsynced once
 * it exists: it is overwritten in place, which on ext4 costs no flush
 * (a rename over it made the directory fsync wait for its new block,
 * almost halving the commit rate).  A crash may leave it stale or torn;
 * the next read repairs it.  A new one appears complete, by rename.
 */
static int
writesidecar(struct where *w, const struct record *rec, int grown)
{
	char etag[DPHP_ETAG_MAX + 1], *side;
	size_t len;
	int fd, rc = -1;

	side = xasprintf("%s.etag", w->leaf);
	if (rec->deleted || rec->gen == 0) {
		rc = unlinkat(w->dfd, side, 0) == 0 || errno == ENOENT ? 0 : -1;
		goto out;
	}
	genetag(rec->gen, etag);
	strcat(etag, "\n");
	len = strlen(etag);
	fd = openat(w->dfd, side, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		/* a commit's generation is never shorter than the last */
		rc = pwrite(fd, etag, len, 0) == (ssize_t)len &&
		    (grown || ftruncate(fd, len) == 0) ? 0 : -1;
		if (close(fd) != 0)
			rc = -1;
		goto out;
	}
	if (errno == ENOENT)
		rc = dphp_replace_at(w->dfd, side, etag, len, 0);
out:
	free(side);
	return rc;
}

/* Does the sidecar agree with rec? */
static int
sidecar_ok(struct where *w, const struct record *rec)
{
	char etag[DPHP_ETAG_MAX + 1], *side, *buf;
	size_t len;
	int ok;

	side = xasprintf("%s.etag", w->leaf);
	buf = dphp_slurpat(w->dfd, side, SIZE_MAX, &len);
	free(side);
	if (rec->deleted)
		return buf == NULL && errno == ENOENT;
	if (buf == NULL)
		return 0;
	genetag(rec->gen, etag);
	strcat(etag, "\n");
	ok = strcmp(buf, etag) == 0;
	free(buf);
	return ok;
}

/*
 * Say what went wrong writing the record of w: the commit failed, or,
 * once its journal line is synced, it is made and its record is behind.
 */
static void __attribute__((format(printf, 2, 3)))
failing(struct where *w, const char *fmt, ...)
{
	void (*say)(const char *, ...) = w->committed ? dphp_warn :
	    dphp_error;
	char head[DPHP_NAME_MAX + 160], what[512];
	int e = errno, colon;
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* a trailing colon asks for errno's message, as in dphp_error */
	len = strlen(what);
	if ((colon = len > 0 && what[len - 1] == ':'))
		what[len - 1] = '\0';
	snprintf(head, sizeof(head), w->committed ? "'%s' is committed, in "
	    "the journal, but its record could not be written (the next "
	    "program to open the store writes it)" : "commit of '%s' failed",
	    w->path);
	errno = e;
	say(colon ? "%s: %s:" : "%s: %s", head, what);
}

/*
 * Writing rec as the new record of w, under the key lock, in steps:
 * prepare writes the temporary file (file.h); settle syncs and closes
 * it; publish renames it over the record and updates the sidecar;
 * syncdir makes the rename durable.  A batch takes each step for all
 * its records before the next, so that one journal commit carries the
 * data of all (on ext4 the first fsync commits them all and the others
 * find nothing left to do): group commit.  Each returns 0, or -1 after
 * a message, the temporary file removed.
 */
static int
failed(struct where *w, struct dphp_tempfile *t)
{
	failing(w, "%s '%s':", t->step, t->tmp);
	dphp_temp_discard(t);
	return -1;
}

/* The text of the record rec, a line: new, or NULL after a message. */
static char *
rectext(struct where *w, const struct record *rec)
{
	char etag[DPHP_ETAG_MAX], *text;
	json_t *v;

	genetag(rec->gen, etag);
	v = json_object();
	json_object_set_new(v, "etag", json_string(etag));
	if (rec->seq > 0)
		json_object_set_new(v, "seq", json_integer(rec->seq));
	if (rec->deleted)
		json_object_set_new(v, "deleted", json_true());
	else
		json_object_set(v, "state", rec->state);
	if (rec->outbox != NULL)
		json_object_set(v, "outbox", rec->outbox);
	text = dphp_json_text(v, NULL);
	json_decref(v);
	if (text == NULL) {
		dphp_error("cannot encode the state of '%s'", w->path);
		return NULL;
	}
	text = xrealloc(text, strlen(text) + 2);
	strcat(text, "\n");
	return text;
}

static int
prepare(struct where *w, const struct record *rec, struct dphp_tempfile *t)
{
	char *text;
	int r;

	if ((text = rectext(w, rec)) == NULL)
		return -1;
	r = dphp_temp_open(t, w->dfd, w->leaf) != 0 ||
	    dphp_temp_write(t, text, strlen(text)) != 0 ? failed(w, t) : 0;
	free(text);
	return r;
}

static int
settle(struct where *w, struct dphp_tempfile *t, int sync)
{
	return dphp_temp_close(t, sync) != 0 ? failed(w, t) : 0;
}

static int
publish(struct where *w, const struct record *rec, struct dphp_tempfile *t,
    int grown)
{
	if (dphp_temp_rename(t) != 0)
		return failed(w, t);
	if (writesidecar(w, rec, grown) != 0)
		dphp_warn("cannot update '%s.etag' (repaired on the next "
		    "read):", w->path);
	return 0;
}

/*
 * Write the record of a state committed in the journal over the one
 * there (old bytes long), in place: a rename costs a new inode and the
 * old one's release, some fifteen times the write.  Readers take a
 * shared flock, so they never see a part; a crash that tears it leaves
 * a batch without its end, whose records the next opener compares with
 * their lines and writes again.
 */
static int
overwrite(struct where *w, const struct record *rec, size_t old)
{
	char *text;
	int r = 0;

	if ((text = rectext(w, rec)) == NULL)
		return -1;
	if (dphp_overwrite_at(w->dfd, w->leaf, text, strlen(text), old) != 0) {
		failing(w, "cannot write '%s':", w->path);
		r = -1;
	} else if (writesidecar(w, rec, 1) != 0)
		dphp_warn("cannot update '%s.etag' (repaired on the next "
		    "read):", w->path);
	free(text);
	return r;
}

static int
syncdir(struct where *w)
{
	/* Without this the rename may not survive a crash. */
	if (fsync(w->dfd) == 0)
		return 0;
	dphp_error("commit of '%s' is visible but not durable: fsync of its "
	    "directory:", w->path);
	return -1;
}

/* the file of the older ids of w's window, beside the record: new */
static char *
seenfile(const struct where *w)
{
	return xasprintf("%s.seen", w->leaf);
}

/*
 * The ids cut from the window of the state change c writes that the
 * stored window holds (the others were not applied by a commit, or are
 * kept already): new, or NULL when there are none.
 */
static json_t *
tokeep(const struct record *stored, const struct dphp_change *c)
{
	json_t *window = json_object_get(stored->state, "seen"), *keep, *v;
	const char *id;

	if (c->evict == NULL)
		return NULL;
	keep = json_object();
	json_object_foreach(c->evict, id, v)
		if (json_object_get(window, id) != NULL)
			json_object_set(keep, id, v);
	if (json_object_size(keep) == 0) {
		json_decref(keep);
		return NULL;
	}
	return keep;
}

/*
 * Keep them apart, before the record without them is written: synced
 * when sync, else by the batch's syncfs or, for a state written ahead
 * in the journal with them, by the next checkpoint (a recovery adds
 * them again).  A new file's name is made durable with the record's.
 */
static int
keepapart(struct where *w, json_t *keep, int sync)
{
	char *name = seenfile(w);
	int r = 0;

	if (dphp_seenidx_add(w->dfd, name, keep, dphp_now_ms(), sync) != 0) {
		failing(w, "cannot keep the older ids of its window in "
		    "'%s.seen':", w->path);
		r = -1;
	}
	free(name);
	return r;
}

static void
unlinkseen(struct where *w)
{
	char *name = seenfile(w);

	if (unlinkat(w->dfd, name, 0) != 0 && errno != ENOENT)
		dphp_warn("cannot remove '%s.seen':", w->path);
	free(name);
}

static int
dir_seen(struct dphp_store *st, const struct dphp_id *id, const char *event)
{
	struct where w;
	char *name;
	int fd, r;

	if ((r = locate(st, id, 0, &w)) != 0) {
		where_free(&w);
		return r < 0 ? -1 : 0;
	}
	name = seenfile(&w);
	fd = openat(w.dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(name);
	if (fd < 0) {
		r = errno == ENOENT ? 0 : -1;
	} else {
		r = dphp_seenidx_has(fd, event, dphp_now_ms());
		close(fd);
	}
	if (r < 0)
		dphp_error("cannot read '%s.seen':", w.path);
	where_free(&w);
	return r;
}

static int
dir_get(struct dphp_store *st, const struct dphp_id *id, json_t **state,
    char *etag)
{
	struct record rec;
	struct where w;
	int lfd, r;

	if ((r = locate(st, id, 0, &w)) != 0) {
		where_free(&w);
		return r > 0 ? DPHP_STORE_NOTFOUND : DPHP_STORE_ERROR;
	}
	if (readrec(&w, &rec) != 0) {
		where_free(&w);
		return DPHP_STORE_ERROR;
	}
	if (rec.gen != 0 && !sidecar_ok(&w, &rec)) {
		/*
		 * Torn pair, or a commit between its two renames: decide
		 * under the lock its writers take (a state's: the journal's,
		 * shared).  A read-only store cannot be repaired and is
		 * still readable.
		 */
		if ((lfd = id->space == DPHP_SPACE_STATE ? dirj_share(st) :
		    lockkey(&w, LOCK_EX)) >= 0) {
			json_decref(rec.state);
			json_decref(rec.outbox);
			if (readrec(&w, &rec) != 0) {
				close(lfd);
				where_free(&w);
				return DPHP_STORE_ERROR;
			}
			if (!sidecar_ok(&w, &rec) && (writesidecar(&w, &rec, 0) ||
			    fsync(w.dfd)))
				dphp_warn("cannot repair '%s.etag':", w.path);
			close(lfd);
		}
	}
	where_free(&w);
	json_decref(rec.outbox);
	if (rec.gen == 0 || rec.deleted) {
		json_decref(rec.state);
		return DPHP_STORE_NOTFOUND;
	}
	genetag(rec.gen, etag);
	*state = rec.state;
	return DPHP_STORE_OK;
}

/* One change of a batch as it is carried out. */
struct slot;
static int outboxes(struct dphp_store *, struct slot *, struct dphp_change *,
    size_t, json_t *, int *);


struct slot {
	struct where w;
	struct record rec;	/* as read */
	struct record next;	/* as written, when write is set */
	json_t *kept;		/* ids cut from its window to keep apart */
	struct dphp_tempfile tf;	/* the new record, written */
	int lfd, write, absent;
	int followed;		/* a later change of the batch follows it:
				 * its line is journalled, its record not
				 * written */
	int fresh;		/* no record before the batch */
	int inplace;		/* its record is overwritten (overwrite) */
};

/* The journal's question: which line does the record of state id hold? */
static int
seqof(struct dphp_store *st, const char *s, json_int_t *seq)
{
	struct dphp_id id;
	struct record rec;
	struct where w;
	char why[128];
	int r;

	*seq = 0;
	if (dphp_id_parse(s, &id, why, sizeof(why)) != 0) {
		dphp_error("journal: invalid id '%.300s': %s", s, why);
		return -1;
	}
	id.space = DPHP_SPACE_STATE;
	if ((r = locate(st, &id, 0, &w)) == 0 && (r = readrec(&w, &rec)) == 0) {
		*seq = rec.seq;
		json_decref(rec.state);
		json_decref(rec.outbox);
	}
	where_free(&w);
	return r < 0 ? -1 : 0;
}

/* Does the record hold what the journal line of its seq says? */
static int
holds(const struct record *rec, json_t *line, uint64_t gen)
{
	return rec->gen == gen &&
	    rec->deleted == json_is_true(json_object_get(line, "deleted")) &&
	    (rec->deleted || json_equal(rec->state, json_object_get(line,
	    "state"))) &&
	    (rec->outbox == NULL ? json_object_get(line, "outbox") == NULL :
	    json_equal(rec->outbox, json_object_get(line, "outbox")));
}

/*
 * Bring the record of a state's journal line up to it (journal_dir.c,
 * under the journal's lock): written when the record carries an older
 * seq or none, or is no record at all, as a power cut can leave one
 * that was not synced yet empty or torn, or carries the line's seq but
 * not all of what it says (torn while overwritten in place).  0, or -1
 * after a message.
 */
static int
redo(struct dphp_store *st, json_t *line)
{
	const char *s = json_string_value(json_object_get(line, "id"));
	const char *etag = json_string_value(json_object_get(line, "etag"));
	json_int_t seq = json_integer_value(json_object_get(line, "seq"));
	json_t *kept = json_object_get(line, "kept");
	struct dphp_tempfile tf = { .fd = -1 };
	struct record rec, next;
	struct dphp_id id;
	struct where w;
	char why[128], *end;
	int r = -1, corrupt = 0;

	memset(&rec, 0, sizeof(rec));
	memset(&next, 0, sizeof(next));
	if (s == NULL || dphp_id_parse(s, &id, why, sizeof(why)) != 0) {
		dphp_error("journal: invalid id '%.300s': %s", s ? s : "",
		    s ? why : "none");
		return -1;
	}
	errno = 0;
	next.gen = etag != NULL ? strtoull(etag, &end, 10) : 0;
	if (next.gen == 0 || *end != '\0' || errno != 0) {
		dphp_error("journal: line %lld: invalid etag", (long long)seq);
		return -1;
	}
	id.space = DPHP_SPACE_STATE;
	if (locate(st, &id, 1, &w) != 0)
		goto out;
	if (readrec_or_not(&w, &rec, &corrupt) != 0)
		goto out;
	r = 0;
	if (!corrupt && (rec.seq > seq || (rec.seq == seq &&
	    holds(&rec, line, next.gen)))) {
		/* there already, or a later one; its older ids may not be */
		if (rec.seq == seq && json_object_size(kept) > 0 &&
		    keepapart(&w, kept, 0) != 0)
			r = -1;
		goto out;
	}
	next.seq = seq;
	next.deleted = json_is_true(json_object_get(line, "deleted"));
	next.state = json_object_get(line, "state");
	next.outbox = json_object_get(line, "outbox");
	if ((json_object_size(kept) > 0 && keepapart(&w, kept, 0) != 0) ||
	    prepare(&w, &next, &tf) != 0 || settle(&w, &tf, 0) != 0 ||
	    publish(&w, &next, &tf, 0) != 0)
		r = -1;
	else if (next.deleted)
		unlinkseen(&w);
out:
	json_decref(rec.state);
	json_decref(rec.outbox);
	where_free(&w);
	return r;
}

static int admit_all(struct dphp_store *, json_t *, int);
static const char undelivered[] = "the events emitted are kept with the "
    "records and delivered when their input comes again";

/* queue again, synced, what journal lines emitted (a recovery) */
static int
resend(struct dphp_store *st, json_t *events)
{
	return admit_all(st, events, 1);
}

static const struct dirj_records records = { seqof, redo, resend };

/*
 * Write ahead the journal lines of the states the batch changes, with
 * what their records get besides (see journal_dir.c), giving each
 * record its seq; j is the journal, locked, and b gets the batch's
 * first seq.  Synced: the batch is committed.
 */
static int
journal(struct dphp_store *st, const struct dphp_id *ids, struct slot *s,
    const struct dphp_change *c, size_t n, struct dirj *j, json_int_t *b)
{
	char etag[DPHP_ETAG_MAX], at[25], *line, *all = NULL;
	size_t i, len = 0, l, lines = 0;
	json_t *v;
	int r;

	for (i = 0; i < n; i++)
		lines += s[i].write && ids[i].space == DPHP_SPACE_STATE;
	if (lines == 0)
		return 0;
	*b = j->next;
	dphp_time_format(dphp_now_ms(), at);
	for (i = 0; i < n; i++) {
		if (!s[i].write || ids[i].space != DPHP_SPACE_STATE)
			continue;
		s[i].next.seq = j->next++;
		genetag(s[i].next.gen, etag);
		v = json_pack("{sIsIsIssssss}", "seq", s[i].next.seq, "b", *b,
		    "n", (json_int_t)lines, "at", at, "id", c[i].id, "etag",
		    etag);
		if (s[i].next.deleted)
			json_object_set_new(v, "deleted", json_true());
		else
			json_object_set(v, "state", s[i].next.state);
		if (c[i].cause != NULL)
			json_object_set_new(v, "cause", json_string(c[i].cause));
		if (s[i].next.outbox != NULL)
			json_object_set(v, "outbox", s[i].next.outbox);
		if (s[i].kept != NULL)
			json_object_set(v, "kept", s[i].kept);
		line = dphp_json_text(v, NULL);
		json_decref(v);
		if (line == NULL) {
			free(all);
			dphp_error("cannot encode the journal line of '%s'",
			    c[i].id);
			return -1;
		}
		l = strlen(line);
		line = dphp_jline_seal(line, &l);
		all = xrealloc(all, len + l + 2);
		memcpy(all + len, line, l);
		all[len + l] = '\n';
		len += l + 1;
		free(line);
	}
	r = dirj_write(st, j, *b, all, len);
	free(all);
	return r;
}

static int
bypath(const void *a, const void *b)
{
	return strcmp((*(struct slot *const *)a)->w.path,
	    (*(struct slot *const *)b)->w.path);
}

/* Admit the events of outboxes, an array of arrays, in their order. */
static int
admit_all(struct dphp_store *st, json_t *outboxes, int sync)
{
	size_t i, k, n = 0;
	json_t **v, *ob;
	size_t *seq;
	int r;

	json_array_foreach(outboxes, i, ob)
		n += json_array_size(ob);
	v = xcalloc(n ? n : 1, sizeof(*v));
	seq = xcalloc(n ? n : 1, sizeof(*seq));
	n = 0;
	json_array_foreach(outboxes, i, ob)
		for (k = 0; k < json_array_size(ob); k++) {
			v[n] = json_array_get(ob, k);
			seq[n++] = k;
		}
	r = dirq_deliver(st, v, seq, n, sync);
	free(v);
	free(seq);
	return r;
}

static const char *
cause_of(const json_t *outbox)
{
	return json_string_value(json_object_get(outbox, "cause"));
}

/*
 * The outboxes of a batch whose preconditions are checked.  A record
 * keeps the events its commit emitted until it is replaced: a worker
 * that dies between commit and delivery has not acknowledged its
 * input, so the input comes again, dphp-replay finds it applied and
 * proposes no change, and the change carrying the same cause delivers
 * the kept events (into late).  A record about to be replaced while
 * its input is still in the inbox may be such a one: its events are
 * delivered now (durably, before anything is written), as the input
 * coming again would find a record that no longer keeps them.  Events
 * of a change that writes nothing are delivered at once: nothing
 * changed, so computing the input again emits them again; no journal
 * line holds them (*unjournaled).
 */
static int
outboxes(struct dphp_store *st, struct slot *s, struct dphp_change *c,
    size_t n, json_t *late, int *unjournaled)
{
	json_t *early = json_array(), *ob, *r;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		ob = s[i].rec.outbox;
		if (c[i].result == DPHP_STORE_OK && ob != NULL) {
			r = json_object_get(ob, "receipt");
			if (c[i].cause && strcmp(cause_of(ob), c[i].cause) == 0)
				json_array_append(late, json_object_get(ob,
				    "events"));
			else if (s[i].write && json_is_string(r) &&
			    dirq_pending(st, json_string_value(r)))
				json_array_append(early, json_object_get(ob,
				    "events"));
		}
		if (c[i].outbox == NULL || json_array_size(c[i].outbox) == 0 ||
		    (c[i].result != DPHP_STORE_OK && !(c[i].op ==
		    DPHP_DELETE && c[i].result == DPHP_STORE_NOTFOUND)))
			continue;
		if (!s[i].write) {
			json_array_append(late, c[i].outbox);
			*unjournaled = 1;
			continue;
		}
		s[i].next.outbox = json_pack("{sssO}", "cause", c[i].cause ?
		    c[i].cause : "", "events", c[i].outbox);
		if (c[i].receipt != NULL)
			json_object_set_new(s[i].next.outbox, "receipt",
			    json_string(c[i].receipt));
		json_array_append(late, c[i].outbox);
	}
	rc = admit_all(st, early, 1);
	json_decref(early);
	return rc;
}

/*
 * Commit the changes c (to distinct ids, but for guards and chains)
 * together: lock every key in path order (so two batches cannot
 * deadlock), check every precondition, then write the records that
 * pass, step by step for all.  A chain of changes to one state (after)
 * is a journal line each, and its last writes the record.  States alone are made durable by their journal lines, written
 * ahead and synced: their records are written without a flush (see
 * journal_dir.c).  A batch with other records (ownership, locks) syncs
 * every record it writes, with one syncfs for all of them, and each
 * directory once.
 */
static int
dir_batch(struct dphp_store *st, const struct dphp_id *ids,
    struct dphp_change *c, size_t n)
{
	struct slot *s, **order;
	struct dphp_now *now;
	struct stat a, b;
	size_t i, k, m = 0, states = 0, others = 0;
	int r = DPHP_STORE_OK, found, sync, wal, *write, ended;
	int unjournaled = 0;	/* late has events no journal line holds */
	struct dirj j = { .dfd = -1, .lfd = -1, .fd = -1 };
	json_int_t first = 0;
	json_t *late;		/* outboxes to deliver once durable */
	json_t *synced;		/* directories synced by syncparents */
	json_t *dirs;		/* looked for by locate_in */
	const char *path;
	json_t *fd;

	/*
	 * The journal's lock first, when states change: taking it brings
	 * their records up to the journal, so they are read after.
	 */
	for (i = 0; i < n; i++)
		if (!DPHP_IS_GUARD(c[i].op))
			*(ids[i].space == DPHP_SPACE_STATE ? &states :
			    &others) += 1;
	if (states > 0 && dirj_open(st, &j, &records) != 0)
		return DPHP_STORE_ERROR;
	dirs = json_object();
	wal = others == 0;
	late = json_array();
	synced = json_object();
	s = xcalloc(n, sizeof(*s));
	order = xcalloc(n, sizeof(*order));
	for (i = 0; i < n; i++) {
		s[i].lfd = s[i].w.dfd = s[i].tf.fd = -1;
		c[i].newetag[0] = '\0';
		found = locate_in(st, &ids[i], c[i].op == DPHP_PUT, &s[i].w,
		    dirs);
		if (found < 0) {
			r = DPHP_STORE_ERROR;
			goto out;
		}
		if (found > 0)	/* no directory: nothing stored */
			s[i].absent = 1;
		else if (c[i].after == 0)	/* a follower reads nothing */
			order[m++] = &s[i];
	}
	qsort(order, m, sizeof(*order), bypath);
	for (k = 0; k < m; k++) {
		/*
		 * A guard reads its lock record unlocked, as any reader: what
		 * it guards is a state, whose writers this batch excludes
		 * (it holds the journal's lock), so a hold that begins
		 * after the reading orders its own commits of that state
		 * after this one.
		 */
		if (DPHP_IS_GUARD(c[order[k] - s].op)) {
			if (readrec(&order[k]->w, &order[k]->rec) != 0) {
				r = DPHP_STORE_ERROR;
				goto out;
			}
			continue;
		}
		/* a state's writers all hold the journal's lock */
		if (ids[order[k] - s].space == DPHP_SPACE_STATE)
			;
		else if ((order[k]->lfd = lockkey(&order[k]->w,
		    LOCK_EX)) < 0) {
			dphp_error("cannot lock '%s':", order[k]->w.path);
			r = DPHP_STORE_ERROR;
			goto out;
		}
		if (readrec(&order[k]->w, &order[k]->rec) != 0) {
			r = DPHP_STORE_ERROR;
			goto out;
		}
	}
	now = xcalloc(n, sizeof(*now));
	write = xcalloc(n, sizeof(*write));
	for (i = 0; i < n; i++)
		if (s[i].rec.gen != 0 && !s[i].rec.deleted) {
			genetag(s[i].rec.gen, now[i].etag);
			now[i].state = s[i].rec.state;
		}
	dphp_batch_decide(c, n, now, write);
	for (i = 0; i < n; i++) {
		s[i].fresh = s[i].rec.gen == 0;
		if (c[i].after != 0 && write[i]) {
			/* it finds what the one it follows writes */
			k = c[i].after - 1;
			s[k].followed = 1;
			s[i].fresh = s[k].fresh;
			s[i].rec.size = s[k].rec.size;
			s[i].rec.gen = s[k].next.gen;
			s[i].rec.state = json_incref(s[k].next.state);
		}
		if ((s[i].write = write[i])) {
			s[i].next.gen = s[i].rec.gen + 1;
			s[i].next.deleted = c[i].op == DPHP_DELETE;
			s[i].next.state = c[i].state;
			s[i].kept = tokeep(&s[i].rec, &c[i]);
		}
	}
	free(now);
	free(write);
	if (outboxes(st, s, c, n, late, &unjournaled) != 0 ||
	    journal(st, ids, s, c, n, &j, &first) != 0)
		goto fail;
	for (i = m = 0; i < n; i++) {
		m += s[i].write && !s[i].followed;
		s[i].w.committed = wal && s[i].write;
	}
	/* one syncfs for all, when there are several (fsync: sync) */
	sync = !wal && m == 1;
	/* a state's record, once there, is overwritten: its line is synced */
	for (i = 0; i < n; i++)
		s[i].inplace = wal && s[i].write && !s[i].fresh;
	for (i = 0; i < n; i++)
		if (s[i].write && !s[i].followed && !s[i].inplace &&
		    prepare(&s[i].w, &s[i].next, &s[i].tf) != 0)
			goto failed;
	for (i = 0; i < n; i++)
		if (s[i].kept != NULL && keepapart(&s[i].w, s[i].kept,
		    sync) != 0)
			goto failed;
	if (!wal && m > 1) {
		/*
		 * One syncfs instead of an fsync each: on ext4 every new file
		 * fsynced alone costs its own journal commit (its blocks are
		 * only allocated at writeback), while syncfs writes them all
		 * back and commits once.  It flushes the rest of the
		 * filesystem too; since Linux 5.8 it reports write-back
		 * errors, and any error fails the whole batch.
		 */
		if (syncfs(ROOT(st)) != 0) {
			dphp_error("group commit failed: syncfs:");
			goto fail;
		}
	}
	for (i = 0; i < n; i++)
		if (s[i].write && !s[i].followed && !s[i].inplace &&
		    settle(&s[i].w, &s[i].tf, sync) != 0)
			goto failed;
	for (i = 0; i < n; i++)
		if (s[i].write && !s[i].followed && (s[i].inplace ?
		    overwrite(&s[i].w, &s[i].next, s[i].rec.size) :
		    publish(&s[i].w, &s[i].next, &s[i].tf, 1)) != 0) {
			if (wal)
				goto behind;
			r = DPHP_STORE_ERROR;	/* earlier ones are visible */
			goto out;
		}
	for (i = 0; i < n && !wal; i++) {
		if (!s[i].write || s[i].followed)
			continue;
		/* one fsync per directory */
		found = 0;
		fstat(s[i].w.dfd, &a);
		for (k = 0; k < i && !found; k++)
			found = s[k].write && !s[k].followed &&
			    fstat(s[k].w.dfd, &b) == 0 &&
			    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
		if (!found && syncdir(&s[i].w) != 0) {
			r = DPHP_STORE_ERROR;
			goto out;
		}
		if (s[i].fresh && syncparents(st, &s[i].w, synced) != 0) {
			dphp_error("commit of '%s' is visible but not durable: "
			    "fsync of the directories above it:", s[i].w.path);
			r = DPHP_STORE_ERROR;
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		if (!s[i].write)
			continue;
		genetag(s[i].next.gen, c[i].newetag);
		/* a deleted history forgets its window; a crash first
		 * leaves ids of its past that no new event has */
		if (s[i].next.deleted)
			unlinkseen(&s[i].w);
	}
	/* the records are written: the batch is over */
	if (!(ended = !j.written || dirj_end(&j, first) == 0))
		dphp_warn("the commit is made, but its end could not be "
		    "written to 'journal/%s': the next program to open the "
		    "store writes it:", j.name);
	/*
	 * What the batch emitted, queued while it holds the journal: then
	 * without a flush when a journal line holds every event, since a
	 * power cut's recovery queues them again from the lines past the
	 * last checkpoint, and a checkpoint, ours below or the next
	 * writer's, comes after them: its syncfs makes them durable.
	 */
	if (wal && !unjournaled && j.lfd >= 0) {
		if (admit_all(st, late, 0) != 0) {
			dphp_error("%s", undelivered);
			r = DPHP_STORE_ERROR;
		}
		json_array_clear(late);
	}
	if (ended && j.written)
		dirj_checkpoint_due(st, &j);
	goto deliver;
failed:
	if (!wal)
		goto fail;
behind:
	/* committed: the records are brought up to it by the next opener */
	for (i = 0; i < n; i++)
		if (s[i].write)
			genetag(s[i].next.gen, c[i].newetag);
deliver:
	dirj_close(&j);
	if (admit_all(st, late, 1) != 0) {
		dphp_error("%s", undelivered);
		r = DPHP_STORE_ERROR;
	}
	goto out;
fail:
	/* nothing of the batch was published: none of it happened */
	dirj_undo(&j);
	r = DPHP_STORE_ERROR;
out:
	dirj_close(&j);
	for (i = 0; i < n; i++) {
		dphp_temp_discard(&s[i].tf);	/* what was not renamed */
		json_decref(s[i].rec.state);
		json_decref(s[i].rec.outbox);
		json_decref(s[i].next.outbox);
		json_decref(s[i].kept);
		if (s[i].lfd >= 0)
			close(s[i].lfd);
		if (s[i].w.path != NULL)
			where_free(&s[i].w);
	}
	json_object_foreach(dirs, path, fd)
		if (json_is_integer(fd))
			close(json_integer_value(fd));
	json_decref(dirs);
	free(order);
	free(s);
	json_decref(late);
	json_decref(synced);
	return r;
}

/* List one NAME directory (and its segment directories) below dfd. */
static int
listdir(int dfd, const char *space, const char *kind, const char *name,
    const char *prefix, dphp_list_fn *fn, void *arg)
{
	struct where w;
	struct record rec;
	struct dirent *de;
	char etag[DPHP_ETAG_MAX], *path, *key, *enc, *id;
	DIR *d;
	int fd, r = 0;

	if ((fd = dup(dfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		dphp_error("cannot read directory '%s/%s/%s':", space, kind,
		    name);
		return DPHP_STORE_ERROR;
	}
	while (r == 0 && (errno = 0, de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		if (de->d_name[0] == '.' || strchr(de->d_name, '.') != NULL)
			continue;	/* locks, temps, sidecars */
		path = xasprintf("%s%s", prefix, de->d_name);
		if (de->d_name[n - 1] == '+') {
			int sub = openat(dfd, de->d_name, O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			char *pre = xasprintf("%s/", path);

			if (sub >= 0) {
				r = listdir(sub, space, kind, name, pre, fn, arg);
				close(sub);
			}
			free(pre);
			free(path);
			continue;
		}
		key = dphp_key_decode(path);
		enc = key ? dphp_key_encode(key) : NULL;
		if (key == NULL || strcmp(enc, path) != 0) {
			/* not ours: a file someone put into the store */
			free(key);
			free(enc);
			free(path);
			continue;
		}
		free(enc);
		w.dfd = dfd;
		w.leaf = de->d_name;
		w.path = xasprintf("%s/%s/%s/%s", space, kind, name, path);
		if (readrec(&w, &rec) != 0)
			r = DPHP_STORE_ERROR;
		else if (rec.gen != 0 && !rec.deleted) {
			genetag(rec.gen, etag);
			id = xasprintf("%s:%s:%s", kind, name, key);
			r = fn(id, etag, arg);
			free(id);
		}
		json_decref(rec.state);
		json_decref(rec.outbox);
		free(w.path);
		free(key);
		free(path);
	}
	if (r == 0 && errno != 0) {
		dphp_error("cannot read directory '%s/%s/%s':", space, kind,
		    name);
		r = DPHP_STORE_ERROR;
	}
	closedir(d);
	return r;
}

static int
dir_list(struct dphp_store *st, enum dphp_space sp, enum dphp_kind kind,
    const char *only, dphp_list_fn *fn, void *arg)
{
	const char *space = dphp_space_dir[sp];
	struct dirent *de;
	char *path;
	DIR *d;
	int kfd, nfd, r = 0;

	path = xasprintf("%s/%s", space, dphp_kind_name(kind));
	kfd = dphp_openat_beneath(ROOT(st), path, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC, 0);
	if (kfd < 0) {
		if (errno == ENOENT)
			r = 0;
		else {
			dphp_error("cannot open directory '%s':", path);
			r = DPHP_STORE_ERROR;
		}
		free(path);
		return r;
	}
	if ((d = fdopendir(kfd)) == NULL) {
		close(kfd);
		free(path);
		return DPHP_STORE_ERROR;
	}
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (!dphp_name_valid(de->d_name) ||
		    (only != NULL && strcmp(only, de->d_name) != 0))
			continue;
		nfd = openat(kfd, de->d_name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0)
			continue;
		r = listdir(nfd, space, dphp_kind_name(kind), de->d_name, "",
		    fn, arg);
		close(nfd);
	}
	closedir(d);
	free(path);
	return r;
}

/* Does errno say that a path names no store, rather than a fault? */
static int
misnamed(int err)
{
	return err == ENOENT || err == ENOTDIR || err == EACCES ||
	    err == ELOOP || err == ENAMETOOLONG;
}

static struct dphp_store *
dir_open(const char *spec)
{
	struct dirstore *ds;
	char *buf;
	size_t len;
	int fd;

	if ((fd = open(spec, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		dphp_error("cannot open store '%s':", spec);
		if (misnamed(errno))
			dphp_store_misnamed();
		return NULL;
	}
	buf = dphp_slurpat(fd, "FORMAT", SIZE_MAX, &len);
	if (buf == NULL || strcmp(buf, FORMAT) != 0) {
		if (buf == NULL && errno != ENOENT) {
			dphp_error("cannot read '%s/FORMAT':", spec);
		} else {
			dphp_error("'%s' is not a dphp store (make one with "
			    "dphp-commit -i)", spec);
			dphp_store_misnamed();
		}
		free(buf);
		close(fd);
		return NULL;
	}
	free(buf);
	ds = xcalloc(1, sizeof(*ds));
	ds->fd = fd;
	ds->frozen = -1;
	dirq_init(ds);
	dirj_recover(&ds->base, &records);
	return &ds->base;
}

static int
dir_init(const char *spec)
{
	struct dirent *de;
	char *buf;
	size_t len;
	DIR *d;
	int fd, nonempty = 0;

	if (mkdir(spec, 0777) == 0) {
		/* the new directory is durable once its parent is synced */
		char *parent = xstrdup(spec), *slash = strrchr(parent, '/');
		int pfd;

		if (slash == parent)
			slash[1] = '\0';
		else if (slash != NULL)
			*slash = '\0';
		pfd = open(slash ? parent : ".", O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);
		if (pfd < 0 || fsync(pfd) != 0) {
			dphp_error("cannot sync the directory above '%s':",
			    spec);
			free(parent);
			if (pfd >= 0)
				close(pfd);
			return -1;
		}
		close(pfd);
		free(parent);
	} else if (errno != EEXIST) {
		dphp_error("cannot create store '%s':", spec);
		if (misnamed(errno))
			dphp_store_misnamed();
		return -1;
	}
	if ((fd = open(spec, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		dphp_error("cannot open store '%s':", spec);
		if (misnamed(errno))
			dphp_store_misnamed();
		return -1;
	}
	if ((buf = dphp_slurpat(fd, "FORMAT", SIZE_MAX, &len)) != NULL) {
		int same = strcmp(buf, FORMAT) == 0;

		free(buf);
		close(fd);
		if (!same) {
			dphp_error("'%s/FORMAT' names another format", spec);
			dphp_store_misnamed();
		}
		return same ? 0 : -1;
	}
	if ((d = opendir(spec)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				nonempty = 1;
		closedir(d);
	}
	if (nonempty) {
		dphp_error("'%s' is not empty and not a dphp store", spec);
		dphp_store_misnamed();
		close(fd);
		return -1;
	}
	if ((mkdirat(fd, "state", 0777) != 0 && errno != EEXIST) ||
	    (mkdirat(fd, "queue", 0777) != 0 && errno != EEXIST) ||
	    (mkdirat(fd, "queue/tmp", 0777) != 0 && errno != EEXIST) ||
	    (mkdirat(fd, "queue/new", 0777) != 0 && errno != EEXIST) ||
	    (mkdirat(fd, "queue/cur", 0777) != 0 && errno != EEXIST) ||
	    (mkdirat(fd, "queue/bad", 0777) != 0 && errno != EEXIST) ||
	    (mkdirat(fd, "delay", 0777) != 0 && errno != EEXIST) ||
	    dphp_replace_at(fd, "FORMAT", FORMAT, strlen(FORMAT), 1) != 0 ||
	    fsync(fd) != 0) {
		dphp_error("cannot initialise store '%s':", spec);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
dir_close(struct dphp_store *st)
{
	int r = dirq_close((struct dirstore *)st);

	dirj_thaw(st);
	close(ROOT(st));
	free(st);
	return r;
}

static int
dir_journal(struct dphp_store *st, json_int_t after, int forever,
    dphp_journal_fn *fn, dphp_tick_fn *tick, void *arg)
{
	char *dir = dphp_store_journal(st);
	int r;

	if (dir == NULL)
		return DPHP_EXIT_SYS;
	r = dphp_journal_follow(dir, after, forever, fn, tick, arg);
	free(dir);
	return r;
}

const struct dphp_backend dphp_dir_backend = {
	.scheme = "dir",
	.prefix = NULL,
	.segments = 1,
	.chains = 1,
	.open = dir_open,
	.init = dir_init,
	.close = dir_close,
	.get = dir_get,
	.batch = dir_batch,
	.list = dir_list,
	.seen = dir_seen,
	.queue_admit = dirq_admit,
	.queue_take = dirq_take,
	.queue_release = dirq_release,
	.queue_claimed = dirq_claimed,
	.queue_pending = dirq_pending,
	.queue_ack = dirq_ack,
	.queue_nack = dirq_nack,
	.queue_fail = dirq_fail,
	.queue_bury = dirq_bury,
	.queue_dead = dirq_dead,
	.queue_cancel = dirq_cancel,
	.queue_stat = dirq_stat,
	.queue_wait = dirq_wait,
	.queue_renew = dirq_renew,
	.freeze = dirj_freeze,
	.thaw = dirj_thaw,
	.journal_read = dir_journal,
};
