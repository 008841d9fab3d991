#!/usr/bin/env bats
# dphp-lock: the stage on a stream, and the command form (the stage in a
# worker, with orchestrations, is in locks.bats).

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
	assert_stderr "dphp-lock: $IN:2: event b takes part in a lock; locks are kept only for events taken from a store's queue"
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

# The command form: dphp-lock ENTITY... -- CMD (real clock: leases).

@test "runs a command holding the sorted locks; its status; the locks let go" {
	mkstore
	run --separate-stderr dphp-lock -d "$S" -o job1 entity:acct:b entity:acct:a entity:acct:b -- \
	    sh -c 'echo "$DPHP_LOCK_OWNER|$DPHP_LOCK_FENCES"; jq -c .state.participants "$1"; exit 3' \
	    sh "$S/lock/entity/acct/a"
	assert_failure 3
	assert_stderr ""
	assert_output - <<'OUT'
job1|entity:acct:a=1 entity:acct:b=1
["entity:acct:a","entity:acct:b"]
OUT
	run cat "$S/lock/entity/acct/a"
	assert_output '{"etag":"2","state":{"owner":null,"participants":[],"expires":null,"fence":1}}'
	# the next hold gets a greater token
	run --separate-stderr dphp-lock -d "$S" -o job2 entity:acct:a -- sh -c 'echo "$DPHP_LOCK_FENCES"'
	assert_success
	assert_stderr ""
	assert_output "entity:acct:a=3"
}

@test "locks held by another: -w gives up with 75, the command never runs" {
	mkstore
	unset DPHP_NOW
	setsid dphp-lock -d "$S" -o holder entity:acct:b -- sleep 3 & pid=$!
	for _ in $(seq 50); do [ -e "$S/lock/entity/acct/b" ] && break; sleep 0.05; done
	run --separate-stderr dphp-lock -d "$S" -w 200ms entity:acct:b entity:acct:a -- touch "$BATS_TEST_TMPDIR/ran"
	assert_failure 75
	assert_output ""
	[[ $stderr =~ ^"dphp-lock: error: 'entity:acct:b' is locked by holder until 20"[0-9T:.-]+Z$ ]] ||
	    fail "stderr: $stderr"
	assert_file_not_exists "$BATS_TEST_TMPDIR/ran"
	# a, taken first (sorted), is let go on giving up
	run jq -c .state.owner "$S/lock/entity/acct/a"
	assert_output null
	kill -- "-$pid"
	wait "$pid" || true
}

@test "a holder killed with SIGKILL: its command stops, its lease runs out, the next one gets a greater token" {
	mkstore
	unset DPHP_NOW
	setsid dphp-lock -d "$S" -l 3s -o doomed entity:acct:a -- sh -c 'echo $$ > "$1.pid"; echo "$DPHP_LOCK_FENCES" > "$1"; exec sleep 30' \
	    sh "$BATS_TEST_TMPDIR/first" & pid=$!
	for _ in $(seq 50); do [ -s "$BATS_TEST_TMPDIR/first" ] && break; sleep 0.05; done
	# dphp-lock alone is killed: its command is stopped with it
	kill -9 "$pid"
	wait "$pid" || true
	# gone, or a zombie waiting for init to reap it
	cmd=$(cat "$BATS_TEST_TMPDIR/first.pid")
	for _ in $(seq 50); do
		[ "$(ps -o stat= -p "$cmd" | tr -d ' ' | cut -c1)" = S ] || break
		sleep 0.05
	done
	run sh -c "ps -o stat= -p $cmd | grep -v Z"
	assert_output ""
	run --separate-stderr dphp-lock -d "$S" -w 0 entity:acct:a -- true
	assert_failure 75
	run --separate-stderr dphp-lock -d "$S" -w 5s -o next entity:acct:a -- sh -c 'echo "$DPHP_LOCK_FENCES"'
	assert_success
	# the hold that ran out is let go of, and the audit line says so
	[[ $stderr =~ ^"dphp-lock: warning: the lock of entity:acct:a held by doomed (token 1) ran out at 20"[0-9T:.-]+"Z: let go"$ ]] ||
	    fail "$stderr"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/first")" "entity:acct:a=1"
	[[ $output =~ ^entity:acct:a=([0-9]+)$ ]] || fail "$output"
	[ "${BASH_REMATCH[1]}" -gt 1 ] || fail "token ${BASH_REMATCH[1]} after 1"
}

@test "a lease is renewed while the command runs (a 600 ms lease held for 2 s)" {
	mkstore
	unset DPHP_NOW
	# renewed every 200 ms: 400 ms of slack for a busy machine
	setsid dphp-lock -d "$S" -l 600ms entity:acct:a -- sleep 2 & pid=$!
	sleep 1.3
	run --separate-stderr dphp-lock -d "$S" -w 0 entity:acct:a -- true
	assert_failure 75
	wait "$pid"
	run --separate-stderr dphp-lock -d "$S" -w 0 entity:acct:a -- true
	assert_success
	assert_stderr ""
}

