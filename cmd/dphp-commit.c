/*
 * dphp-commit - ETag commits: shell plumbing on single states, and the
 * pipeline stage that commits the proposals dphp-replay prints.
 *
 *	dphp-commit [-d store] -i
 *	dphp-commit [-d store] -g id
 *	dphp-commit [-d store] -c | -e etag | -f -s id [file]
 *	dphp-commit [-d store] -e etag | -f -r id
 *	dphp-commit [-kou] [-b size] [-d store] [-n tries] [-T ms] [-x dir]
 *	    [file ...]
 *
 * A proposal commits only if the stored ETag is still the one it was
 * computed from; otherwise, with -x, it is recomputed from the stored
 * state ("try to commit; on failure rerun from the stored state").
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dphp.h"

static const char synopsis[] =
    "dphp-commit [-d store] -i\n"
    "       dphp-commit [-d store] -g id\n"
    "       dphp-commit [-d store] -c | -e etag | -f -s id [file]\n"
    "       dphp-commit [-d store] -e etag | -f -r id\n"
    "       dphp-commit [-f] [-d store] -I snapshot [pattern ...]\n"
    "       dphp-commit [-kou] [-b size] [-d store] [-n tries] [-T ms] "
    "[-x dir] [file ...]";
static const char options[] =
    "  -b size    commit up to size proposals together (group commit)\n"
    "  -c         with -s: create only; fail if the state exists\n"
    "  -d store   the store (default $DPHP_STORE)\n"
    "  -e etag    with -s or -r: only if the stored ETag is etag\n"
    "  -f         with -s or -r: unconditionally; with -I: replace what "
    "differs\n"
    "  -g id      print the state of id with its ETag\n"
    "  -I file    import a snapshot (dphp-project export) where absent\n"
    "  -i         make the store (an empty directory, or a new one)\n"
    "  -k         keep handlers running between recomputations\n"
    "  -n tries   recompute a conflicting proposal at most tries times "
    "(10)\n"
    "  -o         print the emitted events instead of commit records\n"
    "  -r id      delete the state of id\n"
    "  -s id      set the state of id to the JSON in file (or stdin)\n"
    "  -T ms      handler time limit when recomputing (30000; 0: none)\n"
    "  -u         flush after every record\n"
    "  -x dir     handlers, to recompute conflicting proposals "
    "(default $DPHP_HANDLERS)\n"
    "  -h, --help     this help\n"
    "  -V, --version  the version\n";

#define CHAIN_MAX 100000	/* targets remembered for "prev" chains */

static struct dphp_store *store;
static struct dphp_trouble trouble;
static struct dphp_handlers handlers = { .trouble = &trouble };
static int oflag;
static long tries = 10;
static long bflag = 1;		/* proposals committed together */
static json_t *chain;		/* target -> {"input":id,"etag":etag} */
static int status;

/* git's wording: "is at A but expected B" */
static const char *
mismatch(const char *id, const char *is, const char *expected)
{
	static char msg[1024];

	snprintf(msg, sizeof(msg), "etag mismatch for '%s': is %s%s%s but "
	    "expected %s%s%s", id, is[0] ? "\"" : "", is[0] ? is : "absent",
	    is[0] ? "\"" : "", expected ? "\"" : "", expected ? expected :
	    "absent", expected ? "\"" : "");
	return msg;
}

static int
getstate(const char *id)
{
	char etag[DPHP_ETAG_MAX];
	json_t *state, *rec;
	int r;

	r = dphp_store_get(store, id, &state, etag);
	if (r == DPHP_STORE_NOTFOUND) {
		dphp_error("no state for '%s'", id);
		return DPHP_EXIT_NO;
	}
	if (r != DPHP_STORE_OK)
		return DPHP_EXIT_SYS;
	rec = json_pack("{sssssO}", "id", id, "etag", etag, "state", state);
	dphp_write(rec);
	json_decref(rec);
	json_decref(state);
	return DPHP_EXIT_OK;
}

/*
 * The guard on the lock of id that a commit of its state carries, if
 * id is an entity: no one's hold (DPHP_FREE), or, by the holder, its
 * own hold with its token (DPHP_FENCE), so that the change is made only
 * while that stays true.  Then a commit computed before a hold began
 * cannot land inside it, and a holder paused past its lease cannot
 * overwrite the work of the next.  guards is what the guard guards (see
 * dphp_change).  Returns 1 when f was filled.
 */
