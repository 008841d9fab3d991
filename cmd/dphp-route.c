/*
 * dphp-route - the Infrastructure layer: on a stream, validate
 * envelopes, describe them and select them by destination; on a store,
 * admit events into its queue (-q), take them out for a worker (-t),
 * and release due delays (-r).
 *
 *	dphp-route [-Diuv] [-K keys] [-m pattern ...] [-R rejects] [file ...]
 *	dphp-route -q [-uv] [-d store] [-K keys] [-m pattern ...] [-P policy]
 *	    [-R rejects] [file ...]
 *	dphp-route -t [-e | -w] [-a tries] [-d store] [-l lease] [-n max]
 *	    [-P policy] [-R rejects] [-s i/n]
 *	dphp-route -r [-d store]
 *
 * A stream has no clock of its own: an event whose delay is still in
 * the future is refused unless -i says to deliver delays at once (the
 * order of the input is then the order of delivery, which is what a
 * test that plays the scheduler wants).  The queue has one: it keeps
 * delayed events in its spool until they are due.
 *
 * Who acts is believed only when proven: with -K, an event's token is
 * checked and replaced by the user it names; an event that claims a
 * user without a token, or carries a token no key can check, is
 * rejected: reported (to -R's file as a record, else on stderr), never
 * passed on, and the exit status says so.
 *
 * With a policy (-P), what the user may do is checked too, on admission
 * and again when a worker takes the event: events handlers emit reach
 * the queue from a commit, never through admission, and rights change.
 * Ownership events (share, revoke, give) are carried out when taken.
 */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dphp.h"

static const char synopsis[] =
    "dphp-route [-Diuv] [-K keys] [-m pattern ...] [-R rejects] "
    "[file ...]\n"
    "       dphp-route -q [-uv] [-d store] [-K keys] [-m pattern ...] "
    "[-P policy]\n"
    "           [-R rejects] [file ...]\n"
    "       dphp-route -t [-e | -w] [-a tries] [-c claims] [-d store] "
    "[-l lease]\n"
    "           [-n max] [-P policy] [-R rejects] [-s i/n]\n"
    "       dphp-route -r [-d store]";
static const char options[] =
    "  -a tries    with -t: set an event aside once taken so often "
    "unfinished (5)\n"
    "  -c claims   with -t: hold at most claims events unacknowledged "
    "(128)\n"
    "  -D          print each event's flat description instead\n"
    "  -d store    the store (default $DPHP_STORE)\n"
    "  -e          with -t: go on until the queue is empty (quiescent)\n"
    "  -i          deliver delayed events at once, in input order\n"
    "  -K keys     check the events' tokens with the keys of this file\n"
    "  -l lease    with -t: how long a claim lasts (5m)\n"
    "  -m pattern  pass only events whose destination matches the glob "
    "(repeatable)\n"
    "  -n max      with -t: take at most max events in all, then exit\n"
    "  -P policy   check what users may do (default $DPHP_POLICY)\n"
    "  -q          admit the events into the store's queue\n"
    "  -R rejects  append the events rejected, with why, to this file\n"
    "  -r          release the delayed events that are due, and exit\n"
    "  -s i/n      with -t: take only shard i of n (by destination)\n"
    "  -t          take events from the store's queue, as a worker\n"
    "  -u          flush after every record\n"
    "  -v          pass only events that match no pattern\n"
    "  -w          with -t: wait for more events instead of exiting\n"
    "  -h, --help     this help\n"
    "  -V, --version  the version\n";

#define ADMIT_MAX 256	/* events admitted with one sync */
#define TRIES_DEFAULT 5	/* an event taken this often unfinished: aside */
/* what a later stage may add to a line (a fence, "kind":"commit"...) */
#define LINE_SLACK 4096
#define GONE "the stages after it stopped reading"
#define STOP_GRACE_MS 3000	/* stopping: the wait for the next ack */
#define GONE_GRACE_MS 2000	/* the stages gone: for what they give back */
#define TAKE_ROUND 64	/* events claimed in one round */
/* events claimed and not yet acknowledged: two rounds, so that the
 * next round is taken and computed while the last one commits */
#define TAKE_WINDOW (2 * TAKE_ROUND)
#define PRUNE_MS 5	/* the least time between looks at what was acked */

