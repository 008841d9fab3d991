/*
 * queue_etcd.c - the queue of the etcd backend.  Keys under PREFIX:
 *
 *	queue/new/NAME		an event admitted: ready unless claimed
 *	queue/claim/NAME	a worker's claim on it, {"until":MS}, on a
 *				lease of etcd's as long as the claim
 *	queue/tries/NAME	{"tries":N,"why":...}: the event was taken
 *				N times and not finished (yet); written by
 *				the claim, taken away when it is finished
 *	queue/bad/NAME		what was found there and is not an event,
 *				or an event taken too often, a dead letter;
 *				queue/bad/NAME.why says why
 *	delay/NAME		an event delayed, until it falls due
 *
 * NAME as on a directory (dphp_queue_name), so keys sort in queue order
 * and a worker picks its shard by name.  An event stays where it was
 * admitted until acknowledged; claiming it makes its claim key in a
 * transaction that requires there be none.  The claim's lease, counted
 * by etcd's leader, ends it: the event is ready again with nothing to
 * move back, and no worker's clock is trusted.
 *
 * The receipt NAME@REV names the claim by its revision.  An ack, a nack
 * and a commit (store_etcd.c) compare the claim with it, so a worker
 * whose claim ran out (stopped, cut off) can no longer touch an event
 * another worker now holds: its late commit is fenced off.  An ack
 * deletes the event only if it was not admitted again after the claim
 * (mod_revision < REV): an event queued again while claimed (let go by
 * a lock it was parked on) is taken again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd.h"
#include "queue_etcd.h"
#include "store.h"
#include "util.h"

#define PAGE 256	/* ready events looked at a request */
#define POLL_MS 50	/* how often a waiting worker looks, at most */

static char *
qkey(struct dphp_store *st, const char *dir, const char *name)
{
	return xasprintf("%s/%s/%s", ES(st)->prefix, dir, name);
}

/* forget the claims read for etcdq_claimed: the queue is used otherwise */
static void
fresh(struct dphp_store *st)
{
	json_decref(ES(st)->claimview);
	ES(st)->claimview = NULL;
}

/* every key under PREFIX/dir/ (up to end, if not NULL) */
static json_t *
rangeall(struct dphp_store *st, const char *dir, const char *end, int values)
{
	char *from = qkey(st, dir, ""), *to;
	json_t *r;

	to = end ? qkey(st, dir, end) : xstrdup(from);
	if (end == NULL)
		to[strlen(to) - 1]++;	/* '/' + 1: past every key under */
	r = json_pack("{soso}", "key", es_b64(from), "range_end", es_b64(to));
	if (!values)
		json_object_set_new(r, "keys_only", json_true());
	free(from);
	free(to);
	return r;
}

/* the name of a key under PREFIX/dir/ (new), or NULL */
static char *
nameof(struct dphp_store *st, const char *dir, json_t *kv)
{
	size_t skip = strlen(ES(st)->prefix) + strlen(dir) + 2;
	char *key = es_unb64key(kv), *name = NULL;

	if (key != NULL && strlen(key) > skip)
		name = xstrdup(key + skip);
	free(key);
	return name;
}

int
etcdq_receipt(struct dphp_store *st, const char *receipt,
    struct claimref *cr)
{
	struct dphp_qname q;

	memset(cr, 0, sizeof(*cr));
	if (dphp_qname_parse(receipt, &q) != 0 || q.rev == 0) {
		dphp_error("'%.300s' is not a receipt of an etcd store's queue",
		    receipt);
		return -1;
	}
	cr->name = xasprintf("%.*s", (int)q.namelen, receipt);
	cr->rev = q.rev;
	cr->claimkey = qkey(st, "queue/claim", cr->name);
	cr->newkey = qkey(st, "queue/new", cr->name);
	cr->trieskey = qkey(st, "queue/tries", cr->name);
	return 0;
}

void
etcdq_claimref_free(struct claimref *cr)
{
	free(cr->name);
	free(cr->claimkey);
	free(cr->newkey);
	free(cr->trieskey);
}

/* compare: the claim of cr is still the one it names */
static json_t *
isclaim(const struct claimref *cr)
{
	return json_pack("{sosssssI}", "key", es_b64(cr->claimkey), "target",
	    "CREATE", "result", "EQUAL", "create_revision", cr->rev);
}