static int
guard(const char *id, const char *owner, json_int_t fence, size_t guards,
    struct dphp_change *f)
{
	if (strncmp(id, "entity:", 7) != 0)
		return 0;
	memset(f, 0, sizeof(*f));
	f->id = id;
	f->space = DPHP_SPACE_LOCK;
	f->op = owner != NULL ? DPHP_FENCE : DPHP_FREE;
	f->cond = DPHP_IF_ANY;
	f->owner = owner;
	f->fence = fence;
	f->guards = guards;
	return 1;
}

/*
 * The guard of a plumbing commit: run under dphp-lock (DPHP_LOCK_OWNER,
 * DPHP_LOCK_FENCES naming id), the hold's.
 */
static int
plumbing_guard(const char *id, struct dphp_change *f)
{
	const char *owner = getenv("DPHP_LOCK_OWNER");
	const char *p = getenv("DPHP_LOCK_FENCES");
	size_t len = strlen(id);

	while (owner != NULL && p != NULL && *p != '\0') {
		while (*p == ' ')
			p++;
		if (strncmp(p, id, len) == 0 && p[len] == '=')
			return guard(id, owner, strtoll(p + len + 1, NULL, 10),
			    0, f);
		p = strchr(p, ' ');
	}
	return guard(id, NULL, 0, 0, f);
}

/* say why a guard c failed the commit of its entity; DPHP_EXIT_NO */
static int
guard_failed(const struct dphp_reader *at, const struct dphp_change *c)
{
	char why[512];

	if (c->op == DPHP_FENCE)
		snprintf(why, sizeof(why), "the lock of %s is no longer held "
		    "by %s with token %lld: not committed", c->id, c->owner,
		    (long long)c->fence);
	else
		snprintf(why, sizeof(why), "'%s' is locked by another owner "
		    "(dphp-lock -L): not committed", c->id);
	if (at != NULL)
		dphp_reader_error(at, "%s", why);
	else
		dphp_error("%s", why);
	return DPHP_EXIT_NO;
}

static int
putstate(const char *id, const char *file, enum dphp_cond cond,
    const char *etag, int del)
{
	char newetag[DPHP_ETAG_MAX], why[512];
	struct dphp_change c[2];
	json_t *state = NULL, *rec;
	size_t n = 1;
	int r;

	if (!del && (state = dphp_json_load_file(file ? file : "-", &r)) ==
	    NULL)
		return r;
	/* what dphp-replay reads back: never a state it would not see */
	if (!del && strncmp(id, "entity:", 7) == 0 &&
	    dphp_entity_doc_check(state, why, sizeof(why)) != 0) {
		dphp_error("%s: %s", file ? file : "<stdin>", why);
		json_decref(state);
		return DPHP_EXIT_INPUT;
	}
	memset(c, 0, sizeof(c));
	c[0].id = id;
	c[0].op = del ? DPHP_DELETE : DPHP_PUT;
	c[0].state = state;
	c[0].cond = cond;
	c[0].etag = etag;
	n += plumbing_guard(id, &c[1]);
	r = dphp_store_batch(store, c, n);
	json_decref(state);
	if (r != DPHP_STORE_OK)
		return DPHP_EXIT_SYS;
	if (n == 2 && c[1].result != DPHP_STORE_OK)
		return guard_failed(NULL, &c[1]);
	r = c[0].result;
	memcpy(newetag, c[0].newetag, sizeof(newetag));
	switch (r) {
	case DPHP_STORE_OK:
		if (del && dphp_acl_forget(store, id) != 0)
			return DPHP_EXIT_SYS;
		rec = json_pack("{ssss}", "id", id, "etag", newetag);
		if (del)
			json_object_set_new(rec, "deleted", json_true());
		dphp_write(rec);
		json_decref(rec);
		return DPHP_EXIT_OK;
	case DPHP_STORE_NOTFOUND:
		dphp_error("no state for '%s'", id);
		return DPHP_EXIT_NO;
	case DPHP_STORE_CONFLICT:
		if (cond == DPHP_IF_ABSENT)
			dphp_error("'%s' already exists at \"%s\"", id, newetag);
		else
			dphp_error("%s", mismatch(id, newetag, etag));
		return DPHP_EXIT_NO;
	default:
		return DPHP_EXIT_SYS;
	}
}

/*
 * The change proposal prop asks of the store: put, delete or only
 * check, if the state is still at etag (NULL: absent).  An input taken
 * from the queue carries a receipt: then the events emitted are
 * delivered to the queue by the commit (its outbox).
 */
