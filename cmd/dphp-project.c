/*
 * dphp-project - read models: the states in a store, as NDJSON; the
 * journal as a change feed and into SQL, documents or search indexes;
 * snapshots and archives as tar.
 *
 *	dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy]
 *	    get id ...
 *	dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy]
 *	    ls [pattern ...]
 *	dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy]
 *	    owner id ...
 *	dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy]
 *	    status id ...
 *	dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy]
 *	    [-w timeout] wait id [status[,status...]]
 *	dphp-project [-eu] [-b user | -K keys -T token] [-d store] [-P policy]
 *	    [-c checkpoint | -S seq] [-m mapping] [-N feed] [-o format]
 *	    follow [pattern ...]
 *	dphp-project [-d store] [-z filter] export [pattern ...]
 *	dphp-project [-d store] [-z filter] archive
 *	dphp-project [-u] [-d store] dead
 *
 * With a policy, a user reads what the policy lets them read, and
 * nothing else: get refuses, ls and follow leave out.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dphp.h"

static const char synopsis[] =
    "dphp-project [-u] [-b user | -K keys -T token] [-d store] "
    "[-P policy] get id ...\n"
    "       dphp-project [-u] [-b user | -K keys -T token] [-d store] "
    "[-P policy]\n"
    "           ls [pattern ...]\n"
    "       dphp-project [-u] [-b user | -K keys -T token] [-d store] "
    "[-P policy]\n"
    "           owner id ...\n"
    "       dphp-project [-u] [-b user | -K keys -T token] [-d store] "
    "[-P policy]\n"
    "           status id ...\n"
    "       dphp-project [-u] [-b user | -K keys -T token] [-d store] "
    "[-P policy]\n"
    "           [-w timeout] wait id [status[,status...]]\n"
    "       dphp-project [-eu] [-b user | -K keys -T token] [-d store] "
    "[-P policy]\n"
    "           [-c checkpoint | -S seq] [-m mapping] [-N feed] "
    "[-o format]\n"
    "           follow [pattern ...]\n"
    "       dphp-project [-d store] [-z filter] export [pattern ...]\n"
    "       dphp-project [-d store] [-z filter] archive\n"
    "       dphp-project [-u] [-d store] dead";
static const char options[] =
    "  -b user[:role,...]  read as this user (trusted: not proven)\n"
    "  -c file    with follow: resume from, and keep, this checkpoint\n"
    "  -d store   the store (default $DPHP_STORE)\n"
    "  -e         with follow: stop at the end of the journal\n"
    "  -K keys    check -T's token with the keys of this file\n"
    "  -m mapping with follow: the tables and columns of the states\n"
    "  -N feed    with follow: the checkpoint's name in SQL (default "
    "dphp)\n"
    "  -o format  with follow: feed (default), ndjson, sqlite, postgres "
    "or typesense\n"
    "  -P policy  read only what the policy allows (default "
    "$DPHP_POLICY)\n"
    "  -S seq     with follow: begin after this seq of the journal\n"
    "  -T token   read as the user this token (or @file) proves\n"
    "  -w timeout with wait: give up after this long (90s, 15m; default: "
    "never)\n"
    "  -z filter  with export or archive: compress (gzip, xz, zstd, "
    "bzip2)\n"
    "  -u         flush after every record\n"
    "  -h, --help     this help\n"
    "  -V, --version  the version\n"
    "commands:\n"
    "  get id ...            each state with its ETag\n"
    "  ls [pattern ...]      the ids and ETags, sorted by id\n"
    "  owner id ...          each ownership record with its ETag\n"
    "  status id ...         where each orchestration or activity is\n"
    "  wait id [status,...]  until it is there (default: it has ended)\n"
    "  follow [pattern ...]  the committed states, as they come\n"
    "  export [pattern ...]  a snapshot of the store, a tar on stdout\n"
    "  archive               the journal's full segments, a tar on "
    "stdout\n"
    "  dead                  the events set aside, with the reason\n";

static const char commands[] = "get, ls, owner, status, wait, follow, "
    "export, archive or dead";

static struct dphp_store *store;
static struct dphp_policy *policy;	/* -P */

static int
known(const char *cmd)
{
	static const char *const names[] = { "get", "ls", "owner", "status",
	    "wait", "follow", "export", "archive", "dead" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(cmd, names[i]) == 0)
			return 1;
	return 0;
}
static json_t *by;			/* -b, -T */

