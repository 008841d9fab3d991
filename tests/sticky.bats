#!/usr/bin/env bats
# Sticky histories (dphp-handler(5)): an orchestration co-process that
# keeps its instance is sent only the await points passed since; one
# that no longer has it, or a stage that cannot prove the instance is
# where the handler left it, falls back to the whole history.  The
# handlers steps (the sh library) and pysteps (the Python helper) run
# three activities in a row and log their requests to $STEPS_LOG.  The
# sh library keeps instances only with DPHP_STICKY=1, set here.

load helper

setup() {
	export DPHP_STICKY=1
}

# the events of one instance of handler $1: start, run, three results
events() {
	local o=orchestration:$1:x
	ev s1 start "$o" 0
	printf '{"v":1,"id":"s1.0.run","ts":"2026-11-27T10:00:00Z","event":{"to":"%s","event":{"type":"run"}}}\n' "$o"
	ev c1 completed "$o" s1.0.0 1
	ev c2 completed "$o" s1.0.1 2
	ev c3 completed "$o" s1.0.2 3
}

# what each request carried: [resume, await points, whole history?]
requests() {
	run jq -c '[.resume, (.awaits | length), has("input")]' \
	    "$BATS_TEST_TMPDIR/log"
	assert_success
}

# play the events of handler $1 through dphp-replay with the options
# after it, then check the states proposed: [status, session?, output]
play() {
	local h=$1
	shift
	mkstore
	events "$h" > "$BATS_TEST_TMPDIR/e"
	export STEPS_LOG=$BATS_TEST_TMPDIR/log
	run --separate-stderr dphp-replay -d "$S" "$@" -x "$H" \
	    "$BATS_TEST_TMPDIR/e"
	assert_success
	assert_stderr ""
	printf '%s\n' "${lines[@]}" > "$BATS_TEST_TMPDIR/p"
	run jq -c '.state | [.status, (.session | type), .output]' \
	    "$BATS_TEST_TMPDIR/p"
	assert_success
}

# with handler $1 kept as a co-process: a token while it waits, then
# only the new await points in each request
sent_only_what_is_new() {
	play "$1" -k
	assert_output - <<'OUT'
["pending","null",null]
["running","string",null]
["running","string",null]
["running","string",null]
["completed","null",3]
OUT
	requests
	assert_output - <<'OUT'
[null,0,true]
[0,1,false]
[1,1,false]
[2,1,false]
OUT
}

@test "sh library: a kept instance is sent only what is new" {
	sent_only_what_is_new steps
}

@test "Python helper: a kept instance is sent only what is new" {
	sent_only_what_is_new pysteps
}

# no token in any state, and the whole history in every request
replayed_each_time() {
	assert_output - <<'OUT'
["pending","null",null]
["running","null",null]
["running","null",null]
["running","null",null]
["completed","null",3]
OUT
	requests
	assert_output - <<'OUT'
[null,0,true]
[null,1,true]
[null,2,true]
[null,3,true]
OUT
}

@test "DPHP_STICKY=0: the helpers keep nothing, every run replays it all" {
	for h in steps pysteps; do
		rm -f "$BATS_TEST_TMPDIR/log"
		rm -rf "$S"
		DPHP_STICKY=0 play "$h" -k
		replayed_each_time
	done
}

@test "the sh library keeps nothing unless DPHP_STICKY is 1" {
	unset DPHP_STICKY
	play steps -k
	replayed_each_time
}

@test "a one-shot handler is never resumed, even if it says sticky" {
	play steps
	replayed_each_time
}

