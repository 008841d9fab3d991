#!/usr/bin/env bats
# dphp-lock: passes events on; refuses the lock requests it cannot grant.

load helper

setup() {
	IN=$BATS_TEST_TMPDIR/in.ndjson
}

@test "events without a lock pass through unchanged" {
	ev a signal entity:a:b op > "$IN"
	ev b -r orchestration:o:1 call entity:a:b op 1 >> "$IN"
	run --separate-stderr dphp-lock "$IN"
	assert_success
	assert_output "$(cat "$IN")"
	assert_stderr ""
}

@test "a lock request stops the stage before anything runs unlocked" {
	ev a signal entity:a:b op > "$IN"
	ev b -l orchestration:o:1 -p entity:a:b signal entity:a:b op >> "$IN"
	ev c signal entity:a:b op >> "$IN"
	run --separate-stderr dphp-lock "$IN"
	assert_failure 3
	assert_output "$(head -n 1 "$IN")"
	assert_stderr "dphp-lock: $IN:2: event b asks for a lock owned by orchestration:o:1; this version of dphp-lock grants no locks"
}

@test "invalid input is located" {
	printf '{"v":1,"id":"x"}\n' > "$IN"
	run --separate-stderr dphp-lock < "$IN"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-lock: <stdin>:1: invalid event: 'ts' must be an RFC 3339 UTC time"
}

@test "usage" {
	run --separate-stderr dphp-lock -x
	assert_failure 2
	assert_output ""
	assert_equal "${stderr_lines[1]}" "usage: dphp-lock [-u] [-d store] [file ...]"
}

@test "the shared bad-input corpus; a full disk" {
	refuses_bad_input dphp-lock dphp-lock
	fails_on_full_disk dphp-lock "$FIX/route-in.ndjson"
}