static void
tochange(json_t *prop, const struct dphp_proposal *p, const char *etag,
    struct dphp_change *c)
{
	memset(c, 0, sizeof(*c));
	c->id = p->target;
	c->state = json_object_get(prop, "state");
	c->op = c->state ? DPHP_PUT : json_is_true(json_object_get(prop,
	    "delete")) ? DPHP_DELETE : DPHP_CHECK;
	c->cond = etag ? DPHP_IF_MATCH : DPHP_IF_ABSENT;
	c->etag = etag;
	c->evict = json_object_get(prop, "evict");
	if (p->desc.receipt != NULL) {
		c->cause = p->desc.id;
		c->receipt = p->desc.receipt;
		c->outbox = json_object_get(prop, "emit");
		/* released ahead of lock requests: they follow its commit */
		c->ack_apart = p->desc.ahead != 0;
	}
}

/*
 * The guard of the change c[k] a proposal asks for: dphp-lock lets an
 * owner's event through to its locked entity with the token of the
 * hold ("fence"); any other must find the entity held by no one.
 */
static int
input_guard(const struct dphp_proposal *p, size_t k, struct dphp_change *f)
{
	if (p->desc.fence != 0)
		return guard(p->desc.to, json_string_value(json_object_get(
		    p->desc.lock, "owner")), p->desc.fence, k + 1, f);
	return guard(p->desc.to, NULL, 0, k + 1, f);
}

/* deleting nothing changes nothing */
static void
nothing_deleted(struct dphp_change *c)
{
	if (c->result == DPHP_STORE_NOTFOUND) {
		c->newetag[0] = '\0';
		c->result = DPHP_STORE_OK;
	}
}

/*
 * Record prop as committed.  input is the event later proposals may
 * build on ("prev"); NULL after a recomputation, whose state is not the
 * one dphp-replay built on, so that what follows is recomputed too.
 */
static void
committed(json_t *prop, const char *target, const char *input,
    const char *newetag)
{
	json_t *rec, *e;
	size_t i;

	if (json_object_size(chain) >= CHAIN_MAX)
		json_object_del(chain, json_object_iter_key(
		    json_object_iter(chain)));
	json_object_del(chain, target);
	json_object_set_new(chain, target, json_pack("{ssss}", "input",
	    input ? input : "", "etag", newetag));
	if (oflag) {
		json_array_foreach(json_object_get(prop, "emit"), i, e)
			dphp_write(e);
		return;
	}
	rec = json_copy(prop);
	json_object_set_new(rec, "kind", json_string("commit"));
	json_object_set_new(rec, "etag", newetag[0] ? json_string(newetag) :
	    json_null());
	dphp_write(rec);
	json_decref(rec);
}

/*
 * The proposal lost the race: rerun it from the stored state until it
 * commits or tries run out.  Returns the store's last result code and,
 * on OK, the proposal that was committed in *done; *fenced set when it
 * failed because its claim on the input ran out.
 */
static int
recompute(struct dphp_proposal *p, char *newetag, json_t **done, int *fenced)
{
	char etag[DPHP_ETAG_MAX], why[1024];
	json_t *doc, *applied, *prop;
	struct dphp_change c[2];
	size_t nc;
	long n;
	int r;

	for (n = 0; n < tries; n++) {
		doc = NULL;
		r = dphp_store_get(store, p->target, &doc, etag);
		if (r == DPHP_STORE_ERROR)
			return r;
		if (r == DPHP_STORE_NOTFOUND)
			etag[0] = '\0';
		if (dphp_stored_bad(&p->desc, doc, why, sizeof(why))) {
			dphp_error("%s", why);
			json_decref(doc);
			return DPHP_STORE_ERROR;
		}
		r = dphp_apply_stored(store, &handlers, &p->desc, doc, NULL,
		    &applied, why, sizeof(why));
		json_decref(doc);
		if (r != 0)
			return DPHP_STORE_ERROR;
		if (trouble.why[0] != '\0') {	/* the caller says it */
			json_decref(applied);
			return DPHP_STORE_ERROR;
		}
		if (applied == NULL) {
			dphp_error("%s", why);
			return DPHP_STORE_ERROR;
		}
		prop = dphp_proposal_new(p->input, applied, etag[0] ? etag :
		    NULL, NULL);
		tochange(prop, p, etag[0] ? etag : NULL, &c[0]);
		nc = 1 + input_guard(p, 0, &c[1]);
		if (dphp_store_batch(store, c, nc) != DPHP_STORE_OK) {
			json_decref(prop);
			return DPHP_STORE_ERROR;
		}
		nothing_deleted(&c[0]);
		memcpy(newetag, c[0].newetag, DPHP_ETAG_MAX);
		if (c[0].result == DPHP_STORE_OK) {
			*done = prop;
			return c[0].result;
		}
		json_decref(prop);
		if ((*fenced = c[0].fenced))
			return c[0].result;
		if (c[0].result != DPHP_STORE_CONFLICT ||
		    (nc == 2 && c[1].result != DPHP_STORE_OK))
			return c[0].result;	/* a lock says no: give up */
	}
	return DPHP_STORE_CONFLICT;
}

