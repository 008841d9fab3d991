/*
 * jqhandler.h - handlers written in jq, DIR/KIND/NAME.jq, run inside the
 * stage with libjq (jqhandler.c), for handler.c.
 */
#ifndef DPHP_JQHANDLER_H
#define DPHP_JQHANDLER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum dphp_jq_outcome {
	DPHP_JQ_OK,		/* *out is the answer, an object */
	DPHP_JQ_FAILED,		/* the operation fails: why says how */
	DPHP_JQ_TROUBLE		/* the program cannot be used: why */
};

/*
 * Run the jq program of file path (its handler named label, KIND/NAME)
 * on request, for timeout_ms at most (0: no limit): compiled the first
 * time, kept for the next request.
 */
enum dphp_jq_outcome dphp_jq_call(const char *path, const char *label,
    json_t *request, int64_t timeout_ms, json_t **out, char *why,
    size_t whysz);
/* has the handler label's program been compiled already? */
int dphp_jq_known(const char *label);
void dphp_jq_close(void);

#endif
