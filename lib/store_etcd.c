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
 * In queue mode (a change with a receipt) the same transaction
 * acknowledges the input and delivers the events emitted (queue_etcd.c).
 * A batch too big for one etcd transaction is cut in parts.
 *
 * Not on etcd: archives of the journal (dphp-project archive).
 */
#include <sys/random.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "etcd.h"
#include "queue_etcd.h"
#include "store.h"
#include "util.h"

#define FORMAT "dphp-etcd 1"


/*
 * "etcd://[https://]HOSTS/PREFIX": the hosts (each may say the scheme
 * again) and the prefix, new strings, and whether it is over TLS.
 */
static int
parse(const char *spec, char **hosts, char **prefix, int *tls)
{
	const char *p = spec + strlen("etcd://"), *slash;

	*tls = strncmp(p, "https://", 8) == 0;
	if (*tls)
		p += 8;
	else if (strncmp(p, "http://", 7) == 0)
		p += 7;
	for (slash = p; *slash != '\0' && *slash != '/'; slash++)
		if (strncmp(slash, "://", 3) == 0)
			slash += 2;
	if (*slash == '\0' || slash == p || slash[1] == '\0' ||
	    strstr(slash, "//") != NULL) {
		dphp_error("invalid store '%s' (want etcd://[https://]HOST:PORT"
		    "[,...]/PREFIX)", spec);
		dphp_store_misnamed();
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

	r = xasprintf("%s/%s/%s/%s/%s", ES(st)->prefix, dphp_space_dir[sp],
	    dphp_kind_name(id->kind), id->name, k);
	free(k);
	return r;
}

/* A record's value: NULL if kv is NULL; (json_t *)-1 if corrupt. */
static json_t *
value(json_t *kv, const char *key)
{
	json_t *v;

	if (kv == NULL)
		return NULL;
	v = es_decoded(kv);
	if (!json_is_object(v) || json_object_get(v, "state") == NULL) {
		dphp_error("etcd: the record '%s' is not one of dphp's", key);
		json_decref(v);
		return (json_t *)-1;
	}
	return v;
}

/* etcd's --max-txn-ops: 128 unless DPHP_ETCD_TXN_OPS says more */
static long
maxops(void)
{
	const char *v = getenv("DPHP_ETCD_TXN_OPS");
	long n = v ? strtol(v, NULL, 10) : 0;

	return n >= 16 ? n : 128;
}

static struct dphp_store *
etcd_open(const char *spec)
{
	struct etcdstore *es;
	char *hosts, *prefix, *key;
	json_t *resp, *kv;
	size_t n;
	char *text = NULL;
	int tls;

	if (parse(spec, &hosts, &prefix, &tls) != 0)
		return NULL;
	es = xcalloc(1, sizeof(*es));
	es->prefix = prefix;
	es->maxops = maxops();
	es->e = dphp_etcd_open(hosts, tls);
	free(hosts);
	if (es->e == NULL) {
		if (dphp_etcd_refused())
			dphp_store_misnamed();
		free(es->prefix);
		free(es);
		return NULL;
	}
	key = xasprintf("%s/FORMAT", prefix);
	resp = es_txn(&es->base, json_array(), json_pack("[o]", es_rangeop(
	    &es->base, key)));
	kv = es_kvat(resp, 0);
	if (kv != NULL)
		text = dphp_unb64(json_string_value(json_object_get(kv,
		    "value")), &n);
	if (resp != NULL && (text == NULL || strcmp(text, FORMAT) != 0)) {
		dphp_error("'%s' is not a dphp store (make one with dphp-commit "
		    "-i)", spec);
		dphp_store_misnamed();
	}
	free(key);
	json_decref(resp);
	if (resp == NULL || text == NULL || strcmp(text, FORMAT) != 0) {
		if (resp == NULL && dphp_etcd_refused())
			dphp_store_misnamed();
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
	struct etcdstore es;
	char *hosts, *key;
	json_t *resp;
	int r = -1, tls;

	memset(&es, 0, sizeof(es));
	if (parse(spec, &hosts, &es.prefix, &tls) != 0)
		return -1;
	if ((es.e = dphp_etcd_open(hosts, tls)) != NULL) {
		key = xasprintf("%s/FORMAT", es.prefix);
		/* only if there is none: init is harmless to a store */
		resp = es_txn(&es.base, json_pack("[{sosssssi}]", "key", es_b64(key),
		    "target", "CREATE", "result", "EQUAL", "create_revision",
		    0), json_pack("[{s{soso}}]", "requestPut", "key", es_b64(key),
		    "value", es_b64(FORMAT)));
		r = resp != NULL ? 0 : -1;
		json_decref(resp);
		free(key);
	}
	if (r != 0 && dphp_etcd_refused())
		dphp_store_misnamed();
	dphp_etcd_close(es.e);
	free(hosts);
	free(es.prefix);
	return r;
}

static int
etcd_close(struct dphp_store *st)
{
	/* the last marker: nothing is asked of it any more */
	if (ES(st)->lastmark != NULL)
		json_decref(es_txn(st, json_array(), json_pack("[{s{so}}]",
		    "requestDeleteRange", "key", es_b64(ES(st)->lastmark))));
	free(ES(st)->lastmark);
	json_decref(ES(st)->acked);
	json_decref(ES(st)->leases);
	json_decref(ES(st)->claimview);
	dphp_etcd_close(ES(st)->e);
	free(ES(st)->prefix);
	free(st);
	return 0;
}

static int
etcd_get(struct dphp_store *st, const struct dphp_id *id, json_t **state,
    char *etag)
{
	char *key = keyof(st, id->space, id);
	json_t *resp = es_txn(st, json_array(), json_pack("[o]", es_rangeop(st, key)));
	json_t *kv = es_kvat(resp, 0), *v;
	int r = DPHP_STORE_NOTFOUND;

	if (resp == NULL)
		r = DPHP_STORE_ERROR;
	else if ((v = value(kv, key)) == (json_t *)-1)
		r = DPHP_STORE_ERROR;
	else if (v != NULL) {
		*state = json_incref(json_object_get(v, "state"));
		snprintf(etag, DPHP_ETAG_MAX, "%" JSON_INTEGER_FORMAT,
		    es_num(json_object_get(kv, "mod_revision")));
		json_decref(v);
		r = DPHP_STORE_OK;
	}
	json_decref(resp);
	free(key);
	return r;
}

/*
 * What a batch read of one key: its revision (0: absent) and value; of
 * a change with a receipt, the revisions of the claim and the event.
 */
struct seen {
	char *key;
	json_int_t rev;
	json_t *val;
	struct claimref cr;
	json_int_t claimrev, newrev;
};

/* Decide each change against what was read: store.c's rules. */
static void
decide(struct dphp_change *c, size_t n, struct seen *s, int *write)
{
	struct dphp_now *now = xcalloc(n, sizeof(*now));
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i].rev != 0)
			snprintf(now[i].etag, sizeof(now[i].etag),
			    "%" JSON_INTEGER_FORMAT, s[i].rev);
		now[i].state = json_object_get(s[i].val, "state");
	}
	dphp_batch_decide(c, n, now, write);
	free(now);
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

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		dphp_error("etcd: no random bytes for a commit marker");
		json_decref(cmp);
		json_decref(ops);
		return -1;
	}
	for (i = 0; i < sizeof(raw); i++)
		snprintf(nonce + 2 * i, 3, "%02x", raw[i]);
	mark = xasprintf("%s/txn/%s", ES(st)->prefix, nonce);
	json_array_append_new(cmp, es_unchanged(mark, 0));
	json_array_append_new(ops, es_putop(mark, "1"));
	if (ES(st)->lastmark != NULL)
		json_array_append_new(ops, json_pack("{s{so}}",
		    "requestDeleteRange", "key", es_b64(ES(st)->lastmark)));
	body = json_pack("{soso}", "compare", cmp, "success", ops);
	r = dphp_etcd_call(ES(st)->e, "/v3/kv/txn", body, &resp);
	json_decref(body);
	if (r == 0)
		rev = json_is_true(json_object_get(resp, "succeeded")) ?
		    es_revision(resp) : 0;
	else if (r == -2) {
		json_decref(es_txn(st, json_pack("[o]", es_unchanged(mark, 0)),
		    json_pack("[o]", es_putop(mark, "0"))));
		resp = es_txn(st, json_array(), json_pack("[o]", es_rangeop(st,
		    mark)));
		kv = es_kvat(resp, 0);
		val = kv ? dphp_unb64(json_string_value(json_object_get(kv,
		    "value")), &n) : NULL;
		if (val != NULL && strcmp(val, "1") == 0)
			rev = es_num(json_object_get(kv, "mod_revision"));
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

/* the kv of the next range response of resp, counting in *at */
static json_t *
nextkv(json_t *resp, size_t *at)
{
	return es_kvat(resp, (*at)++);
}

/*
 * An input taken from the queue is acknowledged, and the events its
 * change emits are delivered, by the transaction of the change, if the
 * claim of its receipt still holds when the batch is read; else the
 * change is fenced off.  Its requests, if it is done; the claim is kept
 * for an input to be acknowledged apart.
 */
static void
queueops(struct dphp_store *st, struct dphp_change *c, struct seen *s,
    json_t *cmp, json_t *ops)
{
	if (c->receipt != NULL) {
		json_array_append_new(cmp, es_unchanged(s->cr.claimkey,
		    s->claimrev));
		json_array_append_new(cmp, es_unchanged(s->cr.newkey,
		    s->newrev));
	}
	if (c->receipt != NULL && !c->ack_apart) {
		json_array_append_new(ops, es_deleteop(s->cr.claimkey));
		json_array_append_new(ops, es_deleteop(s->cr.trieskey));
		/* not if queued again after the claim: it comes again */
		if (s->newrev != 0 && s->newrev < s->cr.rev)
			json_array_append_new(ops, es_deleteop(s->cr.newkey));
	}
	if (c->outbox != NULL)
		etcdq_admitops(st, c->outbox, ops);
}

/* the requests of a change's state and journal line */
static void
stateops(struct dphp_store *st, const struct dphp_id *id,
    struct dphp_change *c, struct seen *s, json_int_t seq, json_int_t first,
    const char *at, json_t *ops)
{
	json_t *v, *line;
	char *text, *lkey;

	if (c->op == DPHP_DELETE)
		json_array_append_new(ops, es_deleteop(s->key));
	else {
		v = json_pack("{sO}", "state", c->state);
		if (id->space == DPHP_SPACE_STATE)
			json_object_set_new(v, "seq", json_integer(seq));
		text = dphp_json_text(v, NULL);
		json_array_append_new(ops, es_putop(s->key, text));
		free(text);
		json_decref(v);
	}
	if (id->space != DPHP_SPACE_STATE)
		return;
	/* the journal line, without its ETag: its key's revision */
	line = json_pack("{sIsIssss}", "seq", seq, "b", first, "at", at, "id",
	    c->id);
	if (c->op == DPHP_DELETE)
		json_object_set_new(line, "deleted", json_true());
	else
		json_object_set(line, "state", c->state);
	if (c->cause != NULL)
		json_object_set_new(line, "cause", json_string(c->cause));
	text = dphp_json_text(line, NULL);
	lkey = xasprintf("%s/journal/%020" JSON_INTEGER_FORMAT, ES(st)->prefix,
	    seq);
	json_array_append_new(ops, es_putop(lkey, text));
	free(lkey);
	free(text);
	json_decref(line);
}

/* One attempt: 0 written (or nothing to write), 1 raced, -1 error. */
static int
attempt(struct dphp_store *st, const struct dphp_id *ids,
    struct dphp_change *c, size_t n, struct seen *s, int *write)
{
	char *jkey = xasprintf("%s/journal/next", ES(st)->prefix), *text;
	char at[25];
	json_t *reads = json_array(), *resp, *kv, *cmp, *ops;
	json_int_t next = 1, jrev = 0, seq, newrev;
	size_t i, k = 0;
	int r = -1, lines = 0, *done = xcalloc(n, sizeof(*done));

	for (i = 0; i < n; i++) {
		json_array_append_new(reads, es_rangeop(st, s[i].key));
		if (c[i].receipt != NULL) {
			json_array_append_new(reads, es_rangeop(st,
			    s[i].cr.claimkey));
			json_array_append_new(reads, es_rangeop(st,
			    s[i].cr.newkey));
		}
	}
	json_array_append_new(reads, es_rangeop(st, jkey));
	if ((resp = es_txn(st, json_array(), reads)) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		kv = nextkv(resp, &k);
		json_decref(s[i].val);
		if ((s[i].val = value(kv, s[i].key)) == (json_t *)-1) {
			s[i].val = NULL;
			json_decref(resp);
			goto out;
		}
		s[i].rev = kv ? es_num(json_object_get(kv, "mod_revision")) : 0;
		if (c[i].receipt == NULL)
			continue;
		kv = nextkv(resp, &k);
		s[i].claimrev = kv ? es_num(json_object_get(kv,
		    "create_revision")) : 0;
		kv = nextkv(resp, &k);
		s[i].newrev = kv ? es_num(json_object_get(kv,
		    "mod_revision")) : 0;
	}
	if ((kv = nextkv(resp, &k)) != NULL) {
		jrev = es_num(json_object_get(kv, "mod_revision"));
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
		c[i].fenced = c[i].receipt != NULL && s[i].claimrev !=
		    s[i].cr.rev;
		if (c[i].fenced) {
			c[i].result = DPHP_STORE_CONFLICT;
			write[i] = 0;
		}
		json_array_append_new(cmp, es_unchanged(s[i].key, s[i].rev));
		if (c[i].result == DPHP_STORE_OK || (c[i].op == DPHP_DELETE &&
		    c[i].result == DPHP_STORE_NOTFOUND && !c[i].fenced)) {
			queueops(st, &c[i], &s[i], cmp, ops);
			done[i] = 1;
		}
		if (!write[i])
			continue;
		stateops(st, &ids[i], &c[i], &s[i], seq, next, at, ops);
		if (ids[i].space == DPHP_SPACE_STATE) {
			seq++;
			lines = 1;
		}
	}
	if (json_array_size(ops) == 0) {
		json_decref(cmp);
		json_decref(ops);
		r = 0;
		goto out;
	}
	if (lines) {
		json_array_append_new(cmp, es_unchanged(jkey, jrev));
		text = xasprintf("%" JSON_INTEGER_FORMAT, seq);
		json_array_append_new(ops, es_putop(jkey, text));
		free(text);
	}
	if ((newrev = commit(st, cmp, ops)) < 0)
		goto out;
	r = newrev == 0;
	for (i = 0; r == 0 && i < n; i++) {
		if (write[i])
			snprintf(c[i].newetag, DPHP_ETAG_MAX, "%"
			    JSON_INTEGER_FORMAT, newrev);
		if (done[i] && c[i].receipt != NULL && !c[i].ack_apart)
			etcdq_acked(st, c[i].receipt);
	}
out:
	free(done);
	free(jkey);
	return r;
}

/* run the changes c (of one transaction) until decided */
static int
run(struct dphp_store *st, const struct dphp_id *ids, struct dphp_change *c,
    size_t n)
{
	struct seen *s = xcalloc(n, sizeof(*s));
	int *write = xcalloc(n, sizeof(*write));
	size_t i;
	int r = 0;

	for (i = 0; i < n; i++) {
		s[i].key = keyof(st, ids[i].space, &ids[i]);
		if (c[i].receipt != NULL && etcdq_receipt(st, c[i].receipt,
		    &s[i].cr) != 0)
			r = -1;
	}
	if (r == 0)
		while ((r = attempt(st, ids, c, n, s, write)) == 1)
			;	/* raced: decide again on what is there now */
	for (i = 0; i < n; i++) {
		free(s[i].key);
		json_decref(s[i].val);
		etcdq_claimref_free(&s[i].cr);
	}
	free(s);
	free(write);
	return r;
}

/* the requests of change c in a transaction, compares and others */
static long
cost(const struct dphp_change *c)
{
	return 2 + (c->receipt ? 3 : 0) + (long)json_array_size(c->outbox);
}

/*
 * Group commit in as few transactions as etcd takes (--max-txn-ops,
 * DPHP_ETCD_TXN_OPS): a guard goes with the change it guards, a guard
 * of all with every part.
 */
static int
etcd_batch(struct dphp_store *st, const struct dphp_id *ids,
    struct dphp_change *c, size_t n)
{
	struct dphp_change *sc = xcalloc(n, sizeof(*sc));
	struct dphp_id *sid = xcalloc(n, sizeof(*sid));
	size_t *from = xcalloc(n, sizeof(*from)), *pos = xcalloc(n,
	    sizeof(*pos));
	long *guarded = xcalloc(n, sizeof(*guarded));
	size_t i, k, m, start = 0, end;
	long used, fixed;
	int r = 0;

	/* marker, journal/next and the last marker; the guards of all; a
	 * guard of one change (a compare and a read) costs it two more */
	for (k = 0, fixed = 3; k < n; k++)
		if (DPHP_IS_GUARD(c[k].op) && c[k].guards == 0)
			fixed += 2;
		else if (DPHP_IS_GUARD(c[k].op))
			guarded[c[k].guards - 1] += 2;
	while (r == 0 && start < n) {
		/* the changes start..end-1 (guards aside) in one part */
		used = fixed;
		for (end = start; end < n; end++) {
			if (DPHP_IS_GUARD(c[end].op))
				continue;
			if (used + cost(&c[end]) + guarded[end] >
			    ES(st)->maxops && end > start)
				break;
			used += cost(&c[end]) + guarded[end];
		}
		if (used > ES(st)->maxops) {
			dphp_error("etcd: a change of '%s' is more than one "
			    "transaction may hold (%ld requests): raise etcd's "
			    "--max-txn-ops and DPHP_ETCD_TXN_OPS", c[start].id,
			    ES(st)->maxops);
			r = -1;
			break;
		}
		m = 0;
		for (i = start; i < end; i++)
			if (!DPHP_IS_GUARD(c[i].op)) {
				pos[i] = m;
				from[m++] = i;
			}
		for (i = 0; i < n; i++)
			if (DPHP_IS_GUARD(c[i].op) && (c[i].guards == 0 ||
			    (c[i].guards - 1 >= start && c[i].guards - 1 <
			    end)))
				from[m++] = i;
		for (i = 0; i < m; i++) {
			sc[i] = c[from[i]];
			sid[i] = ids[from[i]];
			if (DPHP_IS_GUARD(sc[i].op) && sc[i].guards != 0)
				sc[i].guards = 1 + pos[sc[i].guards - 1];
		}
		r = run(st, sid, sc, m);
		for (i = 0; i < m; i++) {
			c[from[i]].result = sc[i].result;
			c[from[i]].fenced = sc[i].fenced;
			memcpy(c[from[i]].newetag, sc[i].newetag, DPHP_ETAG_MAX);
		}
		start = end;
	}
	free(sc);
	free(sid);
	free(from);
	free(pos);
	free(guarded);
	return r == 0 ? DPHP_STORE_OK : DPHP_STORE_ERROR;
}

static int
etcd_list(struct dphp_store *st, enum dphp_space sp, enum dphp_kind kind,
    const char *name, dphp_list_fn *fn, void *arg)
{
	char *from = xasprintf("%s/%s/%s/%s%s", ES(st)->prefix,
	    dphp_space_dir[sp], dphp_kind_name(kind), name ? name : "",
	    name ? "/" : ""), *end;
	char *key, *rest, *slash, *dec, *id, etag[DPHP_ETAG_MAX];
	json_t *body, *resp, *kv;
	size_t i, n, len = strlen(from);
	int r = 0;

	end = xstrdup(from);
	end[len - 1]++;		/* past every key under from ('/' + 1) */
	body = json_pack("{sososb}", "key", es_b64(from), "range_end", es_b64(end),
	    "keys_only", 1);
	if (ES(st)->atrev > 0)
		json_object_set_new(body, "revision", json_integer(
		    ES(st)->atrev));
	if (es_call(st, "/v3/kv/range", body, &resp) != 0)
		r = DPHP_STORE_ERROR;
	json_decref(body);
	json_array_foreach(r == 0 ? json_object_get(resp, "kvs") : NULL, i,
	    kv) {
		key = dphp_unb64(json_string_value(json_object_get(kv, "key")),
		    &n);
		/* KIND/NAME/KEY after the space */
		rest = key ? key + strlen(ES(st)->prefix) + 1 +
		    strlen(dphp_space_dir[sp]) + 1 : NULL;
		if (rest == NULL || (rest = strchr(rest, '/')) == NULL ||
		    (slash = strchr(rest + 1, '/')) == NULL ||
		    (dec = dphp_key_decode(slash + 1)) == NULL) {
			free(key);
			continue;	/* not one of dphp's */
		}
		*slash = '\0';
		id = xasprintf("%s:%s:%s", dphp_kind_name(kind), rest + 1, dec);
		snprintf(etag, sizeof(etag), "%" JSON_INTEGER_FORMAT,
		    es_num(json_object_get(kv, "mod_revision")));
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
	json_t *resp = es_txn(st, json_array(), json_pack("[o]", es_rangeop(st,
	    key)));

	free(key);
	if (resp == NULL)
		return -1;
	/* every read from now on at this revision: one moment's states */
	ES(st)->atrev = es_revision(resp);
	json_decref(resp);
	return 0;
}

static void
etcd_thaw(struct dphp_store *st)
{
	ES(st)->atrev = 0;
}

#define PAGE 1000	/* journal lines a range */
#define POLL_MS 100

/* A journal line as the directory store writes it, ETag in its place. */
static json_t *
journalline(json_t *kv, const char *key)
{
	json_t *v = es_decoded(kv), *line, *x;
	const char *k;
	char etag[32];

	if (!json_is_integer(json_object_get(v, "seq"))) {
		dphp_error("etcd: '%s' is not a journal line", key);
		json_decref(v);
		return NULL;
	}
	snprintf(etag, sizeof(etag), "%" JSON_INTEGER_FORMAT,
	    es_num(json_object_get(kv, "mod_revision")));
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
		body = json_pack("{sososI}", "key", es_b64(from), "range_end",
		    es_b64(end), "limit", (json_int_t)PAGE);
		free(from);
		if (es_call(st, "/v3/kv/range", body, &resp) != 0) {
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
	.scheme = "etcd",
	.prefix = "etcd://",
	.segments = 0,
	.chains = 0,
	.open = etcd_open,
	.init = etcd_init,
	.close = etcd_close,
	.get = etcd_get,
	.batch = etcd_batch,
	.list = etcd_list,
	.queue_admit = etcdq_admit,
	.queue_take = etcdq_take,
	.queue_release = etcdq_release,
	.queue_claimed = etcdq_claimed,
	.queue_pending = etcdq_pending,
	.queue_ack = etcdq_ack,
	.queue_nack = etcdq_nack,
	.queue_fail = etcdq_fail,
	.queue_bury = etcdq_bury,
	.queue_dead = etcdq_dead,
	.queue_cancel = etcdq_cancel,
	.queue_stat = etcdq_stat,
	.queue_wait = etcdq_wait,
	.queue_renew = etcdq_renew,
	.freeze = etcd_freeze,
	.thaw = etcd_thaw,
	.journal_read = etcd_journal,
};
