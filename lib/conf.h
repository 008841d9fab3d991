/*
 * conf.h - line files (conf.c): the policy and mapping files.
 */
#ifndef DPHP_CONF_H
#define DPHP_CONF_H

#include <stddef.h>

/*
 * conf.c: read a line file (policy, mapping): fn gets each entry (its
 * comment cut off, blank lines skipped) and returns 0, or -1 with why
 * it is refused, which stops the reading, located.  0, or -1
 * (reported).
 */
typedef int dphp_conf_fn(char *line, unsigned long no, void *arg,
    char *why, size_t whysz);
int dphp_conf_read(const char *path, const char *what, dphp_conf_fn *,
    void *arg);

#endif
