/*
 * store_etcd.c - the etcd backend (-d etcd://HOST:PORT[,...]/PREFIX):
 * each record a key, PREFIX/SPACE/KIND/NAME/KEY (the key encoded as in
 * file names), holding {"state":...} ("seq" too for a state), its ETag
 * the key's mod_revision: etcd's revisions grow and are never reused,
 * so a stale ETag never matches a state made again.
 *
 * A batch reads every key it touches in one transaction (one revision),
 * decides each change as the directory store does, then writes in a
 * second transaction that compares every key read with the revision it
 * had: if anything changed in between, nothing is written and the batch
 * is decided again.  The journal goes in the same transaction, so a
 * state and its journal line are one commit: PREFIX/journal/SEQ, the
 * line without its ETag (the revision of the line's own key), and
 * PREFIX/journal/next, the next seq, compared like the records.
 *
 * Read back, a line gets its ETag from its key's revision; a commit's
 * lines appear together or not at all, so there is nothing to void.
 * Each commit also makes a marker key that must not exist before it,
 * so that one sent and left unanswered can be found out (commit()).
 *
 * Not on etcd yet: the queue and delays (workers need a directory
 * store), and archives of the journal (dphp-project archive).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "backend.h"

#define FORMAT "dphp-etcd 1"

static const char *const spacedir[] = { "state", "lock", "owner" };

struct etcdstore {
	struct dphp_store base;
	struct dphp_etcd *e;
	char *prefix;
	json_int_t atrev;	/* frozen: read at this revision; 0: now */
	char *lastmark;		/* the marker of the last commit */
};

#define ES(st) ((struct etcdstore *)(st))

/* "etcd://HOSTS/PREFIX": the hosts and the prefix (new strings) */
static int
parse(const char *spec, char **hosts, char **prefix)
{
	const char *p = spec + strlen("etcd://"), *slash = strchr(p, '/');

	if (slash == NULL || slash == p || slash[1] == '\0' ||
	    strstr(slash, "//") != NULL) {
		dphp_error("invalid store '%s' (want etcd://HOST:PORT[,...]/"
		    "PREFIX)", spec);
		return -1;
	}
	*hosts = xasprintf("%.*s", (int)(slash - p), p);
	*prefix = xstrdup(slash + 1);
	return 0;
}

static char *
keyof(struct dphp_store *st, enum dphp_space sp, const struct dphp_id *id)
{
	char *k = dphp_key_encode(id->key), *r;

	r = xasprintf("%s/%s/%s/%s/%s", ES(st)->prefix, spacedir[sp],
	    dphp_kind_name(id->kind), id->name, k);
	free(k);
	return r;
}

static json_t *
b64(const char *s)
{
	char *t = dphp_b64(s, strlen(s));
	json_t *v = json_string(t);

	free(t);
	return v;
}

/* a request of a transaction: range of key, at the frozen revision */
static json_t *
rangeop(struct dphp_store *st, const char *key)
{
	json_t *r = json_pack("{so}", "key", b64(key));

	if (ES(st)->atrev > 0)
		json_object_set_new(r, "revision", json_integer(ES(st)->atrev));
	return json_pack("{so}", "requestRange", r);
}

static json_int_t
num(json_t *v)
{
	return json_is_string(v) ? strtoll(json_string_value(v), NULL, 10) :
	    json_integer_value(v);
}

/*
 * A request that does the same when done twice (a read, or a write
 * compared so): asked again of another member when one went out
 * unanswered.  0 and *out, or -1 (reported).
 */
static int
call(struct dphp_store *st, const char *path, json_t *body, json_t **out)
{
	int r, n;

	for (n = 0; (r = dphp_etcd_call(ES(st)->e, path, body, out)) == -2 &&
	    n < 3; n++)
		;
	if (r == -2)
		dphp_error("etcd: no answer from any member");
	return r == 0 ? 0 : -1;
}

/* run a transaction that may be run twice: its response, or NULL */
static json_t *
txn(struct dphp_store *st, json_t *compare, json_t *success)
{
	json_t *body = json_pack("{soso}", "compare", compare, "success",
	    success), *out;

	if (call(st, "/v3/kv/txn", body, &out) != 0)
		out = NULL;
	json_decref(body);
	return out;
}

