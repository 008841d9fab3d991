/*
 * retry.c - activity retry policies (dphp-handler(5)): an activity
 * action's "retry" says how often and how soon a failed activity runs
 * again before the orchestration sees the failure.  This checks a
 * policy and decides, for a failure, whether and when the next attempt
 * is scheduled; orchestration.c sends it, as a delayed event, so that a
 * retry waiting its time is as durable as any event in the queue.
 */
#include <string.h>

#include "kinds.h"
#include "util.h"

#define ATTEMPTS_MAX 1000

static const char *const policy_fields[] = { "attempts", "first", "backoff",
	"max", "nonretryable", NULL };

/* the duration field key of policy in *ms (dflt when absent): 0 or -1 */
static int
duration(json_t *policy, const char *key, int64_t dflt, int64_t *ms)
{
	json_t *v = json_object_get(policy, key);

	*ms = dflt;
	return v == NULL ? 0 : !json_is_string(v) ||
	    dphp_duration_parse(json_string_value(v), ms) != 0 ? -1 : 0;
}

const char *
dphp_retry_bad(json_t *policy)
{
	json_t *v, *e;
	int64_t ms;
	size_t i;

	if (!json_is_object(policy) || dphp_unknown_key(policy,
	    policy_fields) != NULL)
		return "\"retry\" is an object of \"attempts\", \"first\", "
		    "\"backoff\", \"max\" and \"nonretryable\"";
	v = json_object_get(policy, "attempts");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > ATTEMPTS_MAX)
		return "a retry's \"attempts\" is 1 to 1000";
	if (duration(policy, "first", 0, &ms) != 0 ||
	    duration(policy, "max", 0, &ms) != 0)
		return "a retry's \"first\" and \"max\" are durations (90s, "
		    "15m)";
	v = json_object_get(policy, "backoff");
	if (v != NULL && (!json_is_number(v) || json_number_value(v) < 1 ||
	    json_number_value(v) > 100))
		return "a retry's \"backoff\" is a number from 1 to 100";
	v = json_object_get(policy, "nonretryable");
	if (v != NULL && !json_is_array(v))
		return "a retry's \"nonretryable\" is a list of error names";
	json_array_foreach(v, i, e)
		if (!json_is_string(e))
			return "a retry's \"nonretryable\" is a list of error "
			    "names";
	return NULL;
}

/* does reason name one of the errors of list (its text to a colon)? */
static int
named(json_t *list, const char *reason)
{
	size_t len = strcspn(reason, ":"), i;
	json_t *e;

	json_array_foreach(list, i, e)
		if (strlen(json_string_value(e)) == len &&
		    strncmp(json_string_value(e), reason, len) == 0)
			return 1;
	return 0;
}

int
dphp_retry_due(json_t *action, const char *reason, int64_t now, int64_t *at)
{
	json_t *policy = json_object_get(action, "retry");
	json_int_t attempt = json_integer_value(json_object_get(action,
	    "attempt"));
	double backoff = 2, delay;
	int64_t first, max;
	json_int_t i;

	if (policy == NULL || attempt < 1 || attempt >= json_integer_value(
	    json_object_get(policy, "attempts")) ||
	    named(json_object_get(policy, "nonretryable"), reason))
		return 0;
	duration(policy, "first", 1000, &first);
	duration(policy, "max", INT64_C(3153600000) * 1000, &max);
	if (json_object_get(policy, "backoff") != NULL)
		backoff = json_number_value(json_object_get(policy,
		    "backoff"));
	/* first, then each delay backoff times the one before, to max */
	delay = (double)first;
	for (i = 1; i < attempt && delay < (double)max; i++)
		delay *= backoff;
	*at = now + (delay < (double)max ? (int64_t)delay : max);
	return 1;
}
