/*
 * dphp-lock - the locking half of the History layer, as a stage between
 * dphp-route and dphp-replay.
 *
 *	dphp-lock [-u] [-d store] [file ...]
 *
 * This version grants no locks, so it holds no lock records and no
 * entity is ever locked: every valid event passes through unchanged.
 * An event that asks for a lock (it carries a "lock" wrapper) cannot be
 * honoured: on a stream it stops the stage, so that no operation meant
 * to run inside a critical section ever runs outside one; taken from a
 * store's queue (it carries a receipt), it is rejected: reported and
 * acknowledged, so that it does not come back for ever, and the stage
 * goes on.
 */
#include <getopt.h>
#include <stdio.h>

#include "dphp.h"

static const char synopsis[] = "dphp-lock [-u] [-d store] [file ...]";
static const char options[] =
    "  -d store    the store (default $DPHP_STORE)\n"
    "  -u          flush after every record\n"
    "  -h, --help     this help\n"
    "  -V, --version  the version\n";

static const char *spec;
static struct dphp_store *store;
static int rejected;

static int
pass(struct dphp_reader *rd, json_t *env, struct dphp_desc *d, void *arg)
{
	(void)arg;
	if (d->lock != NULL) {
		dphp_reader_error(rd, "event %s asks for a lock owned by %s; "
		    "this version of dphp-lock grants no locks%s", d->id,
		    json_string_value(json_object_get(d->lock, "owner")),
		    d->receipt ? " (rejected)" : "");
		if (d->receipt == NULL)
			return DPHP_EXIT_INPUT;
		if (store == NULL && (store = dphp_store_open(spec)) == NULL)
			return DPHP_EXIT_SYS;
		rejected = 1;
		return dphp_queue_ack(store, d->receipt) ? DPHP_EXIT_SYS : 0;
	}
	dphp_write(env);
	return 0;
}

int
main(int argc, char *argv[])
{
	int c, r;

	dphp_setprog("dphp-lock");
	while ((c = getopt_long(argc, argv, "+d:huV", dphp_longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'd':
			spec = optarg;
			break;
		case 'h':
			dphp_help(synopsis, options);
		case 'u':
			dphp_unbuffered = 1;
			break;
		case 'V':
			dphp_version();
		default:
			dphp_usage(synopsis);
		}
	}
	argc -= optind;
	argv += optind;
	r = dphp_each_event(argc, argv, pass, NULL);
	if (r == 0 && rejected)
		r = DPHP_EXIT_INPUT;
	dphp_store_close(store);
	dphp_fshut();
	return r;
}