/* the kv of the i-th range response of a transaction, or NULL */
static json_t *
kvat(json_t *resp, size_t i)
{
	return json_array_get(json_object_get(json_object_get(json_array_get(
	    json_object_get(resp, "responses"), i), "response_range"), "kvs"),
	    0);
}

/* the JSON a kv holds, or NULL */
static json_t *
decoded(json_t *kv)
{
	size_t n;
	char *text;
	json_t *v;

	text = dphp_unb64(json_string_value(json_object_get(kv, "value")), &n);
	v = text ? json_loadb(text, n, 0, NULL) : NULL;
	free(text);
	return v;
}

/* A record's value: NULL if kv is NULL; (json_t *)-1 if corrupt. */
static json_t *
value(json_t *kv, const char *key)
{
	json_t *v;

	if (kv == NULL)
		return NULL;
	v = decoded(kv);
	if (!json_is_object(v) || json_object_get(v, "state") == NULL) {
		dphp_error("etcd: the record '%s' is not one of dphp's", key);
		json_decref(v);
		return (json_t *)-1;
	}
	return v;
}

static struct dphp_store *
etcd_open(const char *spec)
{
	struct etcdstore *es;
	char *hosts, *prefix, *key;
	json_t *resp, *kv;
	size_t n;
	char *text = NULL;

	if (parse(spec, &hosts, &prefix) != 0)
		return NULL;
	es = xcalloc(1, sizeof(*es));
	es->prefix = prefix;
	es->e = dphp_etcd_open(hosts);
	free(hosts);
	if (es->e == NULL) {
		free(es->prefix);
		free(es);
		return NULL;
	}
	key = xasprintf("%s/FORMAT", prefix);
	resp = txn(&es->base, json_array(), json_pack("[o]", rangeop(
	    &es->base, key)));
	kv = kvat(resp, 0);
	if (kv != NULL)
		text = dphp_unb64(json_string_value(json_object_get(kv,
		    "value")), &n);
	if (resp != NULL && (text == NULL || strcmp(text, FORMAT) != 0))
		dphp_error("'%s' is not a dphp store (make one with dphp-commit "
		    "-i)", spec);
	free(key);
	json_decref(resp);
	if (resp == NULL || text == NULL || strcmp(text, FORMAT) != 0) {
		free(text);
		dphp_etcd_close(es->e);
		free(es->prefix);
		free(es);
		return NULL;
	}
	free(text);
	return &es->base;
}

static int
etcd_init(const char *spec)
{
	struct etcdstore es = { { NULL, NULL }, NULL, NULL, 0, NULL };
	char *hosts, *key;
	json_t *resp;
	int r = -1;

	if (parse(spec, &hosts, &es.prefix) != 0)
		return -1;
	if ((es.e = dphp_etcd_open(hosts)) != NULL) {
		key = xasprintf("%s/FORMAT", es.prefix);
		/* only if there is none: init is harmless to a store */
		resp = txn(&es.base, json_pack("[{sosssssi}]", "key", b64(key),
		    "target", "CREATE", "result", "EQUAL", "create_revision",
		    0), json_pack("[{s{soso}}]", "requestPut", "key", b64(key),
		    "value", b64(FORMAT)));
		r = resp != NULL ? 0 : -1;
		json_decref(resp);
		free(key);
	}
	dphp_etcd_close(es.e);
	free(hosts);
	free(es.prefix);
	return r;
}

static void
etcd_close(struct dphp_store *st)
{
	/* the last marker: nothing is asked of it any more */
	if (ES(st)->lastmark != NULL)
		json_decref(txn(st, json_array(), json_pack("[{s{so}}]",
		    "requestDeleteRange", "key", b64(ES(st)->lastmark))));
	free(ES(st)->lastmark);
	dphp_etcd_close(ES(st)->e);
	free(ES(st)->prefix);
	free(st);
}

static int
etcd_get(struct dphp_store *st, const struct dphp_id *id, json_t **state,
    char *etag)
{
	char *key = keyof(st, id->space, id);
	json_t *resp = txn(st, json_array(), json_pack("[o]", rangeop(st, key)));
	json_t *kv = kvat(resp, 0), *v;
	int r = DPHP_STORE_NOTFOUND;

	if (resp == NULL)
		r = DPHP_STORE_ERROR;
	else if ((v = value(kv, key)) == (json_t *)-1)
		r = DPHP_STORE_ERROR;
	else if (v != NULL) {
		*state = json_incref(json_object_get(v, "state"));
		snprintf(etag, DPHP_ETAG_MAX, "%" JSON_INTEGER_FORMAT,
		    num(json_object_get(kv, "mod_revision")));
		json_decref(v);
		r = DPHP_STORE_OK;
	}
	json_decref(resp);
	free(key);
	return r;
}

