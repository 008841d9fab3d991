#!/usr/bin/env bats
# Stored states that are not of the shape dphp writes (dphp-handler(5)),
# written by dphp-commit -s or -I or by a failing disk: an event for
# such a state is never applied to it and never stops the stage; on a
# stream it stops at its line, located; from the queue it is set aside
# as a dead letter, and the worker goes on.  Every mutation of a rich
# orchestration state and of both activity outcomes is replayed.

load helper

setup() {
	T=$BATS_TEST_TMPDIR
	mkstore
	mkdir -p "$T/h/orchestration"
	printf '#!/bin/sh\nwhile read -r l; do echo %s; done\n' \
	    "'{\"actions\":[],\"output\":1}'" > "$T/h/orchestration/mut"
	chmod +x "$T/h/orchestration/mut"
}

# Every mutation of the state $1 of id $2 (at each path, the value
# replaced by null, 5, "x", {}, [] or removed), stored under an id of
# its own for each event of $3, which goes to it (same kind and name,
# key mNeK): $T/snapshot (for dphp-commit -I), $T/events, and $T/index,
# "mNeK PATH VALUE" a line.
mutate() {
	jq -c --slurpfile ev "$3" --arg id "$2" '. as $d
	    | [paths as $p | (null, 5, "x", {}, [], "(removed)") as $v
	    | [$p, $v]] | to_entries[] | .key as $n | .value as [$p, $v]
	    | ($d | if $v == "(removed)" then delpaths([$p])
	    else setpath($p; $v) end) as $m
	    | range(0; $ev | length) as $k | "m\($n)e\($k + 1)" as $e
	    | ($id | sub(":[^:]*$"; ":" + $e)) as $to
	    | {index: "\($e) \($p | tojson) \($v | tojson)",
	    record: {id: $to, etag: "1", state: $m},
	    event: ($ev[$k] | .id = $e | .event |= walk(if type == "object"
	    and .to == $id then .to = $to else . end))}' "$1" > "$T/all"
	jq -c .record "$T/all" > "$T/snapshot"
	jq -c .event "$T/all" > "$T/events"
	jq -r .index "$T/all" > "$T/index"
}

# Import the mutants, queue their events and drain the queue with a
# worker; print "mNeK PATH VALUE: applied" for each event applied, or
# ": set aside: REASON" for each set aside, in the order of the index.
replay_mutants() {
	mutate "$@"
	run --separate-stderr dphp-commit -d "$S" -I "$T/snapshot"
	assert_success
	assert_stderr ""
	dphp-route -d "$S" -q "$T/events" > /dev/null
	{
		dphp-route -d "$S" -t -e | dphp-lock -d "$S" |
		    dphp-replay -d "$S" -x "$T/h" | dphp-commit -d "$S" -x "$T/h"
		echo "${PIPESTATUS[*]}" > "$T/status"
	} > "$T/commits" 2> "$T/errors"
	# the stage goes on, and says it set some aside (3)
	run cat "$T/status"
	assert_output "0 0 3 0"
	dphp-project -d "$S" dead > "$T/dead"
	# each set aside is reported once, with its reason
	run jq -r '"dphp-replay: error: queue/cur/\(.name): \(.reason) (moved to queue/bad)"' "$T/dead"
	assert_equal "$(sort "$T/errors")" "$(printf '%s\n' "${lines[@]}" | sort)"
	jq -r '"\(.input.id) applied"' "$T/commits" > "$T/outcome"
	jq -r '"\(.event.id) set aside: \(.reason | sub(".* is not valid: "; ""))"' \
	    "$T/dead" >> "$T/outcome"
	awk 'NR == FNR { o[$1] = substr($0, length($1) + 2); next }
	    { print $0 ": " ($1 in o ? o[$1] : "LOST") }' "$T/outcome" "$T/index"
}

@test "every mutation of an orchestration's state: applied, or its event stopped at, never a crash" {
	replay_mutants "$FIX/stored/orchestration.json" orchestration:mut:o \
	    "$FIX/stored/events.ndjson" > "$T/outcomes"
	run diff "$FIX/stored/orchestration.outcomes" "$T/outcomes"
	assert_success
	assert_output ""
}

# the schedule of an activity, and its delete
activity_events() {
	printf '%s\n' \
	    '{"v":1,"id":"a1","ts":"2026-11-27T10:00:00.000Z","event":{"reply_to":"orchestration:mut:o","event":{"to":"activity:work:w","event":{"type":"schedule","input":1}}}}' \
	    '{"v":1,"id":"a2","ts":"2026-11-27T10:00:00.000Z","event":{"to":"activity:work:w","event":{"type":"delete"}}}'
}

@test "every mutation of a completed activity: answered from it, or its schedule set aside" {
	activity_events > "$T/activity-events"
	printf '%s\n' '{"status":"completed","result":{"a":[1]}}' > "$T/activity.json"
	replay_mutants "$T/activity.json" activity:work:w "$T/activity-events" \
	    > "$T/outcomes"
	run diff "$FIX/stored/completed.outcomes" "$T/outcomes"
	assert_success
	assert_output ""
}

@test "every mutation of a failed activity: answered from it, or its schedule set aside" {
	activity_events > "$T/activity-events"
	printf '%s\n' '{"status":"failed","error":"Busy: later"}' > "$T/activity.json"
	replay_mutants "$T/activity.json" activity:work:w "$T/activity-events" \
	    > "$T/outcomes"
	run diff "$FIX/stored/failed.outcomes" "$T/outcomes"
	assert_success
	assert_output ""
}

@test "a state of the wrong shape on a stream: its event stopped at, located; -J -D says so; a delete clears it" {
	printf '{"status":5}\n' > "$T/bad"
	run --separate-stderr dphp-commit -d "$S" -c -s orchestration:greet:o "$T/bad"
	assert_success
	assert_output '{"id":"orchestration:greet:o","etag":"1"}'
	ev r1 raise orchestration:greet:o ack 1 > "$T/e"
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$T/e"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-replay: $T/e:1: event r1: the stored state of orchestration:greet:o is not valid: 'name' must be a name"
	run --separate-stderr dphp-replay -d "$S" -x "$H" -J -D
	assert_failure 1
	assert_output '{"id":"orchestration:greet:o","step":"state","history":"'"'"'name'"'"' must be a name","now":"nothing: the stored state is not valid"}'
	assert_stderr ""
	ev x1 delete orchestration:greet:o > "$T/e"
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$T/e"
	assert_success
	assert_stderr ""
	run jq -c '[.target, .delete, .emit]' <<< "$output"
	assert_output '["orchestration:greet:o",true,[]]'
}
