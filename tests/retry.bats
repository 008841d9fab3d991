#!/usr/bin/env bats
# Activity retry policies (dphp-handler(5)): what a policy may say, and
# a retry waiting its delay in the queue, through a worker killed with
# SIGKILL.  The schedule of the attempts is pinned by the scenario
# "retry" (tests/scenarios.bats).

load helper

# an orchestration whose handler issues one activity with retry $1: its
# state's [status, error] after its run
policy() {
	local h=$BATS_TEST_TMPDIR/h
	mkdir -p "$h/orchestration"
	printf '#!/bin/sh\nwhile read -r l; do echo %s; done\n' \
	    "'{\"actions\":[{\"kind\":\"${2:-activity}\",\"name\":\"work\",\"retry\":$1}],\"await\":{\"mode\":\"one\",\"seqs\":[0]}}'" \
	    > "$h/orchestration/o"
	chmod +x "$h/orchestration/o"
	rm -rf "$S"
	mkstore
	{
		ev s1 start orchestration:o:x
		printf '{"v":1,"id":"s1.0.run","ts":"2026-11-27T10:00:00Z","event":{"to":"orchestration:o:x","event":{"type":"run"}}}\n'
	} > "$BATS_TEST_TMPDIR/e"
	run --separate-stderr dphp-replay -d "$S" -x "$h" "$BATS_TEST_TMPDIR/e"
	assert_success
	assert_stderr ""
	jq -c '.state | [.status, .error]' <<< "${lines[1]}"
}

@test "a retry policy that is not one fails its instance, saying why" {
	run policy '{"attempts":3,"first":"1s","backoff":1.5,"max":"1m","nonretryable":["Fatal"]}'
	assert_output '["running",null]'
	run policy '{"attempts":0}'
	assert_output '["failed","handler orchestration/o: action 0: a retry'"'"'s \"attempts\" is 1 to 1000"]'
	run policy '{"attempts":2,"first":"soon"}'
	assert_output '["failed","handler orchestration/o: action 0: a retry'"'"'s \"first\" and \"max\" are durations (90s, 15m)"]'
	run policy '{"attempts":2,"backoff":0.5}'
	assert_output '["failed","handler orchestration/o: action 0: a retry'"'"'s \"backoff\" is a number from 1 to 100"]'
	run policy '{"attempts":2,"nonretryable":"Fatal"}'
	assert_output '["failed","handler orchestration/o: action 0: a retry'"'"'s \"nonretryable\" is a list of error names"]'
	run policy '{"attempts":2,"tries":5}'
	assert_output '["failed","handler orchestration/o: action 0: \"retry\" is an object of \"attempts\", \"first\", \"backoff\", \"max\" and \"nonretryable\""]'
	run policy '{"attempts":2}' event
	assert_output '["failed","handler orchestration/o: action 0: only an activity has \"retry\""]'
}

@test "a retry waiting its delay survives SIGKILL of the worker (Python helper)" {
	local o=orchestration:pyretry:r1 i w
	unset DPHP_NOW	# the delay runs on the real clock
	export FLAKY_RUNS=$BATS_TEST_TMPDIR/runs
	mkstore
	dphp-emit -i s1 start "$o" '"hello"' > "$BATS_TEST_TMPDIR/in"
	dphp-route -d "$S" -q "$BATS_TEST_TMPDIR/in" > /dev/null
	setsid sh -c "dphp-route -d '$S' -t -w | dphp-lock -d '$S' |
	    dphp-replay -d '$S' -x '$H' -k | dphp-commit -d '$S' -x '$H' -k \
	    > /dev/null" & w=$!
	# the first attempt failed: the second waits, delayed, in the queue
	for i in $(seq 100); do
		[ "$(dphp-project -d "$S" get "$o" | jq '.state.actions[0].attempt')" != 2 ] ||
		    break
		sleep 0.1
	done
	kill -KILL -- "-$w"
	wait "$w" || true
	run delayed
	assert_success
	assert_output --regexp '^[^ ]*s1\.0\.0\.r2[^ ]*$'
	setsid sh -c "dphp-route -d '$S' -t -w | dphp-lock -d '$S' |
	    dphp-replay -d '$S' -x '$H' -k | dphp-commit -d '$S' -x '$H' -k \
	    > /dev/null" & w=$!
	for i in $(seq 100); do
		[ "$(dphp-project -d "$S" get "$o" | jq -r .state.status)" != completed ] ||
		    break
		sleep 0.1
	done
	kill -TERM -- "-$w"
	wait "$w" || true
	run dphp-project -d "$S" get "$o"
	assert_success
	assert_equal "$(jq -c '.state | [.status, .output, .actions[0].attempt]' <<< "$output")" \
	    '["completed","hello",2]'
	assert_equal "$(wc -l < "$FLAKY_RUNS")" 2
}