/* what a batch read of one key: its revision (0: absent) and value */
struct seen {
	char *key;
	json_int_t rev;
	json_t *val;
};

/* Decide each change against what was read, as store_dir.c does. */
static void
decide(struct dphp_change *c, size_t n, struct seen *s, int *write)
{
	char cur[DPHP_ETAG_MAX];
	size_t i;
	int exists;

	for (i = 0; i < n; i++) {
		write[i] = 0;
		c[i].newetag[0] = '\0';
		exists = s[i].rev != 0;
		cur[0] = '\0';
		if (exists)
			snprintf(cur, sizeof(cur), "%" JSON_INTEGER_FORMAT,
			    s[i].rev);
		c[i].result = dphp_cond_check(cur, c[i].cond, c[i].etag,
		    c[i].newetag);
		if (c[i].result != DPHP_STORE_OK)
			;
		else if (c[i].op == DPHP_FENCE) {
			if (!dphp_fence_holds(json_object_get(s[i].val,
			    "state"), &c[i]))
				c[i].result = DPHP_STORE_CONFLICT;
		} else if (c[i].op == DPHP_CHECK)
			strcpy(c[i].newetag, cur);
		else if (c[i].op == DPHP_DELETE && !exists)
			c[i].result = DPHP_STORE_NOTFOUND;
		else
			write[i] = 1;
	}
	dphp_fences_apply(c, n);
	for (i = 0; i < n; i++)
		if (c[i].result != DPHP_STORE_OK)
			write[i] = 0;
}

static json_t *
unchanged(const char *key, json_int_t rev)
{
	return rev ? json_pack("{sosssssI}", "key", b64(key), "target", "MOD",
	    "result", "EQUAL", "mod_revision", rev) : json_pack("{sosssssi}",
	    "key", b64(key), "target", "CREATE", "result", "EQUAL",
	    "create_revision", 0);
}

static json_t *
putop(const char *key, const char *val)
{
	return json_pack("{s{soso}}", "requestPut", "key", b64(key), "value",
	    b64(val));
}

/*
 * Write: the transaction of cmp and ops, with a marker key of its own
 * that must not exist yet (and the last one this handle wrote taken
 * away).  Its revision, 0 if a compare failed, -1 on error.  When the
 * request goes out unanswered, a transaction of "void" into the marker,
 * if it is still absent, makes sure the write can no longer happen
 * later, and the marker says which: "1", it did; "0", it did not.
 */
static json_int_t
commit(struct dphp_store *st, json_t *cmp, json_t *ops)
{
	unsigned char raw[16];
	char nonce[33], *mark;
	json_t *body, *resp = NULL, *kv;
	json_int_t rev = -1;
	size_t i, n;
	char *val;
	int r;

	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		dphp_error("etcd: no random bytes for a commit marker");
		json_decref(cmp);
		json_decref(ops);
		return -1;
	}
	for (i = 0; i < sizeof(raw); i++)
		snprintf(nonce + 2 * i, 3, "%02x", raw[i]);
	mark = xasprintf("%s/txn/%s", ES(st)->prefix, nonce);
	json_array_append_new(cmp, unchanged(mark, 0));
	json_array_append_new(ops, putop(mark, "1"));
	if (ES(st)->lastmark != NULL)
		json_array_append_new(ops, json_pack("{s{so}}",
		    "requestDeleteRange", "key", b64(ES(st)->lastmark)));
	body = json_pack("{soso}", "compare", cmp, "success", ops);
	r = dphp_etcd_call(ES(st)->e, "/v3/kv/txn", body, &resp);
	json_decref(body);
	if (r == 0)
		rev = json_is_true(json_object_get(resp, "succeeded")) ?
		    num(json_object_get(json_object_get(resp, "header"),
		    "revision")) : 0;
	else if (r == -2) {
		json_decref(txn(st, json_pack("[o]", unchanged(mark, 0)),
		    json_pack("[o]", putop(mark, "0"))));
		resp = txn(st, json_array(), json_pack("[o]", rangeop(st,
		    mark)));
		kv = kvat(resp, 0);
		val = kv ? dphp_unb64(json_string_value(json_object_get(kv,
		    "value")), &n) : NULL;
		if (val != NULL && strcmp(val, "1") == 0)
			rev = num(json_object_get(kv, "mod_revision"));
		else if (val != NULL)
			rev = 0;	/* it never happened: decide again */
		else
			dphp_error("etcd: what became of a commit is unknown");
		if (val != NULL)
			dphp_warn("etcd: a commit went unanswered: it %s",
			    rev > 0 ? "was done" : "was not done, and is done "
			    "again");
		free(val);
	}
	json_decref(resp);
	if (rev > 0) {
		free(ES(st)->lastmark);
		ES(st)->lastmark = mark;
	} else
		free(mark);
	return rev;
}

