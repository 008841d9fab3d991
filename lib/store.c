/*
 * store.c - the store as the programs see it: names a backend from the
 * -d spec (or DPHP_STORE), checks ids before any backend sees them, and
 * forwards.  Backends never receive an id that failed dphp_id_parse.
 * Also the rules of a batch every backend applies alike: preconditions
 * and guards (dphp_batch_decide); backends only read and write.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "store.h"
#include "util.h"

const char *const dphp_space_dir[] = { "state", "lock", "owner" };

/* the backends, by the prefix of the specs they open; a path last */
static const struct dphp_backend *const backends[] = {
	&dphp_etcd_backend,
	&dphp_dir_backend,
};

/*
 * What a failed dphp_store_open or dphp_store_init calls for (dphp(7)):
 * 5 when what it names is not a store that can be opened, so that no
 * retry or restart mends it; 4 when a store could not be reached or
 * read, which may pass.
 */
static int open_status = DPHP_EXIT_SYS;

int
dphp_store_open_status(void)
{
	return open_status;
}

/* The store named is not one: a configuration error, said already. */
void
dphp_store_misnamed(void)
{
	open_status = DPHP_EXIT_CONFIG;
}

static const struct dphp_backend *
backend(const char **spec)
{
	const struct dphp_backend *be;
	size_t i;

	if (*spec == NULL)
		*spec = getenv("DPHP_STORE");
	if (*spec == NULL || (*spec)[0] == '\0') {
		dphp_error("no store: give -d STORE or set DPHP_STORE");
		dphp_store_misnamed();
		return NULL;
	}
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		be = backends[i];
		if (be->prefix == NULL ? strstr(*spec, "://") == NULL :
		    strncmp(*spec, be->prefix, strlen(be->prefix)) == 0)
			return be;
	}
	dphp_error("unsupported store '%s' (a directory, or "
	    "etcd://HOST:PORT[,...]/PREFIX)", *spec);
	dphp_store_misnamed();
	return NULL;
}

struct dphp_store *
dphp_store_open(const char *spec)
{
	const struct dphp_backend *be = backend(&spec);
	struct dphp_store *st;

	if (be == NULL || (st = be->open(spec)) == NULL)
		return NULL;
	st->be = be;
	st->spec = xstrdup(spec);
	return st;
}

char *
dphp_store_journal(const struct dphp_store *st)
{
	struct stat sb;
	char *dir;

	if (!st->be->segments) {
		dphp_error("the journal of '%s' is not in segments: only a "
		    "directory store's is archived", st->spec);
		return NULL;
	}
	dir = xasprintf("%s/journal", st->spec);
	/* a link planted there would be read as the store's history */
	if (lstat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
		dphp_error("'%s' is not a directory (a link?): not read", dir);
		free(dir);
		return NULL;
	}
	return dir;
}

static int
notick(json_int_t settled, void *arg)
{
	(void)settled, (void)arg;
	return 0;
}

int
dphp_store_journal_read(struct dphp_store *st, json_int_t after,
    int forever, dphp_journal_fn *fn, dphp_tick_fn *tick, void *arg)
{
	return st->be->journal_read(st, after, forever, fn, tick ? tick : notick,
	    arg);
}

int
dphp_store_freeze(struct dphp_store *st)
{
	return st->be->freeze(st);
}

void
dphp_store_thaw(struct dphp_store *st)
{
	st->be->thaw(st);
}

int
dphp_store_init(const char *spec)
{
	const struct dphp_backend *be = backend(&spec);

	return be == NULL ? -1 : be->init(spec);
}

int
dphp_store_close(struct dphp_store *st)
{
	char *spec;
	int r;

	if (st == NULL)
		return 0;
	spec = st->spec;
	r = st->be->close(st);
	free(spec);
	return r;
}

static int
parse(const char *s, struct dphp_id *id)
{
	char why[128];

	if (dphp_id_parse(s, id, why, sizeof(why)) == 0) {
		id->space = DPHP_SPACE_STATE;
		return 0;
	}
	dphp_error("invalid id '%.300s': %s", s, why);
	return -1;
}

int
dphp_store_get(struct dphp_store *st, const char *s, json_t **state,
    char etag[DPHP_ETAG_MAX])
{
	struct dphp_id id;

	if (parse(s, &id))
		return DPHP_STORE_ERROR;
	return st->be->get(st, &id, state, etag);
}

int
dphp_store_get_space(struct dphp_store *st, enum dphp_space space,
    const char *s, json_t **rec, char etag[DPHP_ETAG_MAX])
{
	struct dphp_id id;

	if (parse(s, &id))
		return DPHP_STORE_ERROR;
	id.space = space;
	return st->be->get(st, &id, rec, etag);
}

int
dphp_store_keeps_seen(const struct dphp_store *st)
{
	return st->be->seen != NULL;
}

