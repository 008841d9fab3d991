/*
 * journal_dir.c - the journal of the directory store: every committed
 * state, appended to journal/SEQ.ndjson segments (dphp-store(5)).  It
 * is the store's write-ahead log.
 *
 * A batch of state changes takes journal/.lock before it reads the
 * records it changes and holds it until they are written.  It appends
 * one line per state, {"seq","b","n","at","id","etag","state"|"deleted",
 * "cause","outbox","kept"} (n the number of lines of the batch, outbox
 * and kept what the record and its .seen get besides the state), in one
 * write, and syncs it: that is the commit.  Then it writes the records,
 * each carrying its seq, without syncing them, and appends
 * {"end":B,"next":N} (B the batch's first seq), unsynced.
 *
 * The records catch up with the journal in two ways.  Within a boot the
 * kernel's page cache holds every record written: only a batch whose
 * writer died before its end can be behind, and whoever takes the lock
 * next (or opens the store) redoes it from its lines, or cuts it off
 * if it has fewer than n lines (a crash mid-append: nobody was told it
 * happened).  Across a power cut, records written since the last
 * checkpoint may be lost or torn: journal/checkpoint says which boot
 * wrote it and up to where the records were synced (a syncfs before it
 * is written), and the first program to open the store in another boot
 * redoes every line after that.  The events those lines emitted were
 * queued unsynced (the line holds them; see dir_batch): it queues them
 * again, synced, before the checkpoint that ends its recovery, since
 * the power cut may have lost them; each is applied once wherever it
 * comes twice.  A checkpoint is made each time the
 * journal grows past a multiple of $DPHP_JOURNAL_CHECKPOINT bytes
 * (4 MiB), and before a new segment is made.  Lines of older versions
 * have no n: an unended batch of those is ended as before, its lines
 * whose record does not carry their seq voided.  A torn last line is
 * cut off.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "jline.h"
#include "journal_dir.h"
#include "store.h"
#include "util.h"

#define SEGMENT_MAX_DEFAULT (64 * 1024 * 1024)
#define CHECKPOINT_DEFAULT (4 * 1024 * 1024)

/* a positive number of bytes from the environment, or def */
static off_t
envbytes(const char *name, off_t def)
{
	const char *s = getenv(name);
	char *end;
	long long n;

	if (s == NULL || *s == '\0')
		return def;
	n = strtoll(s, &end, 10);
	return *end == '\0' && n > 0 ? n : def;
}

/* bytes after which a new segment starts */
static off_t
segmax(void)
{
	return envbytes("DPHP_JOURNAL_SEGMENT_MAX", SEGMENT_MAX_DEFAULT);
}

/* This boot of the machine, or "" where the kernel does not say. */
static const char *
bootid(void)
{
	static char id[40];
	static int done;
	char *buf;
	size_t len;

	if (!done && (buf = dphp_slurpat(AT_FDCWD,
	    "/proc/sys/kernel/random/boot_id", SIZE_MAX, &len)) != NULL) {
		snprintf(id, sizeof(id), "%.*s", (int)strcspn(buf, "\n"), buf);
		free(buf);
	}
	done = 1;
	return id;
}

/* journal/checkpoint: the records hold every line before size of
 * segment (whose next line is next), made durable in boot */
struct checkpoint {
	char boot[40], segment[28];
	off_t size;
	json_int_t next;
	int valid;
};

static int
issegment(const char *name)
{
	return strlen(name) == 27 && strspn(name, "0123456789") == 20 &&
	    strcmp(name + 20, ".ndjson") == 0;
}

/* read it; an unreadable one is none (a full recovery finds out) */
static void
cpread(int dfd, struct checkpoint *cp)
{
	json_t *v, *boot, *seg, *size, *next;
	char *buf;
	size_t len;

	memset(cp, 0, sizeof(*cp));
	if ((buf = dphp_slurpat(dfd, "checkpoint", SIZE_MAX, &len)) == NULL)
		return;
	v = json_loads(buf, 0, NULL);
	free(buf);
	boot = json_object_get(v, "boot");
	seg = json_object_get(v, "segment");
	size = json_object_get(v, "size");
	next = json_object_get(v, "next");
	if (json_is_string(boot) && json_string_length(boot) <
	    sizeof(cp->boot) && json_is_string(seg) &&
	    issegment(json_string_value(seg)) && json_is_integer(size) &&
	    json_integer_value(size) >= 0 && json_is_integer(next) &&
	    json_integer_value(next) >= 1) {
		strcpy(cp->boot, json_string_value(boot));
		strcpy(cp->segment, json_string_value(seg));
		cp->size = json_integer_value(size);
		cp->next = json_integer_value(next);
		cp->valid = 1;
	}
	json_decref(v);
}

