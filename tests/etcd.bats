#!/usr/bin/env bats
# The etcd backend (-d etcd://HOST:PORT,.../PREFIX) against a real
# three-member etcd cluster on loopback ports, started for this file and
# stopped after it: the store's contract, a pipeline, concurrent
# compare-and-set, answers lost or cut off, members killed, a directory
# store moved in through a snapshot, the journal replayed and followed,
# a waiting worker's watch, workers through members and leaders
# killed, a worker stopped with claims and a lock.  The suites linked in
# tests/etcd/ run on a cluster of their own.

load helper

setup_file() {
	etcd_start
}

teardown_file() {
	etcd_stop
}

# the process groups a test stopped go on and are killed, even when it
# failed: stopped, they would keep bats waiting for their output
teardown() {
	local g
	for g in $(cat "$T/groups" 2> /dev/null); do
		kill -CONT -- "-$g" 2> /dev/null || true
		kill -9 -- "-$g" 2> /dev/null || true
	done
}

setup() {
	T=$BATS_TEST_TMPDIR
	E=etcd://$ETCD_HOSTS/t$BATS_TEST_NUMBER
	# for the helpers that look into the store (queued)
	S=$E ON_ETCD=1
	dphp-commit -d "$E" -i
}

# $T/in: some of the bank's work (a withdrawal refused, a delete)
bank_in() {
	{
		ev d1 signal entity:account:alice deposit 100
		ev d2 signal entity:account:bob deposit 5
		ev w1 signal entity:account:alice withdraw 30
		ev w2 signal entity:account:bob withdraw 500
		ev x1 signal entity:account:carol deposit 1
		ev x2 delete entity:account:carol
	} > "$T/in"
}

# the number (1 to 3) of the member that leads now ($1 lead), or of one
# that does not ($1 follow); waits out an election under way
member() {
	local lead i p
	for _ in $(seq 1 50); do
		lead=$(ectl endpoint status -w json 2> /dev/null |
		    jq -r '.[] | select(.Status.leader == .Status.header.member_id) | .Endpoint')
		[ -n "$lead" ] && break
		sleep 0.1
	done
	[ -n "$lead" ] || fail "no member leads"
	for i in 1 2 3; do
		p=$(cut -d, -f"$i" <<< "$ETCD_HOSTS")
		if { [ "$1" = lead ] && [ "$p" = "$lead" ]; } ||
		    { [ "$1" = follow ] && [ "$p" != "$lead" ]; }; then
			echo "$i"
			return
		fi
	done
}

@test "the store's contract: create, compare-and-set by ETag, read, delete, list; ETags never come back" {
	echo '{"state":{"balance":10}}' > "$T/s"
	run --separate-stderr dphp-commit -d "$E" -c -s entity:account:alice "$T/s"
	assert_success
	assert_stderr ""
	e1=$(jq -r .etag <<< "$output")
	run --separate-stderr dphp-commit -d "$E" -c -s entity:account:alice "$T/s"
	assert_failure 1
	assert_output ""
	assert_stderr "dphp-commit: error: 'entity:account:alice' already exists at \"$e1\""
	echo '{"state":{"balance":20}}' > "$T/s"
	run --separate-stderr dphp-commit -d "$E" -e "$e1" -s entity:account:alice "$T/s"
	assert_success
	e2=$(jq -r .etag <<< "$output")
	[ "$e2" -gt "$e1" ]
	run --separate-stderr dphp-commit -d "$E" -e "$e1" -s entity:account:alice "$T/s"
	assert_failure 1
	assert_stderr "dphp-commit: error: etag mismatch for 'entity:account:alice': is \"$e2\" but expected \"$e1\""
	run --separate-stderr dphp-commit -d "$E" -g entity:account:alice
	assert_success
	assert_output "{\"id\":\"entity:account:alice\",\"etag\":\"$e2\",\"state\":{\"state\":{\"balance\":20}}}"
	printf '{"state":7}' > "$T/s"
	dphp-commit -d "$E" -f -s 'entity:account:../bob' "$T/s" > /dev/null
	dphp-commit -d "$E" -f -s orchestration:transfer:t1 "$T/s" > /dev/null
	run --separate-stderr dphp-project -d "$E" ls entity
	assert_success
	assert_equal "$(jq -r .id <<< "$output")" "entity:account:../bob
entity:account:alice"
	run --separate-stderr dphp-commit -d "$E" -f -r entity:account:alice
	assert_success
	# made again: a new ETag, never the old one
	echo '{"state":{"balance":20}}' > "$T/s"
	run dphp-commit -d "$E" -e "$e2" -s entity:account:alice "$T/s"
	assert_failure 1
	run dphp-commit -d "$E" -c -s entity:account:alice "$T/s"
	assert_success
	[ "$(jq -r .etag <<< "$output")" -gt "$e2" ]
	run --separate-stderr dphp-commit -d "$E" -f -r entity:account:nobody
	assert_failure 1
	run --separate-stderr dphp-project -d "etcd://$ETCD_HOSTS/none" ls
	assert_failure 5
	assert_stderr "dphp-project: error: 'etcd://$ETCD_HOSTS/none' is not a dphp store (make one with dphp-commit -i)"
}

