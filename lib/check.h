/*
 * check.h - for the checkers of the records a stage reads (envelope.c,
 * proposal.c), whose reason goes to the caller's buf of bufsz bytes
 * with *why pointing at it: FAIL says it and returns -1.
 */
#ifndef DPHP_CHECK_H
#define DPHP_CHECK_H

#include <stdio.h>

#define FAIL(...) do { snprintf(buf, bufsz, __VA_ARGS__); *why = buf; \
    return -1; } while (0)

#endif
