#!/usr/bin/env bats
# Critical sections of orchestrations, kept by dphp-lock in a worker:
# grants in sorted order, parking, release on unlock and on every end,
# lease expiry, lock messages late or twice, and contention with shell
# dphp-lock runs.

load helper

setup() {
	mkstore
	T=$BATS_TEST_TMPDIR
	A=entity:probe:a B=entity:probe:b C=entity:probe:c
}

# Run a worker until the store is quiescent; the commit records are
# appended to $T/commits, every stage's messages to $T/errors.
work() {
	{
		dphp-route -d "$S" -t -e | dphp-lock -d "$S" |
		    dphp-replay -d "$S" -x "$H" |
		    dphp-commit -d "$S" -x "$H" >> "$T/commits"
	} 2>> "$T/errors"
}

# Admit the events that follow (dphp-emit arguments, one event per line
# of standard input: ID ARGS...).
admit() {
	local id args
	: > "$T/in"
	while read -r id args; do
		# shellcheck disable=SC2086 # ARGS are words
		ev "$id" $args >> "$T/in"
	done
	dphp-route -d "$S" -q "$T/in" > /dev/null
}

# section:1 gets the "go" it waits for, and the worker runs
go() {
	admit <<< "go1 raise orchestration:section:1 go"
	work
}

# nothing left in the queue or the delay spool
queue_empty() {
	run queued
	assert_output ""
}

# and no stage said anything
clean() {
	assert_file_empty "$T/errors"
	queue_empty
}

# have orchestrations crit:1 to crit:3 all completed?
crits_done() {
	local i
	for i in 1 2 3; do
		[ "$(state "orchestration:crit:$i" .state.status)" = '"completed"' ] ||
		    return 1
	done
}

# state of entity or orchestration $1, filtered by jq program $2
state() {
	dphp-project -d "$S" get "$1" > "$T/got"
	jq -c "$2" "$T/got"
}

@test "an orchestration's section: its calls pass, others are parked, then applied in order" {
	admit <<EOF
st1 start orchestration:section:1 {"entities":["$B","$A"],"wait":true}
EOF
	work
	run state orchestration:section:1 '.state.locks'
	assert_output "{\"request\":\"st1.0.0\",\"entities\":[\"$A\",\"$B\"],\"held\":true}"
	admit <<EOF
s1 signal $A add "x1"
s2 signal $A add "x2"
s3 signal $B add "y"
s4 signal $C add "free"
EOF
	work
	run --separate-stderr dphp-lock -d "$S" -L
	assert_success
	assert_stderr ""
	printf '%s\n' "${lines[@]}" | sort > "$T/list"
	run cat "$T/list"
	assert_output - <<OUT
{"entity":"$A","owner":"orchestration:section:1","participants":["$A","$B"],"fence":1,"expires":"2026-11-27T10:05:00.000Z","lease_left_ms":300000,"expired":false,"parked":["s1","s2"]}
{"entity":"$B","owner":"orchestration:section:1","participants":["$A","$B"],"fence":1,"expires":"2026-11-27T10:05:00.000Z","lease_left_ms":300000,"expired":false,"parked":["s3"]}
OUT
	run state "$A" .state.state.log
	assert_output '["in"]'
	run state "$C" .state.state.log
	assert_output '["free"]'
	go
	run state orchestration:section:1 '[.state.status, .state.output, .state.locks]'
	assert_output "[\"completed\",{\"entities\":[\"$A\",\"$B\"],\"fences\":{\"$A\":1,\"$B\":1}},null]"
	run state "$A" .state.state.log
	assert_output '["in","out","x1","x2"]'
	run state "$B" .state.state.log
	assert_output '["in","out","y"]'
	assert_file_empty "$T/errors"
	run --separate-stderr dphp-lock -d "$S" -L
	assert_success
	assert_stderr ""
	assert_output ""
	queue_empty
}

