/*
 * authz.h - who acts and what they may do, dphp-policy(5): tokens
 * (jwt.c), the policy file (policy.c), the decision on an event
 * (authz.c; ownership records are acl.h's).
 */
#ifndef DPHP_AUTHZ_H
#define DPHP_AUTHZ_H

#include "store.h"

/* jwt.c: HS256 tokens that say who acts, dphp-route(1) */
struct dphp_keys;
/* the keys of a key file; NULL after a message */
struct dphp_keys *dphp_keys_load(const char *path);
void dphp_keys_free(struct dphp_keys *);
/* a token for user with roles (an array), issued at iat, lasting
 * lifetime_ms, signed with the last key: a new string */
char *dphp_jwt_sign(const struct dphp_keys *, const char *user,
    json_t *roles, int64_t iat, int64_t lifetime_ms);
/* the acting user a token proves at now, as a new "by" object
 * ({"user","roles"}), or NULL with the reason in why */
json_t *dphp_jwt_verify(const struct dphp_keys *, const char *token,
    int64_t now, char *why, size_t whysz);
/* a -T argument: the token, or @FILE holding it on its first line, as
 * a new JSON string; exits 4 when the file cannot be read */
json_t *dphp_token_arg(const char *arg);

/* policy.c: the policy file, dphp-policy(5) */
enum dphp_mode { DPHP_MODE_EXPLICIT, DPHP_MODE_AUTH, DPHP_MODE_ANON };
struct dphp_rule {
	enum dphp_kind kind;	/* NONE: any kind */
	char *name;		/* a glob */
	enum dphp_mode mode;
	json_t *creators;	/* [{"user"|"role":name}], or NULL: the mode's */
	int64_t ttl_ms;		/* how long a resource lives; 0: for ever */
	unsigned long line;	/* in the file; 0 for the closed default */
};
struct dphp_policy;
struct dphp_policy *dphp_policy_load(const char *path);	/* NULL: message */
void dphp_policy_free(struct dphp_policy *);
/* the rule for id: the first that matches, else explicit, no creators */
const struct dphp_rule *dphp_policy_find(const struct dphp_policy *,
    const struct dphp_id *);
const char *dphp_mode_name(enum dphp_mode);

/* authz.c: is an event allowed?  dphp-policy(5) */
enum { DPHP_AUTHZ_ALLOW = 0, DPHP_AUTHZ_DENY = 1 };
/*
 * Check d (outside: it is being admitted, not taken from inside) against
 * the records of its destination, emitter and reply_to ids, creating
 * the destination's record when the event may create it.  ALLOW, DENY
 * with the reason in why, or -1 after a message.
 */
int dphp_authorize(struct dphp_store *, const struct dphp_policy *,
    const struct dphp_desc *, int outside, char *why, size_t whysz);
/* carry out the ownership event d (share, revoke, give) if allowed:
 * as dphp_authorize */
int dphp_authz_own(struct dphp_store *, const struct dphp_policy *,
    const struct dphp_desc *, char *why, size_t whysz);
/* may by (NULL: nobody) do ops at id (reading, outside any event)?  as
 * dphp_authorize */
int dphp_authz_may(struct dphp_store *, const struct dphp_policy *,
    json_t *by, const char *id, unsigned ops, char *why, size_t whysz);
/* acl.c */
/* forget the ownership record of a deleted id and its expiry: 0, -1 */
int dphp_acl_forget(struct dphp_store *, const char *id);

#endif