/* the request that queues env, the seq-th admitted together */
static int
admitop(struct dphp_store *st, json_t *env, size_t seq, int64_t now,
    json_t *ops)
{
	struct dphp_desc d;
	char buf[1024], *name, *key, *text;
	json_t *e;

	if (dphp_envelope_check(env, &d, buf, sizeof(buf)) != 0) {
		dphp_error("cannot queue an invalid event: %s", buf);
		return -1;
	}
	name = dphp_queue_name(&d, seq);
	key = qkey(st, d.delay && d.delay_ms > now ? "delay" : "queue/new",
	    name);
	e = json_copy(env);	/* receipt, fence, ahead: not part of it */
	json_object_del(e, "receipt");
	json_object_del(e, "fence");
	json_object_del(e, "ahead");
	text = dphp_json_text(e, NULL);
	json_array_append_new(ops, es_putop(key, text));
	json_decref(e);
	free(text);
	free(key);
	free(name);
	return 0;
}

int
etcdq_admitops(struct dphp_store *st, json_t *envs, json_t *ops)
{
	int64_t now = dphp_now_ms();
	json_t *env;
	size_t i;

	json_array_foreach(envs, i, env)
		if (admitop(st, env, i, now, ops) != 0)
			return -1;
	return 0;
}

/* run the requests ops, many transactions of them if need be */
static int
runops(struct dphp_store *st, json_t *ops)
{
	size_t i, n = json_array_size(ops), k;
	json_t *part, *resp;

	for (i = 0; i < n; i += k) {
		part = json_array();
		for (k = 0; k < (size_t)ES(st)->maxops && i + k < n; k++)
			json_array_append(part, json_array_get(ops, i + k));
		if ((resp = es_txn(st, json_array(), part)) == NULL)
			return -1;
		json_decref(resp);
	}
	return 0;
}

/* putting an event twice is harmless: the same key, the same value */
int
etcdq_admit(struct dphp_store *st, json_t **envs, const size_t *seq, size_t n)
{
	int64_t now = dphp_now_ms();
	json_t *ops = json_array();
	size_t i;
	int r = 0;

	fresh(st);
	for (i = 0; i < n && r == 0; i++)
		r = admitop(st, envs[i], seq ? seq[i] : i, now, ops);
	if (r == 0)
		r = runops(st, ops);
	json_decref(ops);
	return r;
}

/* the requests that set value aside as queue/bad/NAME, with why */
static void
buryops(struct dphp_store *st, const char *name, json_t *value,
    const char *why, unsigned tries, json_t *ops)
{
	char *to = qkey(st, "queue/bad", name), *side, *text, at[25];
	json_t *v;

	dphp_time_format(dphp_now_ms(), at);
	v = json_pack("{sssssi}", "reason", why, "at", at, "tries", (int)tries);
	text = dphp_json_text(v, NULL);
	json_decref(v);
	side = xasprintf("%s.why", to);
	json_array_append_new(ops, json_pack("{s{sosO}}", "requestPut", "key",
	    es_b64(to), "value", value));
	json_array_append_new(ops, es_putop(side, text));
	free(text);
	free(side);
	free(to);
}

/*
 * Move kv, found under dir, into queue/bad/ with why (and how often it
 * was taken), its tries forgotten, and say so.
 */
static void
bury(struct dphp_store *st, const char *dir, json_t *kv, const char *name,
    const char *why, unsigned tries)
{
	char *from = qkey(st, dir, name), *tkey = qkey(st, "queue/tries", name);
	json_t *resp, *ops = json_array();

	dphp_error("%s/%s: %s (moved to queue/bad)", dir, name, why);
	json_array_append_new(ops, es_deleteop(from));
	json_array_append_new(ops, es_deleteop(tkey));
	buryops(st, name, json_object_get(kv, "value"), why, tries, ops);
	resp = es_txn(st, json_pack("[o]", es_unchanged(from, es_num(
	    json_object_get(kv, "mod_revision")))), ops);
	json_decref(resp);
	free(from);
	free(tkey);
}

/* Move what is not an event out of the way into queue/bad/, and say so. */
static void
setaside(struct dphp_store *st, const char *dir, json_t *kv, const char *name,
    const char *why)
{
	bury(st, dir, kv, name, why, 0);
}

