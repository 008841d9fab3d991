/*
 * trace.c - what each journal line did, read off the states before and
 * after it (dphp-replay -J -s), and an orchestration's steps drawn as a
 * Mermaid sequence diagram (-M).  An orchestration's state keeps its
 * history, so a step says which actions it issued, which results
 * arrived, which await point they were bound to, and where it blocks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "util.h"

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* an action as the step shows it: what the handler asked, numbered */
static json_t *
issued(json_t *a, size_t i)
{
	json_t *v = json_deep_copy(a);

	json_object_del(v, "result");
	json_object_del(v, "arrived");
	json_object_set_new(v, "action", json_integer(i));
	return v;
}

static void
orchestration(json_t *step, json_t *before, json_t *after)
{
	json_t *prev = json_object_get(before, "actions"), *acts, *a, *w, *pw;
	json_t *list;
	size_t i;

	/* a new generation starts over */
	if (before == NULL || !json_equal(json_object_get(before,
	    "generation"), json_object_get(after, "generation"))) {
		prev = NULL;
		before = NULL;
		json_object_set(step, "generation", json_object_get(after,
		    "generation"));
	}
	json_object_set(step, "status", json_object_get(after, "status"));
	acts = json_object_get(after, "actions");
	list = json_array();
	json_array_foreach(acts, i, a)
		if (json_object_get(a, "result") != NULL && (i >=
		    json_array_size(prev) || json_object_get(json_array_get(
		    prev, i), "result") == NULL))
			json_array_append_new(list, json_pack("{sIsOsO}",
			    "action", (json_int_t)i, "id", json_object_get(a,
			    "id"), "result", json_object_get(a, "result")));
	if (json_array_size(list) > 0)
		json_object_set(step, "applied", list);
	json_decref(list);
	list = json_array();
	json_array_foreach(json_object_get(after, "awaits"), i, w) {
		pw = json_array_get(json_object_get(before, "awaits"), i);
		if (pw == NULL || json_array_size(json_object_get(pw,
		    "results")) != json_array_size(json_object_get(w,
		    "results"))) {
			w = json_deep_copy(w);
			json_object_set_new(w, "await", json_integer(i));
			json_array_append_new(list, w);
		}
	}
	if (json_array_size(list) > 0)
		json_object_set(step, "bound", list);
	json_decref(list);
	list = json_array();
	for (i = json_array_size(prev); i < json_array_size(acts); i++)
		json_array_append_new(list, issued(json_array_get(acts, i), i));
	if (json_array_size(list) > 0)
		json_object_set(step, "emitted", list);
	json_decref(list);
	if (!json_equal(json_object_get(before, "blocked"), json_object_get(
	    after, "blocked")))
		json_object_set(step, "blocked", json_object_get(after,
		    "blocked"));
	if (!json_equal(json_object_get(before, "custom"), json_object_get(
	    after, "custom")) && json_object_get(after, "custom") != NULL)
		json_object_set(step, "custom", json_object_get(after,
		    "custom"));
	if (json_object_get(after, "output") != NULL && (before == NULL ||
	    json_object_get(before, "output") == NULL))
		json_object_set(step, "output", json_object_get(after,
		    "output"));
	if (json_object_get(after, "error") != NULL && (before == NULL ||
	    json_object_get(before, "error") == NULL))
		json_object_set(step, "error", json_object_get(after, "error"));
}

json_t *
dphp_trace_step(json_t *before, json_t *line)
{
	json_t *after = json_object_get(line, "state"), *step;
	struct dphp_id id;

	step = json_pack("{sOsOsOsO}", "seq", json_object_get(line, "seq"),
	    "at", json_object_get(line, "at"), "id", json_object_get(line,
	    "id"), "etag", json_object_get(line, "etag"));
	if (json_object_get(line, "cause") != NULL)
		json_object_set(step, "cause", json_object_get(line, "cause"));
	if (after == NULL) {
		json_object_set_new(step, "deleted", json_true());
		return step;
	}
	dphp_id_parse(str(line, "id"), &id, NULL, 0);
	if (id.kind == DPHP_KIND_ORCHESTRATION && json_is_object(after))
		orchestration(step, before, after);
	else if (id.kind == DPHP_KIND_ENTITY) {
		json_object_set(step, "before", before ? json_object_get(before,
		    "state") : json_null());
		json_object_set(step, "after", json_object_get(after, "state"));
	} else {
		json_object_set(step, "before", before ? before : json_null());
		json_object_set(step, "after", after);
	}
	return step;
}

/* the Mermaid diagram */

struct diagram {
	json_t *who;		/* id -> alias */
	FILE *out;
};

/* A text fit for a message: what breaks Mermaid's syntax left out. */
static void
say(FILE *out, const char *s)
{
	size_t n = 0;

	for (; *s != '\0' && n < 72; s++, n++)
		putc(strchr(";#\n\r", *s) ? ' ' : *s, out);
	if (*s != '\0')
		fputs("...", out);
}

