/*
 * clock.c - wall-clock time as the records carry it (RFC 3339 in UTC
 * with milliseconds), durations given on command lines, and fresh event
 * ids (UUIDv7: time-ordered, so a directory listing of ids sorts by
 * creation).  DPHP_NOW pins the clock for tests and offline replays.
 */
#include <sys/random.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "id.h"
#include "util.h"

int64_t
dphp_now_ms(void)
{
	struct timespec ts;
	const char *fixed;
	int64_t ms;

	if ((fixed = getenv("DPHP_NOW")) != NULL && fixed[0] != '\0') {
		if (dphp_time_parse(fixed, &ms) != 0)
			dphp_die(DPHP_EXIT_CONFIG,
			    "DPHP_NOW is not an RFC 3339 UTC time: '%s'", fixed);
		return ms;
	}
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		dphp_die(DPHP_EXIT_SYS, "clock_gettime:");
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
dphp_time_format(int64_t ms, char *buf)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char tmp[64];

	if (ms < 0)
		t = (time_t)((ms - 999) / 1000);

	gmtime_r(&t, &tm);
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms - (int64_t)t * 1000));
	memcpy(buf, tmp, 24);	/* years past 9999 are cut */
	buf[24] = '\0';
}

static int
digits(const char *s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
dphp_time_parse(const char *s, int64_t *ms)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int y, mo, d, h, mi, sec, frac = 0, scale = 1000, i, leap;
	struct tm tm;
	time_t t;

	if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' ||
	    digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d) ||
	    s[10] != 'T' || digits(s + 11, 2, &h) || s[13] != ':' ||
	    digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
		return -1;
	s += 19;
	if (*s == '.') {
		for (i = 1; s[i] >= '0' && s[i] <= '9'; i++)
			if (i <= 3) {
				frac = frac * 10 + (s[i] - '0');
				scale /= 10;
			}
		if (i == 1 || i > 10)
			return -1;
		s += i;
	}
	if (strcmp(s, "Z") != 0)
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 59)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*ms = (int64_t)t * 1000 + frac * scale;
	return 0;
}

int
dphp_duration_parse(const char *s, int64_t *ms)
{
	char *end;
	long long v;
	int64_t unit;

	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		return -1;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return -1;
	if (strcmp(end, "ms") == 0)
		unit = 1;
	else if (*end == '\0' || strcmp(end, "s") == 0)
		unit = 1000;
	else if (strcmp(end, "m") == 0)
		unit = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		unit = 3600 * 1000;
	else if (strcmp(end, "d") == 0)
		unit = 86400 * 1000;
	else
		return -1;
	/* a century is plenty and keeps the product far from overflow */
	if (v > 3153600000LL * 1000 / unit)
		return -1;
	*ms = v * unit;
	return 0;
}

void
dphp_uuid7(char out[37])
{
	unsigned char b[16];
	uint64_t ms = (uint64_t)dphp_now_ms();
	size_t got = 0;
	ssize_t n;
	int i;

	while (got < 10) {
		n = getrandom(b + 6 + got, 10 - got, 0);
		if (n < 0 && errno != EINTR)
			dphp_die(DPHP_EXIT_SYS, "getrandom:");
		if (n > 0)
			got += n;
	}
	for (i = 0; i < 6; i++)
		b[i] = ms >> (40 - 8 * i);
	b[6] = (b[6] & 0x0f) | 0x70;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* FNV-1a, 64 bits: a spreading function for ids, not a security one. */
static uint64_t
fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n-- > 0) {
		h ^= *s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* MurmurHash3's finalizer: every input bit reaches every output bit. */
static uint64_t
fmix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

void
dphp_derive_id(const char *parent, unsigned n, char out[37])
{
	unsigned char b[16];
	char num[16];
	uint64_t hi, lo;
	int i, len;

	/* the text of n, not its bytes: the same ids on every machine */
	len = snprintf(num, sizeof(num), ".%u", n);
	hi = fnv1a(0xcbf29ce484222325ULL, parent, strlen(parent));
	hi = fnv1a(hi, num, len);
	lo = fnv1a(hi ^ 0x9e3779b97f4a7c15ULL, parent, strlen(parent));
	lo = fnv1a(lo, num, len);
	hi = fmix64(hi);
	lo = fmix64(lo);
	for (i = 0; i < 8; i++) {
		b[i] = hi >> (56 - 8 * i);
		b[8 + i] = lo >> (56 - 8 * i);
	}
	b[6] = (b[6] & 0x0f) | 0x80;	/* UUIDv8: vendor-defined */
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

void
dphp_id_hash128(const char *id, uint64_t h[2])
{
	size_t n = strlen(id);

	h[0] = fmix64(fnv1a(0xcbf29ce484222325ULL, id, n));
	h[1] = fmix64(fnv1a(0x9e3779b97f4a7c15ULL, id, n) ^ h[0]);
}

uint32_t
dphp_id_hash(const char *id)
{
	return fmix64(fnv1a(0xcbf29ce484222325ULL, id, strlen(id))) >> 32;
}

int64_t
dphp_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
dphp_nap(int64_t ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = ms % 1000 * 1000000;
	nanosleep(&ts, NULL);
}