long
etcdq_release(struct dphp_store *st)
{
	char end[32], *name, *dkey, *nkey;
	json_t *resp, *kv, *cmp, *ops;
	long moved = 0;
	size_t i;

	fresh(st);
	snprintf(end, sizeof(end), "%013lld", (long long)dphp_now_ms() + 1);
	if (es_range(st, rangeall(st, "delay", end, 1), &resp) != 0)
		return -1;
	/* one transaction each: another worker may release some first */
	json_array_foreach(json_object_get(resp, "kvs"), i, kv) {
		if ((name = nameof(st, "delay", kv)) == NULL)
			continue;
		if (!dphp_qname_valid(name)) {
			setaside(st, "delay", kv, name, "not a queue name");
			free(name);
			continue;
		}
		dkey = qkey(st, "delay", name);
		nkey = qkey(st, "queue/new", name);
		cmp = json_pack("[o]", es_unchanged(dkey, es_num(
		    json_object_get(kv, "mod_revision"))));
		ops = json_pack("[o{s{sosO}}]", es_deleteop(dkey), "requestPut",
		    "key", es_b64(nkey), "value", json_object_get(kv, "value"));
		free(dkey);
		free(nkey);
		free(name);
		if ((kv = es_txn(st, cmp, ops)) == NULL) {
			json_decref(resp);
			return -1;
		}
		moved += json_is_true(json_object_get(kv, "succeeded"));
		json_decref(kv);
	}
	json_decref(resp);
	return moved;
}

/* the names claimed now, each with its claim's revision; NULL after a
 * message */
static json_t *
claims(struct dphp_store *st)
{
	json_t *resp, *kv, *set;
	char *name;
	size_t i;

	if (es_range(st, rangeall(st, "queue/claim", NULL, 0), &resp) != 0)
		return NULL;
	ES(st)->looked = es_revision(resp);
	set = json_object();
	json_array_foreach(json_object_get(resp, "kvs"), i, kv)
		if ((name = nameof(st, "queue/claim", kv)) != NULL) {
			json_object_set_new(set, name, json_integer(es_num(
			    json_object_get(kv, "create_revision"))));
			free(name);
		}
	json_decref(resp);
	return set;
}

/* an event ready to be claimed: its name, revision and envelope, and
 * how often it was taken and not finished */
struct ready {
	char *name;
	json_int_t rev;
	json_t *env;
	unsigned tries;
};

#define RAN_OUT "its claim ran out: the worker stopped or hung"

/* the events taken and not finished: {NAME: {"tries","why"}}, or NULL */
static json_t *
triesmap(struct dphp_store *st)
{
	json_t *resp, *kv, *map;
	char *name;
	size_t i;

	if (es_range(st, rangeall(st, "queue/tries", NULL, 1), &resp) != 0)
		return NULL;
	map = json_object();
	json_array_foreach(json_object_get(resp, "kvs"), i, kv)
		if ((name = nameof(st, "queue/tries", kv)) != NULL) {
			json_t *v = es_decoded(kv);

			if (json_is_object(v))
				json_object_set(map, name, v);
			json_decref(v);
			free(name);
		}
	json_decref(resp);
	return map;
}

static unsigned
triesof(json_t *map, const char *name)
{
	json_int_t n = json_integer_value(json_object_get(json_object_get(map,
	    name), "tries"));

	return n > 0 && n < 1000000 ? (unsigned)n : 0;
}

/* The event kv holds, checked, or NULL after setting it aside. */
static json_t *
event(struct dphp_store *st, json_t *kv, const char *name)
{
	struct dphp_desc d;
	char buf[1024], reason[1100];
	json_t *env = es_decoded(kv);

	if (!json_is_object(env) ||
	    dphp_envelope_check(env, &d, buf, sizeof(buf)) != 0) {
		snprintf(reason, sizeof(reason), "invalid event: %s",
		    json_is_object(env) ? buf : "not a JSON object");
		json_decref(env);
		setaside(st, "queue/new", kv, name, reason);
		return NULL;
	}
	if (!dphp_qname_of(name, &d)) {
		json_decref(env);
		setaside(st, "queue/new", kv, name, "the name does not match "
		    "the event");
		return NULL;
	}
	return env;
}

/* The first max events of page ready to claim in part (suspects, in
 * tries, aside), into v: how many. */
static size_t
gather(struct dphp_store *st, const struct dphp_queue_part *part,
    json_t *page, json_t *claimed, json_t *tries, struct ready *v, size_t max,
    size_t *bad)
{
	json_t *kv, *env;
	size_t i, n = 0;
	char *name;

	json_array_foreach(page, i, kv) {
		if (n == max || (name = nameof(st, "queue/new", kv)) == NULL)
			continue;
		if (!dphp_qname_valid(name)) {
			setaside(st, "queue/new", kv, name, "not a queue name");
			++*bad;
		} else if (dphp_queue_in_part(name, part) &&
		    json_object_get(claimed, name) == NULL &&
		    json_object_get(tries, name) == NULL) {
			if ((env = event(st, kv, name)) == NULL)
				++*bad;
			else {
				v[n].name = name;
				v[n].rev = es_num(json_object_get(kv,
				    "mod_revision"));
				v[n].tries = 0;
				v[n++].env = env;
				continue;
			}
		}
		free(name);
	}
	return n;
}

