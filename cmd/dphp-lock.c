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
pass(const char *file)
{
	struct dphp_reader *rd;
	struct dphp_desc d;
	char buf[1024];
	const char *why;
	json_t *env;
	int r;

	if ((rd = dphp_reader_open(file)) == NULL)
		return DPHP_EXIT_SYS;
	while ((r = dphp_reader_next(rd, &env)) > 0) {
		if (dphp_envelope_check(env, &d, buf, sizeof(buf), &why) != 0)
			dphp_reader_error(rd, "invalid event: %s", why);
		else if (d.lock != NULL)
			dphp_reader_error(rd, "event %s asks for a lock owned by "
			    "%s; this version of dphp-lock grants no locks",
			    d.id, json_string_value(json_object_get(d.lock,
			    "owner")));
		else {
			dphp_write(env);
			json_decref(env);
			continue;
		}
		json_decref(env);
		dphp_reader_close(rd);
		return DPHP_EXIT_INPUT;
	}
	dphp_reader_close(rd);
	return r < 0 ? (r == -1 ? DPHP_EXIT_INPUT : DPHP_EXIT_SYS) : 0;
}

int
main(int argc, char *argv[])
{
	int c, r = 0, i;

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
	for (i = 0; r == 0 && i < (argc ? argc : 1); i++)
		r = pass(argc ? argv[i] : NULL);
	dphp_fshut();
	return r;
}
