/*
 * journal_dir.c - the journal of the directory store: every committed
 * state, appended to journal/SEQ.ndjson segments (dphp-store(5)).
 *
 * A batch writes ahead: under journal/.lock, held from before its
 * records are written until they are durable, it appends one line per
 * state it changes, {"seq","b","at","id","etag","state"|"deleted"},
 * syncs them, and only then writes the records, each carrying its seq;
 * once they are durable it appends {"end":B,"next":N} (B the batch's
 * first seq) without a sync.  So a batch with an end marker happened,
 * and a batch without one (a crash in between) is checked by the next
 * writer against the records: the lines whose record does not carry
 * their seq never happened, and are voided by {"void":[...],"end":B,
 * "next":N}.  A torn last line (a crash mid-append) is cut off.
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
#include "journal_dir.h"
#include "store.h"
#include "util.h"

#define SEGMENT_MAX_DEFAULT (64 * 1024 * 1024)

/* bytes after which a new segment starts ($DPHP_JOURNAL_SEGMENT_MAX) */
static off_t
segmax(void)
{
	const char *s = getenv("DPHP_JOURNAL_SEGMENT_MAX");
	char *end;
	long long n;

	if (s == NULL || *s == '\0')
		return SEGMENT_MAX_DEFAULT;
	n = strtoll(s, &end, 10);
	return *end == '\0' && n > 0 ? n : SEGMENT_MAX_DEFAULT;
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
		if (strlen(de->d_name) == 27 && strspn(de->d_name,
		    "0123456789") == 20 && strcmp(de->d_name + 20,
		    ".ndjson") == 0 && (*name == NULL ||
		    strcmp(de->d_name, *name) > 0)) {
			free(*name);
			*name = xstrdup(de->d_name);
		}
	closedir(d);
	return 0;
}

/* The whole segment, NUL-terminated; NULL after a message. */
static char *
slurp(struct dirj *j, size_t *len)
{
	char *buf;

	if ((buf = dphp_slurpat(j->dfd, j->name, len)) == NULL)
		j->say("cannot read 'journal/%s':", j->name);
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
	json_t *v;
	int r = 1;

	if ((n = pread(j->fd, buf, j->size - at, at)) != j->size - at ||
	    n == 0 || buf[n - 1] != '\n')
		return 1;
	buf[n - 1] = '\0';
	nl = strrchr(buf, '\n');
	if (nl == NULL && at > 0)
		return 1;
	nl = nl ? nl + 1 : buf;
	if ((v = json_loads(nl, 0, NULL)) != NULL &&
	    json_is_integer(json_object_get(v, "end")) &&
	    json_is_integer(json_object_get(v, "next"))) {
		j->next = json_integer_value(json_object_get(v, "next"));
		r = 0;
	}
	json_decref(v);
	return r;
}

/*
 * Settle the end of the segment: cut a torn last line, and end a batch
 * that has no end marker (voiding the lines that did not happen).
 * Sets j->next.
 */
static int
settle(struct dphp_store *st, struct dirj *j, json_int_t first)
{
	char *buf, *p, *line, *text;
	size_t len, n;
	json_t *v, *last = NULL, *batch, *voids;
	json_int_t b, seq, have;
	int r = -1;

	j->next = first;
	if (j->size == 0)
		return 0;
	if (quick(j) == 0)
		return 0;
	if ((buf = slurp(j, &len)) == NULL)
		return -1;
	/* a torn last line: the append it began never finished */
	for (n = len; n > 0 && buf[n - 1] != '\n'; n--)
		;
	if (n < len) {
		if (ftruncate(j->fd, n) != 0 || fsync(j->fd) != 0) {
			j->say("cannot cut the torn end of 'journal/%s':",
			    j->name);
			goto out;
		}
		j->size = n;
	}
	buf[n] = '\0';
	batch = json_array();
	for (line = buf; *line; line = p + 1) {
		p = strchr(line, '\n');
		if ((v = json_loadb(line, p - line, 0, NULL)) == NULL) {
			j->say("journal/%s: a corrupt line", j->name);
			json_decref(batch);
			goto out;
		}
		if (json_object_get(v, "end") != NULL) {
			json_array_clear(batch);
			j->next = json_integer_value(json_object_get(v, "next"));
			json_decref(v);
		} else
			json_array_append_new(batch, v);
	}
	r = 0;
	if (json_array_size(batch) > 0) {
		/* written ahead, never confirmed: which happened? */
		voids = json_array();
		b = json_integer_value(json_object_get(json_array_get(batch, 0),
		    "b"));
		json_array_foreach(batch, n, last) {
			seq = json_integer_value(json_object_get(last, "seq"));
			if ((r = j->seqof(st, json_string_value(json_object_get(
			    last, "id")), &have)) != 0)
				break;
			if (have != seq)
				json_array_append_new(voids, json_integer(seq));
			j->next = seq + 1;
		}
		if (r == 0) {
			v = json_pack("{sOsIsI}", "void", voids, "end", b,
			    "next", j->next);
			text = dphp_json_text(v, NULL);
			json_decref(v);
			r = append(j, text, strlen(text), 0) ||
			    append(j, "\n", 1, 1) ? -1 : 0;
			free(text);
		}
		json_decref(voids);
	}
	json_decref(batch);
out:
	free(buf);
	return r;
}