/* One attempt: 0 written (or nothing to write), 1 raced, -1 error. */
static int
attempt(struct dphp_store *st, const struct dphp_id *ids,
    struct dphp_change *c, size_t n, struct seen *s, int *write)
{
	char *jkey = xasprintf("%s/journal/next", ES(st)->prefix), *text;
	char *lkey, at[25];
	json_t *reads = json_array(), *resp, *kv, *cmp, *ops, *line, *v;
	json_int_t next = 1, jrev = 0, seq, newrev;
	size_t i;
	int r = -1, lines = 0;

	for (i = 0; i < n; i++)
		json_array_append_new(reads, rangeop(st, s[i].key));
	json_array_append_new(reads, rangeop(st, jkey));
	if ((resp = txn(st, json_array(), reads)) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		kv = kvat(resp, i);
		json_decref(s[i].val);
		if ((s[i].val = value(kv, s[i].key)) == (json_t *)-1) {
			s[i].val = NULL;
			goto out;
		}
		s[i].rev = kv ? num(json_object_get(kv, "mod_revision")) : 0;
	}
	if ((kv = kvat(resp, n)) != NULL) {
		jrev = num(json_object_get(kv, "mod_revision"));
		text = dphp_unb64(json_string_value(json_object_get(kv,
		    "value")), &i);
		next = text ? strtoll(text, NULL, 10) : 1;
		free(text);
	}
	json_decref(resp);
	decide(c, n, s, write);
	cmp = json_array();
	ops = json_array();
	dphp_time_format(dphp_now_ms(), at);
	seq = next;
	for (i = 0; i < n; i++) {
		json_array_append_new(cmp, unchanged(s[i].key, s[i].rev));
		if (!write[i])
			continue;
		if (c[i].op == DPHP_DELETE)
			json_array_append_new(ops, json_pack("{s{so}}",
			    "requestDeleteRange", "key", b64(s[i].key)));
		else {
			v = json_pack("{sO}", "state", c[i].state);
			if (ids[i].space == DPHP_SPACE_STATE)
				json_object_set_new(v, "seq",
				    json_integer(seq));
			text = json_dumps(v, JSON_COMPACT);
			json_array_append_new(ops, json_pack("{s{soso}}",
			    "requestPut", "key", b64(s[i].key), "value",
			    b64(text)));
			free(text);
			json_decref(v);
		}
		if (ids[i].space != DPHP_SPACE_STATE)
			continue;
		/* the journal line, without its ETag: its key's revision */
		line = json_pack("{sIsIssss}", "seq", seq, "b", next, "at", at,
		    "id", c[i].id);
		if (c[i].op == DPHP_DELETE)
			json_object_set_new(line, "deleted", json_true());
		else
			json_object_set(line, "state", c[i].state);
		if (c[i].cause != NULL)
			json_object_set_new(line, "cause", json_string(
			    c[i].cause));
		text = json_dumps(line, JSON_COMPACT);
		lkey = xasprintf("%s/journal/%020" JSON_INTEGER_FORMAT,
		    ES(st)->prefix, seq);
		json_array_append_new(ops, json_pack("{s{soso}}", "requestPut",
		    "key", b64(lkey), "value", b64(text)));
		free(lkey);
		free(text);
		json_decref(line);
		seq++;
		lines = 1;
	}
	if (json_array_size(ops) == 0) {
		json_decref(cmp);
		json_decref(ops);
		r = 0;
		goto out;
	}
	if (lines) {
		json_array_append_new(cmp, unchanged(jkey, jrev));
		text = xasprintf("%" JSON_INTEGER_FORMAT, seq);
		json_array_append_new(ops, json_pack("{s{soso}}", "requestPut",
		    "key", b64(jkey), "value", b64(text)));
		free(text);
	}
	if ((newrev = commit(st, cmp, ops)) < 0)
		goto out;
	if (newrev == 0)
		r = 1;
	else {
		for (i = 0; i < n; i++)
			if (write[i])
				snprintf(c[i].newetag, DPHP_ETAG_MAX, "%"
				    JSON_INTEGER_FORMAT, newrev);
		r = 0;
	}
out:
	free(jkey);
	return r;
}