static int Dflag, eflag, iflag, vflag, wflag;
static char **patterns;
static int npatterns;
static struct dphp_store *store;
static json_t *admitting;	/* events read, not yet admitted */
static json_t *inflight;	/* receipts taken, not yet acknowledged */
static char *suspect;		/* the one in flight alone, or NULL */
static struct dphp_keys *keys;	/* -K */
static FILE *rejects;		/* -R */
static int nrejected;
static struct dphp_policy *policy;	/* -P */

static int
selected(const char *to)
{
	int i;

	if (npatterns == 0)
		return 1;
	for (i = 0; i < npatterns; i++)
		if (fnmatch(patterns[i], to, 0) == 0)
			return !vflag;
	return vflag;
}

/*
 * Say why an event is not passed on: a record on the reject stream, or
 * a message located at the record rd just read (rd NULL: the event was
 * taken from the queue).  Its token, a credential, is left out.
 */
static void
reject(struct dphp_reader *rd, json_t *env, const char *why)
{
	json_t *e, *rec;

	nrejected++;
	if (rejects == NULL) {
		if (rd != NULL)
			dphp_reader_error(rd, "event %s rejected: %s",
			    json_string_value(json_object_get(env, "id")), why);
		else	/* located in the queue, as a record of a file is */
			dphp_located("queue", "event %s rejected: %s",
			    json_string_value(json_object_get(env, "id")), why);
		return;
	}
	e = json_copy(env);
	json_object_del(e, "token");
	if (rd != NULL)
		rec = json_pack("{sssssIso}", "reason", why, "file", rd->name,
		    "line", (json_int_t)rd->line, "event", e);
	else {
		rec = json_pack("{sssOso}", "reason", why, "receipt",
		    json_object_get(e, "receipt"), "event", e);
		json_object_del(e, "receipt");
	}
	if (dphp_json_fput(rec, rejects) != 0 ||
	    fputc('\n', rejects) == EOF || fflush(rejects) == EOF)
		dphp_die(DPHP_EXIT_SYS, "cannot write the rejects:");
	json_decref(rec);
}

/*
 * Who acts: with keys, the user a valid token proves replaces the
 * token; a user claimed without one is not believed.  Without keys, a
 * token cannot be checked.  0, or 1 when env was rejected.
 */
static int
identify(struct dphp_reader *rd, json_t *env, struct dphp_desc *d)
{
	char why[1024];
	json_t *by;

	if (d->token == NULL) {
		if (keys == NULL || d->by == NULL)
			return 0;
		reject(rd, env, "it names a user but carries no token to "
		    "prove it");
		return 1;
	}
	if (keys == NULL) {
		reject(rd, env, "it carries a token and there are no keys "
		    "to check it (-K)");
		return 1;
	}
	if ((by = dphp_jwt_verify(keys, d->token, dphp_now_ms(), why,
	    sizeof(why))) == NULL) {
		reject(rd, env, why);
		return 1;
	}
	json_object_set_new(env, "by", by);
	json_object_del(env, "token");
	/* describe it again: d borrowed from what was replaced */
	return dphp_envelope_check(env, d, why, sizeof(why)) != 0;
}

/* Make the events read so far durable in the queue, then print them. */
static int
admit(void)
{
	json_t *v[ADMIT_MAX];
	size_t i, n = json_array_size(admitting);

	for (i = 0; i < n; i++)
		v[i] = json_array_get(admitting, i);
	if (dphp_queue_admit(store, v, n) != 0)
		return DPHP_EXIT_SYS;
	for (i = 0; i < n; i++)
		dphp_write(v[i]);
	json_array_clear(admitting);
	return 0;
}

/*
 * A rejected call is answered, so that an orchestration waiting on it
 * fails instead of waiting for ever: by the infrastructure (no "from"),
 * and only where the user may signal.
 */
static int
refuse(const struct dphp_desc *d, const char *why)
{
	struct dphp_desc rd;
	char buf[1024], reason[1200];
	json_t *replies, *e, *ok;
	size_t i;
	int st = 0;

	replies = json_array();
	snprintf(reason, sizeof(reason), "not authorized: %s", why);
	dphp_reply(replies, d, NULL, reason);
	ok = json_array();
	json_array_foreach(replies, i, e) {
		json_t *chain = json_object_get(json_object_get(e, "event"),
		    "event");

		json_object_set(e, "event", chain);	/* no "from" */
		if (dphp_envelope_check(e, &rd, NULL, 0) == 0 &&
		    (st = dphp_authorize(store, policy, &rd, 0, buf,
		    sizeof(buf))) == DPHP_AUTHZ_ALLOW)
			json_array_append(ok, e);
		if (st < 0)
			break;
	}
	if (st >= 0 && dphp_queue_admit_all(store, ok) != 0)
		st = -1;
	json_decref(ok);
	json_decref(replies);
	return st < 0 ? -1 : 0;
}