@test "the locks taken are renewed while a later one is waited for" {
	mkstore
	unset DPHP_NOW
	setsid dphp-lock -d "$S" -o first entity:acct:b -- sleep 2 & pid=$!
	for _ in $(seq 50); do [ -e "$S/lock/entity/acct/b" ] && break; sleep 0.05; done
	# a (600 ms) is held through the 2 s wait for b, with its token
	run --separate-stderr dphp-lock -d "$S" -l 600ms -o second entity:acct:a entity:acct:b -- sh -c 'echo "$DPHP_LOCK_FENCES"'
	assert_success
	assert_stderr ""
	assert_output "entity:acct:a=1 entity:acct:b=3"
	wait "$pid"
}

@test "exclusive under contention: overlapping sets, many rounds, never two holders" {
	mkstore
	unset DPHP_NOW
	T=$BATS_TEST_TMPDIR
	# the critical section: claim a marker per entity (mkdir fails if
	# another holder is inside), bump its counter, let go
	cat > "$T/section" <<'SH'
for e in "$@"; do mkdir "$T/in.$e" || echo "two holders of $e" >> "$T/violations"; done
for e in "$@"; do n=$(cat "$T/count.$e" 2>/dev/null || echo 0); echo $((n + 1)) > "$T/count.$e"; done
sleep 0.01
for e in "$@"; do rmdir "$T/in.$e"; done
SH
	export T
	for set in "a b" "b c" "c a"; do
		(
			for _ in $(seq 15); do
				# shellcheck disable=SC2086 # two words
				dphp-lock -d "$S" $(printf 'entity:x:%s ' $set) -- sh "$T/section" $set ||
				    echo "status $?" >> "$T/violations"
			done
		) &
	done
	wait
	assert_file_not_exists "$T/violations"
	for e in a b c; do
		run cat "$T/count.$e"
		assert_output 30
	done
}

@test "the command form: usage and failures to run" {
	mkstore
	run -127 --separate-stderr dphp-lock -d "$S" entity:acct:a -- "$BATS_TEST_TMPDIR/nothing"
	assert_failure 127
	assert_output ""
	assert_stderr "dphp-lock: error: cannot run '$BATS_TEST_TMPDIR/nothing': No such file or directory"
	touch "$BATS_TEST_TMPDIR/plain"
	run -126 --separate-stderr dphp-lock -d "$S" entity:acct:a -- "$BATS_TEST_TMPDIR/plain"
	assert_failure 126
	assert_stderr "dphp-lock: error: cannot run '$BATS_TEST_TMPDIR/plain': Permission denied"
	run --separate-stderr dphp-lock -d "$S" orchestration:o:1 -- true
	assert_failure 2
	assert_stderr "dphp-lock: error: 'orchestration:o:1' is not an entity; only entities are locked"
	run --separate-stderr dphp-lock -d "$S" entity:acct -- true
	assert_failure 2
	[[ $stderr == "dphp-lock: error: invalid id 'entity:acct': "* ]] || fail "$stderr"
	while IFS='|' read -r bad said; do
		# shellcheck disable=SC2086 # the words of $bad are arguments
		run --separate-stderr dphp-lock -d "$S" $bad
		assert_failure 2
		assert_output ""
		assert_equal "${stderr_lines[0]}" "dphp-lock: error: $said"
		assert_equal "${stderr_lines[1]}" "usage: dphp-lock [-u] [-d store] [file ...]"
	done <<'BAD'
-- true|the entities to lock go before --
entity:acct:a --|a command goes after --
-w 1s|-l, -o and -w go with a command (entity ... -- command)
-u entity:acct:a -- true|-u is for the stage, not for a command
-L -F entity:acct:a|-L and -F cannot be used together
-L entity:acct:a|-L takes no other option and no argument
-F entity:acct:a -o me|-F takes no other option and no argument
BAD
}

