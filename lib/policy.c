/*
 * policy.c - the policy file of dphp-policy(5): for each kind and name
 * of resource, its mode (anon, auth, explicit), who may create one, and
 * how long one lives.  One rule a line; the first that matches wins.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "conf.h"
#include "util.h"

struct dphp_policy {
	struct dphp_rule *rules;
	size_t n;
};

/* what no rule matches: nobody but an admin creates it */
static const struct dphp_rule closed = { DPHP_KIND_NONE, NULL,
    DPHP_MODE_EXPLICIT, NULL, 0, 0 };

static const char *const modes[] = { "explicit", "auth", "anon" };

const char *
dphp_mode_name(enum dphp_mode m)
{
	return modes[m];
}

/* One word of a rule after the mode: a creator or the time-to-live. */
static const char *
word(struct dphp_rule *r, char *w)
{
	const char *name;

	if (strncmp(w, "ttl=", 4) == 0) {
		if (r->ttl_ms != 0)
			return "more than one ttl=";
		if (dphp_duration_parse(w + 4, &r->ttl_ms) != 0 ||
		    r->ttl_ms < 1)
			return "ttl= needs a duration (90s, 15m, 2h, 1d)";
		return NULL;
	}
	if (strncmp(w, "user:", 5) == 0)
		name = w + 5;
	else if (strncmp(w, "role:", 5) == 0)
		name = w + 5;
	else
		return "want user:NAME, role:NAME or ttl=DURATION after the "
		    "mode";
	if (!dphp_user_valid(name))
		return "invalid user or role name";
	if (r->mode == DPHP_MODE_ANON)
		return "anyone creates an anon resource: no creators to list";
	if (r->creators == NULL)
		r->creators = json_array();
	w[4] = '\0';
	json_array_append_new(r->creators, json_pack("{ss}", w, name));
	return NULL;
}

/* Parse line (cut into words in place) into r: 0, or -1 and why not. */
static int
rule(char *line, struct dphp_rule *r, char *why, size_t whysz)
{
	char *w[3], *rest, *save = NULL;
	const char *bad;
	size_t i;

	for (i = 0; i < 3; i++)
		if ((w[i] = strtok_r(i ? NULL : line, " \t", &save)) == NULL)
			return dphp_why(why, whysz, "want KIND NAME MODE "
			    "[user:U|role:R ...] [ttl=DURATION]");
	if (dphp_selector_parse(w[0], w[1], &r->kind, why, whysz) != 0)
		return -1;
	r->name = xstrdup(w[1]);
	for (i = 0; i < 3 && strcmp(w[2], modes[i]) != 0; i++)
		;
	if (i == 3)
		return dphp_why(why, whysz, "the mode must be anon, auth or "
		    "explicit");
	r->mode = i;
	while ((rest = strtok_r(NULL, " \t", &save)) != NULL)
		if ((bad = word(r, rest)) != NULL)
			return dphp_why(why, whysz, "%s", bad);
	return 0;
}

static void
freerules(struct dphp_rule *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		json_decref(v[i].creators);
	}
	free(v);
}

/* One line of the file: a rule more, or -1 and why not. */
static int
ruleline(char *line, unsigned long no, void *arg, char *why, size_t whysz)
{
	struct dphp_policy *p = arg;
	struct dphp_rule r;

	memset(&r, 0, sizeof(r));
	r.line = no;
	if (rule(line, &r, why, whysz) != 0) {
		free(r.name);
		json_decref(r.creators);
		return -1;
	}
	p->rules = xrealloc(p->rules, (p->n + 1) * sizeof(*p->rules));
	p->rules[p->n++] = r;
	return 0;
}

struct dphp_policy *
dphp_policy_load(const char *path)
{
	struct dphp_policy *p = xcalloc(1, sizeof(*p));

	if (dphp_conf_read(path, "policy", ruleline, p) != 0) {
		dphp_policy_free(p);
		return NULL;
	}
	return p;
}

void
dphp_policy_free(struct dphp_policy *p)
{
	if (p == NULL)
		return;
	freerules(p->rules, p->n);
	free(p);
}

const struct dphp_rule *
dphp_policy_find(const struct dphp_policy *p, const struct dphp_id *id)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (dphp_selector_match(p->rules[i].kind, p->rules[i].name,
		    id))
			return &p->rules[i];
	return &closed;
}