/* a lease of ms (in whole seconds, as etcd counts): its id, or NULL */
static json_t *
lease(struct dphp_store *st, int64_t ms)
{
	json_t *body, *resp, *id;
	int r;

	body = json_pack("{sI}", "TTL", (json_int_t)((ms + 999) / 1000));
	r = es_call(st, "/v3/lease/grant", body, &resp);
	json_decref(body);
	if (r != 0)
		return NULL;
	id = json_incref(json_object_get(resp, "ID"));
	json_decref(resp);
	if (id == NULL) {
		dphp_error("etcd: no lease granted");
		return NULL;
	}
	if (ES(st)->leases == NULL)
		ES(st)->leases = json_array();
	json_array_append_new(ES(st)->leases, json_pack("{sOsIsI}", "id", id,
	    "ms", (json_int_t)ms, "at", (json_int_t)dphp_now_ms()));
	return id;
}

/* the requests of a claim: the claim on its lease, and the try counted
 * (taken away when the event is finished) */
static json_t *
claimput(struct dphp_store *st, const struct ready *r, json_t *id,
    int64_t until)
{
	char *key = qkey(st, "queue/claim", r->name), *text;
	char *tkey = qkey(st, "queue/tries", r->name);
	json_t *op, *t;

	text = xasprintf("{\"until\":%lld}", (long long)until);
	op = json_pack("[{s{sosOso}}]", "requestPut", "key", es_b64(key),
	    "lease", id, "value", es_b64(text));
	free(text);
	t = json_pack("{siss}", "tries", (int)r->tries + 1, "why", RAN_OUT);
	text = dphp_json_text(t, NULL);
	json_decref(t);
	json_array_append_new(op, es_putop(tkey, text));
	free(text);
	free(tkey);
	free(key);
	return op;
}

static json_t *
claimcmp(struct dphp_store *st, const struct ready *r)
{
	char *ckey = qkey(st, "queue/claim", r->name);
	char *nkey = qkey(st, "queue/new", r->name);
	json_t *cmp = json_pack("[oo]", es_unchanged(ckey, 0),
	    es_unchanged(nkey, r->rev));

	free(ckey);
	free(nkey);
	return cmp;
}

/*
 * Claim the events v under lease id: all in one transaction when none
 * was taken meanwhile, else one by one.  rev[i] the claim's revision,
 * 0 if another worker was first; -1 on error.
 */
static int
claimall(struct dphp_store *st, struct ready *v, size_t n, json_t *id,
    int64_t until, json_int_t *rev)
{
	json_t *cmp = json_array(), *ops = json_array(), *resp, *kv, *one;
	char *ckey;
	size_t i;

	for (i = 0; i < n; i++) {
		one = claimcmp(st, &v[i]);
		json_array_extend(cmp, one);
		json_decref(one);
		one = claimput(st, &v[i], id, until);
		json_array_extend(ops, one);
		json_decref(one);
	}
	resp = es_txn(st, cmp, ops);
	if (resp == NULL)
		return -1;
	if (json_is_true(json_object_get(resp, "succeeded"))) {
		for (i = 0; i < n; i++)
			rev[i] = es_revision(resp);
		json_decref(resp);
		return 0;
	}
	json_decref(resp);
	for (i = 0; i < n; i++) {
		ckey = qkey(st, "queue/claim", v[i].name);
		resp = es_txnf(st, claimcmp(st, &v[i]), claimput(st, &v[i], id,
		    until), json_pack("[o]", es_rangeop(st, ckey)));
		free(ckey);
		if (resp == NULL)
			return -1;
		rev[i] = 0;
		if (json_is_true(json_object_get(resp, "succeeded")))
			rev[i] = es_revision(resp);
		else if ((kv = es_kvat(resp, 0)) != NULL &&
		    json_equal(json_object_get(kv, "lease"), id))
			/* ours already: a request asked again */
			rev[i] = es_num(json_object_get(kv, "create_revision"));
		json_decref(resp);
	}
	return 0;
}

static void
ready_free(struct ready *v, size_t n)
{
	while (n > 0) {
		n--;
		free(v[n].name);
		json_decref(v[n].env);
	}
}

/*
 * Claim the events v (n of them) under one lease, and hand those had to
 * fn, receipts added: how many, or -1.  *id is the lease, made by the
 * first claim of a round.
 */