@test "-L lists the locks held, -F lets go of one by force and says so" {
	mkstore
	T=$BATS_TEST_TMPDIR
	setsid dphp-lock -d "$S" -o job entity:acct:b entity:acct:a -- sleep 2 2> "$T/holder.err" & pid=$!
	for _ in $(seq 50); do [ -e "$S/lock/entity/acct/b" ] && break; sleep 0.05; done
	run --separate-stderr dphp-lock -d "$S" -L
	assert_success
	assert_stderr ""
	printf '%s\n' "${lines[@]}" | sort > "$T/list"
	run cat "$T/list"
	assert_output - <<'OUT'
{"entity":"entity:acct:a","owner":"job","participants":["entity:acct:a","entity:acct:b"],"fence":1,"expires":"2026-11-27T10:00:30.000Z","lease_left_ms":30000,"expired":false,"parked":[]}
{"entity":"entity:acct:b","owner":"job","participants":["entity:acct:a","entity:acct:b"],"fence":1,"expires":"2026-11-27T10:00:30.000Z","lease_left_ms":30000,"expired":false,"parked":[]}
OUT
	run --separate-stderr dphp-lock -d "$S" -F entity:acct:a
	assert_success
	assert_stderr ""
	assert_output '{"kind":"unlock","ts":"2026-11-27T10:00:00.000Z","entity":"entity:acct:a","owner":"job","fence":1,"expires":"2026-11-27T10:00:30.000Z","forced":true}'
	run --separate-stderr dphp-lock -d "$S" -F entity:acct:a
	assert_failure 1
	assert_output ""
	assert_stderr "dphp-lock: error: 'entity:acct:a' is not locked"
	run --separate-stderr dphp-lock -d "$S" -w 0 -o next entity:acct:a -- sh -c 'echo "$DPHP_LOCK_FENCES"'
	assert_success
	assert_output "entity:acct:a=3"
	# the holder finds its lock gone when it lets go: 75
	st=0
	wait "$pid" || st=$?
	assert_equal "$st" 75
	run cat "$T/holder.err"
	assert_output "dphp-lock: error: lost the lock of entity:acct:a while 'sleep' ran"
	run --separate-stderr dphp-lock -d "$S" -L
	assert_success
	assert_output ""
	assert_stderr ""
}

@test "fencing: a holder late past its lease cannot overwrite the next holder's work" {
	mkstore
	unset DPHP_NOW
	T=$BATS_TEST_TMPDIR
	echo '{"state":"from A"}' > "$T/a.json"
	echo '{"state":"from B"}' > "$T/b.json"
	# A's command outlives its dphp-lock (it ignores the SIGTERM it is
	# sent), waits for "go", then writes with A's fence in its env
	setsid dphp-lock -d "$S" -l 1s -o A entity:acct:a -- sh -c '
	    trap "" TERM
	    touch "$1/ready"
	    while [ ! -e "$1/go" ]; do sleep 0.05; done
	    dphp-commit -d "$2" -f -s entity:acct:a "$1/a.json" > /dev/null 2> "$1/a.err"
	    echo $? > "$1/a.status"' sh "$T" "$S" 2> /dev/null & pid=$!
	for _ in $(seq 100); do [ -e "$T/ready" ] && break; sleep 0.05; done
	# (SIGSTOP would do as well, but could stop it holding the flock of
	# a renewal, which blocks every writer of that lock record)
	kill -9 "$pid"
	wait "$pid" || true
	sleep 1.2
	run --separate-stderr dphp-lock -d "$S" -w 0 -o B entity:acct:a -- dphp-commit -d "$S" -f -s entity:acct:a "$T/b.json"
	touch "$T/go"
	assert_success
	[[ $stderr =~ ^"dphp-lock: warning: the lock of entity:acct:a held by A (token 1) ran out at "[0-9T:.-]+"Z: let go"$ ]] ||
	    fail "$stderr"
	for _ in $(seq 100); do [ -e "$T/a.status" ] && break; sleep 0.05; done
	assert_equal "$(cat "$T/a.status")" 1
	assert_equal "$(cat "$T/a.err")" "dphp-commit: error: the lock of entity:acct:a is no longer held by A with token 1: not committed"
	run dphp-commit -d "$S" -g entity:acct:a
	assert_output '{"id":"entity:acct:a","etag":"1","state":{"state":"from B"}}'
}

@test "copies of one event parked on a hold are queued once when it ends" {
	mkstore
	T=$BATS_TEST_TMPDIR
	setsid dphp-lock -d "$S" -o job entity:counter:c -- sh -c \
	    'while [ ! -e "$1" ]; do sleep 0.05; done' sh "$T/go" & pid=$!
	for _ in $(seq 50); do [ -e "$S/lock/entity/counter/c" ] && break; sleep 0.05; done
	# the same event admitted twice (a sender's retry), both copies
	# parked on the hold
	ev e1 signal entity:counter:c add 1 > "$T/in"
	for copy in 1 2; do
		dphp-route -q -d "$S" "$T/in" > /dev/null
		dphp-route -t -n 1 -d "$S" > "$T/taken"
		run --separate-stderr dphp-lock -d "$S" "$T/taken"
		assert_success
		assert_output ""
		assert_stderr ""
	done
	run jq -c '[.state.parked[].id]' "$S/lock/entity/counter/c"
	assert_output '["e1","e1"]'
	touch "$T/go"
	wait "$pid"
	run ls "$S/queue/new" "$S/queue/cur"
	assert_output - <<OUT
$S/queue/cur:

$S/queue/new:
$(ls "$S/queue/new" | grep -x '[0-9]*\.[0-9a-f]*\.e1')
OUT
	run sh -c 'ls "$1/queue/new" | wc -l' sh "$S"
	assert_output 1
}
