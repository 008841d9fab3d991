/*
 * dphp.h - the one header of libdphp, the library shared by the dphp-*
 * programs.  It is grouped by source file; each function has a one-line
 * summary here and its contract, where one is needed, in prose.
 *
 * A function that can refuse its input says why in the caller's buffer
 * (char *why, size_t whysz), which may be NULL with 0 when the reason
 * is not wanted, and returns -1 (or NULL); it does not print.
 *
 * libdphp is a static, internal library: no ABI promise, not installed.
 */
#ifndef DPHP_H
#define DPHP_H

#include <sys/types.h>

#include <getopt.h>
#include <signal.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "file.h"

#ifndef DPHP_VERSION
#define DPHP_VERSION "0.0.0"
#endif
#ifndef DPHP_SHAREDIR
#define DPHP_SHAREDIR "/usr/local/share/dphp"
#endif

/*
 * Exit statuses, one table for every program (see dphp(7)).
 */
enum {
	DPHP_EXIT_OK = 0,	/* success */
	DPHP_EXIT_NO = 1,	/* expected "no": precondition failed, not found */
	DPHP_EXIT_USAGE = 2,	/* bad command line */
	DPHP_EXIT_INPUT = 3,	/* invalid input record */
	DPHP_EXIT_SYS = 4,	/* I/O or system error; a retry may help */
	DPHP_EXIT_CONFIG = 5,	/* configuration: handlers missing, unusable */
	DPHP_EXIT_LOCKED = 75	/* dphp-lock: locks not had, or lost (EX_TEMPFAIL) */
};

