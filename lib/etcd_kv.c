/*
 * etcd_kv.c - the few ways the etcd backend asks etcd's JSON gateway
 * (through etcd.c): keys and values in base64, ranges, transactions and
 * their requests, asked again of another member when unanswered.
 */
#include <stdlib.h>
#include <string.h>

#include "etcd.h"
#include "etcd_kv.h"
#include "store.h"
#include "util.h"

json_t *
es_b64(const char *s)
{
	char *t = dphp_b64(s, strlen(s));
	json_t *v = json_string(t);

	free(t);
	return v;
}

/* a request of a transaction: range of key, at the frozen revision */
json_t *
es_rangeop(struct dphp_store *st, const char *key)
{
	json_t *r = json_pack("{so}", "key", es_b64(key));

	if (ES(st)->atrev > 0)
		json_object_set_new(r, "revision", json_integer(ES(st)->atrev));
	return json_pack("{so}", "requestRange", r);
}

json_int_t
es_num(json_t *v)
{
	return json_is_string(v) ? strtoll(json_string_value(v), NULL, 10) :
	    json_integer_value(v);
}

json_int_t
es_revision(json_t *resp)
{
	return es_num(json_object_get(json_object_get(resp, "header"),
	    "revision"));
}

/*
 * A request that does the same when done twice (a read, or a write
 * compared so): asked again of another member when one went out
 * unanswered.  0 and *out, or -1 (reported).
 */
int
es_call(struct dphp_store *st, const char *path, json_t *body, json_t **out)
{
	int r, n;

	for (n = 0; (r = dphp_etcd_call(ES(st)->e, path, body, out)) == -2 &&
	    n < 3; n++)
		;
	if (r == -2)
		dphp_error("etcd: no answer from any member");
	return r == 0 ? 0 : -1;
}

int
es_range(struct dphp_store *st, json_t *body, json_t **out)
{
	int r = es_call(st, "/v3/kv/range", body, out);

	json_decref(body);
	return r;
}

json_t *
es_txnf(struct dphp_store *st, json_t *compare, json_t *success,
    json_t *failure)
{
	json_t *body = json_pack("{soso}", "compare", compare, "success",
	    success), *out;

	if (failure != NULL)
		json_object_set_new(body, "failure", failure);
	if (es_call(st, "/v3/kv/txn", body, &out) != 0)
		out = NULL;
	json_decref(body);
	return out;
}

json_t *
es_txn(struct dphp_store *st, json_t *compare, json_t *success)
{
	return es_txnf(st, compare, success, NULL);
}

json_t *
es_kvat(json_t *resp, size_t i)
{
	return json_array_get(json_object_get(json_object_get(json_array_get(
	    json_object_get(resp, "responses"), i), "response_range"), "kvs"),
	    0);
}

char *
es_unb64key(json_t *kv)
{
	size_t n;

	return dphp_unb64(json_string_value(json_object_get(kv, "key")), &n);
}

json_t *
es_decoded(json_t *kv)
{
	size_t n;
	char *text;
	json_t *v;

	text = dphp_unb64(json_string_value(json_object_get(kv, "value")), &n);
	v = text ? json_loadb(text, n, 0, NULL) : NULL;
	free(text);
	return v;
}

json_t *
es_unchanged(const char *key, json_int_t rev)
{
	return rev ? json_pack("{sosssssI}", "key", es_b64(key), "target", "MOD",
	    "result", "EQUAL", "mod_revision", rev) : json_pack("{sosssssi}",
	    "key", es_b64(key), "target", "CREATE", "result", "EQUAL",
	    "create_revision", 0);
}

json_t *
es_putop(const char *key, const char *val)
{
	return json_pack("{s{soso}}", "requestPut", "key", es_b64(key), "value",
	    es_b64(val));
}

json_t *
es_deleteop(const char *key)
{
	return json_pack("{s{so}}", "requestDeleteRange", "key", es_b64(key));
}
