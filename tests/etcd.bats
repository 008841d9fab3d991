#!/usr/bin/env bats
# The etcd backend (-d etcd://HOST:PORT,.../PREFIX) against a real
# three-member etcd cluster on loopback ports, started for this file and
# stopped after it: the store's contract, a pipeline, concurrent
# compare-and-set, members killed, a directory store moved in through a
# snapshot, the journal replayed and followed.  The queue is not on
# etcd yet, and says so.

load helper

setup_file() {
	command -v etcd > /dev/null || fail "no etcd: run .ci/ensure-deps"
	ETCD_DIR=$(mktemp -d /tmp/dphp-etcd.XXXXXX)
	base=$((20000 + RANDOM % 20000))
	cluster=
	for i in 1 2 3; do
		cluster="$cluster${cluster:+,}n$i=http://127.0.0.1:$((base + 10 + i))"
	done
	hosts=
	for i in 1 2 3; do
		# in a subshell: killing it later is no job of this shell's
		(
			etcd --name "n$i" --data-dir "$ETCD_DIR/n$i" \
			    --listen-client-urls "http://127.0.0.1:$((base + i))" \
			    --advertise-client-urls "http://127.0.0.1:$((base + i))" \
			    --listen-peer-urls "http://127.0.0.1:$((base + 10 + i))" \
			    --initial-advertise-peer-urls "http://127.0.0.1:$((base + 10 + i))" \
			    --initial-cluster "$cluster" --initial-cluster-state new \
			    --initial-cluster-token "dphp-$base" > "$ETCD_DIR/n$i.log" 2>&1 &
			echo "$!" > "$ETCD_DIR/n$i.pid"
		)
		hosts="$hosts${hosts:+,}127.0.0.1:$((base + i))"
	done
	for _ in $(seq 1 100); do
		ETCDCTL_API=3 etcdctl --endpoints "$hosts" endpoint health > /dev/null 2>&1 && break
		sleep 0.2
	done
	ETCDCTL_API=3 etcdctl --endpoints "$hosts" endpoint health > /dev/null 2>&1 ||
	    fail "etcd did not start: $(cat "$ETCD_DIR"/n1.log | tail -5)"
	export ETCD_DIR ETCD_HOSTS=$hosts
}

teardown_file() {
	for f in "$ETCD_DIR"/n*.pid; do
		kill -9 "$(cat "$f")" 2> /dev/null || true
	done
	rm -rf "$ETCD_DIR"
}