static int
etcd_batch(struct dphp_store *st, const struct dphp_id *ids,
    struct dphp_change *c, size_t n)
{
	struct seen *s = xcalloc(n, sizeof(*s));
	int *write = xcalloc(n, sizeof(*write));
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if (c[i].outbox != NULL || c[i].receipt != NULL) {
			dphp_error("the etcd store has no queue yet: workers "
			    "need a directory store");
			r = -1;
			goto out;
		}
		s[i].key = keyof(st, ids[i].space, &ids[i]);
	}
	while ((r = attempt(st, ids, c, n, s, write)) == 1)
		;	/* raced: decide again on what is there now */
out:
	for (i = 0; i < n; i++) {
		free(s[i].key);
		json_decref(s[i].val);
	}
	free(s);
	free(write);
	return r == 0 ? DPHP_STORE_OK : DPHP_STORE_ERROR;
}

static int
etcd_list(struct dphp_store *st, enum dphp_space sp, enum dphp_kind kind,
    const char *name, dphp_list_fn *fn, void *arg)
{
	char *from = xasprintf("%s/%s/%s/%s%s", ES(st)->prefix, spacedir[sp],
	    dphp_kind_name(kind), name ? name : "", name ? "/" : ""), *end;
	char *key, *rest, *slash, *dec, *id, etag[DPHP_ETAG_MAX];
	json_t *body, *resp, *kv;
	size_t i, n, len = strlen(from);
	int r = 0;

	end = xstrdup(from);
	end[len - 1]++;		/* past every key under from ('/' + 1) */
	body = json_pack("{sososb}", "key", b64(from), "range_end", b64(end),
	    "keys_only", 1);
	if (ES(st)->atrev > 0)
		json_object_set_new(body, "revision", json_integer(
		    ES(st)->atrev));
	if (call(st, "/v3/kv/range", body, &resp) != 0)
		r = DPHP_STORE_ERROR;
	json_decref(body);
	json_array_foreach(r == 0 ? json_object_get(resp, "kvs") : NULL, i,
	    kv) {
		key = dphp_unb64(json_string_value(json_object_get(kv, "key")),
		    &n);
		/* KIND/NAME/KEY after the space */
		rest = key ? key + strlen(ES(st)->prefix) + 1 +
		    strlen(spacedir[sp]) + 1 : NULL;
		if (rest == NULL || (rest = strchr(rest, '/')) == NULL ||
		    (slash = strchr(rest + 1, '/')) == NULL ||
		    (dec = dphp_key_decode(slash + 1)) == NULL) {
			free(key);
			continue;	/* not one of dphp's */
		}
		*slash = '\0';
		id = xasprintf("%s:%s:%s", dphp_kind_name(kind), rest + 1, dec);
		snprintf(etag, sizeof(etag), "%" JSON_INTEGER_FORMAT,
		    num(json_object_get(kv, "mod_revision")));
		r = fn(id, etag, arg);
		free(id);
		free(dec);
		free(key);
		if (r != 0)
			break;
	}
	json_decref(resp);
	free(from);
	free(end);
	return r;
}

static int
etcd_freeze(struct dphp_store *st)
{
	char *key = xasprintf("%s/FORMAT", ES(st)->prefix);
	json_t *resp = txn(st, json_array(), json_pack("[o]", rangeop(st,
	    key)));

	free(key);
	if (resp == NULL)
		return -1;
	/* every read from now on at this revision: one moment's states */
	ES(st)->atrev = num(json_object_get(json_object_get(resp, "header"),
	    "revision"));
	json_decref(resp);
	return 0;
}

static void
etcd_thaw(struct dphp_store *st)
{
	ES(st)->atrev = 0;
}