@test "a sticky co-process killed mid-instance: the instance completes through the whole history" {
	local t=$BATS_TEST_TMPDIR pgid line
	mkstore
	events steps > "$t/e"
	mkfifo "$t/in" "$t/out"
	STEPS_LOG=$t/log STEPS_PID=$t/pid dphp-replay -d "$S" -k -u -x "$H" \
	    < "$t/in" > "$t/out" 2> "$t/err" &
	exec 7> "$t/in" 8< "$t/out"
	# start, run and the first result: the handler keeps the instance
	for n in 1 2 3; do
		sed -n "${n}p" "$t/e" >&7
		IFS= read -r line <&8
		printf '%s\n' "$line" >> "$t/p"
	done
	# kill its whole process group (the kept instance with it)
	pgid=$(cat "$t/pid")
	kill -KILL -- "-$pgid"
	while pgrep -r R,S,D,T -g "$pgid" > /dev/null; do sleep 0.05; done
	for n in 4 5; do
		sed -n "${n}p" "$t/e" >&7
		IFS= read -r line <&8
		printf '%s\n' "$line" >> "$t/p"
	done
	exec 7>&- 8<&-
	wait
	assert_equal "$(cat "$t/err")" ""
	run jq -c '.state | [.status, .output, .error]' "$t/p"
	assert_output - <<'OUT'
["pending",null,null]
["running",null,null]
["running",null,null]
["running",null,null]
["completed",3,null]
OUT
	# after the kill: a resume the new process does not have, the whole
	# history, then resumes again
	requests
	assert_output - <<'OUT'
[null,0,true]
[0,1,false]
[1,1,false]
[null,2,true]
[2,1,false]
OUT
}

# a handler answering $1 to every request: the instance fails, reason $2
fails_with() {
	local h=$BATS_TEST_TMPDIR/h
	mkdir -p "$h/orchestration"
	printf '#!/bin/sh\nwhile read -r l; do echo %s; done\n' "'$1'" \
	    > "$h/orchestration/steps"
	chmod +x "$h/orchestration/steps"
	mkstore
	events steps | head -2 > "$BATS_TEST_TMPDIR/e"
	run --separate-stderr dphp-replay -d "$S" -k -x "$h" "$BATS_TEST_TMPDIR/e"
	assert_success
	assert_stderr ""
	assert_equal "$(jq -c '.state | [.status, .error]' <<< "${lines[1]}")" \
	    "$(jq -cn --arg r "$2" '["failed", $r]')"
}

@test "a handler that answers evicted to the whole history fails its instance" {
	fails_with '{"evicted":true}' \
	    'the handler answered "evicted" to the whole history'
}

@test "\"sticky\" that is not true or false fails the instance" {
	fails_with '{"actions":[{"kind":"event","name":"go"}],"await":{"mode":"one","seqs":[0]},"sticky":1}' \
	    '"sticky" must be true or false'
}

@test "another stage finds the token it did not write: the whole history, once" {
	local t=$BATS_TEST_TMPDIR
	mkstore
	events steps > "$t/e"
	export STEPS_LOG=$t/log
	head -3 "$t/e" > "$t/e1"
	tail -2 "$t/e" > "$t/e2"
	for part in e1 e2; do
		run --separate-stderr dphp-replay -d "$S" -k -x "$H" "$t/$part"
		assert_success
		assert_stderr ""
		printf '%s\n' "${lines[@]}" > "$t/p"
		run --separate-stderr dphp-commit -d "$S" "$t/p"
		assert_success
		assert_stderr ""
	done
	run dphp-project -d "$S" get orchestration:steps:x
	assert_success
	assert_equal "$(jq -c '.state | [.status, .output, .session]' <<< "$output")" \
	    '["completed",3,null]'
	requests
	assert_output - <<'OUT'
[null,0,true]
[0,1,false]
[null,2,true]
[2,1,false]
OUT
}

@test "sh library: a handler killed with SIGKILL leaves no kept instance behind" {
	local t=$BATS_TEST_TMPDIR pid i
	mkfifo "$t/in" "$t/out"
	setsid "$H/orchestration/steps" < "$t/in" > "$t/out" 2> "$t/err" &
	pid=$!
	exec 7> "$t/in" 8< "$t/out"
	echo '{"id":"orchestration:steps:x","name":"steps","input":0,"user":null,"generation":0,"times":["2026-11-27T10:00:00.000Z"],"awaits":[],"reached":0}' >&7
	IFS= read -r line <&8
	assert_equal "$line" '{"actions":[{"kind":"activity","name":"add1","input":0}],"await":{"mode":"one","seqs":[0]},"sticky":true}'
	# the handler, its jq, the instance waiting, the watcher (and its
	# sleep, most of the time)
	run pgrep -g "$pid"
	assert_success
	assert [ "$(wc -l <<< "$output")" -ge 4 ]
	kill -KILL "$pid"
	for i in $(seq 50); do
		pgrep -r R,S,D,T -g "$pid" > /dev/null || break
		sleep 0.1
	done
	run pgrep -r R,S,D,T -g "$pid"
	assert_failure
	assert_output ""
	exec 7>&- 8<&-
	assert_equal "$(cat "$t/err")" ""
}