setup() {
	T=$BATS_TEST_TMPDIR
	E=etcd://$ETCD_HOSTS/t$BATS_TEST_NUMBER
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

# the member that leads now: its name
leader() {
	ETCDCTL_API=3 etcdctl --endpoints "$ETCD_HOSTS" endpoint status -w json |
	    jq -r '.[] | select(.Status.leader == .Status.header.member_id) | .Endpoint' |
	    sed 's/.*://'
}

@test "the store's contract: create, compare-and-set by ETag, read, delete, list; ETags never come back" {
	echo '{"balance":10}' > "$T/s"
	run --separate-stderr dphp-commit -d "$E" -c -s entity:account:alice "$T/s"
	assert_success
	assert_stderr ""
	e1=$(jq -r .etag <<< "$output")
	run --separate-stderr dphp-commit -d "$E" -c -s entity:account:alice "$T/s"
	assert_failure 1
	assert_output ""
	assert_stderr "dphp-commit: error: 'entity:account:alice' already exists at \"$e1\""
	echo '{"balance":20}' > "$T/s"
	run --separate-stderr dphp-commit -d "$E" -e "$e1" -s entity:account:alice "$T/s"
	assert_success
	e2=$(jq -r .etag <<< "$output")
	[ "$e2" -gt "$e1" ]
	run --separate-stderr dphp-commit -d "$E" -e "$e1" -s entity:account:alice "$T/s"
	assert_failure 1
	assert_stderr "dphp-commit: error: etag mismatch for 'entity:account:alice': is \"$e2\" but expected \"$e1\""
	run --separate-stderr dphp-commit -d "$E" -g entity:account:alice
	assert_success
	assert_output "{\"id\":\"entity:account:alice\",\"etag\":\"$e2\",\"state\":{\"balance\":20}}"
	printf '7' > "$T/s"
	dphp-commit -d "$E" -f -s 'entity:account:../bob' "$T/s" > /dev/null
	dphp-commit -d "$E" -f -s orchestration:transfer:t1 "$T/s" > /dev/null
	run --separate-stderr dphp-project -d "$E" ls entity
	assert_success
	assert_equal "$(jq -r .id <<< "$output")" "entity:account:../bob
entity:account:alice"
	run --separate-stderr dphp-commit -d "$E" -f -r entity:account:alice
	assert_success
	# made again: a new ETag, never the old one
	echo '{"balance":20}' > "$T/s"
	run dphp-commit -d "$E" -e "$e2" -s entity:account:alice "$T/s"
	assert_failure 1
	run dphp-commit -d "$E" -c -s entity:account:alice "$T/s"
	assert_success
	[ "$(jq -r .etag <<< "$output")" -gt "$e2" ]
	run --separate-stderr dphp-commit -d "$E" -f -r entity:account:nobody
	assert_failure 1
	run --separate-stderr dphp-project -d "etcd://$ETCD_HOSTS/none" ls
	assert_failure 4
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
	echo '{"n":0}' > "$T/s"
	dphp-commit -d "$E" -c -s entity:counter:c "$T/s" > /dev/null
	for w in 1 2 3 4; do
		(
			for _ in $(seq 1 15); do
				until r=$(dphp-commit -d "$E" -g entity:counter:c) &&
				    jq -c '.state.n += 1 | .state' <<< "$r" |
				    dphp-commit -d "$E" -e "$(jq -r .etag <<< "$r")" \
				    -s entity:counter:c > /dev/null 2>&1; do :; done
			done
		) &
	done
	wait
	run dphp-commit -d "$E" -g entity:counter:c
	assert_equal "$(jq -c .state <<< "$output")" '{"n":60}'
}

@test "a commit carried out but its answer lost: its marker says it was done, and it is not done twice" {
	# through a proxy that swallows the answer of the 3rd write; the
	# member behind it is the second endpoint too
	port=$((${ETCD_HOSTS##*:} + 100))
	member=${ETCD_HOSTS##*,}
	"$TOP/tests/fixtures/lossy-proxy" "$port" "${member##*:}" 3 &
	proxy=$!
	for _ in $(seq 1 50); do
		(exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break
		sleep 0.1
	done
	export DPHP_ETCD_TIMEOUT_MS=700
	P=etcd://127.0.0.1:$port,$member/t$BATS_TEST_NUMBER
	echo '{"n":0}' > "$T/s"
	dphp-commit -d "$E" -c -s entity:counter:m "$T/s" > /dev/null
	for _ in $(seq 1 5); do
		until r=$(dphp-commit -d "$P" -g entity:counter:m) &&
		    jq -c '.state.n += 1 | .state' <<< "$r" |
		    dphp-commit -d "$P" -e "$(jq -r .etag <<< "$r")" \
		    -s entity:counter:m > /dev/null 2>> "$T/errors"; do sleep 0.05; done
	done
	kill "$proxy"
	run dphp-commit -d "$E" -g entity:counter:m
	assert_equal "$(jq -c .state <<< "$output")" '{"n":5}'
	run cat "$T/errors"
	assert_output "dphp-commit: warning: etcd: a commit went unanswered: it was done"
	# no marker left: each writer takes its last away when it ends
	run sh -c 'ETCDCTL_API=3 etcdctl --endpoints "$1" get --prefix "$2/txn/" --keys-only | grep -c .' sh "$ETCD_HOSTS" "t$BATS_TEST_NUMBER"
	assert_output 0
}

@test "a member killed, then the leader, in the middle of the writes: no acknowledged commit lost" {
	echo '{"n":0}' > "$T/s"
	dphp-commit -d "$E" -c -s entity:counter:k "$T/s" > /dev/null
	: > "$T/acked"
	(
		for i in $(seq 1 40); do
			until r=$(dphp-commit -d "$E" -g entity:counter:k) &&
			    jq -c '.state.n += 1 | .state' <<< "$r" |
			    dphp-commit -d "$E" -e "$(jq -r .etag <<< "$r")" \
			    -s entity:counter:k > /dev/null 2>&1; do sleep 0.05; done
			echo "$i" >> "$T/acked"
		done
	) &
	writer=$!
	sleep 0.5
	# a follower first, then whoever leads
	lead=$(leader)
	for i in 1 2 3; do
		p=$(cut -d, -f"$i" <<< "$ETCD_HOSTS")
		if [ "${p##*:}" != "$lead" ]; then
			kill -9 "$(cat "$ETCD_DIR/n$i.pid")"
			break
		fi
	done
	sleep 0.5
	lead=$(leader)
	for i in 1 2 3; do
		p=$(cut -d, -f"$i" <<< "$ETCD_HOSTS")
		[ "${p##*:}" = "$lead" ] && kill -STOP "$(cat "$ETCD_DIR/n$i.pid")" && stopped=$i
	done
	# a majority is gone for a moment: writes wait, then go on
	sleep 1
	kill -CONT "$(cat "$ETCD_DIR/n$stopped.pid")"
	wait "$writer"
	run dphp-commit -d "$E" -g entity:counter:k
	assert_equal "$(jq -c .state <<< "$output")" '{"n":40}'
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

@test "what is not on etcd yet says so: the queue, archives of the journal" {
	ev d1 signal entity:account:alice deposit 1 > "$T/in"
	run --separate-stderr dphp-route -q -d "$E" "$T/in"
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-route: error: the etcd store has no queue yet: workers need a directory store"
	run --separate-stderr sh -c 'dphp-project -d "$1" archive > "$2"' sh "$E" "$T/a.tar"
	assert_failure 4
	assert_stderr "dphp-project: error: the journal of '$E' is not in segments: only a directory store's is archived"
	run --separate-stderr dphp-project -d "etcd://$ETCD_HOSTS" ls
	assert_failure 4
	assert_stderr "dphp-project: error: invalid store 'etcd://$ETCD_HOSTS' (want etcd://HOST:PORT[,...]/PREFIX)"
}
