#!/usr/bin/env bats
# Handlers written in jq (DIR/KIND/NAME.jq) run in-process with libjq:
# the same answers as the same program run by jq(1) as a co-process,
# and each way a program can fail fails the one operation.  (The suites
# linked into tests/jqprocess/ run the jq fixtures the other way.)

load helper

setup() {
	mkstore
	IN=$BATS_TEST_TMPDIR/in.ndjson
	J=$BATS_TEST_TMPDIR/h
	mkdir -p "$J/entity"
}

# the jq program $1 as the handler entity/c
program() {
	printf '%s\n' "$1" > "$J/entity/c.jq"
}

@test "a .jq handler runs in-process: no process, the co-process form's answers" {
	ev o1 signal entity:counter:a add 5 > "$IN"
	ev o2 -r orchestration:o:x call entity:counter:a get >> "$IN"
	ev o3 signal entity:planner:p plan >> "$IN"
	run --separate-stderr strace -f -qq -e trace=execve -e signal=none \
	    -o "$BATS_TEST_TMPDIR/execs" dphp-replay -d "$S" -x "$H" "$IN"
	assert_success
	assert_stderr ""
	inproc=$output
	# dphp-replay itself, and nothing else
	run grep -c execve "$BATS_TEST_TMPDIR/execs"
	assert_output 1
	run --separate-stderr env DPHP_JQ=process dphp-replay -d "$S" -x "$H" "$IN"
	assert_success
	assert_stderr ""
	assert_output "$inproc"
	run jq -c '[.state.state, .emit]' <<< "$inproc"
	assert_output - <<'OUT'
[5,[]]
[null,[{"v":1,"id":"feaf1d1f-79d0-8ba6-9fdf-0246a186ff60","ts":"2026-11-27T10:00:00.000Z","event":{"from":"entity:counter:a","event":{"to":"orchestration:o:x","event":{"type":"completed","scheduled_id":"o2","result":5}}}}]]
[{"planned":true},[{"v":1,"id":"be58c0a8-f471-8ac8-ae9b-3b99fdf30181","ts":"2026-11-27T10:00:00.000Z","event":{"from":"entity:planner:p","event":{"delay":"2026-11-27T11:00:00.000Z","event":{"to":"entity:planner:p","event":{"type":"signal","op":"remind"}}}}},{"v":1,"id":"7d51fbb8-66b0-85af-87d4-c2056ba13304","ts":"2026-11-27T10:00:00.000Z","event":{"from":"entity:planner:p","event":{"to":"orchestration:greet:from-planner","event":{"type":"start","input":"plan made"}}}}]]
OUT
}

@test "each way a jq program fails fails the one operation, with its reason" {
	ev o1 signal entity:c:a add 1 > "$IN"
	while IFS= read -r line; do
		program "${line% => *}"
		reason=${line#* => }
		run --separate-stderr dphp-replay -d "$S" -x "$J" -T 300 "$IN"
		assert_success
		assert_stderr ""
		run jq -r .failed <<< "$output"
		assert_output "$reason"
	done <<'CASES'
error("bad input") => handler entity/c: jq: error: bad input
error({code: 7}) => handler entity/c: jq: error: {"code":7}
.input | tostring | ascii_downcase | tonumber | {result: (. + "x")} => handler entity/c: jq: error: number (1) and string ("x") cannot be added
"too much\n" | halt_error(3) => handler entity/c stopped with status 3: too much
halt => handler entity/c stopped with status 0 without answering
[1] => handler entity/c did not print a JSON object
empty => handler entity/c ended without answering
{state: 1}, {state: 2} => handler entity/c answered more than one line
{state: 1}, error("late") => handler entity/c: jq: error after its answer: late
last(range(1e12)) => handler entity/c timed out after 300 ms
CASES
}

@test "a request nested deeper than jq reads fails the operation, not the stage" {
	program '{state: .input}'
	deep=$(printf '%.0s[' $(seq 300); printf '%.0s]' $(seq 300))
	ev o1 signal entity:c:a set "$deep" > "$IN"
	ev o2 signal entity:c:b set 2 >> "$IN"
	dphp-replay -d "$S" -x "$J" "$IN" > "$BATS_TEST_TMPDIR/out" \
	    2> "$BATS_TEST_TMPDIR/err"
	assert_file_empty "$BATS_TEST_TMPDIR/err"
	run grep -c . "$BATS_TEST_TMPDIR/out"
	assert_output 2
	run grep -o '"failed":"[^"]*"' "$BATS_TEST_TMPDIR/out"
	assert_output '"failed":"handler entity/c: jq cannot read the request: Exceeds depth limit for parsing at line 1, column 293"'
	run jq -c '[.target, .state.state]' <<< "$(tail -n 1 "$BATS_TEST_TMPDIR/out")"
	assert_output '["entity:c:b",2]'
}

@test "a jq program that ran out of time is used again: the next operation is answered" {
	program 'if .input == "loop" then last(range(1e12)) else {state: .input} end'
	ev o1 signal entity:c:a set '"loop"' > "$IN"
	ev o2 signal entity:c:b set 2 >> "$IN"
	run --separate-stderr dphp-replay -d "$S" -x "$J" -T 200 "$IN"
	assert_success
	assert_stderr ""
	run jq -c '[.target, .failed, .state.state]' <<< "$output"
	assert_output - <<'OUT'
["entity:c:a","handler entity/c timed out after 200 ms",null]
["entity:c:b",null,2]
OUT
}

@test "debug goes to stderr as jq prints it, with the handler's name" {
	program '.input | debug | {state: .}'
	ev o1 signal entity:c:a set '{"n":1}' > "$IN"
	run --separate-stderr dphp-replay -d "$S" -x "$J" "$IN"
	assert_success
	assert_stderr 'entity/c: ["DEBUG:",{"n":1}]'
	run jq -c .state.state <<< "$output"
	assert_output '{"n":1}'
}

@test "a jq program that does not compile is a configuration error: exit 5, nothing proposed" {
	program '{state: .input'
	ev o1 signal entity:c:a set 1 > "$IN"
	run --separate-stderr dphp-replay -d "$S" -x "$J" "$IN"
	assert_failure 5
	assert_output ""
	assert_stderr "dphp-replay: $IN:1: handler entity/c: '$J/entity/c.jq' does not compile: jq: error: syntax error, unexpected \$end, expecting '}' (Unix shell quoting issues?) at <top-level>, line 1 (a configuration error)"
}

@test "NAME.jq is the handler where both are there; DPHP_JQ=process runs NAME; other values are refused" {
	program '{state: "from c.jq"}'
	printf '#!/bin/sh\nexec jq -c --unbuffered "{state: \\"from c\\"}"\n' \
	    > "$J/entity/c"
	chmod +x "$J/entity/c"
	ev o1 signal entity:c:a set 1 > "$IN"
	run --separate-stderr dphp-replay -d "$S" -x "$J" "$IN"
	assert_success
	assert_stderr ""
	run jq -c .state.state <<< "$output"
	assert_output '"from c.jq"'
	DPHP_JQ=process run --separate-stderr dphp-replay -d "$S" -x "$J" "$IN"
	assert_success
	assert_stderr ""
	run jq -c .state.state <<< "$output"
	assert_output '"from c"'
	DPHP_JQ=inprocess run --separate-stderr dphp-replay -d "$S" -x "$J" "$IN"
	assert_failure 5
	assert_output ""
	assert_stderr "dphp-replay: $IN:1: DPHP_JQ is 'inprocess': 'process', or empty (a configuration error)"
}
