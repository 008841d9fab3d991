/*
 * id.c - resource ids ("entity:NAME:KEY", "orchestration:NAME:ID",
 * "activity:NAME:ID") and the reversible encoding that turns a key into
 * a file name.  The encoding is the only way a key reaches the file
 * system, so no key can name "..", a slash or a dotfile of the store.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "id.h"
#include "util.h"

static const char *kinds[] = {
	[DPHP_KIND_ENTITY] = "entity",
	[DPHP_KIND_ORCHESTRATION] = "orchestration",
	[DPHP_KIND_ACTIVITY] = "activity",
};

#define GLOBCHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
    "0123456789._-*?[]!"

int
dphp_selector_parse(const char *kind, const char *name, enum dphp_kind *k,
    char *why, size_t whysz)
{
	for (*k = DPHP_KIND_ENTITY; *k <= DPHP_KIND_ACTIVITY; (*k)++)
		if (strcmp(kind, kinds[*k]) == 0)
			break;
	if (strcmp(kind, "*") == 0)
		*k = DPHP_KIND_NONE;
	else if (*k > DPHP_KIND_ACTIVITY)
		return dphp_why(why, whysz, "the kind must be entity, "
		    "orchestration, activity or *");
	if (name[strspn(name, GLOBCHARS)] != '\0')
		return dphp_why(why, whysz, "the name must be a glob of names");
	return 0;
}

int
dphp_selector_match(enum dphp_kind k, const char *glob,
    const struct dphp_id *id)
{
	return (k == DPHP_KIND_NONE || k == id->kind) &&
	    fnmatch(glob, id->name, 0) == 0;
}

/* is pattern one (see dphp_idglobs_check)?  NULL, or why not */
static const char *
idglob_valid(const char *pattern)
{
	size_t n = strcspn(pattern, ":");
	enum dphp_kind k;

	if (pattern[strspn(pattern, GLOBCHARS ":")] != '\0')
		return "a pattern is a glob of ids";
	if (strcspn(pattern, "*?[") < n)
		return NULL;
	for (k = DPHP_KIND_ENTITY; k <= DPHP_KIND_ACTIVITY; k++)
		if (strlen(kinds[k]) == n && strncmp(pattern, kinds[k], n) == 0)
			return NULL;
	return "a pattern begins with a kind: entity, orchestration or "
	    "activity";
}

int
dphp_idglobs_check(int n, char **patterns)
{
	const char *why;
	int i;

	for (i = 0; i < n; i++)
		if ((why = idglob_valid(patterns[i])) != NULL) {
			dphp_error("invalid pattern '%.300s': %s", patterns[i],
			    why);
			return DPHP_EXIT_USAGE;
		}
	return 0;
}

int
dphp_idglobs_match(int n, char **patterns, const char *id)
{
	int i;

	for (i = 0; i < n; i++)
		if (dphp_idglob_match(patterns[i], id))
			return 1;
	return n == 0;
}

int
dphp_idglob_match(const char *pattern, const char *id)
{
	char buf[DPHP_NAME_MAX * 2 + 32];
	const char *p = strchr(pattern, ':');

	if ((p == NULL || strchr(p + 1, ':') == NULL) &&
	    strlen(pattern) + 3 <= sizeof(buf)) {
		snprintf(buf, sizeof(buf), "%s:*", pattern);
		pattern = buf;
	}
	return fnmatch(pattern, id, 0) == 0;
}

const char *
dphp_kind_name(enum dphp_kind k)
{
	if (k <= DPHP_KIND_NONE || k > DPHP_KIND_ACTIVITY)
		return "none";
	return kinds[k];
}

int
dphp_name_valid(const char *s)
{
	size_t n;

	if (s[0] == '\0' || s[0] == '.')
		return 0;
	n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-");
	return s[n] == '\0' && n <= DPHP_NAME_MAX;
}

int
dphp_opname_valid(const char *s)
{
	return s[0] != '_' && dphp_name_valid(s);
}

int
dphp_eventid_valid(const char *s)
{
	return dphp_name_valid(s);
}

