/*
 * sink.c - committed states written out for a read model (dphp-project
 * follow): the journal's lines as they are, documents, SQL for SQLite
 * or PostgreSQL, or Typesense's JSONL import.  The SQL is a script of
 * transactions, each ending with the checkpoint's update, and every
 * change in it guarded by the checkpoint: whatever was applied already
 * is skipped, so a script run again, or cut short and started over
 * from an earlier checkpoint, applies each change once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ndjson.h"
#include "projection.h"
#include "util.h"

static const char *const names[] = { "feed", "ndjson", "sqlite",
    "postgres", "typesense" };

/* the SQL type of each column type, and of the document */
static const char *const sqltypes[][5] = {
	[DPHP_SINK_SQLITE] = { "TEXT", "INTEGER", "REAL", "BOOLEAN", "TEXT" },
	[DPHP_SINK_POSTGRES] = { "text", "bigint", "double precision",
	    "boolean", "jsonb" },
};

int
dphp_sink_parse(const char *s, enum dphp_sink_format *f)
{
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (strcmp(s, names[i]) == 0) {
			*f = i;
			return 0;
		}
	return -1;
}

static int
sql(const struct dphp_sink *s)
{
	return s->format == DPHP_SINK_SQLITE || s->format == DPHP_SINK_POSTGRES;
}

/* s as an SQL string literal, appended to out */
static void
quote(FILE *out, const char *s, size_t n)
{
	size_t i;

	putc('\'', out);
	for (i = 0; i < n; i++) {
		if (s[i] == '\'')
			putc('\'', out);
		putc(s[i], out);
	}
	putc('\'', out);
}

static void
quotejson(FILE *out, json_t *v)
{
	char *text = dphp_json_text(v, NULL);

	quote(out, text, strlen(text));
	free(text);
}

/* A column's value as its type wants it, or NULL. */
static json_t *
typed(json_t *v, enum dphp_column_type t)
{
	char *text;
	json_t *r;

	if (v == NULL || json_is_null(v))
		return NULL;
	switch (t) {
	case DPHP_COLUMN_TEXT:
		if (json_is_string(v))
			return json_incref(v);
		text = dphp_json_text(v, NULL);
		r = json_string(text);
		free(text);
		return r;
	case DPHP_COLUMN_INTEGER:
		return json_is_integer(v) ? json_incref(v) : NULL;
	case DPHP_COLUMN_REAL:
		return json_is_number(v) ? json_real(json_number_value(v)) :
		    NULL;
	case DPHP_COLUMN_BOOLEAN:
		return json_is_boolean(v) ? json_incref(v) : NULL;
	case DPHP_COLUMN_JSON:
		return json_incref(v);
	}
	return NULL;
}

/* v (from typed()) as an SQL value of type t */
static void
sqlvalue(const struct dphp_sink *s, json_t *v, int t)
{
	FILE *out = stdout;

	fputs("CAST(", out);
	if (v == NULL)
		fputs("NULL", out);
	else if (t == DPHP_COLUMN_JSON)
		quotejson(out, v);
	else if (json_is_string(v))	/* SQL text ends at a NUL */
		quote(out, json_string_value(v), strlen(json_string_value(v)));
	else if (json_is_integer(v))
		fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		dphp_json_fput(v, out);
	else
		fputs(json_is_true(v) ? "TRUE" : "FALSE", out);
	fprintf(out, " AS %s)", sqltypes[s->format][t]);
}

static void
qident(const char *s)
{
	printf("\"%s\"", s);	/* mapping.c lets only [A-Za-z0-9_] in */
}

/* the guard of a change: the checkpoint is before it */
static void
guard(const struct dphp_sink *s, json_int_t seq)
{
	printf("(SELECT seq FROM dphp_checkpoint WHERE feed = ");
	quote(stdout, s->feed, strlen(s->feed));
	printf(") < %" JSON_INTEGER_FORMAT, seq);
}

static void
begin(struct dphp_sink *s)
{
	if (!s->intx)
		fputs("BEGIN;\n", stdout);
	s->intx = 1;
}

static void
schema(struct dphp_sink *s)
{
	const struct dphp_map *m, *done;
	size_t i, k, c;

	begin(s);
	printf("CREATE TABLE IF NOT EXISTS dphp_checkpoint (feed %s PRIMARY "
	    "KEY, seq %s NOT NULL);\n", sqltypes[s->format][0],
	    sqltypes[s->format][1]);
	printf("INSERT INTO dphp_checkpoint (feed, seq) VALUES (");
	quote(stdout, s->feed, strlen(s->feed));
	printf(", 0) ON CONFLICT (feed) DO NOTHING;\n");
	for (i = 0; i < s->map->n; i++) {
		m = &s->map->v[i];
		for (k = 0, done = NULL; k < i && done == NULL; k++)
			if (strcasecmp(s->map->v[k].table, m->table) == 0)
				done = m;
		if (done != NULL)
			continue;
		printf("CREATE TABLE IF NOT EXISTS ");
		qident(m->table);
		printf(" (id %s PRIMARY KEY, etag %s NOT NULL, seq %s NOT "
		    "NULL", sqltypes[s->format][0], sqltypes[s->format][0],
		    sqltypes[s->format][1]);
		for (c = 0; c < m->ncols; c++) {
			printf(", ");
			qident(m->cols[c].name);
			printf(" %s", sqltypes[s->format][m->cols[c].type]);
		}
		if (m->ncols == 0)
			printf(", doc %s NOT NULL", sqltypes[s->format][4]);
		printf(");\n");
	}
}

