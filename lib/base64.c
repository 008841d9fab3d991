/*
 * base64.c - base64 and base64url both ways (base64.h), here rather
 * than from libcrypto: linking libcrypto for this made every program's
 * start take about 3.5 ms more (BENCHMARKS.md), and only signing keys
 * need it (jwt.c loads it then).
 */
#include <string.h>

#include "base64.h"
#include "util.h"

static const char *const alphabet[] = {
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
};

char *
dphp_b64_encode(enum dphp_b64_kind kind, const void *data, size_t n)
{
	const char *a = alphabet[kind];
	const unsigned char *p = data;
	char *out = xmalloc((n + 2) / 3 * 4 + 1), *o = out;
	unsigned long v;
	size_t i, left;

	for (i = 0; i < n; i += 3) {
		left = n - i < 3 ? n - i : 3;
		v = (unsigned long)p[i] << 16;
		if (left > 1)
			v |= (unsigned long)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		*o++ = a[v >> 18 & 63];
		*o++ = a[v >> 12 & 63];
		if (left > 1)
			*o++ = a[v >> 6 & 63];
		else if (kind == DPHP_B64)
			*o++ = '=';
		if (left > 2)
			*o++ = a[v & 63];
		else if (kind == DPHP_B64)
			*o++ = '=';
	}
	*o = '\0';
	return out;
}

long
dphp_b64_decode(enum dphp_b64_kind kind, const char *s, size_t len,
    unsigned char *out)
{
	const char *a = alphabet[kind], *c;
	unsigned long v = 0;
	unsigned bits = 0;
	size_t i, n = 0;

	if (kind == DPHP_B64) {
		if (len % 4 != 0)
			return -1;
		if (len > 0 && s[len - 1] == '=')
			len--;
		if (len > 0 && s[len - 1] == '=')
			len--;
	}
	if (len % 4 == 1)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] == '\0' || (c = strchr(a, s[i])) == NULL)
			return -1;
		v = (v << 6 | (unsigned long)(c - a)) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = v >> bits & 0xff;
		}
	}
	if (v & ((1ul << bits) - 1))
		return -1;	/* not the canonical encoding */
	return (long)n;
}
