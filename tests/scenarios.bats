#!/usr/bin/env bats
# Orchestration scenarios: the test plays the scheduler.  Each directory
# under tests/scenarios holds events.ndjson, delivered in that order to
# dphp-replay on a scratch store, and expected.ndjson, the digest
# (scenarios/digest.jq) of every proposal: what each event did and what
# it sent.  Activity results are delivered by hand, in any order.
# Each scenario is played three ways, with the same digest: handlers run
# one-shot (files of the handlers in $BATS_TEST_TMPDIR), as co-processes
# keeping their instances (DPHP_STICKY=1, in $BATS_TEST_TMPDIR/sticky)
# and as co-processes replaying every history (DPHP_STICKY=0,
# .../replayed).
# A scenario whose kept instance must differ has expected-sticky.ndjson.

load helper

# play scenario $1 one way: $2 the handlers' directory, then options
play() {
	local dir=$TOP/tests/scenarios/$1 tmp=$2
	shift 2
	mkdir -p "$tmp"
	rm -rf "$tmp/store"
	dphp-commit -d "$tmp/store" -i
	export SCENARIO_TMP=$tmp
	run --separate-stderr dphp-replay -d "$tmp/store" "$@" \
	    -x "$TOP/tests/scenarios/handlers" "$dir/events.ndjson"
	assert_success
	assert_stderr ""
	printf '%s\n' "${lines[@]}" > "$tmp/proposals"
	run jq -c -f "$TOP/tests/scenarios/digest.jq" "$tmp/proposals"
	assert_success
	assert_output "$(cat "$dir/${expected:-expected.ndjson}")"
}

scenario() {
	local expected
	[ ! -e "$TOP/tests/scenarios/$1/expected-sticky.ndjson" ] ||
	    expected=expected-sticky.ndjson
	DPHP_STICKY=1 play "$1" "$BATS_TEST_TMPDIR/sticky" -k
	expected=
	DPHP_STICKY=0 play "$1" "$BATS_TEST_TMPDIR/replayed" -k
	play "$1" "$BATS_TEST_TMPDIR"
}

@test "five parallel activities completing in the order 0,2,1,3,4" {
	scenario fanout
}

@test "an external event raised before it is awaited" {
	scenario early-event
}

@test "a timer racing an external event: the event wins" {
	scenario race-event
}

@test "a timer racing an external event: the timer wins" {
	scenario race-timer
}

@test "a completion delivered twice" {
	scenario twice
}

@test "an activity scheduled twice runs once" {
	scenario memoised
	assert_equal "$(wc -l < "$BATS_TEST_TMPDIR/work.runs")" 1
	assert_equal "$(wc -l < "$BATS_TEST_TMPDIR/sticky/work.runs")" 1
	assert_equal "$(wc -l < "$BATS_TEST_TMPDIR/replayed/work.runs")" 1
}

@test "a failed activity is tried again as its retry policy says, then its failure stands" {
	# 1s then 2s apart, three attempts; a "Fatal" error at once; a late
	# failure of an earlier attempt ignored; success on a second attempt
	scenario retry
}

@test "a sub-orchestration fails and the parent handles it" {
	scenario sub-failure
}

@test "continue-as-new keeps an event that arrived early" {
	scenario continue
}

@test "a non-deterministic handler stops its instance, naming the step" {
	# kept between events, its code never runs again: nothing to compare
	# (a restart, or dphp-replay -J -D, replays it and finds the step)
	scenario nondeterministic
}

@test "terminate ends an instance and tells its caller" {
	scenario terminate
}

@test "time, new ids and random numbers are the same on every replay" {
	local O=orchestration:clock:c1 h=$TOP/tests/scenarios/handlers
	mkstore
	export SCENARIO_TMP=$BATS_TEST_TMPDIR
	ev s1 start "$O" > "$BATS_TEST_TMPDIR/e1"
	printf '{"v":1,"id":"s1.0.run","ts":"2026-11-27T10:00:00Z","event":{"to":"%s","event":{"type":"run"}}}\n' "$O" >> "$BATS_TEST_TMPDIR/e1"
	DPHP_NOW=2026-11-27T10:00:00Z dphp-replay -d "$S" -x "$h" "$BATS_TEST_TMPDIR/e1" > "$BATS_TEST_TMPDIR/p1"
	dphp-commit -d "$S" "$BATS_TEST_TMPDIR/p1" > /dev/null
	ev c1 completed "$O" s1.0.0 1 > "$BATS_TEST_TMPDIR/e2"
	DPHP_NOW=2026-11-27T12:34:56Z run --separate-stderr dphp-replay -d "$S" -x "$h" "$BATS_TEST_TMPDIR/e2"
	assert_success
	assert_stderr ""
	run jq -c '.state | [.custom.t0 == .output.t0, .custom.g0 == .output.g0,
	    .custom.r0 == .output.r0, .output.t0, .output.t1, (.output.g0 | length),
	    .output.g0 != .output.g1, (.output.r0 | . >= 0 and . < 1000000)]' <<< "$output"
	assert_output '[true,true,true,"2026-11-27T10:00:00.000Z","2026-11-27T12:34:56.000Z",32,true,true]'
}

@test "a failing orchestration handler fails its instance, with the reason" {
	local h=$TOP/tests/scenarios/handlers
	mkstore
	for n in bad twice; do
		ev "s-$n" start "orchestration:$n:x" >> "$BATS_TEST_TMPDIR/e"
		printf '{"v":1,"id":"s-%s.0.run","ts":"2026-11-27T10:00:00Z","event":{"to":"orchestration:%s:x","event":{"type":"run"}}}\n' "$n" "$n" >> "$BATS_TEST_TMPDIR/e"
	done
	run --separate-stderr dphp-replay -d "$S" -x "$h" "$BATS_TEST_TMPDIR/e"
	assert_success
	assert_stderr ""
	run jq -r 'select(.input.event.event.type == "run") | "\(.state.status): \(.failed)"' <<< "$output"
	assert_output - <<OUT
failed: handler orchestration/bad: action 0: unknown action kind 'teleport'
failed: "await" names an action twice
OUT
}

@test "wait-all fails with the first failure to arrive, wherever it is" {
	scenario fanout-failure
}

@test "replaying is true only for code run again, never for early events" {
	scenario out-of-order
	run cat "$BATS_TEST_TMPDIR/replaying.log"
	assert_output - <<'OUT'
start first
start replaying
after one first
start replaying
after one replaying
after two first
OUT
	assert_equal "$(cat "$BATS_TEST_TMPDIR/replayed/replaying.log")" "$output"
	# kept between events, the code runs each stretch once
	run cat "$BATS_TEST_TMPDIR/sticky/replaying.log"
	assert_output - <<'OUT'
start first
after one first
after two first
OUT
}
