#!/usr/bin/env bats
# Activities run at least once (dphp-handler(5)): a worker stopped
# between an activity's run and its commit leaves it to be run again,
# with the same idempotency key and attempt; a retry keeps the key and
# counts the attempt; the bank example's notice, keyed, is sent once.

load helper

setup() {
	T=$BATS_TEST_TMPDIR
	unset DPHP_NOW	# a retry's delay runs on the real clock
	mkstore
}

# One worker round over the queue: its stages' stderr in $T/err.$1, and
# their statuses printed.
round() {
	{
		dphp-route -d "$S" -t -e | dphp-lock -d "$S" |
		    dphp-replay -d "$S" -x "$H" | dphp-commit -d "$S" -x "$H"
	} > /dev/null 2> "$T/err.$1"
	echo "${PIPESTATUS[*]}"
}

# Queue the events of $1 and run a first round, in which the activity's
# first run kills dphp-replay: the event comes back.
killed_round() {
	dphp-route -d "$S" -q "$1" > /dev/null
	run round 1
	assert_success
	assert_output "4 141 137 0"
	run cat "$T/err.1"
	assert_output "dphp-route: error: the stages after it stopped reading: 1 event not finished comes back as a suspect"
}

# Rounds (the first is $1) until orchestration $2 has ended, each silent.
until_ended() {
	local n=$1 id=$2
	while :; do
		dphp-project -d "$S" get "$id" > "$T/o"
		case $(jq -r .state.status "$T/o") in
		completed | failed) return 0 ;;
		esac
		[ "$n" -lt 60 ] || fail "$id has not ended after $n rounds"
		sleep 0.1
		run round "$n"
		assert_output "0 0 0 0"
		assert_file_empty "$T/err.$n"
		n=$((n + 1))
	done
}

@test "an activity run again after its worker stopped has the same key and attempt; a retry, the same key" {
	export KEYED_RUNS=$T/runs
	dphp-emit -i s1 start orchestration:keyed:o1 > "$T/in"
	killed_round "$T/in"
	until_ended 2 orchestration:keyed:o1
	run jq -c '.state | [.status, .output]' "$T/o"
	assert_output '["completed",["activity:keyed:s1.0.0",2]]'
	# run again with attempt 1 after the kill, then attempt 2, all with
	# the first attempt's id as their key
	run cat "$T/runs"
	assert_output "activity:keyed:s1.0.0 activity:keyed:s1.0.0 1
activity:keyed:s1.0.0 activity:keyed:s1.0.0 1
activity:keyed:s1.0.0.r2 activity:keyed:s1.0.0 2"
}

@test "a scheduled activity's key is its id, attempt 1; a schedule may name both; sh and Python see them" {
	local h=$T/h
	mkdir -p "$h/activity"
	printf '#!/bin/sh\nexec jq -c --unbuffered "{result: [.id, .key, .attempt]}"\n' \
	    > "$h/activity/echo"
	printf '#!/bin/sh\n. "$DPHP_SH"\nf() { dphp_result "[\\"$DPHP_ID\\",\\"$DPHP_KEY\\",$DPHP_ATTEMPT]"; }\ndphp_activity f\n' \
	    > "$h/activity/sh"
	printf '#!/usr/bin/env python3\nimport dphp\ndphp.activity(lambda r: [r["id"], r["key"], r["attempt"]])\n' \
	    > "$h/activity/py"
	chmod +x "$h/activity/echo" "$h/activity/sh" "$h/activity/py"
	{
		ev a1 schedule activity:echo:k1
		printf '%s\n' '{"v":1,"id":"a2","ts":"2026-11-27T10:00:00Z","event":{"to":"activity:echo:k2","event":{"type":"schedule","key":"activity:echo:k1","attempt":3}}}'
		ev a3 schedule activity:sh:k1
		printf '%s\n' '{"v":1,"id":"a4","ts":"2026-11-27T10:00:00Z","event":{"to":"activity:sh:k2","event":{"type":"schedule","key":"activity:sh:k1","attempt":3}}}'
		ev a5 schedule activity:py:k1
		printf '%s\n' '{"v":1,"id":"a6","ts":"2026-11-27T10:00:00Z","event":{"to":"activity:py:k2","event":{"type":"schedule","key":"activity:py:k1","attempt":3}}}'
	} > "$T/in"
	run --separate-stderr dphp-replay -d "$S" -x "$h" "$T/in"
	assert_success
	assert_stderr ""
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -c .state.result)" \
	    '["activity:echo:k1","activity:echo:k1",1]
["activity:echo:k2","activity:echo:k1",3]
["activity:sh:k1","activity:sh:k1",1]
["activity:sh:k2","activity:sh:k1",3]
["activity:py:k1","activity:py:k1",1]
["activity:py:k2","activity:py:k1",3]'
	printf '%s\n' '{"v":1,"id":"a3","ts":"2026-11-27T10:00:00Z","event":{"to":"activity:echo:k3","event":{"type":"schedule","key":"entity:echo:k1"}}}' \
	    > "$T/bad"
	run --separate-stderr dphp-replay -d "$S" -x "$h" "$T/bad"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-replay: $T/bad:1: invalid event: 'key' must be an activity id"
	printf '%s\n' '{"v":1,"id":"a4","ts":"2026-11-27T10:00:00Z","event":{"to":"activity:echo:k4","event":{"type":"schedule","attempt":0}}}' \
	    > "$T/bad"
	run --separate-stderr dphp-replay -d "$S" -x "$h" "$T/bad"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-replay: $T/bad:1: invalid event: 'attempt' must be a positive integer"
}

@test "the bank example's notice is sent once though its activity runs twice" {
	# the example's handlers, notify wrapped so that its first run kills
	# dphp-replay after the notice is written, before the answer is out
	cp -R "$TOP/examples/bank/handlers" "$T/h"
	mv "$T/h/activity/notify" "$T/h/activity/notify.real"
	cat > "$T/h/activity/notify" <<-'WRAP'
	#!/bin/sh
	tee -a "$RUNS" | "$0.real" | while IFS= read -r answer; do
		[ "$(wc -l < "$RUNS")" -gt 1 ] || kill -9 "$PPID"
		printf '%s\n' "$answer"
	done
	WRAP
	chmod +x "$T/h/activity/notify"
	H=$T/h
	export RUNS=$T/runs BANK_NOTICES=$T/notices
	{
		ev d1 signal entity:account:alice deposit 100
		ev t1 start orchestration:transfer:t1 '{"from":"alice","to":"bob","amount":25}'
	} > "$T/in"
	killed_round "$T/in"
	until_ended 2 orchestration:transfer:t1
	run jq -c '.state | [.status, .output]' "$T/o"
	assert_output '["completed",{"alice":75,"bob":25}]'
	# two runs, one key; one notice
	run jq -r .key "$T/runs"
	assert_output "activity:notify:t1.0.2
activity:notify:t1.0.2"
	run cat "$T/notices"
	assert_output "$(printf 'activity:notify:t1.0.2\talice sent 25 to bob')"
}
