#!/usr/bin/env bats
# The shipped examples: make demo's bank (sh + jq), and the Python
# handlers of examples/python, one-shot and as co-processes.

load helper

@test "make demo: transfers complete or fail whole, money is conserved" {
	# the approval timer needs the real clock
	run --separate-stderr env -u DPHP_NOW timeout 60 sh "$TOP/examples/bank/demo.sh"
	assert_success
	assert_stderr ""
	store=$(printf '%s\n' "$output" | sed -n '1s/.* //p')
	printf '%s\n' "$output" | sed -e "s|$store|STORE|" \
	    -e "s|${store%/store}|WORK|" > "$BATS_TEST_TMPDIR/out"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" "$(cat <<'OUT'
dphp demo: bank accounts on the directory store STORE

admitted 8 events; t2 is approved, t3 is not
the workers made 25 commits

account operations:
  alice deposit 100 -> etag 1
  bob deposit 100 -> etag 1
  carol transfer {"to":"bob","amount":10} -> refused: insufficient funds
  alice withdraw 20 -> etag 2
  alice withdraw 30 -> etag 3
  bob withdraw 80 -> etag 2
  carol deposit 30 -> etag 1
  alice deposit 80 -> etag 4

transfers:
  alice -> carol 30: completed
  bob -> alice 80: completed
  alice -> bob 60: failed (not approved within 2s)

balances:
  alice	130
  bob	20
  carol	30
  total	180 (deposits 200 - withdrawals 20: it adds up)

audit, every account read under one lock:
  alice 130, bob 20, carol 30, total 180

notices sent (once each):
  alice sent 30 to carol
  bob sent 80 to alice

the store is kept in WORK
OUT
)"
	# the queue is drained: nothing ready, claimed, delayed or set aside
	run find "$store/queue" "$store/delay" -type f
	assert_success
	assert_output ""
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
