/*
 * dphp-route - the Infrastructure layer on a stream: validate envelopes,
 * describe them, and select them by destination.
 *
 *	dphp-route [-Diuv] [-m pattern ...] [file ...]
 *
 * A stream has no clock of its own: an event whose delay is still in
 * the future is refused unless -i says to deliver delays at once (the
 * order of the input is then the order of delivery, which is what a
 * test that plays the scheduler wants).
 */
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "dphp.h"

static const char synopsis[] =
    "dphp-route [-Diuv] [-m pattern ...] [file ...]";
static const char options[] =
    "  -D          print each event's flat description instead\n"
    "  -i          deliver delayed events at once, in input order\n"
    "  -m pattern  pass only events whose destination matches the glob "
    "(repeatable)\n"
    "  -u          flush after every record\n"
    "  -v          pass only events that match no pattern\n"
    "  -h, --help     this help\n"
    "  -V, --version  the version\n";

static int Dflag, iflag, vflag;
static char **patterns;
static int npatterns;

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

static int
route(struct dphp_reader *rd, json_t *env, struct dphp_desc *d, void *arg)
{
	const int64_t *now = arg;
	json_t *desc;

	if (!selected(d->to))
		return 0;
	if (d->delay != NULL && d->delay_ms > *now && !iflag) {
		dphp_reader_error(rd, "event %s is delayed until %s; a stream "
		    "cannot wait (use -i to deliver it now)", d->id, d->delay);
		return DPHP_EXIT_INPUT;
	}
	if (Dflag) {
		desc = dphp_desc_json(d);
		dphp_write(desc);
		json_decref(desc);
	} else
		dphp_write(env);
	return 0;
}

int
main(int argc, char *argv[])
{
	int64_t now;
	int c, r;

	dphp_setprog("dphp-route");
	patterns = xcalloc(argc, sizeof(*patterns));
	while ((c = getopt_long(argc, argv, "Dhim:uVv", dphp_longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'D':
			Dflag = 1;
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
	if (vflag && npatterns == 0)
		dphp_usage(synopsis);
	now = dphp_now_ms();
	r = dphp_each_event(argc, argv, route, &now);
	free(patterns);
	dphp_fshut();
	return r;
}