static long
claimed_out(struct dphp_store *st, const struct dphp_queue_part *part,
    struct ready *v, size_t n, json_t **id, int64_t *until, dphp_taken_fn *fn,
    void *arg)
{
	struct dphp_desc d;
	json_int_t rev[PAGE];
	char buf[1024], *receipt;
	long taken = 0;
	size_t i;

	if (n == 0)
		return 0;
	if (*id == NULL) {
		*until = dphp_now_ms() + part->lease_ms;
		if ((*id = lease(st, part->lease_ms)) == NULL)
			return -1;
	}
	if (claimall(st, v, n, *id, *until, rev) != 0)
		return -1;
	for (i = 0; i < n && taken >= 0; i++) {
		if (rev[i] == 0)
			continue;	/* another worker was first */
		receipt = xasprintf("%s@%" JSON_INTEGER_FORMAT, v[i].name,
		    rev[i]);
		json_object_set_new(v[i].env, "receipt", json_string(receipt));
		free(receipt);
		if (dphp_envelope_check(v[i].env, &d, buf, sizeof(buf)) != 0) {
			dphp_error("etcd: a claimed event: %s", buf);
			return -1;
		}
		d.tries = v[i].tries;
		taken++;
		if (fn(v[i].env, &d, arg) != 0)
			taken = -1;
	}
	return taken;
}

/*
 * An idle worker's suspect: the first event of the part taken before
 * and not finished, claimed alone (or set aside, taken too often).
 * How many were taken (0 or 1), or -1.
 */
static long
suspect(struct dphp_store *st, const struct dphp_queue_part *part,
    json_t *claimed, json_t *tries, json_t **id, int64_t *until,
    dphp_taken_fn *fn, void *arg, size_t *bad)
{
	struct ready v;
	const char *name, *last;
	json_t *t, *resp, *kv;
	char *key, why[1200];
	long taken = 0;

	json_object_foreach(tries, name, t) {
		if (!dphp_queue_in_part(name, part) ||
		    json_object_get(claimed, name) != NULL)
			continue;
		key = qkey(st, "queue/new", name);
		resp = es_txn(st, json_array(), json_pack("[o]",
		    es_rangeop(st, key)));
		free(key);
		if (resp == NULL)
			return -1;
		if ((kv = es_kvat(resp, 0)) == NULL ||
		    (v.env = event(st, kv, name)) == NULL) {
			*bad += kv != NULL;
			json_decref(resp);
			continue;	/* finished meanwhile, or set aside */
		}
		v.name = xstrdup(name);
		v.rev = es_num(json_object_get(kv, "mod_revision"));
		v.tries = triesof(tries, name);
		if (part->tries > 0 && v.tries >= part->tries) {
			last = json_string_value(json_object_get(t, "why"));
			snprintf(why, sizeof(why), "taken %u times and never "
			    "finished; the last time, %s", v.tries,
			    last ? last : "?");
			bury(st, "queue/new", kv, name, why, v.tries);
			++*bad;
		} else
			taken = claimed_out(st, part, &v, 1, id, until, fn,
			    arg);
		json_decref(resp);
		ready_free(&v, 1);
		if (taken != 0)
			break;
	}
	return taken;
}

long
etcdq_take(struct dphp_store *st, const struct dphp_queue_part *part,
    size_t max, dphp_taken_fn *fn, void *arg, size_t *bad)
{
	struct ready v[PAGE];
	json_t *claimed = NULL, *tries = NULL, *id = NULL, *body, *resp, *page;
	char *from;
	int64_t until = 0;
	long taken = 0, r;
	size_t n, got;

	fresh(st);
	if (etcdq_release(st) < 0 || (claimed = claims(st)) == NULL ||
	    (tries = triesmap(st)) == NULL) {
		json_decref(claimed);
		return -1;
	}
	/* a suspect goes alone: to a worker with nothing in flight, and
	 * nothing with it */
	if (part->idle && (taken = suspect(st, part, claimed, tries, &id,
	    &until, fn, arg, bad)) != 0)
		max = 0;
	from = qkey(st, "queue/new", "");
	while ((size_t)taken < max) {
		body = rangeall(st, "queue/new", NULL, 1);
		json_object_set_new(body, "key", es_b64(from));
		json_object_set_new(body, "limit", json_integer(PAGE));
		if (es_range(st, body, &resp) != 0) {
			taken = -1;
			break;
		}
		page = json_object_get(resp, "kvs");
		got = json_array_size(page);
		if (got > 0) {
			free(from);
			from = es_unb64key(json_array_get(page, got - 1));
			from = xrealloc(from, strlen(from) + 2);
			strcat(from, "\001");	/* just past it */
		}
		n = gather(st, part, page, claimed, tries, v, max - taken <
		    PAGE ? max - taken : PAGE, bad);
		json_decref(resp);
		r = claimed_out(st, part, v, n, &id, &until, fn, arg);
		ready_free(v, n);
		if (r < 0) {
			taken = -1;
			break;
		}
		taken += r;
		if (got < PAGE)
			break;
	}
	free(from);
	json_decref(claimed);
	json_decref(tries);
	json_decref(id);
	return taken;
}