/* A proposal waiting in the batch, and where it was read. */
struct pending {
	json_t *rec;
	struct dphp_proposal p;
	struct dphp_reader at;	/* name and line, for messages */
	const char *etag;	/* expected: NULL, "-" (nothing) or etagbuf */
	char etagbuf[DPHP_ETAG_MAX];
	size_t after;		/* 1 + the one of the batch it builds on */
};

static struct pending *batch;
static size_t nbatch;

/*
 * Commit the proposals waiting in the batch, together, then say what
 * became of each, in the order they were read.  Exit status or 0.
 */
static int
flush(void)
{
	struct dphp_change *c;
	struct pending *q;
	const char *receipt;
	json_t *last, *done;
	size_t i, nc = nbatch, *guarded;
	int r = 0, locked;

	c = xcalloc(nbatch ? 2 * nbatch : 1, sizeof(*c));
	guarded = xcalloc(nbatch ? nbatch : 1, sizeof(*guarded));
	for (i = 0; i < nbatch; i++) {
		q = &batch[i];
		q->etag = q->p.base;
		if (q->after != 0)	/* its base is made in this batch */
			q->etag = "-";
		else if (q->p.prev != NULL) {
			/* Computed on top of an earlier proposal: valid only
			 * if that one was committed here, as proposed, and is
			 * still head. */
			last = json_object_get(chain, q->p.target);
			if (last != NULL && strcmp(json_string_value(
			    json_object_get(last, "input")), q->p.prev) == 0) {
				/* a copy: committing others may evict it */
				snprintf(q->etagbuf, sizeof(q->etagbuf), "%s",
				    json_string_value(json_object_get(last,
				    "etag")));
				q->etag = q->etagbuf[0] ? q->etagbuf : NULL;
			} else
				q->etag = "-";
		}
		tochange(q->rec, &q->p, q->etag, &c[i]);
		c[i].after = q->after;
		if (input_guard(&q->p, i, &c[nc]))
			guarded[i] = ++nc;
	}
	if (dphp_store_batch(store, c, nc) != DPHP_STORE_OK)
		r = DPHP_EXIT_SYS;
	for (i = 0; r == 0 && i < nbatch; i++) {
		q = &batch[i];
		receipt = q->p.desc.receipt;
		nothing_deleted(&c[i]);
		done = NULL;
		/* a lock says no: given back, the event goes to dphp-lock,
		 * which parks it or tells its owner that the hold is lost */
		locked = guarded[i] && c[guarded[i] - 1].result != DPHP_STORE_OK;
		if (c[i].result == DPHP_STORE_CONFLICT && handlers.dir != NULL &&
		    !c[i].fenced && !locked)
			c[i].result = recompute(&q->p, c[i].newetag, &done,
			    &c[i].fenced);
		if (c[i].fenced) {
			/* the claim ran out: another worker has the event now */
			dphp_warn("event %s: its claim ran out before the "
			    "commit: not committed, left to the worker that "
			    "holds it now", q->p.desc.id);
			json_object_del(chain, q->p.target);
		} else if (c[i].result == DPHP_STORE_OK) {
			/* a resource deleted has no owner left; then, with
			 * the outbox delivered, the input is done */
			if (json_is_true(json_object_get(done ? done : q->rec,
			    "delete")) && dphp_acl_forget(store,
			    q->p.target) != 0)
				r = DPHP_EXIT_SYS;
			else if (q->p.desc.ahead != 0 &&
			    dphp_lock_ahead_done(store, &q->p.desc) != 0)
				r = DPHP_EXIT_SYS;
			else if (receipt && dphp_queue_ack(store, receipt) != 0)
				r = DPHP_EXIT_SYS;
			else
				committed(done ? done : q->rec, q->p.target,
				    done ? NULL : q->p.desc.id, c[i].newetag);
			json_decref(done);
		} else if (c[i].result == DPHP_STORE_ERROR &&
		    trouble.why[0] != '\0') {
			r = dphp_trouble_giveback(store, &q->at, &q->p.desc,
			    &trouble);
		} else if (c[i].result == DPHP_STORE_ERROR)
			r = DPHP_EXIT_SYS;
		else if (receipt != NULL) {
			/* computed from a state since changed: again */
			json_object_del(chain, q->p.target);
			if (dphp_queue_nack(store, receipt) != 0)
				r = DPHP_EXIT_SYS;
		} else if (locked) {
			json_object_del(chain, q->p.target);
			status = guard_failed(&q->at, &c[guarded[i] - 1]);
		} else if (c[i].result == DPHP_STORE_CONFLICT) {
			if (q->etag != NULL && strcmp(q->etag, "-") == 0)
				dphp_reader_error(&q->at, "'%s' is at \"%s\" but "
				    "the proposal builds on event %s, not "
				    "committed here", q->p.target, c[i].newetag,
				    q->p.prev);
			else
				dphp_reader_error(&q->at, "%s", mismatch(
				    q->p.target, c[i].newetag, q->etag));
			json_object_del(chain, q->p.target);
			status = DPHP_EXIT_NO;
		}
	}
	for (i = 0; i < nbatch; i++)
		json_decref(batch[i].rec);
	nbatch = 0;
	free(c);
	free(guarded);
	return r;
}

