/*
 * jwt.c - who acts: HS256 JSON Web Tokens (RFC 7519) made and checked
 * with keys from a file, so that an event from outside the trust
 * boundary carries a user it cannot forge.  HMAC-SHA256 and the
 * constant-time compare are libcrypto's, loaded with the keys
 * (dynlib.c), since most runs have none.
 *
 * The key file has one key a line, "KID SECRET", SECRET in base64url
 * (at least 32 bytes); blank lines and lines starting with '#' are
 * skipped.  The last key signs; every key verifies, so that a new key
 * is added at the end and an old one removed once its tokens are gone.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "authz.h"
#include "base64.h"
#include "dynlib.h"
#include "util.h"

#define KEY_MIN 32		/* bytes: HS256 wants at least its output size */
#define KEYS_MAX 64
#define TOKEN_MAX 8192

struct key {
	char kid[65];
	unsigned char secret[256];
	size_t len;
};

struct dphp_keys {
	struct key k[KEYS_MAX];
	size_t n;
};

struct dphp_keys *
dphp_keys_load(const char *path)
{
	struct dphp_keys *ks;
	struct stat sb;
	char line[1024], kid[128], secret[512];
	unsigned long n = 0;
	FILE *f;
	long len;

	if (dphp_crypto_load() == -1)
		return NULL;
	if ((f = fopen(path, "re")) == NULL) {
		dphp_error("cannot open key file '%s':", path);
		return NULL;
	}
	if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 077))
		dphp_warn("key file '%s' can be read by others than its owner",
		    path);
	ks = xcalloc(1, sizeof(*ks));
	while (fgets(line, sizeof(line), f) != NULL) {
		n++;
		if (line[0] == '#' || strspn(line, " \t\n") == strlen(line))
			continue;
		if (sscanf(line, "%127s %511s", kid, secret) != 2 ||
		    strlen(kid) > 64 || !dphp_eventid_valid(kid) ||
		    strlen(secret) > 340 ||
		    (len = dphp_b64_decode(DPHP_B64URL, secret,
		    strlen(secret), ks->k[ks->n].secret)) < KEY_MIN) {
			dphp_at_line(path, n, "not a key: \"KID SECRET\", "
			    "SECRET at least %d bytes in base64url", KEY_MIN);
			goto bad;
		}
		if (ks->n == KEYS_MAX) {
			dphp_at_line(path, n, "more than %d keys", KEYS_MAX);
			goto bad;
		}
		snprintf(ks->k[ks->n].kid, sizeof(ks->k[ks->n].kid), "%s",
		    kid);
		ks->k[ks->n++].len = (size_t)len;
	}
	if (ferror(f)) {
		dphp_error("cannot read key file '%s':", path);
		goto bad;
	}
	if (ks->n == 0) {
		dphp_located(path, "no key");
		goto bad;
	}
	fclose(f);
	return ks;
bad:
	fclose(f);
	dphp_keys_free(ks);
	return NULL;
}

void
dphp_keys_free(struct dphp_keys *ks)
{
	if (ks != NULL)
		explicit_bzero(ks, sizeof(*ks));
	free(ks);
}

#define DATE_MAX 253402300800.0	/* 10000-01-01, in seconds */

static void
mac(const struct key *k, const char *data, size_t len, unsigned char out[32])
{
	unsigned outlen = 32;

	HMAC(EVP_sha256(), k->secret, (int)k->len, (const unsigned char *)data,
	    len, out, &outlen);
}

/* base64url of the compact JSON of o */
static char *
part(json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS), *p;

	p = dphp_b64_encode(DPHP_B64URL, text, strlen(text));
	free(text);
	return p;
}

char *
dphp_jwt_sign(const struct dphp_keys *ks, const char *user, json_t *roles,
    int64_t iat, int64_t lifetime_ms)
{
	const struct key *k = &ks->k[ks->n - 1];
	json_t *h, *c;
	char *hp, *cp, *signing, *sig, *tok;
	unsigned char m[32];

	h = json_pack("{ssssss}", "alg", "HS256", "typ", "JWT", "kid", k->kid);
	c = json_pack("{sssOsIsI}", "sub", user, "roles", roles,
	    "iat", (json_int_t)(iat / 1000),
	    "exp", (json_int_t)((iat + lifetime_ms) / 1000));
	hp = part(h);
	cp = part(c);
	json_decref(h);
	json_decref(c);
	signing = xasprintf("%s.%s", hp, cp);
	mac(k, signing, strlen(signing), m);
	sig = dphp_b64_encode(DPHP_B64URL, m, sizeof(m));
	tok = xasprintf("%s.%s", signing, sig);
	free(hp);
	free(cp);
	free(signing);
	free(sig);
	return tok;
}

