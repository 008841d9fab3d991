/*
 * conf.c - the line files of dphp (the policy, the mapping): an entry a
 * line, what follows a '#' a comment, blank lines skipped, and an entry
 * refused located as FILE:LINE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "util.h"

int
dphp_conf_read(const char *path, const char *what, dphp_conf_fn *fn,
    void *arg)
{
	char *line = NULL, *hash, why[512];
	size_t cap = 0;
	unsigned long no = 0;
	FILE *f;
	int r = 0;

	if ((f = fopen(path, "re")) == NULL) {
		dphp_error("cannot open the %s '%s':", what, path);
		return -1;
	}
	while (r == 0 && getline(&line, &cap, f) >= 0) {
		no++;
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		line[strcspn(line, "\n")] = '\0';
		if (line[strspn(line, " \t")] == '\0')
			continue;
		if (fn(line, no, arg, why, sizeof(why)) != 0) {
			dphp_at_line(path, no, "%s", why);
			r = -1;
		}
	}
	if (r == 0 && ferror(f)) {
		dphp_error("cannot read the %s '%s':", what, path);
		r = -1;
	}
	free(line);
	fclose(f);
	return r;
}