/* the queue: not on etcd yet */
static int
noqueue(void)
{
	dphp_error("the etcd store has no queue yet: workers need a "
	    "directory store");
	return -1;
}

static int
etcd_admit(struct dphp_store *st, json_t **v, const size_t *x, size_t n)
{
	(void)st, (void)v, (void)x, (void)n;
	return noqueue();
}

static long
etcd_take(struct dphp_store *st, const struct dphp_queue_part *p, size_t n,
    dphp_taken_fn *fn, void *arg, size_t *bad)
{
	(void)st, (void)p, (void)n, (void)fn, (void)arg, (void)bad;
	return noqueue();
}

static long
etcd_release(struct dphp_store *st)
{
	(void)st;
	return noqueue();
}

static int
etcd_receipt(struct dphp_store *st, const char *receipt)
{
	(void)st, (void)receipt;
	return noqueue();
}

static int
etcd_cancel(struct dphp_store *st, json_t *env)
{
	(void)st, (void)env;
	return noqueue();
}

static int
etcd_stat(struct dphp_store *st, const struct dphp_queue_part *p,
    struct dphp_queue_stat *qs)
{
	(void)st, (void)p, (void)qs;
	return noqueue();
}

static int
etcd_wait(struct dphp_store *st, int64_t ms)
{
	(void)st, (void)ms;
	return noqueue();
}

#define PAGE 1000	/* journal lines a range */
#define POLL_MS 100

/* A journal line as the directory store writes it, ETag in its place. */
static json_t *
journalline(json_t *kv, const char *key)
{
	json_t *v = decoded(kv), *line, *x;
	const char *k;
	char etag[32];

	if (!json_is_integer(json_object_get(v, "seq"))) {
		dphp_error("etcd: '%s' is not a journal line", key);
		json_decref(v);
		return NULL;
	}
	snprintf(etag, sizeof(etag), "%" JSON_INTEGER_FORMAT,
	    num(json_object_get(kv, "mod_revision")));
	line = json_object();
	json_object_foreach(v, k, x) {
		json_object_set(line, k, x);
		if (strcmp(k, "id") == 0)
			json_object_set_new(line, "etag", json_string(etag));
	}
	json_decref(v);
	return line;
}

static int
etcd_journal(struct dphp_store *st, json_int_t after, int forever,
    dphp_journal_fn *fn, dphp_tick_fn *tick, void *arg)
{
	char *from, *end = xasprintf("%s/journal/next", ES(st)->prefix), *key;
	json_t *body, *resp, *kv, *line;
	json_int_t last = after;
	size_t i, n, got;
	int r = 0;

	for (;;) {
		from = xasprintf("%s/journal/%020" JSON_INTEGER_FORMAT,
		    ES(st)->prefix, last + 1);
		body = json_pack("{sososI}", "key", b64(from), "range_end",
		    b64(end), "limit", (json_int_t)PAGE);
		free(from);
		if (call(st, "/v3/kv/range", body, &resp) != 0) {
			json_decref(body);
			r = DPHP_EXIT_SYS;
			break;
		}
		json_decref(body);
		got = json_array_size(json_object_get(resp, "kvs"));
		json_array_foreach(json_object_get(resp, "kvs"), i, kv) {
			key = dphp_unb64(json_string_value(json_object_get(kv,
			    "key")), &n);
			line = journalline(kv, key ? key : "?");
			free(key);
			if (line == NULL) {
				r = DPHP_EXIT_INPUT;
				break;
			}
			last = json_integer_value(json_object_get(line, "seq"));
			r = fn(line, arg);
			json_decref(line);
			if (r != 0)
				break;
		}
		json_decref(resp);
		if (r == 0 && got > 0)
			r = tick(last, arg);
		if (r != 0 || (got < PAGE && !forever))
			break;
		if (got < PAGE)
			dphp_nap(POLL_MS);
	}
	free(end);
	return r;
}

const struct dphp_backend dphp_etcd_backend = {
	"etcd", etcd_open, etcd_init, etcd_close, etcd_get, etcd_batch,
	etcd_list, etcd_admit, etcd_take, etcd_release, etcd_receipt,
	etcd_receipt, etcd_receipt, etcd_cancel, etcd_stat, etcd_wait,
	etcd_freeze, etcd_thaw, etcd_journal
};
