/*
 * id.h - ids, names and keys (id.c), dphp-event(5); time, durations
 * and event ids (clock.c).
 */
#ifndef DPHP_ID_H
#define DPHP_ID_H

#include <stdint.h>

#include <jansson.h>

/* id.c: ids and names, dphp-event(5) */
enum dphp_kind {
	DPHP_KIND_NONE = 0,
	DPHP_KIND_ENTITY,
	DPHP_KIND_ORCHESTRATION,
	DPHP_KIND_ACTIVITY
};
#define DPHP_NAME_MAX 128
#define DPHP_KEY_MAX 256
/* the records a store keeps for an id (dphp-store(5)) */
enum dphp_space {
	DPHP_SPACE_STATE = 0,	/* its state */
	DPHP_SPACE_LOCK,	/* its lock record (lock.c) */
	DPHP_SPACE_OWNER	/* its ownership record (acl.c) */
};
struct dphp_id {
	enum dphp_kind kind;
	char name[DPHP_NAME_MAX + 1];
	char key[DPHP_KEY_MAX + 1];
	enum dphp_space space;
};
/* parse "kind:name:key"; 0, or -1 with a reason in why */
int dphp_id_parse(const char *, struct dphp_id *, char *why, size_t whysz);
const char *dphp_kind_name(enum dphp_kind);
/*
 * The KIND NAME of policy and mapping files: entity, orchestration,
 * activity or * (DPHP_KIND_NONE), and a glob of names.  parse: 0, or
 * -1 and why not.
 */
int dphp_selector_parse(const char *kind, const char *glob,
    enum dphp_kind *, char *why, size_t whysz);
int dphp_selector_match(enum dphp_kind, const char *glob,
    const struct dphp_id *);
/*
 * A pattern of ids (dphp-project ls, follow): a glob of whole ids, where
 * one with fewer than two ':' stands for every id it begins (entity,
 * entity:account).
 */
/* each valid, or the first that is not reported: 0 or DPHP_EXIT_USAGE */
int dphp_idglobs_check(int n, char **patterns);
int dphp_idglob_match(const char *pattern, const char *id);
/* does id match one of the n patterns (or are there none)? */
int dphp_idglobs_match(int n, char **patterns, const char *id);
int dphp_name_valid(const char *);	/* [A-Za-z0-9._-]{1,128}, no '.' first */
int dphp_opname_valid(const char *);	/* a name not starting with '_' */
int dphp_eventid_valid(const char *);	/* same grammar as a name */
int dphp_user_valid(const char *);	/* [A-Za-z0-9._@+-]{1,128} */
/* "user[:role,...]" as a "by" object; NULL (why says which name is
 * invalid) */
json_t *dphp_by_parse(const char *, char *why, size_t whysz);
/*
 * The reversible file-name encoding of a key: bytes outside
 * [A-Za-z0-9_-] become %XX, so an encoded key never holds '.', '/' or
 * '+'.  Encodings longer than DPHP_SEGMENT_MAX are cut into segments;
 * every segment but the last is a directory named "SEGMENT+".
 * Returns a new string "seg+/seg+/last".
 */
#define DPHP_SEGMENT_MAX 200
char *dphp_key_encode(const char *key);
/* inverse of dphp_key_encode on a path; NULL if it is not an encoding */
char *dphp_key_decode(const char *path);

/* clock.c: time, durations, event ids */
/* milliseconds since the epoch; DPHP_NOW (RFC 3339) fixes the clock */
int64_t dphp_now_ms(void);
/* a monotonic clock in ms, for time-outs: real time even under DPHP_NOW */
int64_t dphp_monotonic_ms(void);
void dphp_nap(int64_t ms);	/* sleep ms milliseconds */
/* "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (at least 25 bytes) */
void dphp_time_format(int64_t ms, char *buf);
/* parse RFC 3339 UTC ("Z"), fraction optional; -1 if invalid */
int dphp_time_parse(const char *, int64_t *ms);
/* "90", "90s", "15m", "2h", "1d", "500ms" into milliseconds; -1 if bad */
int dphp_duration_parse(const char *, int64_t *ms);
/* a fresh UUIDv7 string (36 chars + NUL) */
void dphp_uuid7(char out[37]);
/*
 * The id of the n-th event caused by event parent: the same inputs give
 * the same id (so a recomputed proposal emits the same events), and the
 * length stays 36 however long the chain of causes.
 */
void dphp_derive_id(const char *parent, unsigned n, char out[37]);
/* the shard of an id: a stable 32-bit hash of its text */
uint32_t dphp_id_hash(const char *);
/* a 128-bit hash of an id's text, for telling ids apart by it */
void dphp_id_hash128(const char *, uint64_t h[2]);

#endif
