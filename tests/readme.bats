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
	unset DPHP_NOW
	cd "$TOP"
	run --separate-stderr sh -e "$BATS_TEST_TMPDIR/quickstart.sh"
	assert_success
	assert_stderr ""
	n=$(wc -l < "$BATS_TEST_TMPDIR/want")
	assert_equal "$(printf '%s\n' "${lines[@]}" | tail -n "$n")" "$(cat "$BATS_TEST_TMPDIR/want")"
}