/*
 * A worker asks this of each event it has in flight, one after the
 * other: all are answered from one reading of the claims, made by the
 * first question after any other use of the queue.
 */
int
etcdq_claimed(struct dphp_store *st, const char *receipt)
{
	struct claimref cr;
	json_t *rev;
	int r;

	if (etcdq_receipt(st, receipt, &cr) != 0)
		return -1;
	if (ES(st)->claimview == NULL &&
	    (ES(st)->claimview = claims(st)) == NULL) {
		etcdq_claimref_free(&cr);
		return -1;
	}
	rev = json_object_get(ES(st)->claimview, cr.name);
	r = rev != NULL && json_integer_value(rev) == cr.rev;
	etcdq_claimref_free(&cr);
	return r;
}

/* an event stays in queue/new/ until acknowledged, claimed or not */
int
etcdq_pending(struct dphp_store *st, const char *name)
{
	char *key = qkey(st, "queue/new", name);
	json_t *resp;
	int r;

	fresh(st);
	r = es_range(st, json_pack("{sosb}", "key", es_b64(key), "keys_only",
	    1), &resp);
	free(key);
	if (r != 0)
		return -1;
	r = json_array_size(json_object_get(resp, "kvs")) > 0;
	json_decref(resp);
	return r;
}

void
etcdq_acked(struct dphp_store *st, const char *receipt)
{
	fresh(st);
	if (ES(st)->acked == NULL)
		ES(st)->acked = json_object();
	json_object_set_new(ES(st)->acked, receipt, json_true());
}

/*
 * Let go of the claim, if it is still the receipt's, and delete the
 * event too if del and it was not queued again since: 0 or -1.  A
 * claim that ran out is left alone: the event is another's to finish.
 */
static int
finish(struct dphp_store *st, const char *receipt, int del)
{
	struct claimref cr;
	json_t *resp = NULL, *kv;
	int r = -1;

	fresh(st);
	/* a commit acknowledged it already */
	if (json_object_get(ES(st)->acked, receipt) != NULL) {
		json_object_del(ES(st)->acked, receipt);
		return 0;
	}
	if (etcdq_receipt(st, receipt, &cr) != 0)
		return -1;
	/* finished, or given back (a conflict is no failure): the try it
	 * counted is forgotten */
	if (del)
		resp = es_txnf(st, json_pack("[o{sosssssI}]", isclaim(&cr),
		    "key", es_b64(cr.newkey), "target", "MOD", "result", "LESS",
		    "mod_revision", cr.rev), json_pack("[ooo]",
		    es_deleteop(cr.claimkey), es_deleteop(cr.newkey),
		    es_deleteop(cr.trieskey)), json_pack("[o]",
		    es_rangeop(st, cr.claimkey)));
	if (!del || (resp != NULL && !json_is_true(json_object_get(resp,
	    "succeeded")) && (kv = es_kvat(resp, 0)) != NULL &&
	    es_num(json_object_get(kv, "create_revision")) == cr.rev)) {
		/* a nack; or the event was queued again: keep it */
		json_decref(resp);
		resp = es_txn(st, json_pack("[o]", isclaim(&cr)),
		    json_pack("[oo]", es_deleteop(cr.claimkey),
		    es_deleteop(cr.trieskey)));
	}
	if (resp != NULL)
		r = 0;
	json_decref(resp);
	etcdq_claimref_free(&cr);
	return r;
}

/*
 * Give the claimed event back failed: its try stays counted, with why;
 * or (dead) set it aside in queue/bad/ for good.  Only while the claim
 * is the receipt's: else another worker has it.  0 or -1.
 */
