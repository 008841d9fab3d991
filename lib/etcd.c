/*
 * etcd.c - a client of etcd v3's JSON gateway (POST /v3/kv/range,
 * /v3/kv/txn, ...) through libcurl: keys and values are base64, numbers
 * are strings.  The endpoints of a cluster are tried in turn: one that
 * cannot be reached, or has no leader, passes the request to the next,
 * for up to ten seconds.  A request that reached a member and got no
 * answer is not sent again: it may have been carried out, and the
 * caller is told so (store_etcd.c finds out which).  A request waits
 * DPHP_ETCD_TIMEOUT_MS for its answer (30 s).  A watch is a request
 * whose answer streams, one JSON message a line, while it lasts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CURL_DISABLE_TYPECHECK	/* curl_easy_setopt a function (dynlib.h) */
#include <curl/curl.h>

#include "base64.h"
#include "dynlib.h"
#include "etcd.h"
#include "id.h"
#include "ndjson.h"
#include "util.h"

#define TRY_MS 10000	/* how long to look for a member that answers */

struct dphp_etcd {
	char **urls;		/* http://HOST:PORT */
	size_t n, cur;
	CURL *curl;
	struct curl_slist *headers;
};

struct reply {
	char *buf;
	size_t len;
};

static size_t
gather(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;

	r->buf = xrealloc(r->buf, r->len + size * n + 1);
	memcpy(r->buf + r->len, p, size * n);
	r->len += size * n;
	r->buf[r->len] = '\0';
	return size * n;
}

char *
dphp_b64(const void *p, size_t n)
{
	return dphp_b64_encode(DPHP_B64, p, n);
}

char *
dphp_unb64(const char *s, size_t *n)
{
	size_t len = strlen(s);
	unsigned char *out = xmalloc(len / 4 * 3 + 3);
	long got;

	if ((got = dphp_b64_decode(DPHP_B64, s, len, out)) < 0) {
		free(out);
		return NULL;
	}
	out[got] = '\0';
	*n = (size_t)got;
	return (char *)out;
}

static long
timeout(void)
{
	const char *s = getenv("DPHP_ETCD_TIMEOUT_MS");
	char *end;
	long ms;

	if (s == NULL || *s == '\0')
		return 30000;
	ms = strtol(s, &end, 10);
	return *end == '\0' && ms > 0 ? ms : 30000;
}

struct dphp_etcd *
dphp_etcd_open(const char *hosts)
{
	struct dphp_etcd *e = xcalloc(1, sizeof(*e));
	char *list = xstrdup(hosts), *h, *save = NULL;

	for (h = strtok_r(list, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
		e->urls = xrealloc(e->urls, (e->n + 1) * sizeof(*e->urls));
		e->urls[e->n++] = xasprintf("http://%s", h);
	}
	free(list);
	if (e->n == 0) {
		dphp_error("no etcd endpoints in '%s'", hosts);
		dphp_etcd_close(e);
		return NULL;
	}
	if (dphp_curl_load() != 0) {
		dphp_etcd_close(e);
		return NULL;
	}
	if ((e->curl = curl_easy_init()) == NULL) {
		dphp_error("cannot start a libcurl session");
		dphp_etcd_close(e);
		return NULL;
	}
	e->headers = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(e->curl, CURLOPT_HTTPHEADER, e->headers);
	curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, gather);
	curl_easy_setopt(e->curl, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, timeout());
	curl_easy_setopt(e->curl, CURLOPT_NOSIGNAL, 1L);
	/* loopback and the hosts named, never a proxy */
	curl_easy_setopt(e->curl, CURLOPT_PROXY, "");
	return e;
}

void
dphp_etcd_close(struct dphp_etcd *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->n; i++)
		free(e->urls[i]);
	free(e->urls);
	if (e->curl != NULL)
		curl_easy_cleanup(e->curl);
	if (e->headers != NULL)
		curl_slist_free_all(e->headers);
	free(e);
}

static const char *
message(json_t *v)
{
	const char *msg = json_string_value(json_object_get(v, "error"));

	return msg ? msg : json_string_value(json_object_get(v, "message"));
}

/*
 * An answer that says the request was proposed but its end not seen:
 * it may have been carried out ("leader changed" is one: the proposal
 * was made under the old leader).
 */