@test "a lock held by another parks the request; it is granted in turn, in sorted order" {
	admit <<< "st1 start orchestration:section:1 {\"entities\":[\"$B\"],\"wait\":true}"
	work
	admit <<< "st2 start orchestration:section:2 {\"entities\":[\"$A\",\"$B\",\"$C\"]}"
	work
	# 2 holds a and waits for b; c is not asked for before b is held
	run state orchestration:section:2 '[.state.status, .state.locks.held]'
	assert_output '["running",false]'
	run jq -c '.state | [.owner, .request, (.parked // [] | map(.id))]' <<< "$(record lock entity:probe:a; record lock entity:probe:b)"
	assert_output - <<'OUT'
["orchestration:section:2","st2.0.0",[]]
["orchestration:section:1","st1.0.0",["b9df60b5-9323-8d65-a8bf-0205670acdee"]]
OUT
	assert_equal "$(record lock entity:probe:c)" ""
	go
	# fences grow with each record of a lock: b's is its 4th on a
	# directory, past its revision on etcd
	run state orchestration:section:2 '[.state.status, .state.output.fences]'
	if [ -n "$ON_ETCD" ]; then
		run jq -c '[.[0], .[1]["'"$A"'"], .[1]["'"$C"'"], .[1]["'"$B"'"] > 1]' <<< "$output"
		assert_output '["completed",1,1,true]'
	else
		assert_output "[\"completed\",{\"$A\":1,\"$B\":4,\"$C\":1}]"
	fi
	run state "$B" .state.state.log
	assert_output '["in","out","in","out"]'
	clean
}

@test "completing, failing, continuing as new, termination and deletion let go of the locks" {
	admit <<EOF
e1 start orchestration:ender:complete {"entities":["$A","$B"],"end":"complete"}
e2 start orchestration:ender:fail {"entities":["$A","$B"],"end":"fail"}
e3 start orchestration:ender:continue {"entities":["$A","$B"],"end":"continue"}
EOF
	work
	run state orchestration:ender:complete .state.status
	assert_output '"completed"'
	run state orchestration:ender:fail '[.state.status, .state.error]'
	assert_output '["failed","failed on purpose"]'
	run state orchestration:ender:continue '[.state.status, .state.generation, .state.output]'
	assert_output '["completed",1,"done"]'
	# (one after the other: which of them got the locks first depends
	# on the order the worker took their events in)
	admit <<< 'e4 start orchestration:ender:wait {"entities":["entity:probe:a","entity:probe:b"],"end":"wait"}'
	work
	run state orchestration:ender:wait '.state.locks.held'
	assert_output true
	admit <<EOF
t1 signal $A add "t"
t2 terminate orchestration:ender:wait
EOF
	work
	run state orchestration:ender:wait '[.state.status, .state.locks]'
	assert_output '["terminated",null]'
	# and deleting an instance lets go of what it held
	admit <<< 'e5 start orchestration:ender:gone {"entities":["entity:probe:b"],"end":"wait"}'
	work
	run jq -c '.state.owner' <<< "$(record lock entity:probe:b)"
	assert_output '"orchestration:ender:gone"'
	admit <<< 'd5 delete orchestration:ender:gone'
	work
	run --separate-stderr dphp-project -d "$S" get orchestration:ender:gone
	assert_failure 1
	assert_stderr "dphp-project: error: no state for 'orchestration:ender:gone'"
	run state "$A" .state.state.log
	assert_output '["t"]'
	# every hold was let go, nothing waits
	run jq -c '.state | [.owner, .parked]' <<< "$(record lock entity:probe:a; record lock entity:probe:b)"
	assert_output - <<'OUT'
[null,null]
[null,null]
OUT
	clean
}

@test "a lock while holding locks, or an unlock while holding none, fails the instance and lets go" {
	admit <<EOF
n1 start orchestration:ender:nest {"entities":["$A"],"end":"nest"}
EOF
	work
	admit <<EOF
t1 start orchestration:ender:twice {"entities":["$B"],"end":"twice"}
EOF
	work
	run state orchestration:ender:nest '[.state.status, .state.error, .state.locks]'
	assert_output '["failed","handler orchestration/ender: action 1: a lock while holding locks (unlock first: locks are taken all at once, never nested)",null]'
	run state orchestration:ender:twice '[.state.status, .state.error, .state.locks]'
	assert_output '["failed","handler orchestration/ender: action 2: an unlock while holding no locks",null]'
	run jq -c '.state | [.owner, .parked]' <<< "$(record lock entity:probe:a; record lock entity:probe:b)"
	assert_output - <<'OUT'
[null,null]
[null,null]
OUT
	assert_equal "$(record lock entity:probe:z)" ""
	clean
}