static int
unfinished(struct dphp_store *st, const char *receipt, const char *why,
    int dead)
{
	struct claimref cr;
	json_t *resp, *ev, *t, *ops;
	char *text;
	unsigned tries;
	int r = -1;

	fresh(st);
	if (etcdq_receipt(st, receipt, &cr) != 0)
		return -1;
	resp = es_txn(st, json_array(), json_pack("[oo]", es_rangeop(st,
	    cr.newkey), es_rangeop(st, cr.trieskey)));
	if (resp == NULL)
		goto out;
	ev = es_kvat(resp, 0);
	t = es_decoded(es_kvat(resp, 1));
	tries = json_integer_value(json_object_get(t, "tries")) > 0 ?
	    (unsigned)json_integer_value(json_object_get(t, "tries")) : 1;
	json_decref(t);
	ops = json_pack("[o]", es_deleteop(cr.claimkey));
	if (dead && ev != NULL) {
		json_array_append_new(ops, es_deleteop(cr.newkey));
		json_array_append_new(ops, es_deleteop(cr.trieskey));
		buryops(st, cr.name, json_object_get(ev, "value"), why, tries,
		    ops);
	} else {
		t = json_pack("{siss}", "tries", (int)tries, "why", why);
		text = dphp_json_text(t, NULL);
		json_decref(t);
		json_array_append_new(ops, es_putop(cr.trieskey, text));
		free(text);
	}
	json_decref(resp);
	resp = es_txn(st, json_pack("[o]", isclaim(&cr)), ops);
	if (resp != NULL) {
		r = 0;
		if (dead)
			dphp_error("queue/new/%s: %s (moved to queue/bad)",
			    cr.name, why);
	}
	json_decref(resp);
out:
	etcdq_claimref_free(&cr);
	return r;
}

int
etcdq_fail(struct dphp_store *st, const char *receipt, const char *why)
{
	return unfinished(st, receipt, why, 0);
}

int
etcdq_bury(struct dphp_store *st, const char *receipt, const char *why)
{
	return unfinished(st, receipt, why, 1);
}

int
etcdq_dead(struct dphp_store *st, dphp_dead_fn *fn, void *arg)
{
	json_t *resp, *kv, *whys, *why, *v;
	const char *name;
	char *key, *text;
	size_t i, len;
	int r = 0;

	fresh(st);
	if (es_range(st, rangeall(st, "queue/bad", NULL, 1), &resp) != 0)
		return -1;
	whys = json_object();
	v = json_object();
	/* NAME, then NAME.why: sorted so */
	json_array_foreach(json_object_get(resp, "kvs"), i, kv)
		if ((key = nameof(st, "queue/bad", kv)) != NULL) {
			len = strlen(key);
			if (len > 4 && strcmp(key + len - 4, ".why") == 0) {
				key[len - 4] = '\0';
				json_object_set_new(whys, key, es_decoded(kv));
			} else
				json_object_set(v, key, kv);
			free(key);
		}
	json_object_foreach(v, name, kv) {
		why = json_object_get(whys, name);
		text = dphp_unb64(json_string_value(json_object_get(kv,
		    "value")) ? json_string_value(json_object_get(kv, "value")) :
		    "", &len);
		if ((r = fn(name, json_is_object(why) ? why : NULL, text,
		    text ? strcspn(text, "\n") : 0, arg)) != 0) {
			free(text);
			break;
		}
		free(text);
	}
	json_decref(v);
	json_decref(whys);
	json_decref(resp);
	return r;
}

int
etcdq_ack(struct dphp_store *st, const char *receipt)
{
	return finish(st, receipt, 1);
}

int
etcdq_nack(struct dphp_store *st, const char *receipt)
{
	return finish(st, receipt, 0);
}

/* not a transaction: an event that comes anyway must be harmless */
int
etcdq_cancel(struct dphp_store *st, json_t *env)
{
	struct dphp_desc d;
	char buf[1024], *name, *key;
	json_t *resp;

	fresh(st);
	if (dphp_envelope_check(env, &d, buf, sizeof(buf)) != 0 ||
	    d.delay == NULL)
		return -1;
	name = dphp_queue_name(&d, 0);
	key = qkey(st, "delay", name);
	resp = es_txn(st, json_array(), json_pack("[o]", es_deleteop(key)));
	free(key);
	free(name);
	json_decref(resp);
	return resp != NULL ? 0 : -1;
}

int
etcdq_stat(struct dphp_store *st, const struct dphp_queue_part *part,
    struct dphp_queue_stat *qs)
{
	static const char *const dirs[] = { "queue/claim", "queue/tries",
	    "delay", "queue/new" };
	json_t *resp, *claimed, *tried, *kv, *v;
	int64_t now = dphp_now_ms(), t;
	size_t i;
	char *name;
	int k;