int
dphp_store_seen(struct dphp_store *st, const char *s, const char *event)
{
	struct dphp_id id;

	if (st->be->seen == NULL)
		return 0;
	if (parse(s, &id))
		return -1;
	return st->be->seen(st, &id, event);
}

int
dphp_store_chains(const struct dphp_store *st)
{
	return st->be->chains;
}

/*
 * May c[i] be in a batch with c[0..i-1]?  Guards only read, so several
 * may read one record; a change to an id already changed must follow
 * the last change to it (after), on a backend that takes chains.
 */
static int
chain_ok(const struct dphp_store *st, const struct dphp_change *c, size_t i)
{
	size_t k, last = 0;
	const struct dphp_change *p;

	for (k = 0; k < i; k++)
		if (strcmp(c[k].id, c[i].id) == 0 && c[k].space == c[i].space &&
		    !(DPHP_IS_GUARD(c[k].op) && DPHP_IS_GUARD(c[i].op)))
			last = k + 1;
	if (c[i].after == 0)
		return last == 0;
	p = &c[c[i].after - 1];
	return st->be->chains && c[i].after == last && !DPHP_IS_GUARD(p->op) &&
	    p->op == DPHP_PUT && c[i].op == DPHP_PUT &&
	    json_array_size(p->outbox) == 0;
}

int
dphp_store_batch(struct dphp_store *st, struct dphp_change *c, size_t n)
{
	struct dphp_id *ids;
	size_t i;
	int r;

	ids = xcalloc(n ? n : 1, sizeof(*ids));
	for (i = 0; i < n; i++) {
		if (parse(c[i].id, &ids[i]) != 0) {
			free(ids);
			return DPHP_STORE_ERROR;
		}
		ids[i].space = c[i].space;
		if (!chain_ok(st, c, i)) {
			dphp_error("a batch changes '%.300s' twice",
			    c[i].id);
			free(ids);
			return DPHP_STORE_ERROR;
		}
	}
	r = n ? st->be->batch(st, ids, c, n) : DPHP_STORE_OK;
	free(ids);
	return r;
}

int
dphp_store_change(struct dphp_store *st, enum dphp_space space,
    const char *id, enum dphp_op op, json_t *state, enum dphp_cond cond,
    const char *etag, char newetag[DPHP_ETAG_MAX])
{
	struct dphp_change c;

	memset(&c, 0, sizeof(c));
	c.id = id;
	c.space = space;
	c.op = op;
	c.state = state;
	c.cond = cond;
	c.etag = etag;

	if (dphp_store_batch(st, &c, 1) != DPHP_STORE_OK)
		return DPHP_STORE_ERROR;
	memcpy(newetag, c.newetag, DPHP_ETAG_MAX);
	return c.result;
}

int
dphp_store_list(struct dphp_store *st, enum dphp_kind kind, const char *name,
    dphp_list_fn *fn, void *arg)
{
	if (name != NULL && !dphp_name_valid(name)) {
		dphp_error("invalid name '%.300s'", name);
		return DPHP_STORE_ERROR;
	}
	return st->be->list(st, DPHP_SPACE_STATE, kind, name, fn, arg);
}

int
dphp_store_list_space(struct dphp_store *st, enum dphp_space space,
    enum dphp_kind kind, dphp_list_fn *fn, void *arg)
{
	return st->be->list(st, space, kind, NULL, fn, arg);
}

int
dphp_queue_admit(struct dphp_store *st, json_t **envs, size_t n)
{
	return st->be->queue_admit(st, envs, NULL, n);
}

long
dphp_queue_take(struct dphp_store *st, const struct dphp_queue_part *part,
    size_t max, dphp_taken_fn *fn, void *arg, size_t *bad)
{
	return st->be->queue_take(st, part, max, fn, arg, bad);
}