@test "a lease that runs out lets go (audited); the parked event goes on; the late holder is refused" {
	admit <<EOF2
st1 start orchestration:section:1 {"entities":["$A"],"lease":"1s","wait":true}
EOF2
	work
	admit <<EOF2
s1 signal $A add "x"
EOF2
	work
	# the hold is awaited: an "expire" event is due when its lease ends
	run delayed
	assert_output --regexp '^1795773601000000\.[0-9a-f]{8}\.[0-9a-f-]{36}$'
	export DPHP_NOW=2026-11-27T10:00:02.000Z
	work
	run cat "$T/errors"
	assert_output "dphp-lock: warning: the lock of $A held by orchestration:section:1 (token 1) ran out at 2026-11-27T10:00:01.000Z: let go"
	: > "$T/errors"
	run state "$A" .state.state.log
	assert_output '["in","x"]'
	run jq -c .state.released <<< "$(record lock entity:probe:a)"
	assert_output '{"how":"expired","owner":"orchestration:section:1","fence":1,"expires":"2026-11-27T10:00:01.000Z","at":"2026-11-27T10:00:02.000Z"}'
	go
	why="the lock of $A is not held by orchestration:section:1 (its lease ran out, or it was let go)"
	run cat "$T/errors"
	assert_output "dphp-lock: <stdin>:2: event st1.0.3: $why (rejected)"
	run state orchestration:section:1 '[.state.status, .state.error]'
	assert_output "[\"failed\",\"$why\"]"
	run state "$A" .state.state.log
	assert_output '["in","x"]'
	queue_empty
}

@test "lock messages twice or late: granted once, and never after their owner let go" {
	admit <<< "st1 start orchestration:section:1 {\"entities\":[\"$A\"],\"wait\":true}"
	work
	admit <<< "st2 start orchestration:section:2 {\"entities\":[\"$A\"],\"wait\":true}"
	work
	jq -c '.emit[]? | select(.event.event.event.event.type == "lock")' "$T/commits" > "$T/requests"
	run jq -r .id "$T/requests"
	assert_output - <<'OUT'
st1.0.0
st2.0.0
OUT
	run jq -c '.state | [.owner, (.parked // [] | map(.id))]' <<< "$(record lock entity:probe:a)"
	assert_output '["orchestration:section:1",["st2.0.0"]]'
	# both requests again: 1's is granted again (the same reply, a
	# duplicate), 2's waits twice (the copy is harmless: it is granted
	# once, and a termination takes both out of the line)
	dphp-route -d "$S" -q "$T/requests" > /dev/null
	work
	run jq -c '.state | [.owner, (.parked // [] | map(.id))]' <<< "$(record lock entity:probe:a)"
	assert_output '["orchestration:section:1",["st2.0.0","st2.0.0"]]'
	run jq -c 'select(.duplicate) | .input.id' "$T/commits"
	assert_output '"582b0ebe-cf5c-8ff5-9aea-a47b682bf3a6"'
	# 2 ends while it waits: its request leaves the line
	admit <<EOF2
x2 terminate orchestration:section:2
EOF2
	work
	run jq -c '.state | [.owner, (.parked // [] | map(.id))]' <<< "$(record lock entity:probe:a)"
	assert_output '["orchestration:section:1",[]]'
	# 1 ends; then both requests come back late: nothing is granted
	admit <<EOF2
x1 terminate orchestration:section:1
EOF2
	work
	dphp-route -d "$S" -q "$T/requests" > /dev/null
	work
	run jq -c '.state | [.owner, .parked]' <<< "$(record lock entity:probe:a)"
	assert_output '[null,null]'
	run state orchestration:section:2 '[.state.status, .state.locks]'
	assert_output '["terminated",null]'
	clean
}