/* dirj_open, its troubles said by say */
static int
jopen(struct dphp_store *st, struct dirj *j,
    int (*seqof)(struct dphp_store *, const char *, json_int_t *),
    void (*say)(const char *, ...))
{
	struct stat sb;
	json_int_t first = 1;

	memset(j, 0, sizeof(*j));
	j->lfd = j->fd = j->dfd = -1;
	j->seqof = seqof;
	j->say = say;
	if ((mkdirat(ROOT(st), "journal", 0777) != 0 && errno != EEXIST) ||
	    (j->dfd = openat(ROOT(st), "journal", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) < 0 || (j->lfd = openat(j->dfd, ".lock",
	    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666)) < 0) {
		say("cannot open the journal:");
		dirj_close(j);
		return -1;
	}
	while (flock(j->lfd, LOCK_EX) != 0)
		if (errno != EINTR) {
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
	if (settle(st, j, first) != 0) {
		dirj_close(j);
		return -1;
	}
	return 0;
}

int
dirj_open(struct dphp_store *st, struct dirj *j,
    int (*seqof)(struct dphp_store *, const char *, json_int_t *))
{
	return jopen(st, j, seqof, dphp_error);
}

int
dirj_write(struct dirj *j, json_int_t b, const char *text, size_t len)
{
	if (j->name == NULL || (j->size > 0 && j->size + (off_t)len >
	    segmax())) {
		/* a new segment, named by its first seq */
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
	j->written = 1;
	return append(j, text, len, 1);
}

int
dirj_end(struct dirj *j, json_int_t b)
{
	char text[96];
	size_t len;

	len = snprintf(text, sizeof(text), "{\"end\":%" PRId64 ",\"next\":%"
	    PRId64 "}\n", (int64_t)b, (int64_t)j->next);
	/* no sync: lost, the next opener of the store finds the records */
	if (dphp_write_all(j->fd, text, len) != 0) {
		/* a part written is a torn line, cut off by the next opener */
		return -1;
	}
	j->size += len;
	return 0;
}

void
dirj_undo(struct dirj *j)
{
	if (j->fd >= 0 && j->written && ftruncate(j->fd, j->start) == 0 &&
	    fsync(j->fd) == 0)
		j->size = j->start;
	j->written = 0;
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
 * Whatever opens the store ends the last batch if its writer could not
 * (killed after its records were durable, or the end marker's append
 * failed), so that the journal says what the records say for every
 * reader.  Cheap when it is ended: the last line is looked at, unlocked
 * (an end only ever follows the lines it ends).  A store that cannot
 * be written is left as it is: its readers leave that batch out.
 */
void
dirj_recover(struct dphp_store *st,
    int (*seqof)(struct dphp_store *, const char *, json_int_t *))
{
	struct dirj j;
	struct stat sb;
	int dfd;

	memset(&j, 0, sizeof(j));
	j.fd = -1;
	if ((dfd = openat(ROOT(st), "journal", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) < 0)
		return;		/* no commit yet, or no way to see: as it is */
	if (newest(dfd, &j.name, dphp_warn) == 0 && j.name != NULL &&
	    (j.fd = openat(dfd, j.name, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) >= 0 && fstat(j.fd, &sb) == 0) {
		j.size = sb.st_size;
		if (j.size > 0 && quick(&j) != 0 &&
		    faccessat(dfd, ".", W_OK, AT_EACCESS) == 0) {
			close(j.fd);
			free(j.name);
			j.fd = -1;
			j.name = NULL;
			if (jopen(st, &j, seqof, dphp_warn) != 0)
				dphp_warn("the last batch of the journal has no "
				    "end: left out by its readers until a writer "
				    "ends it");
			dirj_close(&j);
		}
	}
	if (j.fd >= 0)
		close(j.fd);
	free(j.name);
	close(dfd);
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
	while (flock(fd, LOCK_SH) != 0)
		if (errno != EINTR) {
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