/* Well-formed UTF-8 (no overlongs, no surrogates), no NUL or newline. */
static int
utf8_valid(const unsigned char *s)
{
	unsigned c, n, i;
	unsigned long cp;

	while ((c = *s) != 0) {
		if (c == '\n' || c == '\r')
			return 0;
		if (c < 0x80) {
			s++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else
			return 0;
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		s += n + 1;
	}
	return 1;
}

int
dphp_id_parse(const char *s, struct dphp_id *id, char *why, size_t whysz)
{
	const char *c1, *c2;
	size_t n;
	int k;

	memset(id, 0, sizeof(*id));
	if ((c1 = strchr(s, ':')) == NULL || (c2 = strchr(c1 + 1, ':')) == NULL) {
		return dphp_why(why, whysz, "not of the form KIND:NAME:KEY");
	}
	for (k = DPHP_KIND_ENTITY; k <= DPHP_KIND_ACTIVITY; k++)
		if (strlen(kinds[k]) == (size_t)(c1 - s) &&
		    strncmp(s, kinds[k], c1 - s) == 0)
			break;
	if (k > DPHP_KIND_ACTIVITY) {
		return dphp_why(why, whysz, "unknown kind (want entity, "
		    "orchestration or activity)");
	}
	n = c2 - c1 - 1;
	if (n == 0 || n > DPHP_NAME_MAX) {
		return dphp_why(why, whysz, "name must be 1 to 128 bytes");
	}
	memcpy(id->name, c1 + 1, n);
	id->name[n] = '\0';
	if (!dphp_name_valid(id->name)) {
		return dphp_why(why, whysz, "name must match [A-Za-z0-9._-] and "
		    "not start with '.'");
	}
	n = strlen(c2 + 1);
	if (n == 0 || n > DPHP_KEY_MAX) {
		return dphp_why(why, whysz, "key must be 1 to 256 bytes");
	}
	if (!utf8_valid((const unsigned char *)c2 + 1)) {
		return dphp_why(why, whysz, "key must be UTF-8 without newlines");
	}
	memcpy(id->key, c2 + 1, n + 1);
	id->kind = k;
	return 0;
}

static int
plain(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

char *
dphp_key_encode(const char *key)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s;
	char *out, *p;
	size_t seg = 0;

	/* 3 bytes per input byte plus "+/" for every segment. */
	out = p = xmalloc(strlen(key) * 3 * 2 + 1);
	for (s = (const unsigned char *)key; *s != '\0'; s++) {
		int w = plain(*s) ? 1 : 3;

		/* Cut before an escape would straddle the limit. */
		if (seg + w > DPHP_SEGMENT_MAX) {
			*p++ = '+';
			*p++ = '/';
			seg = 0;
		}
		if (w == 1)
			*p++ = *s;
		else {
			*p++ = '%';
			*p++ = hex[*s >> 4];
			*p++ = hex[*s & 15];
		}
		seg += w;
	}
	*p = '\0';
	return out;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
dphp_key_decode(const char *path)
{
	char *out, *p;
	const char *s;
	size_t seg = 0;
	int hi, lo;

	out = p = xmalloc(strlen(path) + 1);
	for (s = path; *s != '\0'; s++) {
		if (s[0] == '+' && s[1] == '/' && seg > 0) {
			s++;
			seg = 0;
			continue;
		}
		if (*s == '%' && (hi = hexval(s[1])) >= 0 &&
		    (lo = hexval(s[2])) >= 0 && !plain(hi << 4 | lo) &&
		    (hi << 4 | lo) != 0) {
			*p++ = hi << 4 | lo;
			s += 2;
		} else if (plain(*s))
			*p++ = *s;
		else
			goto bad;
		seg++;
	}
	*p = '\0';
	if (p == out)
		goto bad;
	return out;
bad:
	free(out);
	return NULL;
}

int
dphp_user_valid(const char *s)
{
	size_t n;

	if (s[0] == '\0' || s[0] == '.')
		return 0;
	n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._@+-");
	return s[n] == '\0' && n <= DPHP_NAME_MAX;
}

json_t *
dphp_by_parse(const char *arg, char *why, size_t whysz)
{
	char *s = xstrdup(arg), *colon, *role, *save;
	json_t *by = NULL, *roles;

	if ((colon = strchr(s, ':')) != NULL)
		*colon++ = '\0';
	if (!dphp_user_valid(s)) {
		snprintf(why, whysz, "invalid user '%.300s'", arg);
		goto out;
	}
	by = json_pack("{ss}", "user", s);
	if (colon == NULL)
		goto out;
	roles = json_array();
	json_object_set_new(by, "roles", roles);
	for (role = strtok_r(colon, ",", &save); role != NULL;
	    role = strtok_r(NULL, ",", &save)) {
		if (!dphp_user_valid(role)) {
			snprintf(why, whysz, "invalid role in '%.300s'", arg);
			json_decref(by);
			by = NULL;
			goto out;
		}
		json_array_append_new(roles, json_string(role));
	}
out:
	free(s);
	return by;
}
