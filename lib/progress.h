/*
 * progress.h - how far long work has gone, on a terminal (progress.c).
 */
#ifndef DPHP_PROGRESS_H
#define DPHP_PROGRESS_H

#include <stdint.h>

/* count things called what (a plural: "lines"), of total (< 0: not
 * known); nothing is shown unless stderr is a terminal and stdout not */
void dphp_progress_begin(const char *what, int64_t total);
void dphp_progress_add(int64_t n);
/* clear the line: the work is done, or over */
void dphp_progress_end(void);

#endif