/* May the user do op at id?  1, 0 (why says why not), -1. */
static int
allowed(const char *id, unsigned op, char *why, size_t whysz)
{
	int r;

	if (policy == NULL)
		return 1;
	r = dphp_authz_may(store, policy, by, id, op, why, whysz);
	return r < 0 ? -1 : r == DPHP_AUTHZ_ALLOW;
}

/* get: the states of ids; owners: their ownership records instead */
static int
get(int argc, char **argv, int owners)
{
	char etag[DPHP_ETAG_MAX], denied[1024];
	struct dphp_id id;
	char why[128];
	json_t *state, *rec;
	int i, r, status = 0;

	for (i = 0; i < argc; i++)
		if (dphp_id_parse(argv[i], &id, why, sizeof(why)) != 0) {
			dphp_error("invalid id '%.300s': %s", argv[i], why);
			return DPHP_EXIT_USAGE;
		}
	for (i = 0; i < argc; i++) {
		if ((r = allowed(argv[i], owners ? DPHP_OP_SHARE_MINUS :
		    DPHP_OP_READ, denied, sizeof(denied))) < 0)
			return DPHP_EXIT_SYS;
		if (r == 0) {
			dphp_error("%s", denied);
			status = DPHP_EXIT_NO;
			continue;
		}
		r = dphp_store_get_space(store, owners ? DPHP_SPACE_OWNER :
		    DPHP_SPACE_STATE, argv[i], &state, etag);
		if (r == DPHP_STORE_ERROR)
			return DPHP_EXIT_SYS;
		if (r == DPHP_STORE_NOTFOUND) {
			dphp_error("no %s for '%s'", owners ? "ownership record" :
			    "state", argv[i]);
			status = DPHP_EXIT_NO;
			continue;
		}
		rec = json_pack("{sssssO}", "id", argv[i], "etag", etag,
		    owners ? "owner" : "state", state);
		dphp_write(rec);
		json_decref(rec);
		json_decref(state);
	}
	return status;
}

/*
 * Where an orchestration or activity is, from its document: a new
 * {"id","etag","status","custom","output","error"} (nulls for what it
 * has not).
 */
static json_t *
statusof(const char *id, const char *etag, json_t *doc, int activity)
{
	json_t *v = json_object_get(doc, activity ? "result" : "output");

	return json_pack("{sssssOsOsOsO}", "id", id, "etag", etag, "status",
	    json_object_get(doc, "status") ? json_object_get(doc, "status") :
	    json_null(), "custom", json_object_get(doc, "custom") ?
	    json_object_get(doc, "custom") : json_null(), "output",
	    v ? v : json_null(), "error", json_object_get(doc, "error") ?
	    json_object_get(doc, "error") : json_null());
}

/*
 * The status record of id (which may have none: entities, and ids not
 * yet started): 0 with *out set or NULL when it has no state, or an
 * exit status after a message.
 */
static int
status1(const char *id, unsigned op, json_t **out)
{
	char etag[DPHP_ETAG_MAX], why[1024];
	struct dphp_id pid;
	json_t *doc;
	int r;

	*out = NULL;
	if (dphp_id_parse(id, &pid, why, sizeof(why)) != 0) {
		dphp_error("invalid id '%.300s': %s", id, why);
		return DPHP_EXIT_USAGE;
	}
	if (pid.kind == DPHP_KIND_ENTITY) {
		dphp_error("'%s' has no status: only orchestrations and "
		    "activities do", id);
		return DPHP_EXIT_USAGE;
	}
	if ((r = allowed(id, op, why, sizeof(why))) <= 0) {
		if (r == 0)
			dphp_error("%s", why);
		return r < 0 ? DPHP_EXIT_SYS : DPHP_EXIT_NO;
	}
	r = dphp_store_get(store, id, &doc, etag);
	if (r == DPHP_STORE_ERROR)
		return DPHP_EXIT_SYS;
	if (r == DPHP_STORE_OK) {
		*out = statusof(id, etag, doc, pid.kind == DPHP_KIND_ACTIVITY);
		json_decref(doc);
	}
	return 0;
}