/*
 * Can proposal p, to the same target as the pending q, follow it in one
 * batch?  When it was computed on top of q (a busy entity's next event)
 * and both write a state, on a store that takes chains of changes; q
 * must emit nothing, as its record is never written (the events it
 * emits are kept with the record, until they are delivered).
 */
static int
follows(const struct pending *q, const struct dphp_proposal *p, json_t *rec)
{
	return dphp_store_chains(store) && p->prev != NULL &&
	    strcmp(p->prev, q->p.desc.id) == 0 &&
	    json_object_get(q->rec, "state") != NULL &&
	    json_object_get(rec, "state") != NULL &&
	    json_array_size(json_object_get(q->rec, "emit")) == 0;
}

static int
stage(struct dphp_reader *rd, json_t *rec, void *arg)
{
	struct dphp_proposal p;
	struct pending *q;
	char why[1024];
	size_t i, after = 0;
	int r;

	(void)arg;
	if (dphp_proposal_check(rec, &p, why, sizeof(why)) != 0) {
		dphp_reader_error(rd, "invalid proposal: %s", why);
		return DPHP_EXIT_INPUT;
	}
	/* one change per target in a batch, or a chain: the next builds
	 * on the last */
	for (i = nbatch; i-- > 0;)
		if (strcmp(batch[i].p.target, p.target) == 0) {
			if (follows(&batch[i], &p, rec))
				after = i + 1;
			else if ((r = flush()) != 0)
				return r;
			break;
		}
	q = &batch[nbatch];
	q->p = p;
	q->after = after;
	q->rec = json_incref(rec);
	q->at.name = rd->name;
	q->at.line = rd->line;
	/* full, or nothing more to read now: commit what there is */
	if (++nbatch == (size_t)bflag || !dphp_reader_pending(rd))
		return flush();
	return 0;
}

/* -I: a snapshot into the store; a line saying what came of it */
static int
import(const char *path, int argc, char **argv, int force)
{
	unsigned long n[3];
	json_t *v;
	int r;

	if ((r = dphp_idglobs_check(argc, argv)) != 0)
		return r;
	r = dphp_snapshot_import(store, path, argc, argv, force, n);
	if (r != 0 && r != DPHP_EXIT_NO)
		return r;
	v = json_pack("{sIsIsI}", "imported", (json_int_t)n[0], "unchanged",
	    (json_int_t)n[1], "refused", (json_int_t)n[2]);
	dphp_write(v);
	json_decref(v);
	return r;
}

/* what a run does: commit proposals, or what one option asks for */
enum mode { COMMIT, INIT, GET, SET, REMOVE, IMPORT };
static const char *const modeopt[] = { "", "-i", "-g", "-s", "-r", "-I" };