# A critical section of a shell run over the probes given, for
# dphp-lock: each probe must be empty on the way in and still ours on
# the way out; anything else is written to $T/violations.
cat_section() {
	cat > "$T/section" <<'SH'
#!/bin/sh
me=$DPHP_LOCK_OWNER
mark() {	# probe, expected inside, new inside
	dphp-commit -d "$S" -g "$1" > "$T/cur.$$" || exit 4
	in=$(jq -r '.state.state.in // "null"' "$T/cur.$$")
	[ "$in" = "$2" ] || echo "$me found $in in $1" >> "$T/violations"
	jq --arg v "$3" '.state | .state.in = (if $v == "null" then null else $v end)
	    | .state.n += (if $v == "null" then 0 else 1 end)' "$T/cur.$$" > "$T/new.$$"
	dphp-commit -d "$S" -e "$(jq -r .etag "$T/cur.$$")" -s "$1" "$T/new.$$" \
	    > /dev/null 2> "$T/err.$$" || cat "$T/err.$$" >> "$T/violations"
}
for e; do mark "$e" null "$me"; done
sleep 0.02
for e; do mark "$e" "$me" null; done
SH
}

@test "orchestrations and shell runs competing for overlapping sets: never two inside, all finish" {
	unset DPHP_NOW
	export S T
	cat_section
	for p in a b c; do
		echo '{"state":{"in":null,"bad":0,"n":0,"log":[]}}' > "$T/p"
		dphp-commit -d "$S" -c -s "entity:probe:$p" "$T/p" > /dev/null
	done
	admit <<EOF2
c1 start orchestration:crit:1 {"set":["$A","$B"],"rounds":4}
c2 start orchestration:crit:2 {"set":["$B","$C"],"rounds":4}
c3 start orchestration:crit:3 {"set":["$C","$A"],"rounds":4}
EOF2
	for set in "$A $B" "$B $C"; do
		(
			for _ in 1 2 3 4; do
				# shellcheck disable=SC2086 # two ids
				dphp-lock -d "$S" $set -- sh "$T/section" $set ||
				    echo "dphp-lock $set: $?" >> "$T/violations"
			done
		) & shells="${shells-} $!"
	done
	deadline=$((SECONDS + 120))
	while [ "$SECONDS" -lt "$deadline" ]; do
		work & w=$!
		work
		wait "$w"
		# shellcheck disable=SC2086 # pids
		crits_done && ! kill -0 $shells 2> /dev/null && break
		sleep 0.05
	done
	wait
	[ ! -e "$T/violations" ] || fail "$(cat "$T/violations")"
	assert_file_empty "$T/errors"
	for i in 1 2 3; do
		run state "orchestration:crit:$i" '[.state.status, .state.output]'
		assert_output '["completed",4]'
	done
	run jq -c '.state.state | [.in, .bad, .n]' <<< "$(record state entity:probe:a; record state entity:probe:b; record state entity:probe:c)"
	assert_output - <<'OUT'
[null,0,12]
[null,0,16]
[null,0,12]
OUT
	run --separate-stderr dphp-lock -d "$S" -L
	assert_success
	assert_output ""
	queue_empty
}

@test "a holder's event let through before its hold ran out is fenced off at commit, then refused" {
	admit <<EOF2
st1 start orchestration:section:1 {"entities":["$A"],"lease":"1s","wait":true}
EOF2
	work
	admit <<EOF2
go1 raise orchestration:section:1 go
EOF2
	# the worker stops after dphp-lock let the call through, with its token
	dphp-route -d "$S" -t -n 1 > "$T/go"
	{ dphp-lock -d "$S" "$T/go" | dphp-replay -d "$S" -x "$H" | dphp-commit -d "$S" -x "$H"; } > /dev/null 2>> "$T/errors"
	dphp-route -d "$S" -t -n 1 > "$T/call"
	dphp-lock -d "$S" "$T/call" > "$T/passed" 2>> "$T/errors"
	run jq -c '[.id, .fence, .event.event.lock.owner]' "$T/passed"
	assert_output '["st1.0.3",1,"orchestration:section:1"]'
	dphp-replay -d "$S" -x "$H" "$T/passed" > "$T/proposal"
	# ... and its lease runs out before the commit
	export DPHP_NOW=2026-11-27T10:00:02.000Z
	run --separate-stderr dphp-commit -d "$S" -x "$H" "$T/proposal"
	assert_success
	assert_output ""
	assert_stderr ""
	run state "$A" .state.state.log
	assert_output '["in"]'
	# given back, it comes again and is refused: the orchestration fails
	work
	why="the lock of $A is not held by orchestration:section:1 (its lease ran out, or it was let go)"
	run cat "$T/errors"
	assert_output - <<OUT
dphp-lock: warning: the lock of $A held by orchestration:section:1 (token 1) ran out at 2026-11-27T10:00:01.000Z: let go
dphp-lock: <stdin>:1: event st1.0.3: $why (rejected)
OUT
	run state orchestration:section:1 '[.state.status, .state.error]'
	assert_output "[\"failed\",\"$why\"]"
	run state "$A" .state.state.log
	assert_output '["in"]'
	queue_empty
}

