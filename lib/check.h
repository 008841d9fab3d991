/*
 * check.h - for the checkers of the records a stage reads (envelope.c,
 * proposal.c), whose reason goes to the caller's why of whysz bytes:
 * FAIL writes it and returns -1.
 */
#ifndef DPHP_CHECK_H
#define DPHP_CHECK_H

#include <stdio.h>

#define FAIL(...) do { snprintf(why, whysz, __VA_ARGS__); return -1; } \
    while (0)

#endif