static void
sayjson(FILE *out, json_t *v)
{
	char *text = dphp_json_text(v, NULL);

	say(out, text ? text : "?");
	free(text);
}

/* The alias of a participant, declared the first time it is named. */
static const char *
alias(struct diagram *g, const char *id)
{
	json_t *a = json_object_get(g->who, id);
	char name[32];

	if (a == NULL) {
		snprintf(name, sizeof(name), "P%zu", json_object_size(g->who));
		a = json_string(name);
		json_object_set_new(g->who, id, a);
		fprintf(g->out, "    participant %s as ", name);
		say(g->out, id);
		putc('\n', g->out);
	}
	return json_string_value(a);
}

/* who answers action a: its target, or NULL for the instance itself */
static const char *
counterpart(json_t *a)
{
	const char *kind = str(a, "kind");

	if (strcmp(kind, "call") == 0 || strcmp(kind, "signal") == 0)
		return str(a, "to");
	if (strcmp(kind, "activity") == 0 || strcmp(kind, "start") == 0)
		return str(a, "target");
	if (strcmp(kind, "event") == 0)
		return "outside";
	return NULL;
}

static void
emitted(struct diagram *g, json_t *a)
{
	const char *kind = str(a, "kind"), *to = counterpart(a);

	if (to != NULL && strcmp(kind, "event") == 0) {
		fprintf(g->out, "    Note over O: waits for event ");
		say(g->out, str(a, "name"));
	} else if (to != NULL) {
		alias(g, to);
		fprintf(g->out, "    O->>%s: %s ", alias(g, to), kind);
		say(g->out, str(a, "op") ? str(a, "op") : str(a, "name") ?
		    str(a, "name") : "");
		fprintf(g->out, " (%s)", str(a, "id"));
	} else {
		fprintf(g->out, "    Note over O: %s ", kind);
		if (json_object_get(a, "entities"))
			sayjson(g->out, json_object_get(a, "entities"));
		else if (str(a, "at"))
			say(g->out, str(a, "at"));
	}
	putc('\n', g->out);
}

static void
applied(struct diagram *g, json_t *acts, json_t *r)
{
	json_t *a = json_array_get(acts, json_integer_value(json_object_get(r,
	    "action")));
	json_t *res = json_object_get(r, "result");
	const char *to = a ? counterpart(a) : NULL;

	if (to != NULL)
		fprintf(g->out, "    %s-->>O: ", alias(g, to));
	else
		fprintf(g->out, "    Note over O: ");
	fputs(json_is_true(json_object_get(res, "ok")) ? "ok " : "failed ",
	    g->out);
	sayjson(g->out, json_object_get(res, json_is_true(json_object_get(res,
	    "ok")) ? "value" : "reason"));
	if (a != NULL && to == NULL)
		fprintf(g->out, " (%s)", str(a, "kind"));
	putc('\n', g->out);
}

int
dphp_trace_mermaid(const char *id, json_t *steps, FILE *out)
{
	struct diagram g = { json_object(), out };
	json_t *s, *v, *acts = json_array();
	const char *was = "", *status;
	size_t i, k, known;

	fprintf(out, "sequenceDiagram\n    participant O as ");
	say(out, id);
	putc('\n', out);
	json_array_foreach(steps, i, s) {
		if (json_object_get(s, "generation") != NULL) {
			json_array_clear(acts);
			if (i > 0)
				fprintf(out, "    Note over O: generation "
				    "%lld\n", (long long)json_integer_value(
				    json_object_get(s, "generation")));
		}
		/* results for what it asked before; what it asks now; and
		 * results bound at once (an event raised early) */
		known = json_array_size(acts);
		json_array_extend(acts, json_object_get(s, "emitted"));
		json_array_foreach(json_object_get(s, "applied"), k, v)
			if ((size_t)json_integer_value(json_object_get(v,
			    "action")) < known)
				applied(&g, acts, v);
		json_array_foreach(json_object_get(s, "bound"), k, v)
			fprintf(out, "    Note over O: await %lld bound\n",
			    (long long)json_integer_value(json_object_get(v,
			    "await")));
		json_array_foreach(json_object_get(s, "emitted"), k, v)
			emitted(&g, v);
		json_array_foreach(json_object_get(s, "applied"), k, v)
			if ((size_t)json_integer_value(json_object_get(v,
			    "action")) >= known)
				applied(&g, acts, v);
		status = json_object_get(s, "deleted") ? "deleted" : str(s,
		    "status");
		if (json_object_get(s, "output") || json_object_get(s,
		    "error")) {
			fprintf(out, "    Note over O: %s ", status);
			sayjson(out, json_object_get(s, json_object_get(s,
			    "output") ? "output" : "error"));
			putc('\n', out);
		} else if (status != NULL && strcmp(status, was) != 0)
			fprintf(out, "    Note over O: %s\n", status);
		was = status ? status : "";
	}
	json_decref(acts);
	json_decref(g.who);
	return ferror(out) ? DPHP_EXIT_SYS : 0;
}