/* the options given that the mode does not take: usage, named */
static void
checkmode(enum mode mode, int argc, int cflag, const char *etag, int fflag)
{
	int conds = cflag + (etag != NULL) + fflag;

	if (mode == SET && conds != 1)
		dphp_usage_error(synopsis, "-s takes one of -c, -e and -f");
	if (mode == REMOVE && (cflag || conds != 1))
		dphp_usage_error(synopsis, "-r takes one of -e and -f");
	if (mode != SET && mode != REMOVE && (cflag || etag))
		dphp_usage_error(synopsis, "-c and -e go with -s or -r");
	if (fflag && mode != SET && mode != REMOVE && mode != IMPORT)
		dphp_usage_error(synopsis, "-f goes with -s, -r or -I");
	if ((mode == INIT || mode == GET || mode == REMOVE) && argc > 0)
		dphp_usage_error(synopsis, "%s takes no file", modeopt[mode]);
	if (mode == SET && argc > 1)
		dphp_usage_error(synopsis, "-s takes one file");
	if (mode != COMMIT && (oflag || handlers.dir || handlers.keep ||
	    bflag != 1))
		dphp_usage_error(synopsis, "-b, -k, -o and -x are for "
		    "committing proposals, not for %s", modeopt[mode]);
}

int
main(int argc, char *argv[])
{
	const char *spec = NULL, *etag = NULL, *id = NULL, *snap = NULL;
	int mode = COMMIT;	/* enum mode */
	int c, cflag = 0, fflag = 0, r;

	dphp_setprog("dphp-commit");
	handlers.timeout_ms = 30000;
	while ((c = getopt_long(argc, argv, "b:cd:e:fg:hI:ikn:or:s:T:uVx:",
	    dphp_longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			bflag = dphp_strtonum(optarg, 1, 4096, "batch size");
			break;
		case 'c':
			cflag = 1;
			break;
		case 'd':
			spec = optarg;
			break;
		case 'e':
			etag = optarg;
			break;
		case 'f':
			fflag = 1;
			break;
		case 'g':
			dphp_mode_set(&mode, GET, modeopt, synopsis);
			id = optarg;
			break;
		case 'h':
			dphp_help(synopsis, options);
		case 'I':
			dphp_mode_set(&mode, IMPORT, modeopt, synopsis);
			snap = optarg;
			break;
		case 'i':
			dphp_mode_set(&mode, INIT, modeopt, synopsis);
			break;
		case 'k':
			handlers.keep = 1;
			break;
		case 'n':
			tries = dphp_strtonum(optarg, 1, 1000000, "tries");
			break;
		case 'o':
			oflag = 1;
			break;
		case 'r':
			dphp_mode_set(&mode, REMOVE, modeopt, synopsis);
			id = optarg;
			break;
		case 's':
			dphp_mode_set(&mode, SET, modeopt, synopsis);
			id = optarg;
			break;
		case 'T':
			handlers.timeout_ms = dphp_strtonum(optarg, 0,
			    86400000, "time limit");
			break;
		case 'u':
			dphp_unbuffered = 1;
			break;
		case 'V':
			dphp_version();
		case 'x':
			handlers.dir = optarg;
			break;
		default:
			dphp_usage(synopsis);
		}
	}
	argc -= optind;
	argv += optind;
	checkmode(mode, argc, cflag, etag, fflag);
	/* an import makes the store it goes into, as -i would */
	if (mode == INIT || mode == IMPORT) {
		if (dphp_store_init(spec) != 0)
			return dphp_store_open_status();
		if (mode == INIT)
			return 0;
	}
	if ((store = dphp_store_open(spec)) == NULL)
		return dphp_store_open_status();
	if (mode == IMPORT)
		r = import(snap, argc, argv, fflag);
	else if (mode == GET)
		r = getstate(id);
	else if (mode == SET || mode == REMOVE)
		r = putstate(id, argc ? argv[0] : NULL, cflag ? DPHP_IF_ABSENT :
		    etag ? DPHP_IF_MATCH : DPHP_IF_ANY, etag, mode == REMOVE);
	else {
		if (handlers.dir == NULL)
			handlers.dir = getenv("DPHP_HANDLERS");
		if (handlers.dir != NULL && !dphp_worker_input(argc) &&
		    (r = dphp_handlers_check(handlers.dir)) != 0)
			return r;
		chain = json_object();
		batch = xcalloc(bflag, sizeof(*batch));
		dphp_stop_on_signals(1);
		r = dphp_each_record(argc, argv, stage, NULL);
		/* what was read before a bad record is committed */
		if (r != DPHP_EXIT_SYS && (c = flush()) != 0)
			r = c;
		if (r == 0)
			r = status;
		free(batch);
		json_decref(chain);
		dphp_handlers_close();
	}
	if (dphp_store_close(store) != 0 && r == 0)
		r = DPHP_EXIT_SYS;
	dphp_fshut();
	return r;
}