/* a checkpoint made in this boot, "" where there is no telling */
static int
thisboot(const struct checkpoint *cp)
{
	return cp->valid && bootid()[0] != '\0' &&
	    strcmp(cp->boot, bootid()) == 0;
}

/*
 * Say that the records hold every line before the end of the segment,
 * whose next line is next: journal/checkpoint.  It is not synced, and
 * failing to write it is only a warning: lost, an older checkpoint
 * makes a recovery read more, never less.
 */
static void
cpmark(struct dirj *j, json_int_t next)
{
	char *text;

	text = xasprintf("{\"boot\":\"%s\",\"segment\":\"%s\",\"size\":%lld,"
	    "\"next\":%" PRId64 "}\n", bootid(), j->name, (long long)j->size,
	    (int64_t)next);
	if (dphp_replace_at(j->dfd, "checkpoint", text, strlen(text), 0) != 0)
		dphp_warn("cannot write 'journal/checkpoint':");
	free(text);
}

/* make every record written so far durable, and say so */
static int
checkpoint(struct dphp_store *st, struct dirj *j)
{
	if (syncfs(ROOT(st)) != 0) {
		j->say("cannot make a checkpoint of the journal: syncfs:");
		return -1;
	}
	if (j->name != NULL)
		cpmark(j, j->next);
	return 0;
}

static char *
segname(json_int_t first)
{
	return xasprintf("%020" PRId64 ".ndjson", (int64_t)first);
}

/* The newest segment's name, or NULL when there is none (or -1 error,
 * said by say). */
