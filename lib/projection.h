/*
 * projection.h - read models, dphp-project(1): which table and columns
 * a state goes to (mapping.c), and the journal's lines written out
 * for them (sink.c).
 */
#ifndef DPHP_PROJECTION_H
#define DPHP_PROJECTION_H

#include "id.h"

/* mapping.c: tables and columns of dphp-project follow's sinks */
enum dphp_column_type {
	DPHP_COLUMN_TEXT, DPHP_COLUMN_INTEGER, DPHP_COLUMN_REAL,
	DPHP_COLUMN_BOOLEAN, DPHP_COLUMN_JSON
};
struct dphp_column {
	char *name;
	char *path;		/* .a.b within the stored state */
	enum dphp_column_type type;
};
struct dphp_map {
	enum dphp_kind kind;	/* DPHP_KIND_NONE: any */
	char *name;		/* a glob */
	char *table;
	struct dphp_column *cols;	/* none: the whole state, as doc */
	size_t ncols;
};
struct dphp_mapping {
	struct dphp_map *v;
	size_t n;
};
/* load a mapping file (errors located and reported): NULL on error */
struct dphp_mapping *dphp_mapping_load(const char *path);
struct dphp_mapping *dphp_mapping_default(void);	/* all in "states" */
void dphp_mapping_free(struct dphp_mapping *);
/* the first map for id, or NULL */
const struct dphp_map *dphp_mapping_find(const struct dphp_mapping *,
    const struct dphp_id *);
/* what path (.a.b.0) names within doc, or NULL (borrowed) */
json_t *dphp_path_get(json_t *doc, const char *path);

/* sink.c: journal lines written out for a read model, on stdout */
enum dphp_sink_format {
	DPHP_SINK_FEED, DPHP_SINK_NDJSON, DPHP_SINK_SQLITE, DPHP_SINK_POSTGRES,
	DPHP_SINK_TYPESENSE
};
struct dphp_sink {
	enum dphp_sink_format format;
	const struct dphp_mapping *map;
	const char *feed;	/* its row in dphp_checkpoint */
	int intx;		/* a transaction is open */
};
int dphp_sink_parse(const char *, enum dphp_sink_format *);	/* 0, -1 */
int dphp_sink_begin(struct dphp_sink *);	/* the SQL schema */
/* one journal line, for the table m (DPHP_SINK_FEED: NULL) */
int dphp_sink_line(struct dphp_sink *, const struct dphp_map *m,
    json_t *line);
/* all up to settled is written: the checkpoint, a commit, a flush */
int dphp_sink_tick(struct dphp_sink *, json_int_t settled);

#endif
