#!/usr/bin/env bats
# The README's quickstart works as written.

load helper

@test "the quickstart prints what the README says" {
	awk '/^<!-- quickstart/ { on = 1; next }
	    on && /^```sh/ { code = 1; next }
	    code && /^```/ { exit }
	    code' "$TOP/README.md" > "$BATS_TEST_TMPDIR/quickstart.sh"
	awk '/^ends with/ { on = 1; next }
	    on && /^```/ { if (out) exit; out = 1; next }
	    out' "$TOP/README.md" > "$BATS_TEST_TMPDIR/want"
	[ -s "$BATS_TEST_TMPDIR/quickstart.sh" ] || fail "no quickstart block"
	[ -s "$BATS_TEST_TMPDIR/want" ] || fail "no expected output"
	unset DPHP_NOW DPHP_SH
	cd "$TOP"
	run --separate-stderr sh -e "$BATS_TEST_TMPDIR/quickstart.sh"
	assert_success
	assert_stderr ""
	n=$(wc -l < "$BATS_TEST_TMPDIR/want")
	assert_equal "$(printf '%s\n' "${lines[@]}" | tail -n "$n")" "$(cat "$BATS_TEST_TMPDIR/want")"
}

@test "the README's orchestration is the example's handler, and runs" {
	awk '/^<!-- transfer/ { on = 1; next }
	    on && /^```sh/ { code = 1; next }
	    code && /^```/ { exit }
	    code' "$TOP/README.md" > "$BATS_TEST_TMPDIR/shown"
	assert_files_equal "$BATS_TEST_TMPDIR/shown" \
	    "$TOP/examples/bank/handlers/orchestration/transfer"
	# the quickstart, then the commands that run it
	awk '/^<!-- quickstart/ { on = 1; next }
	    on && /^```sh/ { code = 1; next }
	    code && /^```/ { exit }
	    code' "$TOP/README.md" > "$BATS_TEST_TMPDIR/run.sh"
	awk '/^Run it, feeding back/ { on = 1; next }
	    on && /^```sh/ { code = 1; next }
	    code && /^```/ { exit }
	    code' "$TOP/README.md" >> "$BATS_TEST_TMPDIR/run.sh"
	unset DPHP_NOW DPHP_SH
	cd "$TOP"
	run --separate-stderr sh -e "$BATS_TEST_TMPDIR/run.sh"
	assert_success
	assert_stderr ""
	assert_equal "${lines[-2]}" '["completed",{"alice":45,"bob":25}]'
	assert_equal "${lines[-1]}" 'alice sent 25 to bob'
}

# Print the code blocks of the README that follow the lines starting
# with each argument (or with "<!-- " and it), in order.
blocks() {
	local block
	for block; do
		awk -v b="$block" 'index($0, "<!-- " b) == 1 || index($0, b) == 1 { on = 1; next }
		    on && /^```sh/ { code = 1; next }
		    code && /^```/ { exit }
		    code' "$TOP/README.md"
	done
}

@test "the README's worker drains the queue" {
	blocks quickstart 'Run it, feeding back' worker > "$BATS_TEST_TMPDIR/run.sh"
	grep -q 'dphp-route -t -e' "$BATS_TEST_TMPDIR/run.sh" || fail "no worker block"
	unset DPHP_NOW DPHP_SH
	cd "$TOP"
	run --separate-stderr sh -e "$BATS_TEST_TMPDIR/run.sh"
	assert_success
	assert_stderr ""
	assert_equal "${lines[-1]}" '["completed",{"bob":20,"alice":50}]'
}

@test "the README's critical section reads both balances under one lock" {
	blocks quickstart 'Run it, feeding back' worker locks > "$BATS_TEST_TMPDIR/run.sh"
	grep -q 'orchestration:audit:a1' "$BATS_TEST_TMPDIR/run.sh" || fail "no locks block"
	# and then: no lock is left held
	echo 'dphp-lock -L' >> "$BATS_TEST_TMPDIR/run.sh"
	unset DPHP_NOW DPHP_SH
	cd "$TOP"
	run --separate-stderr sh -e "$BATS_TEST_TMPDIR/run.sh"
	assert_success
	assert_stderr ""
	assert_equal "${lines[-1]}" '{"alice":50,"bob":20,"total":70}'
}

# Run the blocks named (after $1, which must hold $2) and check that the
# output ends with what the README says the last one prints.
runs_as_printed() {
	local last=$1 must=$2
	shift 2
	blocks "$@" > "$BATS_TEST_TMPDIR/run.sh"
	grep -q -- "$must" "$BATS_TEST_TMPDIR/run.sh" || fail "no $last block"
	awk -v b="<!-- $last" 'index($0, b) == 1 { on = 1 }
	    on && /^prints$/ { want = 1; next }
	    want && /^```$/ { if (out) exit; out = 1; next }
	    want && out' "$TOP/README.md" > "$BATS_TEST_TMPDIR/want"
	[ -s "$BATS_TEST_TMPDIR/want" ] || fail "no expected output"
	unset DPHP_NOW DPHP_SH
	cd "$TOP"
	run --separate-stderr sh -e "$BATS_TEST_TMPDIR/run.sh"
	assert_success
	assert_stderr ""
	n=$(wc -l < "$BATS_TEST_TMPDIR/want")
	assert_equal "$(printf '%s\n' "${lines[@]}" | tail -n "$n")" "$(cat "$BATS_TEST_TMPDIR/want")"
}

@test "the README's many users: rights checked at the door and in the worker" {
	runs_as_printed users DPHP_POLICY quickstart users
}

@test "the README's read model and history" {
	runs_as_printed history 'dphp-project follow' quickstart 'Run it, feeding back' worker history
}