/* the JSON object base64url-encoded in s[0..len) */
static json_t *
object(const char *s, size_t len)
{
	unsigned char *buf = xmalloc(len / 4 * 3 + 3);
	json_t *o = NULL;
	long n;

	if ((n = dphp_b64_decode(DPHP_B64URL, s, len, buf)) >= 0)
		o = json_loadb((char *)buf, (size_t)n, JSON_REJECT_DUPLICATES,
		    NULL);
	free(buf);
	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* a NumericDate claim in milliseconds: 1, 0 if absent, -1 if not a number */
static int
date(json_t *c, const char *name, int64_t *ms)
{
	json_t *v = json_object_get(c, name);

	double s;

	if (v == NULL)
		return 0;
	/* seconds, checked before the cast: out of range, it is undefined */
	s = json_number_value(v);
	if (!json_is_number(v) || !(s >= 0 && s < DATE_MAX))
		return -1;
	*ms = (int64_t)(s * 1000);
	return 1;
}

json_t *
dphp_jwt_verify(const struct dphp_keys *ks, const char *tok, int64_t now,
    char *why, size_t whysz)
{
	const char *dot1, *dot2, *kid, *bad;
	unsigned char m[32], sig[33];
	json_t *h = NULL, *c = NULL, *by = NULL, *roles, *e;
	int64_t exp, nbf;
	size_t i, len = strlen(tok);
	int ok = 0, r;

	bad = "not a JSON Web Token (header.claims.signature)";
	if (len > TOKEN_MAX || (dot1 = strchr(tok, '.')) == NULL ||
	    (dot2 = strchr(dot1 + 1, '.')) == NULL || strchr(dot2 + 1, '.'))
		goto out;
	if ((h = object(tok, (size_t)(dot1 - tok))) == NULL)
		goto out;
	bad = "the token is not signed with HS256";
	if (!json_is_string(json_object_get(h, "alg")) ||
	    strcmp(json_string_value(json_object_get(h, "alg")), "HS256") != 0)
		goto out;
	bad = "the token's signature is not valid";
	if (strlen(dot2 + 1) != 43 ||	/* 32 bytes */
	    dphp_b64_decode(DPHP_B64URL, dot2 + 1, 43, sig) != 32)
		goto out;
	kid = json_string_value(json_object_get(h, "kid"));
	for (i = 0; i < ks->n && !ok; i++) {
		if (kid != NULL && strcmp(kid, ks->k[i].kid) != 0)
			continue;
		mac(&ks->k[i], tok, (size_t)(dot2 - tok), m);
		ok = CRYPTO_memcmp(m, sig, 32) == 0;
	}
	if (!ok)
		goto out;
	bad = "the token's claims are not valid";
	if ((c = object(dot1 + 1, (size_t)(dot2 - dot1 - 1))) == NULL ||
	    !json_is_string(json_object_get(c, "sub")) ||
	    !dphp_user_valid(json_string_value(json_object_get(c, "sub"))))
		goto out;
	roles = json_object_get(c, "roles");
	if (roles != NULL && !json_is_array(roles))
		goto out;
	json_array_foreach(roles, i, e)
		if (!json_is_string(e) || !dphp_user_valid(json_string_value(e)))
			goto out;
	bad = "the token has no expiry (exp)";
	if ((r = date(c, "exp", &exp)) == 0)
		goto out;
	bad = "the token's exp and nbf must be times (seconds since 1970, "
	    "before 10000)";
	if (r < 0 || (r = date(c, "nbf", &nbf)) < 0)
		goto out;
	bad = "the token has expired";
	if (now >= exp)
		goto out;
	bad = "the token is not valid yet (nbf)";
	if (r == 1 && now < nbf)
		goto out;
	by = json_pack("{sO}", "user", json_object_get(c, "sub"));
	json_object_set_new(by, "roles", roles ? json_deep_copy(roles) :
	    json_array());
out:
	if (by == NULL)
		snprintf(why, whysz, "%s", bad);
	json_decref(h);
	json_decref(c);
	return by;
}

json_t *
dphp_token_arg(const char *arg)
{
	char line[8300];
	FILE *f;

	if (arg[0] != '@')
		return json_string(arg);
	if ((f = fopen(arg + 1, "re")) == NULL)
		dphp_die(DPHP_EXIT_SYS, "cannot open '%s':", arg + 1);
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	return json_string(line);
}
