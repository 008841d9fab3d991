#!/usr/bin/env bats
# dphp-project: get and ls over a store.

load helper

setup() {
	mkstore
	for id in entity:account:bob entity:account:alice entity:cart:c1 \
	    orchestration:transfer:t1 activity:mail:m1; do
		printf '{"state":{"of":"%s"}}' "$id" > "$BATS_TEST_TMPDIR/s"
		dphp-commit -d "$S" -c -s "$id" "$BATS_TEST_TMPDIR/s" > /dev/null
	done
	dphp-commit -d "$S" -f -r entity:cart:c1 > /dev/null
}

@test "get prints each state with its ETag" {
	run --separate-stderr dphp-project -d "$S" get entity:account:alice activity:mail:m1
	assert_success
	assert_output - <<'OUT'
{"id":"entity:account:alice","etag":"1","state":{"state":{"of":"entity:account:alice"}}}
{"id":"activity:mail:m1","etag":"1","state":{"state":{"of":"activity:mail:m1"}}}
OUT
	assert_stderr ""
}

@test "get of a missing id says so, goes on, exits 1" {
	run --separate-stderr dphp-project -d "$S" get entity:cart:c1 entity:account:bob
	assert_failure 1
	assert_output '{"id":"entity:account:bob","etag":"1","state":{"state":{"of":"entity:account:bob"}}}'
	assert_stderr "dphp-project: error: no state for 'entity:cart:c1'"
}

@test "get of an invalid id is a usage error, before any output" {
	run --separate-stderr dphp-project -d "$S" get entity:account:bob 'entity:a b:c'
	assert_failure 2
	assert_output ""
	assert_stderr "dphp-project: error: invalid id 'entity:a b:c': name must match [A-Za-z0-9._-] and not start with '.'"
}

@test "ls lists live ids sorted, by kind or kind and name" {
	run --separate-stderr dphp-project -d "$S" ls
	assert_success
	assert_output - <<'OUT'
{"id":"activity:mail:m1","etag":"1"}
{"id":"entity:account:alice","etag":"1"}
{"id":"entity:account:bob","etag":"1"}
{"id":"orchestration:transfer:t1","etag":"1"}
OUT
	assert_stderr ""
	run --separate-stderr dphp-project -d "$S" ls entity:account
	assert_stderr ""
	assert_success
	assert_output - <<'OUT'
{"id":"entity:account:alice","etag":"1"}
{"id":"entity:account:bob","etag":"1"}
OUT
	run --separate-stderr dphp-project -d "$S" ls orchestration
	assert_success
	assert_stderr ""
	assert_output '{"id":"orchestration:transfer:t1","etag":"1"}'
	run --separate-stderr dphp-project -d "$S" ls entity:nothing
	assert_stderr ""
	assert_success
	assert_output ""
}

@test "ls with patterns: globs of ids, several at once, each id once" {
	echo '{"state":{"n":1}}' > "$BATS_TEST_TMPDIR/s"
	dphp-commit -d "$S" -f -s entity:counter:a1 "$BATS_TEST_TMPDIR/s" > /dev/null
	run --separate-stderr dphp-project -d "$S" ls 'entity:*:a*' 'entity:account:b?b' 'entity:acc*' 'o*'
	assert_success
	assert_stderr ""
	assert_output - <<'OUT'
{"id":"entity:account:alice","etag":"1"}
{"id":"entity:account:bob","etag":"1"}
{"id":"entity:counter:a1","etag":"1"}
{"id":"orchestration:transfer:t1","etag":"1"}
OUT
	run --separate-stderr dphp-project -d "$S" ls 'entity:[ab]*'
	assert_success
	assert_stderr ""
	assert_output '{"id":"entity:account:alice","etag":"1"}
{"id":"entity:account:bob","etag":"1"}'
}

@test "ls ignores what is not dphp's" {
	touch "$S/state/entity/account/stray.txt" "$S/state/entity/account/%41"
	mkdir "$S/state/entity/.hidden"
	run --separate-stderr dphp-project -d "$S" ls entity
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_stderr ""
}

@test "usage errors" {
	run --separate-stderr dphp-project -d "$S" ls planets
	assert_failure 2
	assert_output ""
	assert_stderr "dphp-project: error: invalid pattern 'planets': a pattern begins with a kind: entity, orchestration or activity"
	run --separate-stderr dphp-project -d "$S" ls 'entity:a/b'
	assert_failure 2
	assert_output ""
	assert_stderr "dphp-project: error: invalid pattern 'entity:a/b': a pattern is a glob of ids"
	run --separate-stderr dphp-project -d "$S" show
	assert_output ""
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "dphp-project: error: unknown command 'show' (get, ls, owner, status, wait, follow, export, archive or dead)"
	assert_equal "${stderr_lines[1]}" "usage: dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy] get id ..."
	run --separate-stderr dphp-project -d "$S" get
	assert_failure 2
	assert_output ""
	assert_equal "${stderr_lines[0]}" "dphp-project: error: get: no id"
	assert_equal "${stderr_lines[1]}" "usage: dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy] get id ..."
	for bad in "dead x" "-z gzip dead" "-w 1s dead" "-b alice dead" "-e dead"; do
		# shellcheck disable=SC2086 # the words of $bad are arguments
		run --separate-stderr dphp-project -d "$S" $bad
		assert_failure 2
		assert_output ""
		assert_equal "${stderr_lines[0]}" "usage: dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy] get id ..."
	done
}