@test "the bank's pipeline on etcd ends where it ends on a directory store" {
	export DPHP_SH=$TOP/lib/dphp.sh BANK_NOTICES=$T/notices
	bank_in
	for store in "$E" "$T/dir"; do
		dphp-commit -d "$store" -i
		dphp-route "$T/in" | dphp-replay -d "$store" -x "$TOP/examples/bank/handlers" |
		    dphp-commit -d "$store" -x "$TOP/examples/bank/handlers" > "$T/commits"
		dphp-project -d "$store" ls | jq -r .id | xargs dphp-project -d "$store" get |
		    jq -c '{id, state}' > "$T/states.${store##*/}"
	done
	run cat "$T/states.dir"
	assert_output "$(cat "$T/states.t$BATS_TEST_NUMBER")"
	assert_output --partial '"id":"entity:account:alice","state":{"state":{"balance":70}'
	# each state committed journaled on etcd, one line each (the
	# refused withdrawal changed nothing)
	run sh -c 'ETCDCTL_API=3 etcdctl --endpoints "$1" get --prefix "$2/journal/0" --print-value-only | jq -c "[.seq, .id, .deleted]"' sh "$ETCD_HOSTS" "t$BATS_TEST_NUMBER"
	assert_output - <<'OUT'
[1,"entity:account:alice",null]
[2,"entity:account:bob",null]
[3,"entity:account:alice",null]
[4,"entity:account:carol",null]
[5,"entity:account:carol",true]
OUT
}

@test "four writers racing on one counter through compare-and-set: every increment lands once" {
	echo '{"state":{"n":0}}' > "$T/s"
	dphp-commit -d "$E" -c -s entity:counter:c "$T/s" > /dev/null
	for w in 1 2 3 4; do
		(
			for _ in $(seq 1 15); do
				until r=$(dphp-commit -d "$E" -g entity:counter:c) &&
				    jq -c '.state.state.n += 1 | .state' <<< "$r" |
				    dphp-commit -d "$E" -e "$(jq -r .etag <<< "$r")" \
				    -s entity:counter:c > /dev/null 2>&1; do :; done
			done
		) &
	done
	wait
	run dphp-commit -d "$E" -g entity:counter:c
	assert_equal "$(jq -c .state <<< "$output")" '{"state":{"n":60}}'
}