int
dphp_sink_begin(struct dphp_sink *s)
{
	if (sql(s))
		schema(s);
	return 0;
}

static void
upsert(struct dphp_sink *s, const struct dphp_map *m, json_t *line,
    json_int_t seq)
{
	json_t *state = json_object_get(line, "state"), *v;
	const char *id = json_string_value(json_object_get(line, "id"));
	const char *etag = json_string_value(json_object_get(line, "etag"));
	size_t c;

	printf("INSERT INTO ");
	qident(m->table);
	printf(" (id, etag, seq");
	for (c = 0; c < m->ncols; c++) {
		printf(", ");
		qident(m->cols[c].name);
	}
	printf(m->ncols ? ") SELECT " : ", doc) SELECT ");
	quote(stdout, id, strlen(id));
	printf(", ");
	quote(stdout, etag, strlen(etag));
	printf(", %" JSON_INTEGER_FORMAT, seq);
	for (c = 0; c < m->ncols; c++) {
		printf(", ");
		v = typed(dphp_path_get(state, m->cols[c].path),
		    m->cols[c].type);
		sqlvalue(s, v, m->cols[c].type);
		json_decref(v);
	}
	if (m->ncols == 0) {
		printf(", ");
		sqlvalue(s, state, DPHP_COLUMN_JSON);
	}
	printf(" WHERE ");
	guard(s, seq);
	printf(" ON CONFLICT (id) DO UPDATE SET etag = excluded.etag, "
	    "seq = excluded.seq");
	for (c = 0; c < m->ncols; c++) {
		printf(", ");
		qident(m->cols[c].name);
		printf(" = excluded.");
		qident(m->cols[c].name);
	}
	printf(m->ncols ? ";\n" : ", doc = excluded.doc;\n");
}

static void
delete(struct dphp_sink *s, const struct dphp_map *m, json_t *line,
    json_int_t seq)
{
	const char *id = json_string_value(json_object_get(line, "id"));

	printf("DELETE FROM ");
	qident(m->table);
	printf(" WHERE id = ");
	quote(stdout, id, strlen(id));
	printf(" AND ");
	guard(s, seq);
	printf(";\n");
}

/* The document of a line: its mapped columns, or its whole state. */
static json_t *
document(const struct dphp_map *m, json_t *line, int typesense)
{
	json_t *state = json_object_get(line, "state"), *doc, *v;
	size_t c;

	if (m->ncols == 0)
		return typesense ? json_pack("{sO}", "doc", state) :
		    json_incref(state);
	doc = json_object();
	for (c = 0; c < m->ncols; c++) {
		v = typed(dphp_path_get(state, m->cols[c].path),
		    m->cols[c].type);
		if (v != NULL || !typesense)
			json_object_set_new(doc, m->cols[c].name, v ? v :
			    json_null());
	}
	return doc;
}

int
dphp_sink_line(struct dphp_sink *s, const struct dphp_map *m, json_t *line)
{
	json_int_t seq = json_integer_value(json_object_get(line, "seq"));
	int deleted = json_is_true(json_object_get(line, "deleted"));
	json_t *out, *doc;

	switch (s->format) {
	case DPHP_SINK_FEED:
		dphp_write(line);
		return 0;
	case DPHP_SINK_SQLITE:
	case DPHP_SINK_POSTGRES:
		begin(s);
		(deleted ? delete : upsert)(s, m, line, seq);
		return ferror(stdout) ? DPHP_EXIT_SYS : 0;
	case DPHP_SINK_NDJSON:
		out = json_pack("{sIsssO}", "seq", seq, "table", m->table, "id",
		    json_object_get(line, "id"));
		if (deleted)
			json_object_set_new(out, "deleted", json_true());
		else {
			json_object_set(out, "etag", json_object_get(line,
			    "etag"));
			json_object_set_new(out, "doc", document(m, line, 0));
		}
		break;
	case DPHP_SINK_TYPESENSE:
		out = json_pack("{sOsI}", "id", json_object_get(line, "id"),
		    "seq", seq);
		if (deleted)
			json_object_set_new(out, "deleted", json_true());
		else {
			json_object_set(out, "etag", json_object_get(line,
			    "etag"));
			doc = document(m, line, 1);
			json_object_update(out, doc);
			json_decref(doc);
		}
		break;
	default:
		return 0;
	}
	dphp_write(out);
	json_decref(out);
	return 0;
}

int
dphp_sink_tick(struct dphp_sink *s, json_int_t settled)
{
	if (sql(s)) {
		begin(s);
		printf("UPDATE dphp_checkpoint SET seq = %" JSON_INTEGER_FORMAT
		    " WHERE feed = ", settled);
		quote(stdout, s->feed, strlen(s->feed));
		printf(" AND seq < %" JSON_INTEGER_FORMAT ";\nCOMMIT;\n",
		    settled);
		s->intx = 0;
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		dphp_error("write error on <stdout>:");
		return DPHP_EXIT_SYS;
	}
	return 0;
}
