/*
 * mapping.c - the mapping file of dphp-project follow: which table (or
 * collection) the states of each kind and name go to, and which fields
 * of a state become which columns.  One line a mapping, the first that
 * matches wins:
 *
 *	KIND NAME TABLE [COLUMN=PATH[:TYPE] ...]
 *
 * PATH is .a.b.0 within the stored state (. is all of it); TYPE is
 * text (the default), integer, real, boolean or json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "projection.h"
#include "util.h"

static const char *const types[] = { "text", "integer", "real", "boolean",
    "json" };
/* the columns every table has */
static const char *const own[] = { "id", "etag", "seq", "doc" };

static int
identifier(const char *s)
{
	static const char first[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz_";
	size_t n = strlen(s);

	return n > 0 && n <= 63 && strchr(first, *s) != NULL &&
	    s[strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmno"
	    "pqrstuvwxyz_")] == '\0';
}

/* .a.b.0: every step a run of [A-Za-z0-9_-] */
static int
pathvalid(const char *p)
{
	size_t n;

	if (strcmp(p, ".") == 0)
		return 1;
	while (*p == '.') {
		n = strspn(p + 1, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijk"
		    "lmnopqrstuvwxyz_-");
		if (n == 0)
			return 0;
		p += 1 + n;
	}
	return *p == '\0';
}

/* COLUMN=PATH[:TYPE] into c: NULL, or why not. */
static const char *
column(char *w, struct dphp_column *c)
{
	char *path, *type;
	size_t i;

	if ((path = strchr(w, '=')) == NULL)
		return "want COLUMN=PATH[:TYPE] after the table";
	*path++ = '\0';
	if ((type = strchr(path, ':')) != NULL)
		*type++ = '\0';
	if (!identifier(w))
		return "a column is a name of letters, digits and _";
	for (i = 0; i < sizeof(own) / sizeof(*own); i++)
		if (strcasecmp(w, own[i]) == 0)
			return "id, etag, seq and doc are columns of every table";
	if (!pathvalid(path))
		return "a path is . or .field.field... (letters, digits, _, -)";
	c->type = DPHP_COLUMN_TEXT;
	if (type != NULL) {
		for (i = 0; i < sizeof(types) / sizeof(*types); i++)
			if (strcmp(type, types[i]) == 0)
				break;
		if (i == sizeof(types) / sizeof(*types))
			return "the type must be text, integer, real, boolean "
			    "or json";
		c->type = i;
	}
	c->name = xstrdup(w);
	c->path = xstrdup(path);
	return NULL;
}

static void
freemap(struct dphp_map *m)
{
	size_t i;

	for (i = 0; i < m->ncols; i++) {
		free(m->cols[i].name);
		free(m->cols[i].path);
	}
	free(m->cols);
	free(m->name);
	free(m->table);
}

/* The same table twice must have the same columns. */
static int
samecols(const struct dphp_map *a, const struct dphp_map *b)
{
	size_t i;

	if (a->ncols != b->ncols)
		return 0;
	for (i = 0; i < a->ncols; i++)
		if (strcmp(a->cols[i].name, b->cols[i].name) != 0 ||
		    a->cols[i].type != b->cols[i].type)
			return 0;
	return 1;
}

/* Parse line (cut into words in place) into m: 0, or -1 and why not. */
static int
map(const struct dphp_mapping *all, char *line, struct dphp_map *m,
    char *why, size_t whysz)
{
	char *w[3], *rest, *save = NULL;
	const char *bad;
	size_t i, k;

	for (i = 0; i < 3; i++)
		if ((w[i] = strtok_r(i ? NULL : line, " \t", &save)) == NULL)
			return dphp_why(why, whysz, "want KIND NAME TABLE "
			    "[COLUMN=PATH[:TYPE] ...]");
	if (dphp_selector_parse(w[0], w[1], &m->kind, why, whysz) != 0)
		return -1;
	m->name = xstrdup(w[1]);
	if (!identifier(w[2]) || strcasecmp(w[2], "dphp_checkpoint") == 0)
		return dphp_why(why, whysz, "a table is a name of letters, "
		    "digits and _ (not dphp_checkpoint)");
	m->table = xstrdup(w[2]);
	while ((rest = strtok_r(NULL, " \t", &save)) != NULL) {
		m->cols = xrealloc(m->cols, (m->ncols + 1) * sizeof(*m->cols));
		if ((bad = column(rest, &m->cols[m->ncols])) != NULL)
			return dphp_why(why, whysz, "%s", bad);
		for (k = 0; k < m->ncols; k++)
			if (strcasecmp(m->cols[k].name, m->cols[m->ncols].name)
			    == 0) {
				m->ncols++;
				return dphp_why(why, whysz, "a column named "
				    "twice");
			}
		m->ncols++;
	}
	for (i = 0; i < all->n; i++)
		if (strcasecmp(all->v[i].table, m->table) == 0 &&
		    !samecols(&all->v[i], m))
			return dphp_why(why, whysz, "a table mapped before "
			    "with other columns");
	return 0;
}

/* One line of the file: a map more, or -1 and why not. */
static int
mapline(char *line, unsigned long no, void *arg, char *why, size_t whysz)
{
	struct dphp_mapping *mp = arg;
	struct dphp_map m;

	(void)no;
	memset(&m, 0, sizeof(m));
	if (map(mp, line, &m, why, whysz) != 0) {
		freemap(&m);
		return -1;
	}
	mp->v = xrealloc(mp->v, (mp->n + 1) * sizeof(*mp->v));
	mp->v[mp->n++] = m;
	return 0;
}

struct dphp_mapping *
dphp_mapping_load(const char *path)
{
	struct dphp_mapping *mp = xcalloc(1, sizeof(*mp));

	if (dphp_conf_read(path, "mapping", mapline, mp) != 0) {
		dphp_mapping_free(mp);
		return NULL;
	}
	return mp;
}

/* Without a mapping file: every state, whole, in one table. */
struct dphp_mapping *
dphp_mapping_default(void)
{
	struct dphp_mapping *mp = xcalloc(1, sizeof(*mp));

	mp->v = xcalloc(1, sizeof(*mp->v));
	mp->v->kind = DPHP_KIND_NONE;
	mp->v->name = xstrdup("*");
	mp->v->table = xstrdup("states");
	mp->n = 1;
	return mp;
}

void
dphp_mapping_free(struct dphp_mapping *mp)
{
	size_t i;

	if (mp == NULL)
		return;
	for (i = 0; i < mp->n; i++)
		freemap(&mp->v[i]);
	free(mp->v);
	free(mp);
}

const struct dphp_map *
dphp_mapping_find(const struct dphp_mapping *mp, const struct dphp_id *id)
{
	size_t i;

	for (i = 0; i < mp->n; i++)
		if (dphp_selector_match(mp->v[i].kind, mp->v[i].name, id))
			return &mp->v[i];
	return NULL;
}

json_t *
dphp_path_get(json_t *doc, const char *path)
{
	char step[256];
	size_t n;
	char *end;
	long ix;

	if (strcmp(path, ".") == 0)
		return doc;
	while (doc != NULL && *path == '.') {
		n = strcspn(path + 1, ".");
		if (n >= sizeof(step))
			return NULL;
		memcpy(step, path + 1, n);
		step[n] = '\0';
		path += 1 + n;
		if (json_is_array(doc)) {
			ix = strtol(step, &end, 10);
			doc = *end == '\0' && ix >= 0 ? json_array_get(doc, ix) :
			    NULL;
		} else
			doc = json_object_get(doc, step);
	}
	return doc;
}
