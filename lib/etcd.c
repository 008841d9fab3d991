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
 *
 * Over TLS (etcd://https://...) the members' certificates are checked
 * against DPHP_ETCD_CA (else the system's), and DPHP_ETCD_CERT and
 * DPHP_ETCD_KEY are shown when etcd asks for a client's.  With
 * DPHP_ETCD_USER, the client logs in with the password in the file
 * DPHP_ETCD_PASSWORD_FILE (never on a command line) and sends the
 * token it gets with every request, logging in again when etcd says
 * the token is no longer valid (it lasts minutes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CURL_DISABLE_TYPECHECK	/* curl_easy_setopt a function (dynlib.h) */
#include <curl/curl.h>

#include "base64.h"
#include "dynlib.h"
#include "etcd.h"
#include "file.h"
#include "id.h"
#include "ndjson.h"
#include "util.h"

#define TRY_MS 10000	/* how long to look for a member that answers */

struct dphp_etcd {
	char **urls;		/* http://HOST:PORT, https://HOST:PORT */
	size_t n, cur;
	CURL *curl;
	struct curl_slist *headers;
	char *user, *password;	/* to log in with, or NULL */
	int answered;		/* some member has answered this process */
	char why[CURL_ERROR_SIZE];	/* libcurl's own words on a failure */
};

static int refused;		/* see dphp_etcd_refused */

int
dphp_etcd_refused(void)
{
	return refused;
}

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

/* The file a DPHP_ETCD_* variable names, if set: it must be readable. */
static int
named_file(const char *var, const char **path)
{
	*path = getenv(var);
	if (*path != NULL && **path == '\0')
		*path = NULL;
	if (*path != NULL && access(*path, R_OK) != 0) {
		dphp_error("%s: cannot read '%s':", var, *path);
		refused = 1;
		return -1;
	}
	return 0;
}

/* the TLS files and the user's password, from the environment */
static int
credentials(struct dphp_etcd *e, int tls)
{
	const char *ca, *cert, *key, *pwfile, *user = getenv("DPHP_ETCD_USER");
	char *pw;
	size_t len;

	if (named_file("DPHP_ETCD_CA", &ca) != 0 ||
	    named_file("DPHP_ETCD_CERT", &cert) != 0 ||
	    named_file("DPHP_ETCD_KEY", &key) != 0 ||
	    named_file("DPHP_ETCD_PASSWORD_FILE", &pwfile) != 0)
		return -1;
	if (!tls && (ca || cert || key)) {
		dphp_error("DPHP_ETCD_CA, _CERT and _KEY are for etcd over TLS: "
		    "name the store etcd://https://HOST:PORT/PREFIX");
		refused = 1;
		return -1;
	}
	if (ca != NULL)
		curl_easy_setopt(e->curl, CURLOPT_CAINFO, ca);
	if (cert != NULL)
		curl_easy_setopt(e->curl, CURLOPT_SSLCERT, cert);
	if (key != NULL)
		curl_easy_setopt(e->curl, CURLOPT_SSLKEY, key);
	if (user == NULL || *user == '\0') {
		if (pwfile == NULL)
			return 0;
		dphp_error("DPHP_ETCD_PASSWORD_FILE without DPHP_ETCD_USER");
		refused = 1;
		return -1;
	}
	if (pwfile == NULL) {
		dphp_error("DPHP_ETCD_USER without DPHP_ETCD_PASSWORD_FILE");
		refused = 1;
		return -1;
	}
	if ((pw = dphp_slurp(pwfile, 4096, &len)) == NULL) {
		dphp_error("DPHP_ETCD_PASSWORD_FILE: cannot read '%s':",
		    pwfile);
		refused = 1;
		return -1;
	}
	pw[strcspn(pw, "\r\n")] = '\0';	/* its first line */
	e->user = xstrdup(user);
	e->password = pw;
	return 0;
}

/* (Again) the headers of every request: JSON, and the token if any. */
static void
headers(struct dphp_etcd *e, const char *token)
{
	char *h;

	if (e->headers != NULL)
		curl_slist_free_all(e->headers);
	e->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (token != NULL) {
		h = xasprintf("Authorization: %s", token);
		e->headers = curl_slist_append(e->headers, h);
		free(h);
	}
	curl_easy_setopt(e->curl, CURLOPT_HTTPHEADER, e->headers);
}

/* Log in: a new token in the headers.  0, or -1 (reported). */
static int
login(struct dphp_etcd *e)
{
	json_t *body, *out = NULL;
	int r, tries = 0;

	headers(e, NULL);
	body = json_pack("{ssss}", "name", e->user, "password", e->password);
	/* it changes nothing: asked again when no answer came */
	while ((r = dphp_etcd_call(e, "/v3/auth/authenticate", body, &out)) ==
	    -2 && tries++ < 3)
		;
	json_decref(body);
	if (r == -2)
		dphp_error("etcd: no answer to logging in as '%s' from any "
		    "member", e->user);
	if (r != 0)
		return -1;
	if (!json_is_string(json_object_get(out, "token"))) {
		dphp_error("etcd %s: logging in as '%s' gave no token (is "
		    "authentication on?)", e->urls[e->cur], e->user);
		json_decref(out);
		return -1;
	}
	headers(e, json_string_value(json_object_get(out, "token")));
	json_decref(out);
	return 0;
}

struct dphp_etcd *
dphp_etcd_open(const char *hosts, int tls)
{
	struct dphp_etcd *e = xcalloc(1, sizeof(*e));
	char *list = xstrdup(hosts), *h, *save = NULL;
	const char *scheme = tls ? "https://" : "http://";

	refused = 0;
	for (h = strtok_r(list, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
		/* each may say the scheme again */
		if (strncmp(h, scheme, strlen(scheme)) == 0)
			h += strlen(scheme);
		if (*h == '\0' || strstr(h, "://") != NULL) {
			dphp_error("invalid etcd endpoint '%s' in '%s'", h,
			    hosts);
			free(list);
			refused = 1;
			dphp_etcd_close(e);
			return NULL;
		}
		e->urls = xrealloc(e->urls, (e->n + 1) * sizeof(*e->urls));
		e->urls[e->n++] = xasprintf("%s%s", scheme, h);
	}
	free(list);
	if (e->n == 0) {
		dphp_error("no etcd endpoints in '%s'", hosts);
		refused = 1;
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
	headers(e, NULL);
	curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, gather);
	curl_easy_setopt(e->curl, CURLOPT_ERRORBUFFER, e->why);
	curl_easy_setopt(e->curl, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, timeout());
	curl_easy_setopt(e->curl, CURLOPT_NOSIGNAL, 1L);
	/* loopback and the hosts named, never a proxy */
	curl_easy_setopt(e->curl, CURLOPT_PROXY, "");
	if (credentials(e, tls) != 0 || (e->user != NULL && login(e) != 0)) {
		dphp_etcd_close(e);
		return NULL;
	}
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
	free(e->user);
	if (e->password != NULL)
		explicit_bzero(e->password, strlen(e->password));
	free(e->password);
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

/*
 * Was a connection over TLS closed before any answer because the
 * member wants a client certificate it did not get, or take?  In TLS
 * 1.3 the member says so after the handshake, racing the request, and
 * the client may see only a connection closed; so it is asked again,
 * a handshake alone with TLS 1.2 at most, which the member refuses
 * within the handshake, in words (kept in e->why).
 */
static int
handshake_refused(struct dphp_etcd *e)
{
	CURLcode c;

	curl_easy_setopt(e->curl, CURLOPT_URL, e->urls[e->cur]);
	curl_easy_setopt(e->curl, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(e->curl, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e->curl, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e->curl, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_MAX_TLSv1_2);
	e->why[0] = '\0';
	c = curl_easy_perform(e->curl);
	curl_easy_setopt(e->curl, CURLOPT_CONNECT_ONLY, 0L);
	curl_easy_setopt(e->curl, CURLOPT_FRESH_CONNECT, 0L);
	curl_easy_setopt(e->curl, CURLOPT_FORBID_REUSE, 0L);
	curl_easy_setopt(e->curl, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_DEFAULT);
	return c == CURLE_SSL_CONNECT_ERROR && strstr(e->why, "certificate");
}

/*
 * TLS refused before any request went out: a certificate not trusted,
 * not given, or not taken.  Not a request that may have been carried
 * out, and no retry mends it.
 */
static int
tls_refused(struct dphp_etcd *e, CURLcode c, long status)
{
	switch (c) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_USE_SSL_FAILED:
		return 1;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		/* closed before any answer this process ever had */
		if (status != 0 || e->answered ||
		    strncmp(e->urls[e->cur], "https:", 6) != 0)
			return 0;
		return strstr(e->why, "certificate") != NULL ||
		    handshake_refused(e);
	default:
		return 0;
	}
}

/*
 * An answer refusing who asks: no user, a wrong password, no right to
 * the key, a client certificate etcd's gateway does not take.  Said in
 * words that say what to set; 1, or 0 when it is not one.
 */
static int
auth_refused(struct dphp_etcd *e, const char *path, long status,
    json_t *v, const char *text)
{
	const char *msg = message(v), *url = e->urls[e->cur];

	if (msg != NULL && strstr(msg, "user name is empty"))
		dphp_error("etcd %s: authentication is on: name a user "
		    "(DPHP_ETCD_USER, DPHP_ETCD_PASSWORD_FILE)", url);
	else if (msg != NULL && strstr(msg, "authentication failed"))
		dphp_error("etcd %s: the user '%s' or its password is refused",
		    url, e->user ? e->user : "");
	else if (status == 403 || (msg != NULL && strstr(msg,
	    "permission denied")))
		dphp_error("etcd %s%s: permission denied to '%s'", url, path,
		    e->user ? e->user : "(no user)");
	else if (v == NULL && text != NULL && strstr(text, "CommonName"))
		dphp_error("etcd %s: its gateway refuses a client certificate "
		    "with a CommonName while authentication is on: give one "
		    "without (DPHP_ETCD_CERT)", url);
	else
		return 0;
	return 1;
}

int
dphp_etcd_call(struct dphp_etcd *e, const char *path, json_t *body,
    json_t **out)
{
	char *text = dphp_json_text(body, NULL), *url;
	int64_t deadline = dphp_monotonic_ms() + TRY_MS;
	struct reply rep;
	json_error_t err;
	int relogged = 0;
	CURLcode c;
	long status;
	json_t *v;

	refused = 0;
	for (;;) {
		memset(&rep, 0, sizeof(rep));
		e->why[0] = '\0';
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
			e->answered = 1;
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
		/* a token that ran out: not carried out; in again, once */
		if (c == CURLE_OK && status == 401 && e->user != NULL &&
		    !relogged && strcmp(path, "/v3/auth/authenticate") != 0) {
			json_decref(v);
			free(rep.buf);
			relogged = 1;
			if (login(e) != 0) {
				free(text);
				return -1;
			}
			continue;
		}
		if (tls_refused(e, c, status) || (c == CURLE_OK &&
		    auth_refused(e, path, status, v, rep.buf))) {
			if (c != CURLE_OK)
				dphp_error("etcd %s: %s (DPHP_ETCD_CA, "
				    "DPHP_ETCD_CERT, DPHP_ETCD_KEY)",
				    e->urls[e->cur], e->why[0] ? e->why :
				    curl_easy_strerror(c));
			refused = 1;
			json_decref(v);
			free(rep.buf);
			free(text);
			return -1;
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
