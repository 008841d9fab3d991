/*
 * dphp-lock - the locking half of the History layer, as a stage between
 * dphp-route and dphp-replay.
 *
 *	dphp-lock [-u] [file ...]
 *
 * This version grants no locks, so it holds no lock records and no
 * entity is ever locked: every valid event passes through unchanged.
 * An event that asks for a lock (it carries a "lock" wrapper) cannot be
 * honoured and stops the stage, so that no operation meant to run
 * inside a critical section ever runs outside one.
 */
#include <getopt.h>
#include <stdio.h>

#include "dphp.h"

static const char synopsis[] = "dphp-lock [-u] [file ...]";
static const char options[] =
    "  -u          flush after every record\n"
    "  -h, --help     this help\n"
    "  -V, --version  the version\n";

static int
pass(struct dphp_reader *rd, json_t *env, struct dphp_desc *d, void *arg)
{
	(void)arg;
	if (d->lock != NULL) {
		dphp_reader_error(rd, "event %s asks for a lock owned by %s; "
		    "this version of dphp-lock grants no locks", d->id,
		    json_string_value(json_object_get(d->lock, "owner")));
		return DPHP_EXIT_INPUT;
	}
	dphp_write(env);
	return 0;
}

int
main(int argc, char *argv[])
{
	int c, r;

	dphp_setprog("dphp-lock");
	while ((c = getopt_long(argc, argv, "+huV", dphp_longopts,
	    NULL)) != -1) {
		switch (c) {
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
	dphp_fshut();
	return r;
}
