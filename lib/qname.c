/*
 * qname.c - queue names and receipts, dphp-store(5).  A queued event
 * is named "TIME.HASH.ID": TIME is 16 digits, the milliseconds it is
 * due at and three of order among the events admitted with it, HASH
 * the 8 hex digits of its destination's hash (a worker's shard is
 * chosen by it), ID the event's id.  A receipt is the name of a claimed
 * event, with "@REV" after it on etcd, REV the claim's revision.  The
 * grammar lives here only; the backends and the stages ask this file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qname.h"
#include "store.h"
#include "util.h"

#define TIME_LEN 16
#define HASH_AT (TIME_LEN + 1)
#define ID_AT (HASH_AT + 8 + 1)

int
dphp_qname_parse(const char *s, struct dphp_qname *q)
{
	const char *at;
	char id[DPHP_EVENTID_MAX + 1];
	int i;

	memset(q, 0, sizeof(*q));
	for (i = 0; i < TIME_LEN; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	if (s[TIME_LEN] != '.')
		return -1;
	/* each test stops at the end of s: nothing after it is read */
	for (i = HASH_AT; i < ID_AT - 1; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return -1;
	if (s[ID_AT - 1] != '.')
		return -1;
	q->id = s + ID_AT;
	q->idlen = strcspn(q->id, "@");
	if (q->idlen > DPHP_EVENTID_MAX)
		return -1;
	snprintf(id, sizeof(id), "%.*s", (int)q->idlen, q->id);
	if (!dphp_eventid_valid(id))
		return -1;
	at = q->id + q->idlen;
	if (*at == '@' && (at[1] < '1' || at[1] > '9' || strlen(at) > 19 ||
	    strspn(at + 1, "0123456789") != strlen(at + 1)))
		return -1;
	q->due_ms = strtoll(s, NULL, 10) / 1000;
	q->seq = (unsigned)(strtoull(s, NULL, 10) % 1000);
	q->hash = (uint32_t)strtoul(s + HASH_AT, NULL, 16);
	q->namelen = at - s;
	q->rev = *at == '@' ? strtoll(at + 1, NULL, 10) : 0;
	return 0;
}

char *
dphp_queue_name(const struct dphp_desc *d, size_t seq)
{
	int64_t t = d->delay ? d->delay_ms : d->ts_ms;

	return xasprintf("%013lld%03u.%08x.%s", (long long)(t < 0 ? 0 : t),
	    (unsigned)(seq < 999 ? seq : 999), (unsigned)dphp_id_hash(d->to),
	    d->id);
}

int
dphp_qname_of(const char *name, const struct dphp_desc *d)
{
	struct dphp_qname q;
	char *want;
	int r;

	if (dphp_qname_parse(name, &q) != 0 || q.rev != 0)
		return 0;
	want = dphp_queue_name(d, q.seq);
	r = strcmp(want, name) == 0;
	free(want);
	return r;
}

size_t
dphp_receipt_name_len(const char *r)
{
	return strcspn(r, "@");
}

int
dphp_receipt_valid(const char *r)
{
	struct dphp_qname q;

	return dphp_qname_parse(r, &q) == 0;
}

int
dphp_qname_valid(const char *name)
{
	struct dphp_qname q;

	return dphp_qname_parse(name, &q) == 0 && q.rev == 0;
}

/* a name that is none is due now, so that a taker sets it aside */
int64_t
dphp_queue_due(const char *name)
{
	struct dphp_qname q;

	return dphp_qname_parse(name, &q) == 0 ? q.due_ms : 0;
}

/* ... and belongs to the first shard */
int
dphp_queue_in_part(const char *name, const struct dphp_queue_part *part)
{
	struct dphp_qname q;

	if (part == NULL || part->nshards <= 1)
		return 1;
	if (dphp_qname_parse(name, &q) != 0)
		return part->shard == 0;
	return q.hash % part->nshards == part->shard;
}
