#!/usr/bin/env bats
# The shipped examples: make demo's bank (sh + jq), and the Python
# handlers of examples/python, one-shot and as co-processes.

load helper

@test "make demo: transfers complete or fail whole, money is conserved" {
	run --separate-stderr sh "$TOP/examples/bank/demo.sh"
	assert_success
	assert_stderr ""
	assert_line "  alice -> carol 30: completed"
	assert_line "  bob -> alice 80: failed (withdraw from bob: insufficient funds)"
	assert_line "  total	130 (deposits 150 - withdrawals 20)"
	assert_line "  alice sent 30 to carol"
	assert_line "round 8:  1 events applied,  0 sent"
}

# Feed $1 and everything it causes through replay and commit until
# nothing is left; the commit records end up in $BATS_TEST_TMPDIR/all.
rounds() {
	local n=0 in=$1
	shift
	: > "$BATS_TEST_TMPDIR/all"
	while [ -s "$in" ] && [ "$n" -lt 20 ]; do
		n=$((n + 1))
		dphp-replay "$@" -d "$S" "$in" > "$BATS_TEST_TMPDIR/p.$n" || return 1
		dphp-commit "$@" -d "$S" "$BATS_TEST_TMPDIR/p.$n" > "$BATS_TEST_TMPDIR/c.$n" || return 1
		cat "$BATS_TEST_TMPDIR/c.$n" >> "$BATS_TEST_TMPDIR/all"
		jq -c '.emit[]' "$BATS_TEST_TMPDIR/c.$n" > "$BATS_TEST_TMPDIR/in.$n"
		in=$BATS_TEST_TMPDIR/in.$n
	done
}

@test "python: an orchestration fans out to activities and calls an entity" {
	mkstore
	ev g1 start orchestration:greetings:g '["ada","grace",""]' > "$BATS_TEST_TMPDIR/e"
	ev g2 start orchestration:greetings:h '["alan"]' >> "$BATS_TEST_TMPDIR/e"
	for k in "" -k; do
		rm -rf "$S" && mkstore
		rounds "$BATS_TEST_TMPDIR/e" -x "$TOP/examples/python/handlers" $k
		run --separate-stderr dphp-project -d "$S" get orchestration:greetings:g \
		    orchestration:greetings:h entity:counter:greeted
		assert_success
		assert_stderr ""
		run jq -c '.state | [.status, .output // .error // .state, .custom]' <<< "$output"
		assert_output - <<'OUT'
["failed","no one to greet","greeting 3"]
["completed",{"said":["hello, alan"],"greeted so far":1},"greeting 1"]
[null,1,null]
OUT
	done
}