/*
 * An event taken: set aside when no stage could read it, checked
 * against the policy, carried out here when it is an ownership event,
 * else printed for the next stage.
 */
static int
print(json_t *env, const struct dphp_desc *d, void *arg)
{
	char why[1024], *text;
	int own, st = DPHP_AUTHZ_ALLOW;
	size_t len;

	(void)arg;
	/* as the next stages pass it on, it must fit in a line */
	text = dphp_json_text(env, &len);
	if (len > DPHP_MAX_LINE - LINE_SLACK) {
		free(text);
		nrejected++;
		return dphp_queue_bury(store, d->receipt, "longer, with its "
		    "receipt, than a stage may pass on (a line is at most "
		    "16777216 bytes)");
	}
	own = (d->ops & DPHP_OPS_OWNERSHIP) != 0;
	if (own)
		st = dphp_authz_own(store, policy, d, why, sizeof(why));
	else if (policy != NULL)
		st = dphp_authorize(store, policy, d, 0, why, sizeof(why));
	if (st >= 0 && !own && st != DPHP_AUTHZ_DENY) {
		json_array_append(inflight, json_object_get(env, "receipt"));
		if (d->tries > 0) {	/* nothing else until it is finished */
			free(suspect);
			suspect = xstrdup(d->receipt);
		}
		/* a write error is found after the round: see take() */
		if (fwrite(text, 1, len, stdout) == len &&
		    putchar('\n') != EOF && dphp_unbuffered)
			fflush(stdout);
	}
	free(text);
	if (st < 0)
		return -1;
	if (st == DPHP_AUTHZ_DENY) {
		reject(NULL, env, why);
		if (refuse(d, why) != 0)
			return -1;
	}
	if (own || st == DPHP_AUTHZ_DENY)
		return dphp_queue_ack(store, d->receipt);
	return 0;
}

/* Forget the receipts the later stages have acknowledged since. */
static int
prune(void)
{
	size_t i = 0;
	int r;

	while (i < json_array_size(inflight)) {
		r = dphp_queue_claimed(store, json_string_value(
		    json_array_get(inflight, i)));
		if (r < 0)
			return -1;
		if (r == 0)
			json_array_remove(inflight, i);
		else
			i++;
	}
	if (json_array_size(inflight) == 0) {
		free(suspect);
		suspect = NULL;
	}
	return 0;
}

/*
 * The worker stops with events in flight.  Asked to (SIGTERM, SIGINT),
 * it ends its output, so that the stages after it finish what they
 * hold and end, waits for their acknowledgements as long as they come
 * (a grace after each) and gives back the rest as it was.  When the
 * stages after it are gone (one crashed, and the others ended as by
 * SIGPIPE), what they had not finished comes back failed: suspects,
 * their tries counted, so that an event that crashes a worker every
 * time ends among the dead letters.  A stage that stopped on purpose
 * (a configuration error) gives its event back itself, a moment after
 * it stopped reading: that is waited for, a short while, not renewed.
 */
static int
stop(const char *broken)
{
	int64_t grace = broken ? GONE_GRACE_MS : STOP_GRACE_MS;
	int64_t until = dphp_monotonic_ms() + grace;
	size_t i, n = 0, left = json_array_size(inflight);
	const char *rc;
	int r;

	/* nothing more goes out; what was written went, or is lost */
	fflush(stdout);
	if (freopen("/dev/null", "w", stdout) == NULL)
		dphp_die(DPHP_EXIT_SYS, "cannot close <stdout>:");
	while (left > 0 && dphp_monotonic_ms() < until) {
		if (prune() != 0 || dphp_queue_renew(store) != 0 ||
		    dphp_queue_wait(store, 50) != 0)
			return DPHP_EXIT_SYS;
		if (json_array_size(inflight) < left && !broken)
			until = dphp_monotonic_ms() + grace;
		left = json_array_size(inflight);
	}
	for (i = 0; i < json_array_size(inflight); i++) {
		rc = json_string_value(json_array_get(inflight, i));
		if ((r = dphp_queue_claimed(store, rc)) < 0)
			return DPHP_EXIT_SYS;
		if (r == 0)
			continue;
		if (broken ? dphp_queue_fail(store, rc, "the stages after "
		    "dphp-route stopped before they finished it") :
		    dphp_queue_nack(store, rc))
			return DPHP_EXIT_SYS;
		n++;
	}
	if (!broken)
		return 0;
	if (n > 0)	/* else they gave back what they had, or finished */
		dphp_error("%s: %zu event%s not finished come%s back as "
		    "%s", broken, n, n == 1 ? "" : "s", n == 1 ? "s" : "",
		    n == 1 ? "a suspect" : "suspects");
	return DPHP_EXIT_SYS;
}