# five increments through a proxy that loses ($1: swallow or cut) the
# answer of the 3rd write; the member behind it is the second endpoint
# too: the commit is found done by its marker, and not done twice
lost_answer() {
	port=$((${ETCD_HOSTS##*:} + 100))
	member=${ETCD_HOSTS##*,}
	"$TOP/tests/fixtures/lossy-proxy" "$port" "${member##*:}" 3 "$1" &
	proxy=$!
	for _ in $(seq 1 50); do
		(exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break
		sleep 0.1
	done
	export DPHP_ETCD_TIMEOUT_MS=700
	P=etcd://127.0.0.1:$port,$member/t$BATS_TEST_NUMBER
	echo '{"state":{"n":0}}' > "$T/s"
	dphp-commit -d "$E" -c -s entity:counter:m "$T/s" > /dev/null
	for _ in $(seq 1 5); do
		until r=$(dphp-commit -d "$P" -g entity:counter:m) &&
		    jq -c '.state.state.n += 1 | .state' <<< "$r" |
		    dphp-commit -d "$P" -e "$(jq -r .etag <<< "$r")" \
		    -s entity:counter:m > /dev/null 2>> "$T/errors"; do sleep 0.05; done
	done
	kill "$proxy"
	run dphp-commit -d "$E" -g entity:counter:m
	assert_equal "$(jq -c .state <<< "$output")" '{"state":{"n":5}}'
	run cat "$T/errors"
	assert_output "dphp-commit: warning: etcd: a commit went unanswered: it was done"
	# no marker left: each writer takes its last away when it ends
	run sh -c 'ETCDCTL_API=3 etcdctl --endpoints "$1" get --prefix "$2/txn/" --keys-only | grep -c .' sh "$ETCD_HOSTS" "t$BATS_TEST_NUMBER"
	assert_output 0
}

@test "a commit carried out but its answer lost: its marker says it was done, and it is not done twice" {
	lost_answer swallow
}

@test "a commit carried out but its answer cut off (the member killed as it answers): the same" {
	lost_answer cut
}

@test "a member killed, then the leader, in the middle of the writes: no acknowledged commit lost" {
	echo '{"state":{"n":0}}' > "$T/s"
	dphp-commit -d "$E" -c -s entity:counter:k "$T/s" > /dev/null
	: > "$T/acked"
	(
		for i in $(seq 1 40); do
			until r=$(dphp-commit -d "$E" -g entity:counter:k) &&
			    jq -c '.state.state.n += 1 | .state' <<< "$r" |
			    dphp-commit -d "$E" -e "$(jq -r .etag <<< "$r")" \
			    -s entity:counter:k > /dev/null 2>&1; do sleep 0.05; done
			echo "$i" >> "$T/acked"
		done
	) &
	writer=$!
	sleep 0.5
	# a follower first, then whoever leads
	kill -9 "$(cat "$ETCD_DIR/n$(member follow).pid")"
	sleep 0.5
	stopped=$(member lead)
	kill -STOP "$(cat "$ETCD_DIR/n$stopped.pid")"
	# a majority is gone for a moment: writes wait, then go on
	sleep 1
	kill -CONT "$(cat "$ETCD_DIR/n$stopped.pid")"
	wait "$writer"
	run dphp-commit -d "$E" -g entity:counter:k
	assert_equal "$(jq -c .state <<< "$output")" '{"state":{"n":40}}'
	assert_equal "$(wc -l < "$T/acked")" 40
}

@test "a directory store moved into etcd through a snapshot" {
	export DPHP_SH=$TOP/lib/dphp.sh BANK_NOTICES=$T/notices
	S=$T/dir
	dphp-commit -d "$S" -i
	{
		ev d1 signal entity:account:alice deposit 100
		ev d2 signal entity:account:bob deposit 5
	} > "$T/in"
	dphp-route "$T/in" | dphp-replay -d "$S" -x "$TOP/examples/bank/handlers" |
	    dphp-commit -d "$S" > /dev/null
	dphp-project -d "$S" -z zstd export > "$T/snap.tar.zst"
	run --separate-stderr dphp-commit -d "$E" -I "$T/snap.tar.zst"
	assert_success
	assert_stderr ""
	assert_output '{"imported":2,"unchanged":0,"refused":0}'
	assert_equal "$(dphp-project -d "$E" ls | jq -r .id | xargs dphp-project -d "$E" get | jq -c '{id, state}')" \
	    "$(dphp-project -d "$S" ls | jq -r .id | xargs dphp-project -d "$S" get | jq -c '{id, state}')"
	# and out again, the same states
	dphp-project -d "$E" export > "$T/back.tar"
	run tar -tf "$T/back.tar"
	assert_output 'state/entity/account/alice
state/entity/account/bob'
}

@test "the journal on etcd: replayed to the live states, compared, traced, followed into SQLite" {
	export DPHP_SH=$TOP/lib/dphp.sh BANK_NOTICES=$T/notices
	bank_in
	dphp-route "$T/in" | dphp-replay -d "$E" -x "$TOP/examples/bank/handlers" |
	    dphp-commit -d "$E" > /dev/null
	run --separate-stderr dphp-replay -J -d "$E"
	assert_success
	assert_stderr ""
	assert_output "$(dphp-project -d "$E" ls | jq -r .id | xargs dphp-project -d "$E" get)"
	run --separate-stderr dphp-replay -J -d "$E" -c
	assert_success
	assert_output ""
	run --separate-stderr dphp-replay -J -d "$E" -S 2 -c
	assert_failure 1
	assert_equal "$(jq -r .id <<< "$output")" "entity:account:alice"
	run --separate-stderr dphp-replay -J -d "$E" -s -I entity:account:alice
	assert_success
	assert_equal "$(jq -c '[.seq, .before, .after]' <<< "$output")" '[1,null,{"balance":100}]
[3,{"balance":100},{"balance":70}]'
	# followed: the same lines as the journal's keys, ETags their revisions
	run --separate-stderr dphp-project -d "$E" follow -e
	assert_success
	assert_equal "$(jq -c '[.seq, .id, .deleted]' <<< "$output")" '[1,"entity:account:alice",null]
[2,"entity:account:bob",null]
[3,"entity:account:alice",null]
[4,"entity:account:carol",null]
[5,"entity:account:carol",true]'
	assert_equal "$(jq -r 'select(.seq == 3) | .etag' <<< "$output")" \
	    "$(dphp-commit -d "$E" -g entity:account:alice | jq -r .etag)"
	echo 'entity account accounts balance=.state.balance:integer' > "$T/map"
	dphp-project -d "$E" follow -e -m "$T/map" -o sqlite | sqlite3 "$T/db"
	run sqlite3 "$T/db" 'SELECT id, balance, seq FROM accounts ORDER BY id; SELECT seq FROM dphp_checkpoint'
	assert_output 'entity:account:alice|70|3
entity:account:bob|5|2
5'
}

@test "what is not on etcd says so: archives of the journal; a receipt not of its queue" {
	run --separate-stderr sh -c 'dphp-project -d "$1" archive > "$2"' sh "$E" "$T/a.tar"
	assert_failure 4
	assert_stderr "dphp-project: error: the journal of '$E' is not in segments: only a directory store's is archived"
	# a proposal whose input was taken from a directory store's queue
	ev d1 signal entity:account:alice deposit 1 > "$T/in"
	dphp-commit -d "$T/dir" -i
	dphp-route -q -d "$T/dir" "$T/in" > /dev/null
	dphp-route -t -d "$T/dir" > "$T/taken"
	dphp-replay -d "$T/dir" -x "$H" "$T/taken" > "$T/props"
	run --separate-stderr dphp-commit -d "$E" "$T/props"
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-commit: error: '$(jq -r .receipt "$T/taken")' is not a receipt of an etcd store's queue"
	run --separate-stderr dphp-project -d "etcd://$ETCD_HOSTS" ls
	assert_failure 5
	assert_stderr "dphp-project: error: invalid store 'etcd://$ETCD_HOSTS' (want etcd://[https://]HOST:PORT[,...]/PREFIX)"
}

# the requests (ranges, transactions) the members have answered so far
asked() {
	local h n=0
	for h in ${ETCD_HOSTS//,/ }; do
		exec 3<> "/dev/tcp/${h%:*}/${h##*:}"
		printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
		n=$((n + $(awk '/^grpc_server_handled_total\{.*grpc_method="(Range|Txn)"/ { n += $2 } END { print n + 0 }' <&3)))
		exec 3<&-
	done
	echo "$n"
}

@test "a worker waiting on an empty queue watches it: it asks etcd next to nothing, and what is admitted wakes it" {
	revive
	ev e1 signal entity:counter:k1 add 1 > "$T/in"
	before=$(asked)
	run --separate-stderr timeout 3 dphp-route -d "$E" -t -w
	assert_failure 124
	assert_output ""
	assert_stderr ""
	# looking every 50 ms instead, it asked some 200 times
	idle=$(($(asked) - before))
	[ "$idle" -lt 30 ] || fail "a waiting worker asked etcd $idle times in 3 s"
	(sleep 1 && dphp-route -d "$E" -q "$T/in") &
	run --separate-stderr timeout 3 dphp-route -d "$E" -t -w
	wait
	assert_failure 124
	assert_stderr ""
	assert_equal "$(jq -r .id <<< "$output")" e1
}

# the members killed before, started again, and all three answering
revive() {
	local i
	for i in 1 2 3; do
		kill -CONT "$(cat "$ETCD_DIR/n$i.pid")" 2> /dev/null || true
		kill -0 "$(cat "$ETCD_DIR/n$i.pid")" 2> /dev/null || etcd_member "$i"
	done
	etcd_healthy || fail "the cluster did not come back"
}

# $1 signals "add 1" to counters k0..k($2 - 1), admitted to $E
admit_signals() {
	awk -v n="$1" -v k="$2" 'BEGIN { for (i = 0; i < n; i++)
		printf "{\"v\":1,\"id\":\"e%03d\",\"ts\":\"2026-11-27T09:00:00Z\"," \
		    "\"event\":{\"to\":\"entity:counter:k%d\",\"event\":{\"type\":" \
		    "\"signal\",\"op\":\"add\",\"input\":1}}}\n", i, i % k }' > "$T/in"
	dphp-route -d "$E" -q "$T/in" > /dev/null
}

# $1 events over $2 counters: each input applied once (a redelivery
# found applied is a duplicate), every counter at $1 / $2, the queue empty
exactly_once() {
	local k
	cat "$T"/commits.* > "$T/all"
	jq -r 'select(.duplicate | not) | .input.id' "$T/all" | sort > "$T/applied"
	assert_equal "$(uniq -d "$T/applied")" ""
	assert_equal "$(wc -l < "$T/applied")" "$1"
	for k in $(seq 0 $(($2 - 1))); do
		run --separate-stderr dphp-commit -d "$E" -g "entity:counter:k$k"
		assert_success
		assert_equal "$(jq .state.state <<< "$output")" $(($1 / $2))
	done
	run queued
	assert_output ""
}

# a worker on $E until the queue is quiescent, with handlers $2: commit
# records appended to $T/commits.$1, messages to $T/errors.$1
worker() {
	{
		dphp-route -d "$E" -t -e -l "${LEASE:-2s}" | dphp-lock -d "$E" |
		    dphp-replay -d "$E" -x "$2" | dphp-commit -d "$E" -x "$2" -b 8 \
		    >> "$T/commits.$1"
	} 2>> "$T/errors.$1"
}

@test "workers on a cluster losing a member, then its leader: every event applied once, the workers finish" {
	revive
	unset DPHP_NOW
	export DPHP_ETCD_TIMEOUT_MS=3000 LEASE=5s
	admit_signals 200 10
	worker 1 "$H" &
	worker 2 "$H" &
	sleep 1
	kill -9 "$(cat "$ETCD_DIR/n$(member follow).pid")"
	sleep 1
	gone=$(member lead)
	kill -9 "$(cat "$ETCD_DIR/n$gone.pid")"
	# no quorum until the leader comes back
	sleep 2
	etcd_member "$gone"
	wait
	# what went unanswered is said, and what a claim that ran out
	# meanwhile kept from being committed; nothing else
	cat "$T"/errors.* > "$T/errors"
	run grep -v -e ': warning: etcd: a commit went unanswered: it was' \
	    -e ': its claim ran out before the commit: not committed' "$T/errors"
	assert_output ""
	exactly_once 200 10
	revive
}

@test "a worker stopped holding claims and a lock: its leases run out, another finishes, its late commits are fenced off" {
	revive
	unset DPHP_NOW
	# a counter that takes its time
	mkdir -p "$T/h/entity"
	printf '#!/bin/sh\nsleep 0.2\nexec "%s" "$@"\n' "$H/entity/counter" > "$T/h/entity/counter"
	chmod +x "$T/h/entity/counter"
	admit_signals 30 3
	export E T
	export -f worker
	setsid bash -c 'worker a "$T/h"' & a=$!
	setsid dphp-lock -d "$E" -o holder -l 2s entity:counter:k0 -- sleep 60 \
	    2> "$T/errors.holder" & h=$!
	echo "$a $h" > "$T/groups"
	# stopped once it has claimed events and holds the lock
	for _ in $(seq 1 100); do
		queued | grep -q '^queue/claim/' && dphp-lock -d "$E" -L | grep -q holder && break
		sleep 0.05
	done
	kill -STOP -- "-$a" "-$h"
	run --separate-stderr dphp-lock -d "$E" -L
	assert_equal "$(jq -r .owner <<< "$output")" holder
	claimed=$(queued | grep -c '^queue/claim/')
	[ "$claimed" -gt 0 ]
	# another worker waits out the leases, then does everything: the
	# lock's events parked until its expire event falls due
	for _ in $(seq 1 10); do
		worker b "$H"
		[ -z "$(queued)" ] && break
		sleep 1
	done
	run cat "$T/errors.b"
	assert_output --regexp "^dphp-lock: warning: the lock of entity:counter:k0 held by holder \(token [0-9]+\) ran out at [-0-9T:.]+Z: let go$"
	[ "$(jq -r .input.id "$T/commits.b" | sort -u | wc -l)" -ge "$claimed" ]
	# the stopped worker goes on: what it computed is fenced off
	kill -CONT -- "-$a" "-$h"
	kill -TERM -- "-$h"
	wait "$a"
	run grep -c "its claim ran out before the commit: not committed" "$T/errors.a"
	[ "$output" -ge 1 ]
	run grep -v "its claim ran out before the commit" "$T/errors.a"
	assert_output ""
	exactly_once 30 3
	run --separate-stderr dphp-lock -d "$E" -L
	assert_output ""
}