# 24 orchestrations pair:0..23, each a section over two of the probes
# p0..p3 (seeded by $1), and 24 pokes, 6 to each probe, from outside
# any section; then $2 workers without shards drain them together.
sections_and_pokes() {
	local w pids=
	awk -v seed="$1" 'BEGIN { srand(seed); for (i = 0; i < 24; i++) {
		a = int(rand() * 4); b = (a + 1 + int(rand() * 3)) % 4
		if (a > b) { t = a; a = b; b = t }
		printf "s%d start orchestration:pair:%d [\"entity:probe:p%d\",\"entity:probe:p%d\"]\n", i, i, a, b
		printf "k%d signal entity:probe:p%d poke\n", i, i % 4 } }' > "$T/plan"
	admit < "$T/plan"
	for w in $(seq "$2"); do
		{
			dphp-route -d "$S" -t -e | dphp-lock -d "$S" |
			    dphp-replay -d "$S" -k -x "$H" |
			    dphp-commit -d "$S" -k -x "$H" >> "$T/commits"
		} 2>> "$T/errors" &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086 # pids
	wait $pids
}

# every section completed; no probe found anyone inside when it did
# not expect to (a poke during a section, or two sections at once);
# every enter and every poke applied once
exclusive() {
	local i
	for i in $(seq 0 23); do
		state "orchestration:pair:$i" .state.status
	done | sort | uniq -c > "$T/statuses"
	run sed 's/^ *//' "$T/statuses"
	assert_output '24 "completed"'
	for i in 0 1 2 3; do
		state "entity:probe:p$i" '.state.state | [.in, .bad, .pokes]'
	done > "$T/probes"
	run cat "$T/probes"
	assert_output - <<'OUT'
[null,0,6]
[null,0,6]
[null,0,6]
[null,0,6]
OUT
	for i in 0 1 2 3; do
		state "entity:probe:p$i" .state.state.n
	done > "$T/enters"
	run jq -s add "$T/enters"
	assert_output 48
	assert_file_empty "$T/errors"
	run --separate-stderr dphp-lock -d "$S" -L
	assert_success
	assert_output ""
	queue_empty
}

# Run sections_and_pokes with $1 workers once for each seed that
# follows, a store of its own each, and check it; on etcd, where a run
# is slower, for the first seed only.
repeated() {
	local n=$1 seed
	shift
	[ -z "$ON_ETCD" ] || set -- "$1"
	for seed; do
		S=$S.$seed && mkstore && : > "$T/errors"
		sections_and_pokes "$seed" "$n"
		exclusive
	done
}

@test "exclusive at the commit: sections and plain operations, two unsharded workers, repeated" {
	repeated 2 3 4
}

@test "exclusive at the commit: sections and plain operations, three unsharded workers, repeated" {
	repeated 3 5 6
}