/*
 * Take events for a worker, round by round, holding at most window
 * unacknowledged, until max are taken, nothing is ready, or a suspect
 * is taken (alone); with -e, until the
 * part of the queue is quiescent: nothing ready, nothing claimed (by
 * anyone: the events it took are finished only once a later stage
 * acknowledges them, and finishing one may queue more), no delay due;
 * with -w, for ever.
 */
static int
take(struct dphp_queue_part *part, size_t window, size_t max)
{
	struct dphp_queue_stat qs;
	char werr[256];
	size_t taken = 0, bad = 0, round;
	int64_t ms, nap, now, prune_at = 0;
	long got;

	inflight = json_array();
	/* awake often enough to keep the claims in flight alive */
	nap = part->lease_ms / 3 < 1000 ? part->lease_ms / 3 + 1 : 1000;
	for (;;) {
		if (dphp_stopping)
			return stop(NULL);
		if (dphp_output_gone())
			return stop(GONE);
		if (dphp_queue_renew(store) != 0)
			return DPHP_EXIT_SYS;
		/*
		 * Which claims were acknowledged is a look at each (a stat,
		 * an etcd request), so it is done every PRUNE_MS at most: a
		 * busy worker's later stages acknowledge in batches, and
		 * each acknowledgement wakes it.
		 */
		if ((now = dphp_monotonic_ms()) >= prune_at) {
			if (prune() != 0)
				return DPHP_EXIT_SYS;
			prune_at = now + PRUNE_MS;
		}
		if (suspect && !eflag && !wflag)
			break;	/* the run ends with the one it took alone */
		round = suspect ? 0 : window - json_array_size(inflight);
		if (round == 0) {
			ms = prune_at - now;
			if (dphp_queue_wait(store, ms < 1 ? 1 : ms > nap ? nap :
			    ms) != 0)
				return DPHP_EXIT_SYS;
			continue;
		}
		if (round > TAKE_ROUND)
			round = TAKE_ROUND;
		if (max && max - taken < round)
			round = max - taken;
		part->idle = json_array_size(inflight) == 0;
		got = dphp_queue_take(store, part, round, print, NULL, &bad);
		if (got < 0)
			return DPHP_EXIT_SYS;
		taken += got;
		dphp_progress_add(got);
		if (fflush(stdout) == EOF || ferror(stdout)) {
			snprintf(werr, sizeof(werr), "write error on "
			    "<stdout>: %s", strerror(errno));
			return stop(errno == EPIPE ? GONE : werr);
		}
		if (max && taken >= max)
			break;
		if (got > 0)
			continue;
		if (dphp_queue_stat(store, part, &qs) != 0)
			return DPHP_EXIT_SYS;
		if (!wflag && qs.ready + qs.suspects + qs.due == 0 &&
		    (!eflag || qs.claimed == 0))
			break;
		if (qs.due > 0 || (qs.suspects > 0 &&
		    json_array_size(inflight) == 0))
			continue;
		/* ready but claimed by others meanwhile, or suspects waiting
		 * for what is in flight: look again soon */
		ms = qs.ready + qs.suspects ? 10 : qs.next_ms - dphp_now_ms();
		if (dphp_queue_wait(store, ms < 1 ? 1 : ms > nap ? nap : ms) != 0)
			return DPHP_EXIT_SYS;
	}
	return bad ? DPHP_EXIT_INPUT : 0;
}

/* -s i/n: both decimal, checked before they are narrowed */
static int
shard_parse(const char *s, struct dphp_queue_part *part)
{
	unsigned long i, n;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	i = strtoul(s, &end, 10);
	if (*end != '/' || end[1] < '0' || end[1] > '9')
		return -1;
	n = strtoul(end + 1, &end, 10);
	if (*end != '\0' || errno == ERANGE || n < 1 || n > 65536 || i >= n)
		return -1;
	part->shard = i;
	part->nshards = n;
	return 0;
}