/* util.c */
extern const char *dphp_prog;
void dphp_setprog(const char *);	/* set the name used in messages */
/* "prog: error: MSG"; a format ending in ':' gets ": strerror(errno)" */
void dphp_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void dphp_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void dphp_die(int, const char *, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* "prog: WHERE: MSG", a located message (a file and line, a queue) */
void dphp_located(const char *where, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* the message of the three above; where and level may be NULL, "" */
void dphp_vsay(const char *where, const char *level, const char *fmt,
    va_list);
/* a reason written into why (see the head of this file): -1 */
int dphp_why(char *why, size_t whysz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* text written with its control characters escaped (\x1b, \u009b) */
void dphp_escaped(FILE *, const char *text, size_t n);
void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
char *xstrdup(const char *);
char *xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

/* opt.c: the shared command-line conventions */
struct option;
extern const struct option dphp_longopts[];	/* --help, --version */
void dphp_version(void) __attribute__((noreturn));	/* "prog (dphp) X.Y.Z" */
/* usage: print to stderr and exit 2; help: print to stdout, exit 0 */
void dphp_usage(const char *synopsis) __attribute__((noreturn));
/* a main's mode (0: the default) set to m by the option opts[m]; two
 * options of different modes are a usage error that names them */
void dphp_mode_set(int *mode, int m, const char *const *opts,
    const char *synopsis);
/* the same after "prog: error: MSG", MSG saying what is wrong */
void dphp_usage_error(const char *synopsis, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));
void dphp_help(const char *synopsis, const char *options)
    __attribute__((noreturn));
long long dphp_strtonum(const char *, long long, long long, const char *);
void dphp_fshut(void);	/* flush and close stdout; exit 4 on error */

/*
 * stop.c: how a worker stops.  The first SIGTERM or SIGINT only sets
 * dphp_stopping: dphp-route -t (stage 0) stops taking; a stage reading
 * a pipe (stage 1) goes on to the end of its input.
 */
extern volatile sig_atomic_t dphp_stopping;
void dphp_stop_on_signals(int stage);
int dphp_output_gone(void);	/* stdout is a pipe nobody reads */
int dphp_worker_input(int nfiles);	/* no files named; stdin a pipe */
/* wait until fd has input; if stdout's reader is gone, end as SIGPIPE */
void dphp_await_input(int fd);

/* ndjson.c: strict newline-delimited JSON */
#define DPHP_MAX_LINE (16 * 1024 * 1024)	/* bytes, newline excluded */
struct dphp_reader {
	int fd;
	const char *name;	/* "<stdin>", the path, or archive:file */
	const char *path;
	void *archive;		/* libarchive's reading of a regular file */
	char *entry;		/* the name of the file of it being read */
	int inentry, lastnl;
	unsigned long line;	/* line number of the last record read */
	char *buf;		/* the line */
	size_t cap;
	char *in;		/* input read and not yet used */
	size_t inpos, inlen;
	int eof;
	int stream;		/* a pipe or terminal: may have to wait */
};
/* open PATH ("-" or NULL is stdin); NULL with a message on failure */
struct dphp_reader *dphp_reader_open(const char *path);
void dphp_reader_close(struct dphp_reader *);
/*
 * Read the next record: 1 and *out set (a new reference to a JSON
 * object), 0 at end of input, -1 after printing a located error
 * ("prog: FILE:LINE: reason").  Blank lines are skipped.  Invalid JSON,
 * invalid UTF-8, NUL bytes, duplicate keys, non-objects and lines longer
 * than DPHP_MAX_LINE are errors; so is a read error (then errno is set and
 * the return is -2).
 */
int dphp_reader_next(struct dphp_reader *, json_t **out);
/* can the next record be read without waiting for more input? */
int dphp_reader_pending(struct dphp_reader *);
/* print "prog: FILE:LINE: reason" for the record just read */
void dphp_reader_error(const struct dphp_reader *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* the first key of object obj that is not one of known (NULL-ended) */
const char *dphp_unknown_key(json_t *obj, const char *const *known);
/* parse one JSON value (any type) from a string or a whole file */
json_t *dphp_json_parse(const char *text, size_t len, const char *what);
json_t *dphp_json_load_file(const char *path);	/* "-" is stdin */
/*
 * The loop of every stage: call fn on each record of the files named
 * (standard input when argc is 0), in order.  fn returns 0 to go on, or
 * an exit status to stop with.  Returns 0, fn's status, 3 after an
 * invalid record or 4 after an unreadable file (both already reported).
 */
typedef int dphp_record_fn(struct dphp_reader *, json_t *rec, void *arg);
int dphp_each_record(int argc, char **argv, dphp_record_fn *, void *arg);
/* write one compact record and '\n' to stdout; exit 4 on failure */
extern int dphp_unbuffered;
void dphp_write(json_t *);
/* the same, for a record already written as text */
void dphp_write_text(const char *text, size_t len);

/*
 * jsonout.c: JSON text as dphp writes it, compact, keys in their order,
 * a real in the shortest form that reads back to the same double (not
 * jansson's 17 digits): new text of any value (its length in *len when
 * len is not NULL), or written to fp (0, or -1 on a write error).
 */
char *dphp_json_text(json_t *, size_t *len);
int dphp_json_fput(json_t *, FILE *fp);

/*
 * beneath.c: open path (of several components) beneath the directory
 * dfd, following no symbolic link on the way (ELOOP), as openat(2)
 * otherwise; make the directories of path that are missing, the same
 * way (*made set when one was made).  0 or -1 and errno.
 */
int dphp_openat_beneath(int dfd, const char *path, int flags, mode_t mode);
int dphp_mkdirs_beneath(int dfd, const char *path, mode_t mode, int *made);

/* id.c: ids and names, dphp-event(5) */
enum dphp_kind {
	DPHP_KIND_NONE = 0,
	DPHP_KIND_ENTITY,
	DPHP_KIND_ORCHESTRATION,
	DPHP_KIND_ACTIVITY
};
#define DPHP_NAME_MAX 128
#define DPHP_KEY_MAX 256
/* the records a store keeps for an id (dphp-store(5)) */
enum dphp_space {
	DPHP_SPACE_STATE = 0,	/* its state */
	DPHP_SPACE_LOCK,	/* its lock record (lock.c) */
	DPHP_SPACE_OWNER	/* its ownership record (acl.c) */
};
struct dphp_id {
	enum dphp_kind kind;
	char name[DPHP_NAME_MAX + 1];
	char key[DPHP_KEY_MAX + 1];
	enum dphp_space space;
};
/* parse "kind:name:key"; 0, or -1 with a reason in why */
int dphp_id_parse(const char *, struct dphp_id *, char *why, size_t whysz);
const char *dphp_kind_name(enum dphp_kind);
/*
 * The KIND NAME of policy and mapping files: entity, orchestration,
 * activity or * (DPHP_KIND_NONE), and a glob of names.  parse: 0, or
 * -1 and why not.
 */
int dphp_selector_parse(const char *kind, const char *glob,
    enum dphp_kind *, char *why, size_t whysz);
int dphp_selector_match(enum dphp_kind, const char *glob,
    const struct dphp_id *);
/*
 * A pattern of ids (dphp-project ls, follow): a glob of whole ids, where
 * one with fewer than two ':' stands for every id it begins (entity,
 * entity:account).
 */
/* each valid, or the first that is not reported: 0 or DPHP_EXIT_USAGE */
int dphp_idglobs_check(int n, char **patterns);
int dphp_idglob_match(const char *pattern, const char *id);
/* does id match one of the n patterns (or are there none)? */
int dphp_idglobs_match(int n, char **patterns, const char *id);
int dphp_name_valid(const char *);	/* [A-Za-z0-9._-]{1,128}, no '.' first */
int dphp_opname_valid(const char *);	/* a name not starting with '_' */
int dphp_eventid_valid(const char *);	/* same grammar as a name */
int dphp_user_valid(const char *);	/* [A-Za-z0-9._@+-]{1,128} */
/* "user[:role,...]" as a "by" object; NULL (why says which name is
 * invalid) */
json_t *dphp_by_parse(const char *, char *why, size_t whysz);
/*
 * The reversible file-name encoding of a key: bytes outside
 * [A-Za-z0-9_-] become %XX, so an encoded key never holds '.', '/' or
 * '+'.  Encodings longer than DPHP_SEGMENT_MAX are cut into segments;
 * every segment but the last is a directory named "SEGMENT+".
 * Returns a new string "seg+/seg+/last".
 */
#define DPHP_SEGMENT_MAX 200
char *dphp_key_encode(const char *key);
/* inverse of dphp_key_encode on a path; NULL if it is not an encoding */
char *dphp_key_decode(const char *path);

/* clock.c: time, durations, event ids */
/* milliseconds since the epoch; DPHP_NOW (RFC 3339) fixes the clock */
int64_t dphp_now_ms(void);
/* a monotonic clock in ms, for time-outs: real time even under DPHP_NOW */
int64_t dphp_monotonic_ms(void);
void dphp_nap(int64_t ms);	/* sleep ms milliseconds */
/* "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (at least 25 bytes) */
void dphp_time_format(int64_t ms, char *buf);
/* parse RFC 3339 UTC ("Z"), fraction optional; -1 if invalid */
int dphp_time_parse(const char *, int64_t *ms);
/* "90", "90s", "15m", "2h", "1d", "500ms" into milliseconds; -1 if bad */
int dphp_duration_parse(const char *, int64_t *ms);
/* a fresh UUIDv7 string (36 chars + NUL) */
void dphp_uuid7(char out[37]);
/*
 * The id of the n-th event caused by event parent: the same inputs give
 * the same id (so a recomputed proposal emits the same events), and the
 * length stays 36 however long the chain of causes.
 */
void dphp_derive_id(const char *parent, unsigned n, char out[37]);
/* the shard of an id: a stable 32-bit hash of its text */
uint32_t dphp_id_hash(const char *);

/* envelope.c: the event record, dphp-event(5) */
#define DPHP_ENVELOPE_VERSION 1
#define DPHP_REPLY_MAX 16	/* reply_to wrappers in one envelope */
struct dphp_desc {
	const char *id;
	int64_t ts_ms;
	const char *receipt;	/* the queue receipt, or NULL */
	unsigned tries;		/* taken before and not finished (queue) */
	const char *token;	/* a JWT saying who acts, or NULL */
	const char *to;		/* destination id */
	struct dphp_id dest;
	const char *type;	/* core event type */
	const char *delay;	/* RFC 3339 or NULL */
	int64_t delay_ms;
	const char *reply_to[DPHP_REPLY_MAX];	/* outermost first */
	int nreply;
	json_t *lock;		/* lock wrapper value or NULL (borrowed) */
	json_int_t fence;	/* the hold's token dphp-lock added, or 0 */
	json_int_t ahead;	/* dphp-lock let it go ahead of the requests
				 * held back by the record with this token;
				 * or 0 */
	json_int_t priority;	/* -1 when absent */
	const char *from;
	json_t *by;		/* borrowed or NULL */
	json_t *core;		/* the core event (borrowed) */
	unsigned ops;		/* DPHP_OP_* needed at the destination */
};
enum {
	DPHP_OP_START = 1 << 0,
	DPHP_OP_SIGNAL = 1 << 1,
	DPHP_OP_CALL = 1 << 2,
	DPHP_OP_READ = 1 << 3,
	DPHP_OP_SUBSCRIBE = 1 << 4,
	DPHP_OP_LOCK = 1 << 5,
	DPHP_OP_DELETE = 1 << 6,
	DPHP_OP_SHARE_PLUS = 1 << 7,
	DPHP_OP_SHARE_MINUS = 1 << 8,
	DPHP_OP_OWNER = 1 << 9
};
/* an operation's name and back; 0 for an unknown name */
const char *dphp_op_name(unsigned op);
unsigned dphp_op_parse(const char *);
/*
 * Validate a whole envelope and describe it by walking the chain once.
 * 0 on success; -1 with a reason in why.  The description borrows
 * from env.
 */
int dphp_envelope_check(json_t *env, struct dphp_desc *, char *why,
    size_t whysz);
/* the flat description as a new JSON object */
json_t *dphp_desc_json(const struct dphp_desc *);
/*
 * dphp_each_record for envelopes: fn gets each one validated and
 * described; an invalid one stops with "FILE:LINE: invalid event: ..."
 * and status 3.
 */
typedef int dphp_event_fn(struct dphp_reader *, json_t *env,
    struct dphp_desc *, void *arg);
int dphp_each_event(int argc, char **argv, dphp_event_fn *, void *arg);
/* validate one core event alone (for builders); as above */
int dphp_core_check(json_t *core, enum dphp_kind dest, char *why,
    size_t whysz);
/* wrap: a new {"KEY":value,"event":inner}; steals value and inner */
json_t *dphp_wrap(const char *key, json_t *value, json_t *inner);
/* a new envelope around chain (stolen); id/ts NULL make fresh ones */
json_t *dphp_envelope_new(json_t *chain, const char *id, const char *ts,
    json_t *by);

/* store.c: the store, dphp-store(5) */
#define DPHP_ETAG_MAX 64
struct dphp_store;
enum {
	DPHP_STORE_OK = 0,
	DPHP_STORE_NOTFOUND = 1,	/* no such key (or deleted) */
	DPHP_STORE_CONFLICT = 2,	/* precondition failed */
	DPHP_STORE_ERROR = -1		/* message already printed */
};
/* a precondition on a put or delete */
enum dphp_cond {
	DPHP_IF_ANY,		/* unconditional */
	DPHP_IF_MATCH,		/* stored ETag equals etag */
	DPHP_IF_ABSENT		/* create only */
};
/*
 * Open the store named by spec (the -d option; NULL means $DPHP_STORE):
 * the path of a directory store, or etcd://HOST:PORT[,...]/PREFIX (see
 * dphp-store(5)).  On failure a message is printed and NULL returned.
 */
struct dphp_store *dphp_store_open(const char *spec);
/* make spec an empty store (idempotent); 0, or -1 with a message */
int dphp_store_init(const char *spec);
void dphp_store_close(struct dphp_store *);
/*
 * Get the state of id: OK with *state (new reference) and etag, or
 * NOTFOUND.  A torn blob/sidecar pair is repaired on the way.
 */
int dphp_store_get(struct dphp_store *, const char *id, json_t **state,
    char etag[DPHP_ETAG_MAX]);
/*
 * Group commit: carry out the changes to n distinct records together,
 * sharing the flushes.  A change happens only if its cond holds for
 * etag: DPHP_PUT writes state (borrowed), DPHP_DELETE removes the
 * record (NOTFOUND when there is none), DPHP_CHECK only tests.  Each
 * gets its result: OK with newetag the new ETag, or CONFLICT with
 * newetag the stored one ("" if absent).  The batch is durable when it
 * returns OK; ERROR means an I/O error failed it (a failed fsync
 * included, and then the commit must be taken as failed): when it
 * struck before any record was replaced, none of the changes happened;
 * after, some may be visible but not durable.
 */
/*
 * Guards test the lock record of id (space DPHP_SPACE_LOCK) and write
 * nothing: DPHP_FENCE that it is held, unexpired, by owner with token
 * fence; DPHP_FREE that no one holds it (absent, free, or run out).
 * The change a guard guards (or every change of the batch) happens
 * only while the guard holds, and fails with CONFLICT otherwise: so a
 * lock is kept at the commit of every entity state, whatever read the
 * lock record before.
 */
enum dphp_op { DPHP_PUT, DPHP_DELETE, DPHP_CHECK, DPHP_FENCE, DPHP_FREE };
#define DPHP_IS_GUARD(op) ((op) == DPHP_FENCE || (op) == DPHP_FREE)
struct dphp_change {
	const char *id;
	enum dphp_op op;
	json_t *state;			/* DPHP_PUT: the new state (borrowed) */
	enum dphp_cond cond;
	const char *etag;
	/*
	 * Queue mode: cause is the id of the input event, receipt its
	 * queue receipt (or NULL), and outbox (borrowed, or NULL) the
	 * envelopes it emits.  They are kept with the record and delivered
	 * to the queue once it is durable, and again by a later change
	 * with the same cause (the input redelivered after a crash).
	 */
	const char *cause, *receipt;
	json_t *outbox;
	/*
	 * The input stays claimed after the batch, until dphp_queue_ack:
	 * what its commit sets off afterwards is queued while it is still
	 * claimed, so that no worker finds the queue quiescent meanwhile.
	 */
	int ack_apart;
	enum dphp_space space;		/* which record of id */
	const char *owner;		/* DPHP_FENCE */
	json_int_t fence;		/* DPHP_FENCE */
	size_t guards;			/* guards: 1 + the index of the
					 * change it guards; 0: all of them */
	int result;			/* out */
	char newetag[DPHP_ETAG_MAX];	/* out */
	int fenced;			/* out: CONFLICT because the claim
					 * of receipt ran out (etcd) */
};
int dphp_store_batch(struct dphp_store *, struct dphp_change *, size_t n);
/* one change alone, to a record of any space: its result, or ERROR */
int dphp_store_change(struct dphp_store *, enum dphp_space, const char *id,
    enum dphp_op, json_t *state, enum dphp_cond, const char *etag,
    char newetag[DPHP_ETAG_MAX]);
/* dphp_store_get of another record of id: its lock or ownership record */
int dphp_store_get_space(struct dphp_store *, enum dphp_space,
    const char *id, json_t **rec, char etag[DPHP_ETAG_MAX]);
/*
 * Call fn for every existing id whose kind (and name, if not NULL)
 * match, in no particular order; a non-zero return from fn stops the
 * walk and is returned.
 */
typedef int dphp_list_fn(const char *id, const char *etag, void *arg);
int dphp_store_list(struct dphp_store *, enum dphp_kind, const char *name,
    dphp_list_fn *, void *arg);
/* the same for the ids that have a record in another space */
int dphp_store_list_space(struct dphp_store *, enum dphp_space,
    enum dphp_kind, dphp_list_fn *, void *arg);
/* where the store's journal is, for the readers of journal.c: new, or
 * NULL (reported) for a store whose journal is not a directory */
char *dphp_store_journal(const struct dphp_store *);
/*
 * The store's journal as a change feed, whatever the backend: as
 * dphp_journal_follow (follow.c) does for a directory's (tick may be
 * NULL).
 */
typedef int dphp_journal_fn(json_t *line, void *arg);
typedef int dphp_tick_fn(json_int_t settled, void *arg);
int dphp_store_journal_read(struct dphp_store *, json_int_t after,
    int forever, dphp_journal_fn *, dphp_tick_fn *, void *arg);
/*
 * Hold every commit of a state off (by any process, this one too: it
 * must not commit meanwhile) until thawed, for a consistent reading of
 * many: 0, or -1 with a message.
 */
int dphp_store_freeze(struct dphp_store *);
void dphp_store_thaw(struct dphp_store *);

/*
 * The queue of a store (dphp-store(5)): a durable inbox and a delay
 * spool.  Functions return 0, or -1 after a message.
 */
/* make envs[0..n) (valid envelopes) durable in the inbox or, when
 * delayed past now, the spool */
int dphp_queue_admit(struct dphp_store *, json_t **envs, size_t n);
/* which part of the queue a worker takes: shard I of N by destination */
struct dphp_queue_part {
	unsigned shard, nshards;	/* nshards 0 or 1: everything */
	int64_t lease_ms;		/* how long a claim lasts */
	unsigned tries;			/* set an event aside (dead letter)
					 * once taken this often unfinished;
					 * 0: never */
	int idle;			/* the worker has nothing in flight:
					 * it may take a suspect, alone */
};
/*
 * One round of taking: move due delays into the inbox, release
 * expired claims (suspects now: taken before and not finished), then
 * claim up to max ready events of the part in queue order and call fn
 * with each, "receipt" added and d->tries set; an idle worker (part)
 * takes one suspect, alone, first.  A queue file that is not a valid
 * envelope, or an event taken part->tries times, is reported and set
 * aside in queue/bad with why.  The number taken, or -1; *bad counts
 * the files set aside.
 */
typedef int dphp_taken_fn(json_t *env, const struct dphp_desc *d,
    void *arg);
long dphp_queue_take(struct dphp_store *, const struct dphp_queue_part *,
    size_t max, dphp_taken_fn *, void *arg, size_t *bad);
/* dphp_queue_admit of the events of a JSON array */
int dphp_queue_admit_all(struct dphp_store *, json_t *array);
/* forget the delayed event env if it is still waiting in the spool */
int dphp_queue_cancel(struct dphp_store *, json_t *env);
/* move the delays due by now into the inbox; how many, or -1 */
long dphp_queue_release(struct dphp_store *);
/* is the event of receipt claimed (by anyone)? 1, 0, or -1 */
int dphp_queue_claimed(struct dphp_store *, const char *receipt);
/* is the event of queue name (no receipt suffix) still in the inbox,
 * ready or claimed?  1, 0, or -1 */
int dphp_queue_pending(struct dphp_store *, const char *name);
/* finished with a claimed event: forget it (ack), or give it back */
int dphp_queue_ack(struct dphp_store *, const char *receipt);
int dphp_queue_nack(struct dphp_store *, const char *receipt);
/* give it back failed, for why: a suspect, its tries counted */
int dphp_queue_fail(struct dphp_store *, const char *receipt,
    const char *why);
/* set it aside for good, for why: a dead letter (reported) */
int dphp_queue_bury(struct dphp_store *, const char *receipt,
    const char *why);
/*
 * The dead letters: fn gets each one's name, why ({"reason","at",
 * "tries"}, or NULL) and its text (the event's line, or NULL when it
 * cannot be read), len bytes; a non-zero return stops and is returned.
 */
typedef int dphp_dead_fn(const char *name, json_t *why, const char *text,
    size_t len, void *arg);
int dphp_queue_dead(struct dphp_store *, dphp_dead_fn *, void *arg);
/* what the part of the queue holds; next_ms is the earliest time a
 * delay falls due or a claim expires (INT64_MAX: never) */
struct dphp_queue_stat {
	size_t ready, claimed, delayed, due;
	size_t suspects;	/* ready, but taken only alone */
	int64_t next_ms;
};
int dphp_queue_stat(struct dphp_store *, const struct dphp_queue_part *,
    struct dphp_queue_stat *);
/*
 * Keep the claims this handle took from running out while they are
 * not finished (etcd: their leases kept alive); a worker calls it more
 * often than a third of its lease.  0, or -1 with a message.
 */
int dphp_queue_renew(struct dphp_store *);
/* sleep until the queue may have changed, at most ms */
int dphp_queue_wait(struct dphp_store *, int64_t ms);

/* lock.c: lock records of entities, dphp-lock(1) */
/* what a step on a lock record came to (or -1: an error, reported) */
enum dphp_lockrec_outcome {
	DPHP_LOCKREC_OK,
	DPHP_LOCKREC_HELD,	/* another holds it (and waits for it) */
	DPHP_LOCKREC_RACED,	/* it changed since it was read */
	DPHP_LOCKREC_LOST,	/* the caller's hold is gone */
	DPHP_LOCKREC_FREE,	/* no one held it */
	DPHP_LOCKREC_SAME	/* nothing to change */
};
struct dphp_hold {
	const char *entity;
	const char *owner;
	json_int_t fence;		/* the token of this hold */
	char etag[DPHP_ETAG_MAX];	/* of the lock record as last written */
};
/*
 * Take the lock of h->entity for h->owner, until now + lease_ms, if it
 * is free or its lease has run out: OK (h->fence and h->etag set);
 * HELD if another holds it (*holder: its record); RACED if another
 * took it just now; -1 after a message.
 */
int dphp_lock_try(struct dphp_store *, struct dphp_hold *h,
    json_t *participants, int64_t lease_ms, json_t **holder);
/* extend the lease: OK, LOST, or -1 */
int dphp_lock_renew(struct dphp_store *, struct dphp_hold *h,
    json_t *participants, int64_t lease_ms);
/* let go: OK, LOST if the hold was lost meanwhile, or -1 */
int dphp_lock_release(struct dphp_store *, struct dphp_hold *h);
/* let go of whoever holds the lock of entity: OK (*was: the record it
 * had), FREE if no one held it, RACED, or -1 */
int dphp_lock_force(struct dphp_store *, const char *entity, json_t **was);
/*
 * A lock record as read: owner NULL when free; parked (borrowed from
 * rec, or NULL) the events waiting for the hold to end, in arrival
 * order; etag "" when there is no record yet.
 */
struct dphp_lockrec {
	json_t *rec;
	char etag[DPHP_ETAG_MAX];
	const char *owner, *request;
	json_int_t fence;
	int64_t expires;
	json_t *parked;
	json_t *ahead;		/* of a free record: the queue names of the
				 * events let go ahead of the parked lock
				 * requests (borrowed), or NULL */
};
int dphp_lock_read(struct dphp_store *, const char *entity,
    struct dphp_lockrec *);	/* 0 or -1 */
void dphp_lockrec_free(struct dphp_lockrec *);
int dphp_lock_held(const struct dphp_lockrec *, int64_t now);
/* the token the next hold of this record gets */
json_int_t dphp_lock_next_fence(const struct dphp_lockrec *);
/* a new lock record: a hold, or free when owner is NULL */
json_t *dphp_lock_record(const char *owner, json_t *participants,
    int64_t until, json_int_t fence, const char *request, json_t *parked);
/* compare-and-set the record lr was read as to rec (stolen): OK (lr's
 * etag updated), RACED, or -1 */
int dphp_lock_write(struct dphp_store *, const char *entity,
    struct dphp_lockrec *lr, json_t *rec);
/* let go of the hold lr read (how, when not NULL, is kept in the free
 * record for audit): its parked events are queued, then the record is
 * written free; lock requests wait while plain events parked with them
 * go ahead (lock.c).  As dphp_lock_write. */
int dphp_lock_letgo(struct dphp_store *, const char *entity,
    struct dphp_lockrec *lr, const char *how);
/*
 * A free record lr holding lock requests back (lr->ahead): take from
 * its list the event of queue name done (NULL: none) and those no
 * longer in the queue; when none is left, the requests go on.  OK,
 * SAME when nothing changed, RACED, or -1.
 */
int dphp_lock_ahead(struct dphp_store *, const char *entity,
    struct dphp_lockrec *lr, const char *done);
/* the event d (d->ahead set), let go ahead of lock requests held back,
 * is finished with: 0 or -1 */
int dphp_lock_ahead_done(struct dphp_store *, const struct dphp_desc *d);
/* the n-th look at a record holding lock requests back came: the next
 * is due later, if it still does.  As dphp_lock_write. */
int dphp_lock_recheck(struct dphp_store *, const char *entity,
    struct dphp_lockrec *lr, json_int_t n);
/* queue the "expire" event due when the lease of the hold lr read runs
 * out (for holds others wait on); 0 or -1 */
int dphp_lock_guard(struct dphp_store *, const char *entity,
    const struct dphp_lockrec *lr);
/* dphp_lock_letgo of a hold that ran out, with the audit line */
int dphp_lock_expire(struct dphp_store *, const char *entity,
    struct dphp_lockrec *lr);
/*
 * lockstage.c: dphp-lock in a worker.  Decide about env (described by
 * d, taken from the queue): PASS with *out the event to pass on
 * (annotated with its hold's token when it is the holder's), DONE when
 * it was carried out or parked here (and acknowledged), REJECTED when
 * it was refused (reported at rd's record, answered and acknowledged),
 * or -1.
 */
enum { DPHP_LOCK_PASS, DPHP_LOCK_DONE, DPHP_LOCK_REJECTED };
int dphp_lock_stage(struct dphp_store *, const struct dphp_reader *rd,
    json_t *env, const struct dphp_desc *d, json_t **out);
/* locked.c: run cmd holding the locks of entities (sorted in place) */
struct dphp_locked {
	int64_t wait_ms;	/* for the locks; -1: as long as it takes */
	int64_t lease_ms;
	const char *owner;
};
/* cmd's exit status, 128 + signal, 126/127 if it could not be run,
 * DPHP_EXIT_LOCKED, or DPHP_EXIT_SYS; messages printed */
int dphp_run_locked(struct dphp_store *, char **entities, size_t n,
    char **cmd, const struct dphp_locked *);

/* jwt.c: HS256 tokens that say who acts, dphp-route(1) */
struct dphp_keys;
/* the keys of a key file; NULL after a message */
struct dphp_keys *dphp_keys_load(const char *path);
void dphp_keys_free(struct dphp_keys *);
/* a token for user with roles (an array), issued at iat, lasting
 * lifetime_ms, signed with the last key: a new string */
char *dphp_jwt_sign(const struct dphp_keys *, const char *user,
    json_t *roles, int64_t iat, int64_t lifetime_ms);
/* the acting user a token proves at now, as a new "by" object
 * ({"user","roles"}), or NULL with the reason in why */
json_t *dphp_jwt_verify(const struct dphp_keys *, const char *token,
    int64_t now, char *why, size_t whysz);
/* a -T argument: the token, or @FILE holding it on its first line, as
 * a new JSON string; exits 4 when the file cannot be read */
json_t *dphp_token_arg(const char *arg);

/* policy.c: the policy file, dphp-policy(5) */
enum dphp_mode { DPHP_MODE_EXPLICIT, DPHP_MODE_AUTH, DPHP_MODE_ANON };
struct dphp_rule {
	enum dphp_kind kind;	/* NONE: any kind */
	char *name;		/* a glob */
	enum dphp_mode mode;
	json_t *creators;	/* [{"user"|"role":name}], or NULL: the mode's */
	int64_t ttl_ms;		/* how long a resource lives; 0: for ever */
	unsigned long line;	/* in the file; 0 for the closed default */
};
struct dphp_policy;
struct dphp_policy *dphp_policy_load(const char *path);	/* NULL: message */
void dphp_policy_free(struct dphp_policy *);
/* the rule for id: the first that matches, else explicit, no creators */
const struct dphp_rule *dphp_policy_find(const struct dphp_policy *,
    const struct dphp_id *);
const char *dphp_mode_name(enum dphp_mode);

/* acl.c: ownership records, the decision of dphp-policy(5) */
/* the ownership events, carried out by dphp-route (by their ops) */
#define DPHP_OPS_OWNERSHIP (DPHP_OP_SHARE_PLUS | DPHP_OP_SHARE_MINUS | \
    DPHP_OP_OWNER)
/* the operations only an owner (or a share, or an admin) may do, even
 * in mode auth */
#define DPHP_OPS_OWNER (DPHP_OP_DELETE | DPHP_OP_SHARE_PLUS | \
    DPHP_OP_SHARE_MINUS | DPHP_OP_OWNER)
struct dphp_acl {
	json_t *rec;		/* the record, or NULL when there is none */
	char etag[DPHP_ETAG_MAX];
};
int dphp_acl_read(struct dphp_store *, const char *id, struct dphp_acl *);
/* may by (NULL: nobody) do op on a resource of that mode and record? */
int dphp_acl_allows(enum dphp_mode, json_t *rec, json_t *by, unsigned op);
int dphp_acl_may_create(const struct dphp_rule *, json_t *by);
int dphp_is_admin(json_t *by);
/* a new record: rec (NULL: none) with the share, revoke or give of d */
json_t *dphp_acl_change(json_t *rec, const struct dphp_desc *d);
/* the delete event that ends a resource with a time-to-live */
json_t *dphp_acl_expiry(const char *id, json_t *expiry);
/* forget the ownership record of a deleted id and its expiry: 0, -1 */
int dphp_acl_forget(struct dphp_store *, const char *id);

/* authz.c: is an event allowed?  dphp-policy(5) */
enum { DPHP_AUTHZ_ALLOW = 0, DPHP_AUTHZ_DENY = 1 };
/*
 * Check d (outside: it is being admitted, not taken from inside) against
 * the records of its destination, emitter and reply_to ids, creating
 * the destination's record when the event may create it.  ALLOW, DENY
 * with the reason in why, or -1 after a message.
 */
int dphp_authorize(struct dphp_store *, const struct dphp_policy *,
    const struct dphp_desc *, int outside, char *why, size_t whysz);
/* carry out the ownership event d (share, revoke, give) if allowed:
 * as dphp_authorize */
int dphp_authz_own(struct dphp_store *, const struct dphp_policy *,
    const struct dphp_desc *, char *why, size_t whysz);
/* may by (NULL: nobody) do ops at id (reading, outside any event)?  as
 * dphp_authorize */
int dphp_authz_may(struct dphp_store *, const struct dphp_policy *,
    json_t *by, const char *id, unsigned ops, char *why, size_t whysz);

/*
 * journal.c: reading a store's journal, dphp-store(5).  Call fn with
 * each state line committed, in order, from the segments named (files,
 * or journal directories, whose segments are read in name order).
 * Returns 0, fn's non-zero return, 3 after a corrupt line or 4 after an
 * unreadable file (both reported).
 */
int dphp_journal_each(int argc, char **argv, dphp_journal_fn *, void *arg);
/* a tar of the segments of journal directory dir but the newest (still
 * written), to fd, compressed by filter (or NULL): 0 or an exit */
int dphp_journal_archive(const char *dir, const char *filter, int fd);
/* the segments of a journal directory, sorted: a NULL-ended list */
char **dphp_journal_segments(const char *dir);
/*
 * A reading, line by line (dphp_journal_each's parts): take each line
 * read from a segment; fn gets the lines of a batch when it ends.
 * settled: the last seq of an ended batch (0: none).  pending: lines
 * of a batch that has not ended; retract: forget them (they were taken
 * back); unended: warn that they are left out.
 */
struct dphp_journal *dphp_journal_new(dphp_journal_fn *, void *arg);
int dphp_journal_take(struct dphp_journal *, const char *file,
    unsigned long no, json_t *line);
json_int_t dphp_journal_settled(const struct dphp_journal *);
size_t dphp_journal_pending(const struct dphp_journal *);
void dphp_journal_retract(struct dphp_journal *);
void dphp_journal_unended(const struct dphp_journal *);
void dphp_journal_free(struct dphp_journal *);

/*
 * follow.c: the journal of a directory as a change feed.  Hand fn each
 * line committed after seq after, in order, and tick the last seq
 * settled after each run of lines; at the end, stop, or with forever
 * wait for more.  Returns 0, fn's or tick's non-zero return, or 3/4 as
 * dphp_journal_each.
 */
int dphp_journal_follow(const char *dir, json_int_t after, int forever,
    dphp_journal_fn *, dphp_tick_fn *, void *arg);

/*
 * conf.c: read a line file (policy, mapping): fn gets each entry (its
 * comment cut off, blank lines skipped) and returns 0, or -1 with why
 * it is refused, which stops the reading, located.  0, or -1
 * (reported).
 */
typedef int dphp_conf_fn(char *line, unsigned long no, void *arg,
    char *why, size_t whysz);
int dphp_conf_read(const char *path, const char *what, dphp_conf_fn *,
    void *arg);

/* mapping.c: tables and columns of dphp-project follow's sinks */
enum dphp_column_type {
	DPHP_COLUMN_TEXT, DPHP_COLUMN_INTEGER, DPHP_COLUMN_REAL,
	DPHP_COLUMN_BOOLEAN, DPHP_COLUMN_JSON
};
struct dphp_column {
	char *name;
	char *path;		/* .a.b within the stored state */
	enum dphp_column_type type;
};
struct dphp_map {
	enum dphp_kind kind;	/* DPHP_KIND_NONE: any */
	char *name;		/* a glob */
	char *table;
	struct dphp_column *cols;	/* none: the whole state, as doc */
	size_t ncols;
};
struct dphp_mapping {
	struct dphp_map *v;
	size_t n;
};
/* load a mapping file (errors located and reported): NULL on error */
struct dphp_mapping *dphp_mapping_load(const char *path);
struct dphp_mapping *dphp_mapping_default(void);	/* all in "states" */
void dphp_mapping_free(struct dphp_mapping *);
/* the first map for id, or NULL */
const struct dphp_map *dphp_mapping_find(const struct dphp_mapping *,
    const struct dphp_id *);
/* what path (.a.b.0) names within doc, or NULL (borrowed) */
json_t *dphp_path_get(json_t *doc, const char *path);

/* sink.c: journal lines written out for a read model, on stdout */
enum dphp_sink_format {
	DPHP_SINK_FEED, DPHP_SINK_NDJSON, DPHP_SINK_SQLITE, DPHP_SINK_POSTGRES,
	DPHP_SINK_TYPESENSE
};
struct dphp_sink {
	enum dphp_sink_format format;
	const struct dphp_mapping *map;
	const char *feed;	/* its row in dphp_checkpoint */
	int intx;		/* a transaction is open */
};
int dphp_sink_parse(const char *, enum dphp_sink_format *);	/* 0, -1 */
int dphp_sink_begin(struct dphp_sink *);	/* the SQL schema */
/* one journal line, for the table m (DPHP_SINK_FEED: NULL) */
int dphp_sink_line(struct dphp_sink *, const struct dphp_map *m,
    json_t *line);
/* all up to settled is written: the checkpoint, a commit, a flush */
int dphp_sink_tick(struct dphp_sink *, json_int_t settled);

/* etcd.c: etcd v3's JSON gateway, for store_etcd.c */
struct dphp_etcd;
struct dphp_etcd *dphp_etcd_open(const char *hosts);	/* h:p,h:p */
void dphp_etcd_close(struct dphp_etcd *);
/* POST body to path (/v3/kv/txn...): 0 and *out (the answer, or the
 * error of a thing not found, "code" 5: a lease run out), -1 (reported),
 * or -2 when it went out and no answer came (it may have been done) */
int dphp_etcd_call(struct dphp_etcd *, const char *path, json_t *body,
    json_t **out);
/* watch as body asks ({"create_request":...}) until something changes,
 * or for ms at most; at once if no member can be asked (not reported:
 * a watch only spares looking, and the next request finds out) */
void dphp_etcd_watch(struct dphp_etcd *, json_t *body, int64_t ms);
char *dphp_b64(const void *, size_t);		/* new */
char *dphp_unb64(const char *, size_t *n);	/* new, or NULL */

/* tarball.c: tar archives that depend only on their content */
struct dphp_tar;
int dphp_tar_filter_valid(const char *);	/* gzip, xz, zstd, bzip2 */
/* write to fd, compressed by filter (or NULL); what names it in
 * messages; NULL on error, reported */
struct dphp_tar *dphp_tar_open(int fd, const char *filter, const char *what);
/* an entry of size bytes, which fill copies into buf (up to n of them;
 * returns how many, <= 0 if it has no more) */
typedef ssize_t dphp_tar_fill_fn(char *buf, size_t n, void *arg);
int dphp_tar_add(struct dphp_tar *, const char *name, int64_t size,
    dphp_tar_fill_fn *, void *arg);
struct dphp_tar_bytes {
	const char *data;
	size_t len, off;
};
ssize_t dphp_tar_bytes(char *, size_t, void *);	/* fill from bytes */
int dphp_tar_close(struct dphp_tar *);	/* the end: 0 or 4, reported */
void dphp_tar_abort(struct dphp_tar *);	/* no end: it is not whole */

/*
 * snapshot.c: a store as a tar archive (dphp-store(5) "Snapshots").
 * export: the states and ownership records of the ids matching pat (all
 * when npat is 0), to fd; 0 or an exit status.  import: those of the
 * archive at path into st, where absent (force: wherever they differ);
 * counts: written, already there, refused; 0, 1 if any was refused, or
 * an exit status (a bad archive writes nothing).
 */
int dphp_snapshot_export(struct dphp_store *, int npat, char **pat,
    const char *filter, int fd);
int dphp_snapshot_import(struct dphp_store *, const char *path, int npat,
    char **pat, int force, unsigned long counts[3]);

/* rebuild.c: dphp-replay -J, a journal replayed offline */
enum dphp_rebuild_mode {
	DPHP_REBUILD_STATES,	/* the states it leads to */
	DPHP_REBUILD_HISTORY,	/* the lines of one id */
	DPHP_REBUILD_CHECK,	/* what differs from the live store */
	DPHP_REBUILD_STEPS,	/* what each line did (trace.c) */
	DPHP_REBUILD_TIMELINE,	/* one orchestration, in Mermaid */
	DPHP_REBUILD_DETERMINISM	/* today's handlers on the history */
};
struct dphp_handlers;
struct dphp_rebuild {
	enum dphp_rebuild_mode mode;
	json_int_t upto;	/* -S: up to this seq, or 0 */
	int64_t until;		/* -A: up to this time, or -1 */
	const char *only;	/* -I: this id only, or NULL */
	const char *spec;	/* the store (its journal by default) */
	const struct dphp_handlers *handlers;	/* DETERMINISM */
};
/* replay the journals named (the store's by default): 0, 1 when CHECK or
 * DETERMINISM found a difference, or an exit status */
int dphp_rebuild(const struct dphp_rebuild *, int argc, char **argv);
/* trace.c: what a journal line did, from the state before it (or NULL):
 * a new step record, dphp-replay(1) */
json_t *dphp_trace_step(json_t *before, json_t *line);
/* the steps of orchestration id, as a Mermaid sequence diagram */
int dphp_trace_mermaid(const char *id, json_t *steps, FILE *out);

/* handler.c: running the user's handlers, dphp-handler(5) */
/*
 * A configuration error met while running a handler: the handlers'
 * directory or its KIND directory missing, no handler, one that is not
 * executable, or the sh library it sources unreadable.  It is no fault
 * of the operation, so no failure is committed: the stage gives the
 * event back and stops.  event says whether the event may be the cause
 * (a destination nobody has a handler for), so that it is counted as a
 * suspect, and set aside if it keeps coming.
 */
struct dphp_trouble {
	char why[1024];		/* empty: no trouble */
	int event;
};
struct dphp_handlers {
	char *dir;		/* -x or DPHP_HANDLERS */
	int64_t timeout_ms;	/* per request; 0 means none */
	int keep;		/* keep handlers running as co-processes */
	struct dphp_trouble *trouble;	/* where to say so, or NULL */
};
/*
 * 0, or DPHP_EXIT_CONFIG with a message: dir is not a directory.  A
 * stage checks at once, but for its input from a pipe, as in a worker:
 * there the first event that needs a handler finds the trouble, and is
 * given back, where a stage that ended at once would leave the events
 * in its pipe to count as suspects.
 */
int dphp_handlers_check(const char *dir);
/*
 * Report the trouble met with the event d, read at at, give it back
 * (failed, a suspect, when it may be the cause) and clear the trouble:
 * DPHP_EXIT_CONFIG, or DPHP_EXIT_SYS.
 */
int dphp_trouble_giveback(struct dphp_store *, const struct dphp_reader *at,
    const struct dphp_desc *d, struct dphp_trouble *);
/*
 * Send request to the handler DIR/KIND/NAME (started, or kept from
 * before with keep) and read its answer; on 0 *out is the answer, a
 * JSON object.  On -1, why holds a reason fit for a failed reply (no
 * such handler, crash, status, time-out, invalid output), and a
 * co-process that failed is gone: the next request starts it again.
 */
int dphp_handler_call(const struct dphp_handlers *, const struct dphp_id *,
    json_t *request, json_t **out, char *why, size_t whysz);
/* end every co-process: end of input, then wait for it */
void dphp_handlers_close(void);

/* emit.c: the events a history sends */
/* an envelope around chain (stolen): the n-th event caused by d */
json_t *dphp_caused(const struct dphp_desc *d, unsigned n, json_t *chain);
/* append to emit a reply to every reply_to of d: completed with
 * result, or failed with reason failure when it is not NULL */
void dphp_reply(json_t *emit, const struct dphp_desc *d, json_t *result,
    const char *failure);

/* dedupe.c: the window of event ids a history has applied */
#define DPHP_DEDUPE_MS (3600 * 1000)	/* how long an id is remembered */
#define DPHP_DEDUPE_MAX 10000		/* and how many at most */
int dphp_seen(json_t *doc, const char *id);	/* in doc's window? */
/* a copy of doc's window with id added and old ids pruned */
json_t *dphp_seen_add(json_t *doc, const char *id);

/* entity.c: the entity history, one operation at a time */
/* dphp_apply for an entity's signal or delete */
/* orchestration.c: dphp_apply for an orchestration's events */
/* the request of dphp-handler(5) replaying the instance id at doc */
json_t *dphp_orchestration_request(json_t *doc, const char *id);
/* what identifies an action for the determinism check: kind, name, to,
 * op (not its input, nor dphp's bookkeeping) */
void dphp_action_describe(json_t *action, char *buf, size_t bufsz);
/*
 * determinism.c: run today's handler on the history of orchestration id
 * (doc, its stored state): NULL when it does what the history says, or
 * a new {"id","step","history","now"} saying where it first does not.
 */
json_t *dphp_orchestration_check(const struct dphp_handlers *,
    const char *id, json_t *doc);
json_t *dphp_orchestration_apply(const struct dphp_handlers *,
    const struct dphp_desc *, json_t *doc);
/* is d a reply that binds to an action of doc's but does not come from
 * where that action went?  0, or 1 and why */
int dphp_orchestration_forged(json_t *doc, const struct dphp_desc *d,
    char *why, size_t whysz);
/* activity.c: dphp_apply for an activity's schedule or delete */
json_t *dphp_activity_apply(const struct dphp_handlers *,
    const struct dphp_desc *, json_t *doc);
json_t *dphp_entity_apply(const struct dphp_handlers *,
    const struct dphp_desc *, json_t *doc);
/* is doc an entity's document, {"state":...,"seen":{...}}?  0, or -1
 * with why */
int dphp_entity_doc_check(json_t *doc, char *why, size_t whysz);

/* proposal.c: the record dphp-replay prints and dphp-commit reads */
/*
 * Apply a validated envelope (its description) to the stored document doc (borrowed; NULL
 * when absent) with the user's handlers: a new object with "target",
 * "state" (a new state), "delete" (true) or neither (unchanged), "emit"
 * and, when the operation failed, "failed".
 * NULL with a reason in why when this kind of event is not applied by
 * dphp-replay (see dphp-replay(1)).
 */
json_t *dphp_apply(const struct dphp_handlers *, const struct dphp_desc *,
    json_t *doc, char *why, size_t whysz);
/* the proposal record around an applied result (stolen) */
json_t *dphp_proposal_new(json_t *env, json_t *applied, const char *base,
    const char *prev);
struct dphp_proposal {
	json_t *input;		/* the input envelope */
	struct dphp_desc desc;	/* its description */
	const char *target;
	const char *base;	/* ETag the state came from; NULL = absent */
	const char *prev;	/* input id of the proposal it builds on */
};
/* validate a proposal record (and the envelopes in it); as above */
int dphp_proposal_check(json_t *rec, struct dphp_proposal *, char *why,
    size_t whysz);

#endif