static int
undecided(json_t *v)
{
	const char *msg = message(v);

	return msg != NULL && (strstr(msg, "leader changed") ||
	    strstr(msg, "request timed out") || strstr(msg, "server stopped"));
}

/* An answer that says this member cannot serve now: try another. */
static int
unavailable(long status, json_t *v)
{
	const char *msg = message(v);

	if (undecided(v))
		return 0;
	return status == 503 || (msg != NULL && (strstr(msg, "no leader") ||
	    strstr(msg, "not capable")));
}

/*
 * The request went out and no whole answer came: it may have been done.
 * A member killed while it answers leaves half an answer (PARTIAL_FILE).
 */
static int
unknown(CURLcode c, json_t *v)
{
	return c == CURLE_OPERATION_TIMEDOUT || c == CURLE_RECV_ERROR ||
	    c == CURLE_GOT_NOTHING || c == CURLE_SEND_ERROR ||
	    c == CURLE_PARTIAL_FILE || undecided(v);
}

int
dphp_etcd_call(struct dphp_etcd *e, const char *path, json_t *body,
    json_t **out)
{
	char *text = dphp_json_text(body, NULL), *url;
	int64_t deadline = dphp_monotonic_ms() + TRY_MS;
	struct reply rep;
	json_error_t err;
	CURLcode c;
	long status;
	json_t *v;

	for (;;) {
		memset(&rep, 0, sizeof(rep));
		url = xasprintf("%s%s", e->urls[e->cur], path);
		curl_easy_setopt(e->curl, CURLOPT_URL, url);
		curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, &rep);
		c = curl_easy_perform(e->curl);
		free(url);
		status = 0;
		curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &status);
		v = c == CURLE_OK ? json_loadb(rep.buf ? rep.buf : "", rep.len,
		    0, &err) : NULL;
		/* "not found" (a lease run out) is an answer too */
		if (c == CURLE_OK && (status == 200 || (status == 404 &&
		    json_integer_value(json_object_get(v, "code")) == 5)) &&
		    json_is_object(v)) {
			free(rep.buf);
			free(text);
			*out = v;
			return 0;
		}
		/* not sent (no connection), or refused unsent: the next */
		if ((c == CURLE_COULDNT_CONNECT || (c == CURLE_OK &&
		    unavailable(status, v))) && dphp_monotonic_ms() < deadline) {
			json_decref(v);
			free(rep.buf);
			e->cur = (e->cur + 1) % e->n;
			if (e->cur == 0)
				dphp_nap(100);
			continue;
		}
		if (unknown(c, v)) {
			/* the caller asks another member what became of it */
			e->cur = (e->cur + 1) % e->n;
			json_decref(v);
			free(rep.buf);
			free(text);
			return -2;
		}
		if (c != CURLE_OK)
			dphp_error("etcd %s: %s", e->urls[e->cur],
			    curl_easy_strerror(c));
		else
			dphp_error("etcd %s%s: HTTP %ld: %.300s", e->urls[e->cur],
			    path, status, rep.buf ? rep.buf : "");
		json_decref(v);
		free(rep.buf);
		free(text);
		return -1;
	}
}

/* a watch's stream: a second message means a change (or the watch ended) */
static size_t
heed(char *p, size_t size, size_t n, void *arg)
{
	int *lines = arg;
	size_t i;

	for (i = 0; i < size * n; i++)
		*lines += p[i] == '\n';
	return *lines >= 2 ? 0 : size * n;	/* 0: enough, stop */
}

void
dphp_etcd_watch(struct dphp_etcd *e, json_t *body, int64_t ms)
{
	char *text = dphp_json_text(body, NULL), *url;
	int lines = 0;
	CURLcode c;
	size_t i;

	/* a member down is passed over; any other failure ends the wait */
	for (i = 0; i < e->n; i++) {
		url = xasprintf("%s/v3/watch", e->urls[e->cur]);
		curl_easy_setopt(e->curl, CURLOPT_URL, url);
		curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, heed);
		curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, &lines);
		curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, (long)ms);
		c = curl_easy_perform(e->curl);
		curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, gather);
		curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, timeout());
		free(url);
		if (c != CURLE_COULDNT_CONNECT)
			break;
		e->cur = (e->cur + 1) % e->n;
	}
	free(text);
}