static int
route(struct dphp_reader *rd, json_t *env, struct dphp_desc *d, void *arg)
{
	const int64_t *now = arg;
	char buf[1024];
	json_t *desc;

	if (!selected(d->to) || identify(rd, env, d))
		return 0;
	if (policy != NULL) {
		switch (dphp_authorize(store, policy, d, 1, buf, sizeof(buf))) {
		case DPHP_AUTHZ_ALLOW:
			break;
		case DPHP_AUTHZ_DENY:
			reject(rd, env, buf);
			return 0;
		default:
			return DPHP_EXIT_SYS;
		}
	}
	if (d->delay != NULL && d->delay_ms > *now && !iflag && !store) {
		dphp_reader_error(rd, "event %s is delayed until %s; a stream "
		    "cannot wait (use -i to deliver it now)", d->id, d->delay);
		return DPHP_EXIT_INPUT;
	}
	if (store != NULL) {
		json_object_del(env, "receipt");	/* it was another's */
		json_array_append(admitting, env);
		/* full, or the input pauses: admit what there is */
		if (json_array_size(admitting) == ADMIT_MAX ||
		    !dphp_reader_pending(rd))
			return admit();
		return 0;
	}
	if (Dflag) {
		desc = dphp_desc_json(d);
		dphp_write(desc);
		json_decref(desc);
	} else
		dphp_write(env);
	return 0;
}

/* what a run does: filter events, or what -q, -t or -r asks for */
enum mode { FILTER, QUEUE, TAKE, RELEASE };
static const char *const modeopt[] = { "", "-q", "-t", "-r" };

/* the options given that the mode does not take: usage, named */
static void
checkmode(enum mode mode, int argc, int tonly, const char *spec,
    const char *Kflag, const char *Rflag, const char *Pflag)
{
	const char *m = modeopt[mode];

	if (vflag && npatterns == 0)
		dphp_usage_error(synopsis, "-v inverts -m: give a pattern");
	if (tonly && mode != TAKE)
		dphp_usage_error(synopsis, "-a, -c, -e, -l, -n, -s and -w go "
		    "with -t");
	if (spec && mode == FILTER)
		dphp_usage_error(synopsis, "-d goes with -q, -t or -r");
	if ((mode == TAKE || mode == RELEASE) && (argc > 0 || npatterns))
		dphp_usage_error(synopsis, "%s takes no file and no -m", m);
	if (mode != FILTER && (Dflag || iflag))
		dphp_usage_error(synopsis, "-D and -i are for filtering, not "
		    "for %s", m);
	if (eflag && wflag)
		dphp_usage_error(synopsis, "-e and -w cannot be used together");
	if ((mode == TAKE || mode == RELEASE) && Kflag)
		dphp_usage_error(synopsis, "-K checks events as they are "
		    "queued, not with %s", m);
	if (mode == RELEASE && Rflag)
		dphp_usage_error(synopsis, "-r takes no -R");
	if (Pflag && mode != QUEUE && mode != TAKE)
		dphp_usage_error(synopsis, "-P goes with -q or -t");
}

