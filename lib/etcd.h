/*
 * etcd.h - etcd v3's JSON gateway (etcd.c), for the etcd backend.
 */
#ifndef DPHP_ETCD_H
#define DPHP_ETCD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct dphp_etcd;
/*
 * The cluster at hosts (h:p,h:p), over https when tls, with the CA,
 * client certificate and key, user and password file that the
 * DPHP_ETCD_* variables name (dphp-store(5)); logged in if a user is
 * named.  NULL (reported) when they cannot be used: a configuration
 * error (dphp_etcd_refused says which failures were).
 */
struct dphp_etcd *dphp_etcd_open(const char *hosts, int tls);
void dphp_etcd_close(struct dphp_etcd *);
/* The last failure was etcd refusing who asks, or how (TLS, user,
 * password, rights): no retry mends it. */
int dphp_etcd_refused(void);
/* POST body to path (/v3/kv/txn...): 0 and *out (the answer, or the
 * error of a thing not found, "code" 5: a lease run out), -1 (reported),
 * or -2 when it went out and no answer came (it may have been done) */
int dphp_etcd_call(struct dphp_etcd *, const char *path, json_t *body,
    json_t **out);
/* watch as body asks ({"create_request":...}) until something changes,
 * or for ms at most; at once if no member can be asked (not reported:
 * a watch only spares looking, and the next request finds out) */
void dphp_etcd_watch(struct dphp_etcd *, json_t *body, int64_t ms);
char *dphp_b64(const void *, size_t);		/* new */
char *dphp_unb64(const char *, size_t *n);	/* new, or NULL */

#endif