static int
newest(int dfd, char **name, void (*say)(const char *, ...))
{
	struct dirent *de;
	DIR *d;
	int fd;

	*name = NULL;
	if ((fd = dup(dfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		say("cannot read directory 'journal':");
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL)
		if (issegment(de->d_name) && (*name == NULL ||
		    strcmp(de->d_name, *name) > 0)) {
			free(*name);
			*name = xstrdup(de->d_name);
		}
	closedir(d);
	return 0;
}

/* The segment from byte from to its end, NUL-terminated; NULL after a
 * message. */
static char *
readfrom(struct dirj *j, off_t from, size_t *len)
{
	size_t n = j->size - from, got = 0;
	char *buf = xmalloc(n + 1);
	ssize_t r;

	while (got < n) {
		if ((r = pread(j->fd, buf + got, n - got, from + got)) <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			if (r == 0)
				errno = EIO;	/* cut short under us */
			j->say("cannot read 'journal/%s':", j->name);
			free(buf);
			return NULL;
		}
		got += r;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int
append(struct dirj *j, const char *text, size_t len, int sync)
{
	if (dphp_write_all(j->fd, text, len) != 0 ||
	    (sync && fdatasync(j->fd) != 0)) {
		j->say("cannot append to 'journal/%s':", j->name);
		return -1;
	}
	j->size += len;
	return 0;
}

/* text (malloc'd, freed), len bytes, sealed (jline.c) as a line */
static char *
sealedline(char *text, size_t *len)
{
	text = dphp_jline_seal(text, len);
	text = xrealloc(text, *len + 1);
	text[(*len)++] = '\n';
	return text;
}

/* append a line made of v, synced when sync */
static int
appendv(struct dirj *j, json_t *v, int sync)
{
	char *text = dphp_json_text(v, NULL);
	size_t len = strlen(text);
	int r;

	text = sealedline(text, &len);
	r = append(j, text, len, sync);
	free(text);
	return r;
}

/*
 * The usual end: the last line is a batch's end marker, whole.  0 with
 * j->next set, or 1 when the end must be looked at more closely.
 */
static int
quick(struct dirj *j)
{
	char buf[128], *nl;
	ssize_t n;
	off_t at = j->size > (off_t)sizeof(buf) - 1 ?
	    j->size - (off_t)sizeof(buf) + 1 : 0;
	json_t *v = NULL;
	int r = 1;

	if ((n = pread(j->fd, buf, j->size - at, at)) != j->size - at ||
	    n == 0 || buf[n - 1] != '\n')
		return 1;
	buf[n - 1] = '\0';
	nl = strrchr(buf, '\n');
	if (nl == NULL && at > 0)
		return 1;
	nl = nl ? nl + 1 : buf;
	if (dphp_jline_check(nl, strlen(nl)) >= 0 &&
	    (v = json_loads(nl, 0, NULL)) != NULL &&
	    json_is_integer(json_object_get(v, "end")) &&
	    json_is_integer(json_object_get(v, "next"))) {
		j->next = json_integer_value(json_object_get(v, "next"));
		r = 0;
	}
	json_decref(v);
	return r;
}

/* cut the segment at byte at (what follows never happened), synced */
static int
cut(struct dirj *j, off_t at, const char *what)
{
	if (ftruncate(j->fd, at) != 0 || fsync(j->fd) != 0) {
		j->say("cannot cut %s off 'journal/%s':", what, j->name);
		return -1;
	}
	j->size = at;
	return 0;
}

/* the lines of a batch of an older version that no end confirmed:
 * those whose record does not carry their seq are voided */
static int
voidold(struct dphp_store *st, struct dirj *j, json_t *batch)
{
	json_t *voids = json_array(), *l, *v;
	json_int_t b, seq, have;
	size_t i;
	int r = 0;

	b = json_integer_value(json_object_get(json_array_get(batch, 0), "b"));
	json_array_foreach(batch, i, l) {
		seq = json_integer_value(json_object_get(l, "seq"));
		if ((r = j->seqof(st, json_string_value(json_object_get(l,
		    "id")), &have)) != 0)
			break;
		if (have != seq)
			json_array_append_new(voids, json_integer(seq));
		j->next = seq + 1;
	}
	if (r == 0) {
		v = json_pack("{sOsIsI}", "void", voids, "end", b, "next",
		    j->next);
		r = appendv(j, v, 1);
		json_decref(v);
	}
	json_decref(voids);
	return r;
}

/* redo the lines of latest, an object of the last line of each id */
static int
redoall(struct dphp_store *st, struct dirj *j, json_t *latest)
{
	const char *id;
	json_t *l;

	json_object_foreach(latest, id, l)
		if (j->redo(st, l) != 0)
			return -1;
	return 0;
}

/* does voids, a list of seqs, name line's? */
static int
voided(json_t *voids, json_t *line)
{
	json_t *v;
	size_t k;

	json_array_foreach(voids, k, v)
		if (json_equal(v, json_object_get(line, "seq")))
			return 1;
	return 0;
}

/* the events of the lines of batch, but those void names, into sent */
static void
gather(json_t *sent, json_t *batch, json_t *voids)
{
	json_t *l, *events;
	size_t i;

	json_array_foreach(batch, i, l) {
		events = json_object_get(json_object_get(l, "outbox"),
		    "events");
		if (!voided(voids, l) && json_array_size(events) > 0)
			json_array_append(sent, events);
	}
}

/*
 * The lines of batch, but those void names, into latest: the last of each
 * id, with the ids kept apart by the earlier ones since its last delete
 * (a power cut may have lost those of any of them).
 */
static void
keep(json_t *latest, json_t *batch, json_t *voids)
{
	json_t *l, *prev, *kept;
	const char *id;
	size_t i;

	json_array_foreach(batch, i, l) {
		if (voided(voids, l))
			continue;
		id = json_string_value(json_object_get(l, "id"));
		prev = json_object_get(json_object_get(latest, id), "kept");
		if (prev != NULL && !json_is_true(json_object_get(l,
		    "deleted"))) {
			if ((kept = json_object_get(l, "kept")) == NULL)
				json_object_set(l, "kept", prev);
			else
				json_object_update_missing(kept, prev);
		}
		json_object_set(latest, id, l);
	}
}

/*
 * Settle the segment from byte from on (j->next the seq there): cut a
 * torn last line; redo and end a last batch that has no end, or cut it
 * off when its lines are fewer than it said; and with full, redo every
 * line from there on and queue again the events they emitted (a
 * recovery after a power cut).
 */
static int
settle(struct dphp_store *st, struct dirj *j, off_t from, int full)
{
	char *buf, *p, *line;
	size_t len, n;
	json_t *v, *batch, *latest, *first, *sent;
	off_t bstart = 0;
	int r = -1;

	if (j->size <= from)
		return 0;
	if ((buf = readfrom(j, from, &len)) == NULL)
		return -1;
	/* a torn last line: the append it began never finished */
	for (n = len; n > 0 && buf[n - 1] != '\n'; n--)
		;
	if (n < len && cut(j, from + n, "the torn end") != 0)
		goto out;
	buf[n] = '\0';
	batch = json_array();
	latest = json_object();
	sent = json_array();
	for (line = buf; *line; line = p + 1) {
		p = strchr(line, '\n');
		if (dphp_jline_check(line, p - line) < 0 ||
		    (v = json_loadb(line, p - line, 0, NULL)) == NULL) {
			j->say("journal/%s: a corrupt line", j->name);
			goto done;
		}
		json_object_del(v, "crc");
		if (json_object_get(v, "end") != NULL) {
			if (full) {
				keep(latest, batch, json_object_get(v, "void"));
				gather(sent, batch, json_object_get(v, "void"));
			}
			json_array_clear(batch);
			j->next = json_integer_value(json_object_get(v, "next"));
			json_decref(v);
			continue;
		}
		if (json_array_size(batch) == 0)
			bstart = from + (line - buf);
		json_array_append_new(batch, v);
	}
	r = 0;
	first = json_array_get(batch, 0);
	if (first == NULL)
		r = redoall(st, j, latest);
	else if (json_object_get(first, "n") == NULL)
		r = redoall(st, j, latest) || voidold(st, j, batch) ? -1 : 0;
	else if (json_array_size(batch) < (size_t)json_integer_value(
	    json_object_get(first, "n"))) {
		j->next = json_integer_value(json_object_get(first, "b"));
		r = redoall(st, j, latest) || cut(j, bstart, "a batch cut short") ?
		    -1 : 0;
	}
	else {
		/* written ahead and synced: it happened */
		keep(latest, batch, NULL);
		if (full)
			gather(sent, batch, NULL);
		j->next = json_integer_value(json_object_get(json_array_get(
		    batch, json_array_size(batch) - 1), "seq")) + 1;
		v = json_pack("{sIsI}", "end", json_integer_value(
		    json_object_get(first, "b")), "next", j->next);
		r = redoall(st, j, latest) || appendv(j, v, 0) ? -1 : 0;
		json_decref(v);
	}
	if (r == 0 && json_array_size(sent) > 0 && j->resend(st, sent) != 0)
		r = -1;
done:
	json_decref(batch);
	json_decref(latest);
	json_decref(sent);
out:
	free(buf);
	return r;
}

/* does a line of the segment begin at byte at? */
static int
atline(struct dirj *j, off_t at)
{
	char c;

	return at == 0 || (pread(j->fd, &c, 1, at - 1) == 1 && c == '\n');
}

/* dirj_open, its troubles said by say */
static int
jopen(struct dphp_store *st, struct dirj *j, const struct dirj_records *rc,
    void (*say)(const char *, ...))
{
	struct dirstore *ds = (struct dirstore *)st;
	struct checkpoint cp;
	struct stat sb;
	json_int_t first = 1;
	off_t from = 0;
	int full;

	memset(j, 0, sizeof(*j));
	j->lfd = j->fd = j->dfd = -1;
	j->seqof = rc->seqof;
	j->redo = rc->redo;
	j->resend = rc->resend;
	j->say = say;
	if ((mkdirat(ROOT(st), "journal", 0777) != 0 && errno != EEXIST) ||
	    (j->dfd = openat(ROOT(st), "journal", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) < 0 || (j->lfd = openat(j->dfd, ".lock",
	    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666)) < 0) {
		say("cannot open the journal:");
		dirj_close(j);
		return -1;
	}
	if (dphp_flock(j->lfd, LOCK_EX) != 0) {
		say("cannot lock the journal:");
		dirj_close(j);
		return -1;
	}
	if (newest(j->dfd, &j->name, say) != 0) {
		dirj_close(j);
		return -1;
	}
	if (j->name == NULL) {
		j->next = 1;
		return 0;
	}
	first = strtoll(j->name, NULL, 10);
	if ((j->fd = openat(j->dfd, j->name, O_RDWR | O_APPEND | O_NOFOLLOW |
	    O_CLOEXEC)) < 0 || fstat(j->fd, &sb) != 0 ||
	    (!S_ISREG(sb.st_mode) && (errno = EINVAL))) {
		j->say("cannot open 'journal/%s':", j->name);
		dirj_close(j);
		return -1;
	}
	j->size = sb.st_size;
	full = 0;
	if (!ds->booted || quick(j) != 0) {
		/*
		 * From the checkpoint on; one of an older segment was made
		 * before this one was (a syncfs first): from its start.
		 */
		cpread(j->dfd, &cp);
		full = !ds->booted && !thisboot(&cp);
		j->next = first;
		if (cp.valid && strcmp(cp.segment, j->name) == 0 &&
		    cp.size <= j->size && atline(j, cp.size)) {
			from = cp.size;
			j->next = cp.next;
		}
		if (settle(st, j, from, full) != 0 ||
		    (full && checkpoint(st, j) != 0)) {
			dirj_close(j);
			return -1;
		}
	}
	ds->booted = 1;
	return 0;
}

int
dirj_open(struct dphp_store *st, struct dirj *j,
    const struct dirj_records *rc)
{
	return jopen(st, j, rc, dphp_error);
}

int
dirj_write(struct dphp_store *st, struct dirj *j, json_int_t b,
    const char *text, size_t len)
{
	if (j->name == NULL || (j->size > 0 && j->size + (off_t)len >
	    segmax())) {
		/*
		 * A new segment, named by its first seq, once every record
		 * so far is durable: so a recovery never looks before it.
		 */
		if (j->name != NULL && syncfs(ROOT(st)) != 0) {
			j->say("cannot start a new segment of the journal: "
			    "syncfs:");
			return -1;
		}
		if (j->fd >= 0)
			close(j->fd);
		free(j->name);
		j->name = segname(b);
		j->size = 0;
		if ((j->fd = openat(j->dfd, j->name, O_RDWR | O_APPEND |
		    O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666)) < 0 ||
		    fsync(j->dfd) != 0) {
			j->say("cannot make 'journal/%s':", j->name);
			return -1;
		}
	}
	j->start = j->size;
	j->first = b;
	j->written = 1;
	if (append(j, text, len, 1) != 0)
		return -1;
	if (j->start == 0) {
		/* the new segment's checkpoint: its start */
		j->size = 0;
		cpmark(j, b);
		j->size = len;
	}
	return 0;
}

int
dirj_end(struct dirj *j, json_int_t b)
{
	char *text = xasprintf("{\"end\":%" PRId64 ",\"next\":%" PRId64 "}",
	    (int64_t)b, (int64_t)j->next);
	size_t len = strlen(text);
	int r;

	text = sealedline(text, &len);
	/* no sync: lost, the next opener of the store finds the records */
	if ((r = dphp_write_all(j->fd, text, len)) == 0)
		j->size += len;
	/* else a part written is a torn line, cut off by the next opener */
	free(text);
	return r != 0 ? -1 : 0;
}

int
dirj_checkpoint_due(struct dphp_store *st, struct dirj *j)
{
	off_t every = envbytes("DPHP_JOURNAL_CHECKPOINT",
	    CHECKPOINT_DEFAULT);

	if (j->start / every == j->size / every)
		return 0;
	j->say = dphp_warn;
	return checkpoint(st, j);
}

void
dirj_undo(struct dirj *j)
{
	json_t *v, *seqs;
	json_int_t seq;

	if (j->fd < 0 || !j->written)
		return;
	j->written = 0;
	if (ftruncate(j->fd, j->start) == 0 && fsync(j->fd) == 0) {
		j->size = j->start;
		return;
	}
	/* still there, maybe whole: say that none of it happened */
	seqs = json_array();
	for (seq = j->first; seq < j->next; seq++)
		json_array_append_new(seqs, json_integer(seq));
	v = json_pack("{sOsIsI}", "void", seqs, "end", j->first, "next",
	    j->next);
	if (appendv(j, v, 1) != 0)
		j->say("the lines of the failed batch %lld may be taken for a "
		    "commit by the next program to open the store",
		    (long long)j->first);
	json_decref(v);
	json_decref(seqs);
}

void
dirj_close(struct dirj *j)
{
	if (j->fd >= 0)
		close(j->fd);
	if (j->lfd >= 0)
		close(j->lfd);	/* and the lock with it */
	if (j->dfd >= 0)
		close(j->dfd);
	free(j->name);
	j->fd = j->lfd = j->dfd = -1;
	j->name = NULL;
}

/*
 * Whatever opens the store brings the records up to the journal (see
 * above), so that every reader finds every committed state in them.
 * Cheap within a boot when the last batch is ended: the last line and
 * the checkpoint are looked at, unlocked (an end only ever follows the
 * lines it ends).  A store that cannot be written is left as it is.
 */
void
dirj_recover(struct dphp_store *st, const struct dirj_records *rc)
{
	struct dirstore *ds = (struct dirstore *)st;
	struct checkpoint cp;
	struct dirj j;
	struct stat sb;
	int dfd, ok = 0;

	memset(&j, 0, sizeof(j));
	j.fd = j.lfd = j.dfd = -1;
	if ((dfd = openat(ROOT(st), "journal", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) < 0)
		return;		/* no commit yet, or no way to see: as it is */
	if (newest(dfd, &j.name, dphp_warn) != 0 || j.name == NULL ||
	    (j.fd = openat(dfd, j.name, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0 || fstat(j.fd, &sb) != 0)
		ok = 1;	/* nothing to bring up, or no way to see (its
			 * readers say why) */
	else {
		j.size = sb.st_size;
		cpread(dfd, &cp);
		ok = thisboot(&cp) && (j.size == 0 || quick(&j) == 0);
	}
	if (j.fd >= 0)
		close(j.fd);
	free(j.name);
	j.fd = -1;
	j.name = NULL;
	if (ok)
		ds->booted = 1;
	else if (faccessat(dfd, ".", W_OK, AT_EACCESS) != 0)
		dphp_warn("the records may be behind the journal (a commit "
		    "cut short, or a power cut since its checkpoint), and "
		    "'journal' cannot be written to bring them up to it");
	else if (jopen(st, &j, rc, dphp_warn) != 0)
		dphp_warn("the records could not be brought up to the "
		    "journal: read as they are");
	dirj_close(&j);
	close(dfd);
}

int
dirj_share(struct dphp_store *st)
{
	int fd;

	if ((fd = dphp_openat_beneath(ROOT(st), "journal/.lock", O_RDWR |
	    O_CLOEXEC, 0)) < 0)
		return -1;
	if (dphp_flock(fd, LOCK_SH) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
dirj_freeze(struct dphp_store *st)
{
	struct dirstore *ds = (struct dirstore *)st;
	int fd;

	if ((mkdirat(ROOT(st), "journal", 0777) != 0 && errno != EEXIST) ||
	    (fd = dphp_openat_beneath(ROOT(st), "journal/.lock", O_RDWR |
	    O_CREAT | O_CLOEXEC, 0666)) < 0) {
		dphp_error("cannot open the journal:");
		return -1;
	}
	if (dphp_flock(fd, LOCK_SH) != 0) {
		dphp_error("cannot lock the journal:");
		close(fd);
		return -1;
	}
	ds->frozen = fd;
	return 0;
}

void
dirj_thaw(struct dphp_store *st)
{
	struct dirstore *ds = (struct dirstore *)st;

	if (ds->frozen >= 0)
		close(ds->frozen);
	ds->frozen = -1;
}
