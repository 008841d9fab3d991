/*
 * acl.h - ownership records (acl.c), the decision of dphp-policy(5),
 * for authz.c and snapshots.
 */
#ifndef DPHP_ACL_H
#define DPHP_ACL_H

#include "authz.h"

/* the operations only an owner (or a share, or an admin) may do, even
 * in mode auth */
#define DPHP_OPS_OWNER (DPHP_OP_DELETE | DPHP_OP_SHARE_PLUS | \
    DPHP_OP_SHARE_MINUS | DPHP_OP_OWNER)
struct dphp_acl {
	json_t *rec;		/* the record, or NULL when there is none */
	char etag[DPHP_ETAG_MAX];
};
int dphp_acl_read(struct dphp_store *, const char *id, struct dphp_acl *);
/* is rec an ownership record?  0, or -1 and why not */
int dphp_acl_bad(json_t *rec, char *why, size_t whysz);
/* may by (NULL: nobody) do op on a resource of that mode and record? */
int dphp_acl_allows(enum dphp_mode, json_t *rec, json_t *by, unsigned op);
int dphp_acl_may_create(const struct dphp_rule *, json_t *by);
int dphp_is_admin(json_t *by);
/* a new record: rec (NULL: none) with the share, revoke or give of d */
json_t *dphp_acl_change(json_t *rec, const struct dphp_desc *d);
/* the delete event that ends a resource with a time-to-live */
json_t *dphp_acl_expiry(const char *id, json_t *expiry);

#endif