int
dphp_queue_admit_all(struct dphp_store *st, json_t *a)
{
	size_t i, n = json_array_size(a);
	json_t **v;
	int r;

	if (n == 0)
		return 0;
	v = xcalloc(n, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = json_array_get(a, i);
	r = st->be->queue_admit(st, v, NULL, n);
	free(v);
	return r;
}

int
dphp_queue_cancel(struct dphp_store *st, json_t *env)
{
	return st->be->queue_cancel(st, env);
}

long
dphp_queue_release(struct dphp_store *st)
{
	return st->be->queue_release(st);
}

int
dphp_queue_claimed(struct dphp_store *st, const char *receipt)
{
	return st->be->queue_claimed(st, receipt);
}

int
dphp_queue_pending(struct dphp_store *st, const char *name)
{
	return st->be->queue_pending(st, name);
}

int
dphp_queue_ack(struct dphp_store *st, const char *receipt)
{
	return st->be->queue_ack(st, receipt);
}

int
dphp_queue_nack(struct dphp_store *st, const char *receipt)
{
	return st->be->queue_nack(st, receipt);
}

int
dphp_queue_fail(struct dphp_store *st, const char *receipt, const char *why)
{
	return st->be->queue_fail(st, receipt, why);
}

int
dphp_queue_bury(struct dphp_store *st, const char *receipt, const char *why)
{
	return st->be->queue_bury(st, receipt, why);
}

int
dphp_queue_dead(struct dphp_store *st, dphp_dead_fn *fn, void *arg)
{
	return st->be->queue_dead(st, fn, arg);
}

int
dphp_queue_stat(struct dphp_store *st, const struct dphp_queue_part *part,
    struct dphp_queue_stat *qs)
{
	return st->be->queue_stat(st, part, qs);
}

int
dphp_queue_renew(struct dphp_store *st)
{
	return st->be->queue_renew(st);
}

int
dphp_queue_wait(struct dphp_store *st, int64_t ms)
{
	return st->be->queue_wait(st, ms);
}

/* does cond hold for a record whose ETag is cur ("": none)?  OK, or
 * CONFLICT with newetag set to cur */
static int
cond_check(const char *cur, enum dphp_cond cond, const char *etag,
    char *newetag)
{
	if ((cond == DPHP_IF_MATCH && (*cur == '\0' || strcmp(cur, etag) !=
	    0)) || (cond == DPHP_IF_ABSENT && *cur != '\0')) {
		snprintf(newetag, DPHP_ETAG_MAX, "%s", cur);
		return DPHP_STORE_CONFLICT;
	}
	return DPHP_STORE_OK;
}

/*
 * Does the guard c (DPHP_FENCE, DPHP_FREE) hold for lock, the state of
 * its lock record (NULL: there is none)?  Held is what dphp-lock reads
 * a record as (lock.c): an owner, and an expiry still to come; an
 * expiry that cannot be read has run out.
 */
static int
guard_holds(json_t *lock, const struct dphp_change *c)
{
	json_t *owner = json_object_get(lock, "owner");
	int64_t until;
	int held;

	held = json_is_object(lock) && json_is_string(owner) &&
	    dphp_time_parse(json_string_value(json_object_get(lock,
	    "expires")), &until) == 0 && until > dphp_now_ms();
	if (c->op == DPHP_FREE)
		return !held;
	return held && c->owner != NULL && strcmp(json_string_value(owner),
	    c->owner) == 0 && json_is_integer(json_object_get(lock, "fence")) &&
	    json_integer_value(json_object_get(lock, "fence")) == c->fence;
}

void
dphp_batch_decide(struct dphp_change *c, size_t n, const struct dphp_now *now,
    int *write)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		write[i] = 0;
		c[i].newetag[0] = '\0';
		c[i].result = DPHP_STORE_OK;
		if (c[i].after != 0)	/* decided with the one it follows */
			continue;
		c[i].result = cond_check(now[i].etag, c[i].cond, c[i].etag,
		    c[i].newetag);
		if (c[i].result != DPHP_STORE_OK)
			continue;
		if (DPHP_IS_GUARD(c[i].op)) {
			if (!guard_holds(now[i].state, &c[i]))
				c[i].result = DPHP_STORE_CONFLICT;
		} else if (c[i].op == DPHP_CHECK)
			snprintf(c[i].newetag, DPHP_ETAG_MAX, "%s", now[i].etag);
		else if (c[i].op == DPHP_DELETE && now[i].etag[0] == '\0')
			c[i].result = DPHP_STORE_NOTFOUND;
		else
			write[i] = 1;
	}
	/* a guard that does not hold fails what it guards */
	for (i = 0; i < n; i++)
		if (DPHP_IS_GUARD(c[i].op) && c[i].result != DPHP_STORE_OK)
			for (k = 0; k < n; k++)
				if (!DPHP_IS_GUARD(c[k].op) && (!c[i].guards ||
				    c[i].guards == k + 1) && c[k].result ==
				    DPHP_STORE_OK)
					c[k].result = DPHP_STORE_CONFLICT;
	/* a change that follows another is made if that one is */
	for (i = 0; i < n; i++) {
		if (c[i].after == 0)
			continue;
		k = c[i].after - 1;
		if (c[k].result != DPHP_STORE_OK || !write[k]) {
			c[i].result = DPHP_STORE_CONFLICT;
			snprintf(c[i].newetag, DPHP_ETAG_MAX, "%s",
			    c[k].result != DPHP_STORE_OK ? c[k].newetag :
			    now[k].etag);
		} else if (c[i].result == DPHP_STORE_OK)
			write[i] = 1;
	}
	for (i = 0; i < n; i++)
		if (c[i].result != DPHP_STORE_OK)
			write[i] = 0;
}
