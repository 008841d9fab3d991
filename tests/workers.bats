#!/usr/bin/env bats
# Several workers on one store, and workers killed with SIGKILL: every
# event is applied exactly once as seen from outside, nothing is lost,
# nothing stays claimed.

load helper

setup() {
	mkstore
	T=$BATS_TEST_TMPDIR
}

# One worker until the queue is empty: take, lock, replay, commit, the
# commit records in $T/commits.$1; the other arguments go to take.
worker() {
	local n=$1
	shift
	dphp-route -d "$S" -t -e "$@" | dphp-lock -d "$S" |
	    dphp-replay -d "$S" -x "$H" | dphp-commit -d "$S" -x "$H" -b 8 \
	    > "$T/commits.$n" 2> "$T/errors.$n"
}

# 300 signals "add 1" to 10 counters, admitted
admit_signals() {
	awk 'BEGIN { for (i = 0; i < 300; i++)
		printf "{\"v\":1,\"id\":\"e%03d\",\"ts\":\"2026-11-27T09:00:00Z\"," \
		    "\"event\":{\"to\":\"entity:counter:k%d\",\"event\":{\"type\":" \
		    "\"signal\",\"op\":\"add\",\"input\":1}}}\n", i, i % 10 }' > "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
}

# every input applied once (not as a duplicate), each counter at 30,
# the queue empty
exactly_once() {
	cat "$T"/commits.* > "$T/all"
	run jq -r 'select(.duplicate | not) | .input.id' "$T/all"
	assert_equal "${#lines[@]}" 300
	printf '%s\n' "${lines[@]}" | sort | uniq -d > "$T/twice"
	assert_file_empty "$T/twice"
	cat "$T"/errors.* > "$T/stderr"
	assert_file_empty "$T/stderr"
	run --separate-stderr dphp-project -d "$S" ls entity:counter
	assert_success
	assert_equal "${#lines[@]}" 10
	for k in 0 1 2 3 4 5 6 7 8 9; do
		run --separate-stderr dphp-commit -d "$S" -g "entity:counter:k$k"
		assert_success
		assert_stderr ""
		run jq .state.state <<< "$output"
		assert_output 30
	done
	run queued
	assert_output ""
}

@test "three workers on one store, competing: every event exactly once" {
	admit_signals
	worker 1 & p1=$!
	worker 2 & p2=$!
	worker 3 & p3=$!
	wait "$p1"
	wait "$p2"
	wait "$p3"
	exactly_once
	# all three had work
	for n in 1 2 3; do
		[ -s "$T/commits.$n" ] || fail "worker $n committed nothing"
	done
}

@test "three workers, each its shard: every event exactly once, no conflict" {
	admit_signals
	worker 1 -s 0/3 & p1=$!
	worker 2 -s 1/3 & p2=$!
	worker 3 -s 2/3 & p3=$!
	wait "$p1"
	wait "$p2"
	wait "$p3"
	exactly_once
	# a shard's counters are committed by its worker only
	run sh -c "jq -r .target '$T'/commits.* | sort -u | wc -l"
	assert_output 10
	for n in 1 2 3; do
		jq -r .target "$T/commits.$n" | sort -u
	done > "$T/targets"
	run wc -l < "$T/targets"
	assert_output 10
}

# The bank: 5 accounts of 100, 24 transfers between them.
admit_transfers() {
	{
		for a in 0 1 2 3 4; do
			ev "d$a" signal "entity:account:a$a" deposit 100
		done
		awk 'BEGIN { srand(7); for (i = 0; i < 24; i++) {
			f = int(rand() * 5); t = (f + 1 + int(rand() * 4)) % 5
			printf "%d %d %d %d\n", i, f, t, 10 + int(rand() * 35) } }' |
		while read -r i f t amount; do
			ev "t$i" start "orchestration:transfer:t$i" \
			    "{\"from\":\"a$f\",\"to\":\"a$t\",\"amount\":$amount}"
		done
	} > "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
}