int
main(int argc, char *argv[])
{
	struct dphp_queue_part part = { 0, 1, 5 * 60 * 1000, TRIES_DEFAULT, 0 };
	const char *spec = NULL, *Kflag = NULL, *Rflag = NULL, *Pflag = NULL;
	const char *penv = getenv("DPHP_POLICY");
	long long nmax = 0, window = 0;
	int64_t now;
	int mode = FILTER;	/* enum mode */
	int c, r, tonly = 0;

	dphp_setprog("dphp-route");
	patterns = xcalloc(argc, sizeof(*patterns));
	while ((c = getopt_long(argc, argv, "a:c:Dd:ehiK:l:m:n:P:qR:rs:tuVvw",
	    dphp_longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			part.tries = dphp_strtonum(optarg, 1, 1000000, "tries");
			tonly = 1;
			break;
		case 'c':
			window = dphp_strtonum(optarg, 1, 1000000, "claims");
			tonly = 1;
			break;
		case 'D':
			Dflag = 1;
			break;
		case 'd':
			spec = optarg;
			break;
		case 'e':
			eflag = 1;
			tonly = 1;
			break;
		case 'K':
			Kflag = optarg;
			break;
		case 'P':
			Pflag = optarg;
			break;
		case 'R':
			Rflag = optarg;
			break;
		case 'l':
			if (dphp_duration_parse(optarg, &part.lease_ms) != 0 ||
			    part.lease_ms < 1)
				dphp_die(DPHP_EXIT_USAGE, "invalid lease '%s' "
				    "(a duration: 90s, 15m, 2h)", optarg);
			tonly = 1;
			break;
		case 'n':
			nmax = dphp_strtonum(optarg, 1, 1000000000, "max");
			tonly = 1;
			break;
		case 'q':
			dphp_mode_set(&mode, QUEUE, modeopt, synopsis);
			break;
		case 'r':
			dphp_mode_set(&mode, RELEASE, modeopt, synopsis);
			break;
		case 's':
			if (shard_parse(optarg, &part) != 0)
				dphp_die(DPHP_EXIT_USAGE, "invalid shard '%s' "
				    "(want i/n with 0 <= i < n <= 65536)", optarg);
			tonly = 1;
			break;
		case 't':
			dphp_mode_set(&mode, TAKE, modeopt, synopsis);
			break;
		case 'w':
			wflag = 1;
			tonly = 1;
			break;
		case 'h':
			dphp_help(synopsis, options);
		case 'i':
			iflag = 1;
			break;
		case 'm':
			patterns[npatterns++] = optarg;
			break;
		case 'u':
			dphp_unbuffered = 1;
			break;
		case 'V':
			dphp_version();
		case 'v':
			vflag = 1;
			break;
		default:
			dphp_usage(synopsis);
		}
	}
	argc -= optind;
	argv += optind;
	checkmode(mode, argc, tonly, spec, Kflag, Rflag, Pflag);
	/* a policy is for a store's queue: $DPHP_POLICY too */
	if (Pflag == NULL && (mode == QUEUE || mode == TAKE) && penv != NULL &&
	    *penv)
		Pflag = penv;
	if (Pflag != NULL && (policy = dphp_policy_load(Pflag)) == NULL)
		return DPHP_EXIT_CONFIG;
	if (Kflag != NULL && (keys = dphp_keys_load(Kflag)) == NULL)
		return DPHP_EXIT_CONFIG;
	if (Rflag != NULL && (rejects = fopen(Rflag, "ae")) == NULL)
		dphp_die(DPHP_EXIT_SYS, "cannot open '%s':", Rflag);
	if (mode != FILTER && (store = dphp_store_open(spec)) == NULL)
		return dphp_store_open_status();
	if (mode == QUEUE || mode == TAKE)
		dphp_stop_on_signals(mode == QUEUE);
	if (mode == TAKE) {
		/* a write to stages gone fails: see stop() */
		signal(SIGPIPE, SIG_IGN);
		if (eflag)	/* a drain: how far it has gone */
			dphp_progress_begin("events taken", -1);
		/*
		 * A worker holds at most a window of events unacknowledged,
		 * so that others on the same queue get their share and a
		 * claim does not wait in a pipe until its lease is over; -n
		 * alone asks for as many, for taking into a file.
		 */
		if (window == 0)
			window = nmax > TAKE_WINDOW ? nmax : TAKE_WINDOW;
		r = take(&part, window, nmax);
		dphp_progress_end();
		json_decref(inflight);
		free(suspect);
		if (r == 0 && nrejected > 0)
			r = DPHP_EXIT_INPUT;
	} else if (mode == RELEASE)
		r = dphp_queue_release(store) < 0 ? DPHP_EXIT_SYS : 0;
	else {
		admitting = json_array();
		now = dphp_now_ms();
		r = dphp_each_event(argc, argv, route, &now);
		/* what was read before a bad record is admitted */
		if (store != NULL && r != DPHP_EXIT_SYS && (c = admit()) != 0)
			r = c;
		json_decref(admitting);
		if (r == 0 && nrejected > 0)
			r = DPHP_EXIT_INPUT;
	}
	free(patterns);
	dphp_keys_free(keys);
	dphp_policy_free(policy);
	if (rejects != NULL && fclose(rejects) == EOF)
		dphp_die(DPHP_EXIT_SYS, "cannot write the rejects:");
	if (dphp_store_close(store) != 0 && r == 0)
		r = DPHP_EXIT_SYS;
	dphp_fshut();
	return r;
}