@test "a full disk" {
	fails_on_full_disk dphp-project -d "$S" ls
}

@test "status: where orchestrations and activities are" {
	echo '{"name":"transfer","status":"running","custom":"withdrawing"}' > "$BATS_TEST_TMPDIR/s"
	dphp-commit -d "$S" -f -s orchestration:transfer:t1 "$BATS_TEST_TMPDIR/s" > /dev/null
	echo '{"status":"completed","result":"sent"}' > "$BATS_TEST_TMPDIR/s"
	dphp-commit -d "$S" -f -s activity:mail:m1 "$BATS_TEST_TMPDIR/s" > /dev/null
	run --separate-stderr dphp-project -d "$S" status orchestration:transfer:t1 activity:mail:m1 orchestration:transfer:t9
	assert_failure 1
	assert_output - <<'OUT'
{"id":"orchestration:transfer:t1","etag":"2","status":"running","custom":"withdrawing","output":null,"error":null}
{"id":"activity:mail:m1","etag":"2","status":"completed","custom":null,"output":"sent","error":null}
OUT
	assert_stderr "dphp-project: error: no state for 'orchestration:transfer:t9'"
	run --separate-stderr dphp-project -d "$S" status entity:account:bob
	assert_failure 2
	assert_output ""
	assert_stderr "dphp-project: error: 'entity:account:bob' has no status: only orchestrations and activities do"
}

@test "wait: until an orchestration ends, while a worker runs it; time-outs; statuses asked for" {
	H=$TOP/examples/bank/handlers
	export DPHP_SH=$TOP/lib/dphp.sh BANK_NOTICES=$BATS_TEST_TMPDIR/notices
	T=$BATS_TEST_TMPDIR
	{
		ev d1 signal entity:account:ann deposit 10
		ev t2 start orchestration:transfer:t2 '{"from":"ann","to":"bo","amount":4}'
		ev t3 start orchestration:transfer:t3 '{"from":"bo","to":"ann","amount":40}'
	} > "$T/in"
	dphp-route -q -d "$S" "$T/in" > /dev/null
	# waiting before the worker runs: not started yet, then ended
	dphp-project -d "$S" wait orchestration:transfer:t2 > "$T/waited" 2>&1 & pid=$!
	sleep 0.2
	# a worker, round by round (each takes what the last one sent)
	for _ in $(seq 12); do
		dphp-route -d "$S" -t -n 100 > "$T/taken"
		dphp-lock -d "$S" "$T/taken" > "$T/locked"
		dphp-replay -d "$S" -x "$H" "$T/locked" > "$T/proposals"
		dphp-commit -d "$S" -x "$H" "$T/proposals" > /dev/null
	done
	st=0
	wait "$pid" || st=$?
	assert_equal "$st" 0
	run cat "$T/waited"
	assert_output '{"id":"orchestration:transfer:t2","etag":"5","status":"completed","custom":"depositing","output":{"ann":6,"bo":4},"error":null}'
	# ended otherwise: 1 by default, 0 when that status was asked for
	run --separate-stderr dphp-project -d "$S" wait orchestration:transfer:t3
	assert_failure 1
	assert_output '{"id":"orchestration:transfer:t3","etag":"3","status":"failed","custom":"withdrawing","output":null,"error":"withdraw from bo: insufficient funds"}'
	assert_stderr ""
	run --separate-stderr dphp-project -d "$S" wait orchestration:transfer:t3 completed,failed
	assert_success
	# a time-out (real time, even with DPHP_NOW): 75
	run --separate-stderr dphp-project -d "$S" -w 300ms wait orchestration:transfer:t4
	assert_failure 75
	assert_output ""
	assert_stderr "dphp-project: error: 'orchestration:transfer:t4' is not started after 300 ms"
	run --separate-stderr dphp-project -d "$S" -w 300ms wait orchestration:transfer:t2 failed
	assert_failure 75
	assert_stderr "dphp-project: error: 'orchestration:transfer:t2' is completed after 300 ms"
	run --separate-stderr dphp-project -d "$S" -w soon wait orchestration:transfer:t2
	assert_failure 2
	assert_stderr "dphp-project: error: invalid timeout 'soon' (a duration: 90s, 15m, 2h)"
}
