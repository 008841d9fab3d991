/*
 * remover.h - files removed by a thread of their own, off the path of
 * the caller that decided their removal (remover.c).
 */
#ifndef DPHP_REMOVER_H
#define DPHP_REMOVER_H

struct dphp_remover;

/* a remover of files in the directory dfd (not closed by it), whose
 * trouble names them as "WHAT/NAME"; NULL with a message on failure */
struct dphp_remover *dphp_remover_start(int dfd, const char *what);

/*
 * Remove name, soon.  0, or -1 with a message when an earlier removal
 * failed (reported once; a file already gone is no failure).
 */
int dphp_remover_add(struct dphp_remover *, const char *name);

/* is name still to be removed (r may be NULL)? */
int dphp_remover_has(struct dphp_remover *, const char *name);

/* remove what is left, end the thread and free; 0, or -1 with a message
 * for a failure not reported yet */
int dphp_remover_stop(struct dphp_remover *);

#endif