	fresh(st);
	memset(qs, 0, sizeof(*qs));
	qs->next_ms = INT64_MAX;
	/* one revision: every event is seen in one place */
	resp = es_txn(st, json_array(), json_pack("[{so}{so}{so}{so}]",
	    "requestRange", rangeall(st, "queue/claim", NULL, 1),
	    "requestRange", rangeall(st, "queue/tries", NULL, 0),
	    "requestRange", rangeall(st, "delay", NULL, 0),
	    "requestRange", rangeall(st, "queue/new", NULL, 0)));
	if (resp == NULL)
		return -1;
	ES(st)->looked = es_revision(resp);
	claimed = json_object();
	tried = json_object();
	for (k = 0; k < 4; k++)
		json_array_foreach(json_object_get(json_object_get(
		    json_array_get(json_object_get(resp, "responses"), k),
		    "response_range"), "kvs"), i, kv) {
			name = nameof(st, dirs[k], kv);
			if (name == NULL || !dphp_queue_in_part(name, part)) {
				free(name);
				continue;
			}
			if (k == 0) {
				qs->claimed++;
				json_object_set_new(claimed, name, json_true());
				v = es_decoded(kv);
				t = json_integer_value(json_object_get(v,
				    "until"));
				if (t > 0 && t < qs->next_ms)
					qs->next_ms = t;
				json_decref(v);
			} else if (k == 1) {
				json_object_set_new(tried, name, json_true());
			} else if (k == 2) {
				qs->delayed++;
				if ((t = dphp_queue_due(name)) <= now)
					qs->due++;
				if (t < qs->next_ms)
					qs->next_ms = t;
			} else if (json_object_get(claimed, name) != NULL)
				;
			else if (json_object_get(tried, name) != NULL)
				qs->suspects++;
			else
				qs->ready++;
			free(name);
		}
	json_decref(claimed);
	json_decref(tried);
	json_decref(resp);
	return 0;
}

/* ask path about lease id: the answer, or NULL */
static json_t *
leasecall(struct dphp_store *st, const char *path, json_t *id, int keys)
{
	json_t *body = json_pack("{sO}", "ID", id), *resp;
	int r;

	if (keys)
		json_object_set_new(body, "keys", json_true());
	r = es_call(st, path, body, &resp);
	json_decref(body);
	return r == 0 ? resp : NULL;
}

/*
 * Keep alive, every third of their time, the leases of claims this
 * handle made; forget those with no claim left (finished, or run out:
 * then etcd has none to renew) and revoke them.
 */
int
etcdq_renew(struct dphp_store *st)
{
	json_t *l, *resp;
	int64_t now = dphp_now_ms(), ttl;
	size_t i = 0;
	int left;

	fresh(st);
	while ((l = json_array_get(ES(st)->leases, i)) != NULL) {
		if (now - json_integer_value(json_object_get(l, "at")) <
		    json_integer_value(json_object_get(l, "ms")) / 3) {
			i++;
			continue;
		}
		if ((resp = leasecall(st, "/v3/lease/timetolive",
		    json_object_get(l, "id"), 1)) == NULL)
			return -1;
		left = json_array_size(json_object_get(resp, "keys")) > 0 &&
		    es_num(json_object_get(resp, "TTL")) > 0;
		json_decref(resp);
		resp = leasecall(st, left ? "/v3/lease/keepalive" :
		    "/v3/lease/revoke", json_object_get(l, "id"), 0);
		if (resp == NULL)
			return -1;
		ttl = es_num(json_object_get(json_object_get(resp, "result"),
		    "TTL"));
		json_decref(resp);
		if (left && ttl > 0) {
			json_object_set_new(l, "at", json_integer(now));
			i++;
		} else
			json_array_remove(ES(st)->leases, i);
	}
	return 0;
}

/*
 * Wait ms, or less when the queue changes: a watch of the keys from
 * delay/ to queue/ (the journal's and the locks' between them too),
 * from just after the revision the queue was last read at (its stat, or
 * the claims in flight), so that what came since wakes the worker.  An idle worker asks etcd nothing meanwhile;
 * a worker woken wakes at most every POLL_MS, however busy the store.
 * No watch (no member answers): a POLL_MS nap, and the worker's next
 * request finds out.
 */
int
etcdq_wait(struct dphp_store *st, int64_t ms)
{
	int64_t start = dphp_monotonic_ms(), left;
	char *from, *to;
	json_t *req, *body;

	fresh(st);
	if (ms > POLL_MS) {
		from = qkey(st, "delay", "");
		to = qkey(st, "queue", "");
		to[strlen(to) - 1]++;	/* '/' + 1: past every key under */
		req = json_pack("{soso}", "key", es_b64(from), "range_end",
		    es_b64(to));
		if (ES(st)->looked > 0)
			json_object_set_new(req, "start_revision",
			    json_integer(ES(st)->looked + 1));
		ES(st)->looked = 0;
		body = json_pack("{so}", "create_request", req);
		dphp_etcd_watch(ES(st)->e, body, ms);
		json_decref(body);
		free(from);
		free(to);
	}
	left = start + (ms < POLL_MS ? ms : POLL_MS) - dphp_monotonic_ms();
	if (left > 0)
		dphp_nap(left);
	return 0;
}