@test "SIGKILL against workers during transfers; after a drain, every transfer done once" {
	# leases must expire: the real clock, and short leases
	unset DPHP_NOW
	H=$TOP/examples/bank/handlers
	export BANK_NOTICES=$T/notices
	admit_transfers
	for round in 1 2 3 4 5 6 7 8; do
		setsid sh -c "dphp-route -d '$S' -t -w -l 1s | dphp-lock -d '$S' |
		    dphp-replay -d '$S' -x '$H' -k | dphp-commit -d '$S' -x '$H' -k -b 4 \
		    > /dev/null 2>> '$T/killed.err'" & a=$!
		setsid sh -c "dphp-route -d '$S' -t -w -l 1s | dphp-lock -d '$S' |
		    dphp-replay -d '$S' -x '$H' | dphp-commit -d '$S' -x '$H' \
		    > /dev/null 2>> '$T/killed.err'" & b=$!
		sleep "0.$((RANDOM % 9 + 1))"
		kill -9 -- "-$a" "-$b" 2> /dev/null || true
		wait "$a" "$b" || true
	done
	# what the killed workers left claimed comes back after its lease
	sleep 1
	H=$TOP/examples/bank/handlers worker drain -l 1s
	assert_file_empty "$T/errors.drain"
	# nothing ready, claimed, set aside or delayed (queue/tmp may hold
	# what a killed worker was writing: garbage, never read)
	run queued
	assert_output ""
	# each transfer finished once: the balances are what the finished
	# transfers say, and the money is all there
	dphp-project -d "$S" ls orchestration:transfer | jq -r .id > "$T/ids"
	run wc -l < "$T/ids"
	assert_output 24
	xargs dphp-project -d "$S" get < "$T/ids" > "$T/transfers"
	run jq -r 'select(.state.status != "completed" and .state.status != "failed") | .id' "$T/transfers"
	assert_output ""
	run jq -r 'select(.state.status == "failed") | .state.error' "$T/transfers"
	for line in "${lines[@]}"; do
		[[ $line == *"insufficient funds" ]] || fail "a transfer failed: $line"
	done
	jq -s 'map(select(.state.status == "completed") | .state.input) |
	    reduce .[] as $t ({}; .[$t.from] = ((.[$t.from] // 0) - $t.amount) |
	    .[$t.to] = ((.[$t.to] // 0) + $t.amount)) |
	    to_entries | map({key, value: (100 + .value)}) | from_entries' \
	    "$T/transfers" > "$T/want"
	dphp-project -d "$S" ls entity:account | jq -r .id |
	    xargs dphp-project -d "$S" get |
	    jq -s 'map({key: (.id | split(":")[2]), value: .state.state.balance}) |
	    from_entries' > "$T/have"
	run jq -n --slurpfile w "$T/want" --slurpfile h "$T/have" \
	    '($h[0] | add) as $total | [$total, ($w[0] | to_entries | all(.value == $h[0][.key]))]'
	assert_output "$(printf '[\n  500,\n  true\n]')"
	# notices are side effects: at least once each
	run jq -r 'select(.state.status == "completed") | .id' "$T/transfers"
	[ "$(sort -u "$T/notices" | wc -l)" -eq "${#lines[@]}" ] ||
	    fail "$(sort -u "$T/notices" | wc -l) notices for ${#lines[@]} transfers"
	# the journal, through all the kills, holds exactly the live states
	dphp-project -d "$S" ls > "$T/all"
	jq -r .id "$T/all" > "$T/allids"
	xargs dphp-project -d "$S" get < "$T/allids" > "$T/live"
	dphp-replay -J -d "$S" > "$T/replayed" 2> "$T/replay.err"
	assert_files_equal "$T/replayed" "$T/live"
	assert_file_empty "$T/replay.err"
}
