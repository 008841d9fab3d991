/*
 * jsonout.c - JSON text as dphp writes it: compact, keys in the order
 * they were made, like jansson's JSON_COMPACT, but a real number in the
 * shortest form that reads back to the same double.  jansson prints
 * every real with 17 significant digits, so that 19.99 read from an
 * event would leave as 19.989999999999998: numbers must come out of
 * dphp as they came in (dphp-event(5)).  Integers are jansson's, exact
 * to 2^63; strings are escaped as jansson escapes them.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ndjson.h"
#include "util.h"

struct out {
	char *buf;
	size_t len, cap;
};

static void
grow(struct out *o, size_t n)
{
	if (o->len + n + 1 <= o->cap)
		return;
	while (o->len + n + 1 > o->cap)
		o->cap = o->cap ? o->cap * 2 : 256;
	o->buf = xrealloc(o->buf, o->cap);
}

static void
put(struct out *o, const char *s, size_t n)
{
	grow(o, n);
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void
putc1(struct out *o, char c)
{
	grow(o, 1);
	o->buf[o->len++] = c;
}

static void
string(struct out *o, const char *s, size_t n)
{
	const char *run = s, *end = s + n;
	char esc[8];

	putc1(o, '"');
	for (; s < end; s++) {
		unsigned char c = *s;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(o, run, s - run);
		run = s + 1;
		switch (c) {
		case '"':
			put(o, "\\\"", 2);
			break;
		case '\\':
			put(o, "\\\\", 2);
			break;
		case '\b':
			put(o, "\\b", 2);
			break;
		case '\f':
			put(o, "\\f", 2);
			break;
		case '\n':
			put(o, "\\n", 2);
			break;
		case '\r':
			put(o, "\\r", 2);
			break;
		case '\t':
			put(o, "\\t", 2);
			break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04X", c);
			put(o, esc, 6);
		}
	}
	put(o, run, s - run);
	putc1(o, '"');
}

/*
 * The fewest significant digits that read back to d: 15 is enough for
 * any decimal of 15 digits or fewer (DBL_DIG), so a double that came
 * from one prints as it was written; beyond, 16 or 17.  A subnormal
 * may need fewer than %.15g gives, so it tries from 1.
 */
static void
real(struct out *o, double d)
{
	char buf[40], *e, *from, *to;
	int prec = fabs(d) < DBL_MIN ? 1 : DBL_DIG;

	for (; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (prec == 17)
		snprintf(buf, sizeof(buf), "%.17g", d);
	/* as jansson: a dot or an exponent, so that it stays a real;
	 * no '+' nor leading zeros in the exponent */
	if (strchr(buf, '.') == NULL && strchr(buf, 'e') == NULL)
		strcat(buf, ".0");
	if ((e = strchr(buf, 'e')) != NULL) {
		from = to = e + 1;
		if (*from == '+')
			from++;
		else if (*from == '-')
			from = ++to;
		while (*from == '0' && from[1] != '\0')
			from++;
		memmove(to, from, strlen(from) + 1);
	}
	put(o, buf, strlen(buf));
}

static void
value(struct out *o, json_t *v)
{
	const char *key;
	char buf[32];
	json_t *e;
	size_t i, n;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		putc1(o, '{');
		n = 0;
		json_object_foreach(v, key, e) {
			if (n++ > 0)
				putc1(o, ',');
			string(o, key, strlen(key));
			putc1(o, ':');
			value(o, e);
		}
		putc1(o, '}');
		break;
	case JSON_ARRAY:
		putc1(o, '[');
		json_array_foreach(v, i, e) {
			if (i > 0)
				putc1(o, ',');
			value(o, e);
		}
		putc1(o, ']');
		break;
	case JSON_STRING:
		string(o, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		n = snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		put(o, buf, n);
		break;
	case JSON_REAL:
		real(o, json_real_value(v));
		break;
	case JSON_TRUE:
		put(o, "true", 4);
		break;
	case JSON_FALSE:
		put(o, "false", 5);
		break;
	case JSON_NULL:
		put(o, "null", 4);
		break;
	}
}

char *
dphp_json_text(json_t *v, size_t *lenp)
{
	struct out o = { NULL, 0, 0 };

	value(&o, v);
	grow(&o, 0);
	o.buf[o.len] = '\0';
	if (lenp != NULL)
		*lenp = o.len;
	return o.buf;
}

int
dphp_json_fput(json_t *v, FILE *fp)
{
	size_t len;
	char *text = dphp_json_text(v, &len);
	int r = fwrite(text, 1, len, fp) == len ? 0 : -1;

	free(text);
	return r;
}