@test "SIGKILL against workers during critical sections: every section done once, never two inside" {
	# claims must come back: the real clock, short claim leases
	unset DPHP_NOW
	admit <<EOF2
c1 start orchestration:crit:1 {"set":["$A","$B"],"rounds":3}
c2 start orchestration:crit:2 {"set":["$B","$C"],"rounds":3}
c3 start orchestration:crit:3 {"set":["$C","$A"],"rounds":3}
EOF2
	# an event in flight at five kills would be set aside as a poison
	# event (-a, tested apart), and its orchestration never end: a slow
	# one (a handler starting cold, a sanitizer build) can be caught
	# that often by rounds as short as these
	for _ in 1 2 3 4 5 6; do
		for w in a b; do
			setsid sh -c "dphp-route -d '$S' -t -w -l 1s -a 100 | dphp-lock -d '$S' |
			    dphp-replay -d '$S' -x '$H' | dphp-commit -d '$S' -x '$H' -b 4 \
			    > /dev/null 2>> '$T/killed.err'" & eval "$w=\$!"
		done
		# shellcheck disable=SC2154 # set by the eval
		sleep "0.$((RANDOM % 9 + 1))"
		kill -9 -- "-$a" "-$b" 2> /dev/null || true
		wait "$a" "$b" || true
	done
	# what the killed workers held comes back after its lease (1s);
	# the drain's own claims keep the default lease: one that ran out
	# while its event waited in the pipeline would be taken again, and
	# the copy still in the pipeline finished after -e saw no claim
	deadline=$((SECONDS + 120))
	while [ "$SECONDS" -lt "$deadline" ]; do
		{
			dphp-route -d "$S" -t -e | dphp-lock -d "$S" |
			    dphp-replay -d "$S" -x "$H" | dphp-commit -d "$S" -x "$H" > /dev/null
		} 2>> "$T/errors"
		crits_done && break
		sleep 0.5
	done
	for i in 1 2 3; do
		run state "orchestration:crit:$i" '[.state.status, .state.output]'
		assert_output '["completed",3]'
	done
	run jq -c '.state.state | [.in, .bad, .n]' <<< "$(record state entity:probe:a; record state entity:probe:b; record state entity:probe:c)"
	assert_output - <<'OUT'
[null,0,6]
[null,0,6]
[null,0,6]
OUT
	run --separate-stderr dphp-lock -d "$S" -L
	assert_success
	assert_output ""
	assert_file_empty "$T/errors"
	# nothing ready, claimed, set aside or delayed (queue/tmp may hold
	# what a killed worker was writing: garbage, never read)
	run queued
	assert_output ""
}

@test "a command that takes over an expired hold with parked events keeps them waiting, and guards its own lease" {
	admit <<< "st1 start orchestration:section:1 {\"entities\":[\"$A\"],\"lease\":\"1s\",\"wait\":true}"
	work
	admit <<< "s1 signal $A add \"x\""
	work
	export DPHP_NOW=2026-11-27T10:00:02.000Z
	export S ON_ETCD ETCD_HOSTS
	export -f record queued delayed ectl
	run --separate-stderr dphp-lock -d "$S" -o job -w 0 "$A" -- bash -c 'delayed; record lock entity:probe:a | jq -c "[.state.owner, (.state.parked | map(.id))]"'
	assert_success
	assert_stderr "dphp-lock: warning: the lock of $A held by orchestration:section:1 (token 1) ran out at 2026-11-27T10:00:01.000Z: let go"
	# the expire event of the old hold (due), and of the new one
	assert_output --regexp '^1795773601000000\.[0-9a-f]{8}\.[0-9a-f-]{36}
1795773632000000\.[0-9a-f]{8}\.[0-9a-f-]{36}
\["job",\["s1"\]\]$'
	# let go: s1 queued again and the new expire event withdrawn
	work
	run state "$A" .state.state.log
	assert_output '["in","x"]'
	queue_empty
}

@test "a command's hold renewed while an event waits parked on it: the expire event moves with the lease, none is left" {
	unset DPHP_NOW
	admit <<< "s1 signal $A add \"x\""
	export S H T ON_ETCD ETCD_HOSTS
	export -f record queued delayed ectl
	# held for 1.5 s with a lease of 600 ms: renewed every 200 ms while s1
	# is parked on it by a worker (600: a sanitizer build under load
	# can miss a renewal of a shorter one)
	# shellcheck disable=SC2016 # for the inner bash
	run --separate-stderr dphp-lock -d "$S" -o job -l 600ms "$A" -- bash -c '
		dphp-route -d "$S" -t -e | dphp-lock -d "$S" | dphp-replay -d "$S" -x "$H" |
		    dphp-commit -d "$S" -x "$H" >> "$T/commits"
		sleep 1.5
		record lock entity:probe:a | jq -c "[.state.owner, (.state.parked | map(.id))]"
		# a renewal delays the new expire event, then withdraws the
		# old: looked at in between, there are two for a moment
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			n=$(delayed | wc -l)
			[ "$n" = 1 ] && break
			sleep 0.02
		done
		echo "$n"'
	assert_success
	assert_stderr ""
	# parked, and one expire event waiting: the one for the lease now
	assert_output '["job",["s1"]]
1'
	# let go: that expire event withdrawn (not one for an older lease
	# left behind), s1 queued again
	run delayed
	assert_output ""
	work
	run state "$A" .state.state.log
	assert_output '["x"]'
	queue_empty
	assert_file_empty "$T/errors"
}