static int
status(int argc, char **argv)
{
	json_t *rec;
	int i, r, st = 0;

	for (i = 0; i < argc; i++) {
		if ((r = status1(argv[i], DPHP_OP_READ, &rec)) != 0) {
			if (r != DPHP_EXIT_NO)
				return r;
			st = r;
			continue;
		}
		if (rec == NULL) {
			dphp_error("no state for '%s'", argv[i]);
			st = DPHP_EXIT_NO;
			continue;
		}
		dphp_write(rec);
		json_decref(rec);
	}
	return st;
}

static int
among(const char *s, const char *list)
{
	size_t n = strlen(s);
	const char *p;

	for (p = list; (p = strstr(p, s)) != NULL; p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

/*
 * Wait until id is in one of the statuses (default: it has ended), for
 * timeout_ms at most (-1: for ever), reading its state again at growing
 * intervals.  0 when it got there (by default: completed), 1 when it
 * ended otherwise, 75 on a time-out.
 */
static int
waitfor(const char *id, const char *want, int64_t timeout_ms)
{
	const char *ended = "completed,failed,terminated", *s;
	int64_t deadline = timeout_ms < 0 ? -1 :
	    dphp_monotonic_ms() + timeout_ms;
	int64_t pause = 20;
	json_t *rec;
	int r;

	for (;;) {
		if ((r = status1(id, DPHP_OP_SUBSCRIBE, &rec)) != 0)
			return r;
		s = rec ? json_string_value(json_object_get(rec, "status")) :
		    NULL;
		if (s != NULL && among(s, want ? want : ended)) {
			r = want || strcmp(s, "completed") == 0 ? 0 :
			    DPHP_EXIT_NO;
			dphp_write(rec);
			json_decref(rec);
			return r;
		}
		if (deadline >= 0 && dphp_monotonic_ms() >= deadline) {
			dphp_error("'%s' is %s after %lld ms", id, s ? s :
			    "not started", (long long)timeout_ms);
			json_decref(rec);
			return DPHP_EXIT_LOCKED;
		}
		json_decref(rec);
		if (fflush(stdout) == EOF)
			return DPHP_EXIT_SYS;
		dphp_nap(pause);
		if (pause < 500)
			pause *= 2;
	}
}

struct listing {
	json_t *all;		/* id: etag */
	int npat;
	char **pat;
};

static int
collect(const char *id, const char *etag, void *arg)
{
	struct listing *l = arg;
	char why[1024];
	int r;

	if (!dphp_idglobs_match(l->npat, l->pat, id))
		return 0;
	if ((r = allowed(id, DPHP_OP_READ, why, sizeof(why))) <= 0)
		return r;
	json_object_set_new(l->all, id, json_string(etag));
	return 0;
}

static int
bykey(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * What to list for a pattern: its kind, and its name when both are
 * spelled out (the store lists no more than that); all else is fnmatch.
 */
static int
list(const char *pat, struct listing *l)
{
	enum dphp_kind k, first = DPHP_KIND_ENTITY, last = DPHP_KIND_ACTIVITY;
	size_t n = pat ? strcspn(pat, ":") : 0;
	char name[DPHP_NAME_MAX + 1] = "";
	const char *p;

	if (pat != NULL && strcspn(pat, "*?[") >= n)
		for (k = first; k <= last; k++)
			if (strncmp(pat, dphp_kind_name(k), n) == 0 &&
			    dphp_kind_name(k)[n] == '\0')
				first = last = k;
	if (pat != NULL && pat[n] == ':') {
		p = pat + n + 1;
		n = strcspn(p, ":");
		if (strcspn(p, "*?[") >= n && n <= DPHP_NAME_MAX) {
			memcpy(name, p, n);
			name[n] = '\0';
		}
	}
	for (k = first; k <= last; k++)
		if (dphp_store_list(store, k, *name ? name : NULL, collect, l))
			return DPHP_EXIT_SYS;
	return 0;
}

static int
ls(int argc, char **argv)
{
	struct listing l = { json_object(), argc, argv };
	const char **ids, *key;
	size_t n = 0, i;
	json_t *v, *rec;
	int a, r = 0;

	for (a = 0; r == 0 && a < (argc ? argc : 1); a++)
		r = list(argc ? argv[a] : NULL, &l);
	ids = xcalloc(json_object_size(l.all) + 1, sizeof(*ids));
	json_object_foreach(l.all, key, v)
		ids[n++] = key;
	qsort(ids, n, sizeof(*ids), bykey);
	for (i = 0; r == 0 && i < n; i++) {
		rec = json_pack("{sssO}", "id", ids[i], "etag",
		    json_object_get(l.all, ids[i]));
		dphp_write(rec);
		json_decref(rec);
	}
	free(ids);
	json_decref(l.all);
	return r;
}

/* dead: one line per dead letter; an event that does not read is null */
static int
deadone(const char *name, json_t *why, const char *text, size_t len,
    void *arg)
{
	static const char *const said[] = { "reason", "at", "tries" };
	json_t *rec, *v, *ev = text ? json_loadb(text, len, JSON_DECODE_ANY |
	    JSON_ALLOW_NUL, NULL) : NULL;
	size_t i;

	(void)arg;
	rec = json_pack("{ss}", "name", name);
	for (i = 0; i < sizeof(said) / sizeof(said[0]); i++) {
		v = json_object_get(why, said[i]);
		json_object_set(rec, said[i], v ? v : json_null());
	}
	json_object_set_new(rec, "event", ev ? ev : json_null());
	dphp_write(rec);
	json_decref(rec);
	return 0;
}

/* follow: the journal as a change feed, into a sink */
struct following {
	struct dphp_sink sink;
	int npat;
	char **pat;
	const char *checkpoint;	/* -c */
};

static int
followed(json_t *line, void *arg)
{
	struct following *f = arg;
	const char *id = json_string_value(json_object_get(line, "id"));
	const struct dphp_map *m = NULL;
	struct dphp_id pid;
	char denied[1024];
	int r;

	dphp_progress_add(1);
	if (!dphp_idglobs_match(f->npat, f->pat, id))
		return 0;
	if ((r = allowed(id, DPHP_OP_READ, denied, sizeof(denied))) <= 0)
		return r < 0 ? DPHP_EXIT_SYS : 0;
	if (f->sink.format != DPHP_SINK_FEED && (dphp_id_parse(id, &pid, NULL,
	    0) != 0 || (m = dphp_mapping_find(f->sink.map, &pid)) == NULL))
		return 0;
	return dphp_sink_line(&f->sink, m, line);
}

/* Write the checkpoint file anew: the seq all up to which is out. */
static int
savepoint(const char *path, json_int_t seq)
{
	char text[32];

	snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT "\n", seq);
	if (dphp_replace_at(AT_FDCWD, path, text, strlen(text), 1) == 0)
		return 0;
	dphp_error("cannot write the checkpoint '%s':", path);
	return DPHP_EXIT_SYS;
}

static int
ticked(json_int_t settled, void *arg)
{
	struct following *f = arg;
	int r;

	if ((r = dphp_sink_tick(&f->sink, settled)) != 0 || f->checkpoint ==
	    NULL)
		return r;
	return savepoint(f->checkpoint, settled);
}

/*
 * The seq in a checkpoint file into *seq, 0 when there is none yet:
 * 0, or the exit status of the failure (4 unreadable, 3 not a seq).
 */
static int
loadpoint(const char *path, json_int_t *seq)
{
	char buf[64], *end;
	int r = 0;
	FILE *f;
	size_t n;

	*seq = 0;
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		dphp_error("cannot open the checkpoint '%s':", path);
		return DPHP_EXIT_SYS;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	if (ferror(f)) {
		dphp_error("cannot read the checkpoint '%s':", path);
		r = DPHP_EXIT_SYS;
	} else if ((*seq = strtoll(buf, &end, 10)) < 0 || end == buf ||
	    strspn(end, "\n") != strlen(end)) {
		dphp_located(path, "not a checkpoint (a seq of the journal)");
		r = DPHP_EXIT_INPUT;
	}
	fclose(f);
	return r;
}

static int
follow(int argc, char **argv, struct following *f, json_int_t after,
    int forever)
{
	int r;

	f->npat = argc;
	f->pat = argv;
	if (f->checkpoint != NULL && (r = loadpoint(f->checkpoint, &after)) != 0)
		return r;
	/* the schema first, committed: a feed with nothing new makes it */
	if ((r = dphp_sink_begin(&f->sink)) != 0 || (f->sink.intx &&
	    (r = ticked(after, f)) != 0))
		return r;
	dphp_progress_begin("lines", -1);
	r = dphp_store_journal_read(store, after, forever, followed, ticked,
	    f);
	dphp_progress_end();
	return r;
}

int
main(int argc, char *argv[])
{
	const char *spec = NULL, *Kflag = NULL;
	int64_t timeout_ms = -1;
	char buf[1024], why[128];
	const char *Pflag = getenv("DPHP_POLICY"), *mflag = NULL;
	struct following f = { { DPHP_SINK_FEED, NULL, "dphp", 0 }, 0, NULL,
	    NULL };
	struct dphp_mapping *map = NULL;
	struct dphp_keys *keys;
	json_t *token = NULL;
	json_int_t after = 0;
	int c, r, forever = 1, followopts = 0, Sflag = 0, tarcmd, dead;
	char *end, *dir;
	const char *zflag = NULL;

	dphp_setprog("dphp-project");
	if (Pflag != NULL && *Pflag == '\0')
		Pflag = NULL;
	while ((c = getopt_long(argc, argv, "b:c:d:ehK:m:N:o:P:S:T:uVw:z:",
	    dphp_longopts, NULL)) != -1) {
		followopts |= strchr("cemNoS", c) != NULL;
		switch (c) {
		case 'c':
			f.checkpoint = optarg;
			break;
		case 'e':
			forever = 0;
			break;
		case 'm':
			mflag = optarg;
			break;
		case 'N':
			if (!dphp_name_valid(optarg))
				dphp_die(DPHP_EXIT_USAGE, "invalid feed name "
				    "'%.300s' (letters, digits, '.', '_', '-')",
				    optarg);
			f.sink.feed = optarg;
			break;
		case 'o':
			if (dphp_sink_parse(optarg, &f.sink.format) != 0)
				dphp_die(DPHP_EXIT_USAGE, "invalid format "
				    "'%.300s' (feed, ndjson, sqlite, postgres or "
				    "typesense)", optarg);
			break;
		case 'S':
			/* empty: from the start, as a database with no
			 * checkpoint yet answers the query for it */
			errno = 0;
			after = *optarg == '\0' ? 0 : strtoll(optarg, &end, 10);
			if (*optarg != '\0' && (errno || end == optarg ||
			    *end || after < 0))
				dphp_die(DPHP_EXIT_USAGE, "invalid seq '%.300s'",
				    optarg);
			Sflag = 1;
			break;
		case 'b':
			json_decref(by);
			if ((by = dphp_by_parse(optarg, buf, sizeof(buf))) ==
			    NULL)
				dphp_die(DPHP_EXIT_USAGE, "%s", buf);
			break;
		case 'd':
			spec = optarg;
			break;
		case 'K':
			Kflag = optarg;
			break;
		case 'P':
			Pflag = optarg;
			break;
		case 'T':
			json_decref(token);
			token = dphp_token_arg(optarg);
			break;
		case 'h':
			dphp_help(synopsis, options);
		case 'u':
			dphp_unbuffered = 1;
			break;
		case 'V':
			dphp_version();
		case 'z':
			if (!dphp_tar_filter_valid(optarg))
				dphp_die(DPHP_EXIT_USAGE, "invalid filter "
				    "'%.300s' (gzip, xz, zstd or bzip2)", optarg);
			zflag = optarg;
			break;
		case 'w':
			if (dphp_duration_parse(optarg, &timeout_ms) != 0)
				dphp_die(DPHP_EXIT_USAGE, "invalid timeout '%s' "
				    "(a duration: 90s, 15m, 2h)", optarg);
			break;
		default:
			dphp_usage(synopsis);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		dphp_error("no command (%s)", commands);
		dphp_usage(synopsis);
	}
	if (!known(argv[0])) {
		dphp_error("unknown command '%.300s' (%s)", argv[0], commands);
		dphp_usage(synopsis);
	}
	if (argc < 2 && (strcmp(argv[0], "get") == 0 || strcmp(argv[0],
	    "owner") == 0 || strcmp(argv[0], "status") == 0 ||
	    strcmp(argv[0], "wait") == 0)) {
		dphp_error("%s: no id", argv[0]);
		dphp_usage(synopsis);
	}
	tarcmd = strcmp(argv[0], "export") == 0 ||
	    strcmp(argv[0], "archive") == 0;
	dead = strcmp(argv[0], "dead") == 0;
	if ((tarcmd || dead) && ((argc > 1 && strcmp(argv[0], "export")
	    != 0) || followopts || by || token || timeout_ms >= 0 ||
	    (dead && zflag)))
		dphp_usage(synopsis);
	if ((!tarcmd && zflag) || (strcmp(argv[0], "ls") != 0 &&
	    strcmp(argv[0], "follow") != 0 && !tarcmd && !dead &&
	    argc < 2) ||
	    (strcmp(argv[0], "wait") == 0 && argc > 3) ||
	    (timeout_ms >= 0 && strcmp(argv[0], "wait") != 0) ||
	    (followopts && strcmp(argv[0], "follow") != 0) ||
	    (by && token) || (!Kflag != !token) || (Sflag && f.checkpoint))
		dphp_usage(synopsis);
	if (f.checkpoint != NULL && (f.sink.format == DPHP_SINK_SQLITE ||
	    f.sink.format == DPHP_SINK_POSTGRES))
		dphp_die(DPHP_EXIT_USAGE, "the checkpoint of SQL is kept in "
		    "the database, updated with the changes: resume with -S");
	if (mflag != NULL && f.sink.format == DPHP_SINK_FEED)
		dphp_die(DPHP_EXIT_USAGE, "the feed is the journal's lines as "
		    "they are: -m goes with -o");
	if ((tarcmd || dead) && Pflag != NULL)
		dphp_die(DPHP_EXIT_USAGE, "%s reads the whole store, not what a "
		    "user may: run it without a policy", argv[0]);
	if (tarcmd && isatty(STDOUT_FILENO))
		dphp_die(DPHP_EXIT_USAGE, "not writing an archive to a "
		    "terminal: redirect stdout");
	if ((by || token) && Pflag == NULL)
		dphp_die(DPHP_EXIT_USAGE, "a user reads under a policy: give "
		    "-P or set DPHP_POLICY");
	if (token != NULL) {
		if ((keys = dphp_keys_load(Kflag)) == NULL)
			return DPHP_EXIT_CONFIG;
		by = dphp_jwt_verify(keys, json_string_value(token),
		    dphp_now_ms(), why, sizeof(why));
		dphp_keys_free(keys);
		json_decref(token);
		if (by == NULL)
			dphp_die(DPHP_EXIT_USAGE, "the token is refused: %s",
			    why);
	}
	if (Pflag != NULL && (policy = dphp_policy_load(Pflag)) == NULL)
		return DPHP_EXIT_CONFIG;
	if ((strcmp(argv[0], "ls") == 0 || strcmp(argv[0], "follow") == 0 ||
	    strcmp(argv[0], "export") == 0) &&
	    (r = dphp_idglobs_check(argc - 1, argv + 1)) != 0)
		return r;
	if ((f.sink.map = map = mflag ? dphp_mapping_load(mflag) :
	    dphp_mapping_default()) == NULL)
		return DPHP_EXIT_CONFIG;
	if ((store = dphp_store_open(spec)) == NULL) {
		dphp_mapping_free(map);
		return dphp_store_open_status();
	}
	if (strcmp(argv[0], "status") == 0)
		r = status(argc - 1, argv + 1);
	else if (strcmp(argv[0], "wait") == 0)
		r = waitfor(argv[1], argc > 2 ? argv[2] : NULL, timeout_ms);
	else if (strcmp(argv[0], "follow") == 0)
		r = follow(argc - 1, argv + 1, &f, after, forever);
	else if (strcmp(argv[0], "export") == 0)
		r = dphp_snapshot_export(store, argc - 1, argv + 1, zflag,
		    STDOUT_FILENO);
	else if (dead)
		r = dphp_queue_dead(store, deadone, NULL) != 0 ?
		    DPHP_EXIT_SYS : 0;
	else if (strcmp(argv[0], "archive") == 0) {
		dir = dphp_store_journal(store);
		r = dir ? dphp_journal_archive(dir, zflag, STDOUT_FILENO) :
		    DPHP_EXIT_SYS;
		free(dir);
	}
	else if (strcmp(argv[0], "ls") != 0)
		r = get(argc - 1, argv + 1, strcmp(argv[0], "owner") == 0);
	else
		r = ls(argc - 1, argv + 1);
	dphp_mapping_free(map);
	if (dphp_store_close(store) != 0 && r == 0)
		r = DPHP_EXIT_SYS;
	dphp_policy_free(policy);
	json_decref(by);
	dphp_fshut();
	return r;
}
