/*
 * base64.h - base64 (RFC 4648): the padded standard alphabet, which
 * etcd's JSON gateway speaks, and unpadded base64url, which JSON Web
 * Tokens and key files use (base64.c).
 */
#ifndef DPHP_BASE64_H
#define DPHP_BASE64_H

#include <stddef.h>

enum dphp_b64_kind { DPHP_B64, DPHP_B64URL };

/* the encoding of p[0..n), a new string */
char *dphp_b64_encode(enum dphp_b64_kind, const void *p, size_t n);
/*
 * Decode len characters, strictly: the alphabet only, padding exactly
 * where DPHP_B64 needs it (none for DPHP_B64URL), unused bits zero.
 * out holds at least len / 4 * 3 + 2 bytes.  The length, or -1.
 */
long dphp_b64_decode(enum dphp_b64_kind, const char *s, size_t len,
    unsigned char *out);

#endif
