#!/usr/bin/env bats
# The durable queue: admitting (dphp-route -q), taking (-t), releasing
# delays (-r), and the worker stages acknowledging what they finish.
# The clock is fixed (helper.bash); a test moves it by setting DPHP_NOW.

load helper

setup() {
	mkstore
	T=$BATS_TEST_TMPDIR
	# the names' first field at 10:00:00.000Z: milliseconds, then the
	# place among the events admitted together
	NOW=1795773600000000
	A=e7471982 B=184c553f C=e51d06b3	# shards of entity:counter:a, b, c
}

later() {
	DPHP_NOW=$1 "${@:2}"
}

# the files of queue directory $1 (new, cur, bad, tmp) or delay
queued() {
	if [ "$1" = delay ]; then
		ls "$S/delay"
	else
		ls "$S/queue/$1"
	fi
}

@test "admitting: printed once durable, named TIME.SHARD.ID, delays spooled" {
	{
		ev e1 signal entity:counter:a add 1
		ev e2 signal entity:counter:b add 2
		ev e3 -D 5m signal entity:counter:a add 3
	} > "$T/in"
	run --separate-stderr dphp-route -d "$S" -q "$T/in"
	assert_success
	assert_stderr ""
	assert_output "$(cat "$T/in")"
	run queued new
	assert_output - <<OUT
$NOW.$A.e1
$((NOW + 1)).$B.e2
OUT
	run queued delay
	assert_output "$((NOW + 300000002)).$A.e3"
	assert_equal "$(cat "$S/queue/new/$NOW.$A.e1")" "$(sed -n 1p "$T/in")"
	# the same event again is the same file
	run --separate-stderr dphp-route -d "$S" -q "$T/in"
	assert_success
	run queued new
	assert_equal "${#lines[@]}" 2
}

@test "admitting stops at a bad record; what came before is admitted" {
	{
		ev e1 signal entity:counter:a add 1
		echo '{"v":1}'
		ev e2 signal entity:counter:a add 1
	} > "$T/in"
	run --separate-stderr dphp-route -d "$S" -q "$T/in"
	assert_failure 3
	assert_output "$(sed -n 1p "$T/in")"
	assert_stderr "dphp-route: $T/in:2: invalid event: 'id' must be an event id ([A-Za-z0-9._-]{1,128}, not starting with '.')"
	run queued new
	assert_output "$NOW.$A.e1"
}

@test "taking: in queue order with receipts, at most -n, a lease that expires" {
	for i in 3 1 2; do
		ev "e$i" -t "2026-11-27T09:00:0${i}Z" signal entity:counter:a add 1
	done > "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
	run --separate-stderr dphp-route -d "$S" -t -n 2 -l 1m
	assert_success
	assert_stderr ""
	run jq -r '"\(.id) \(.receipt)"' <<< "$output"
	assert_output - <<'OUT'
e1 1795770001000001.e7471982.e1
e2 1795770002000002.e7471982.e2
OUT
	run queued cur
	assert_output - <<'OUT'
1795770001000001.e7471982.e1
1795770002000002.e7471982.e2
OUT
	# the lease is the mtime of the claim
	run stat -c %Y "$S/queue/cur/1795770001000001.e7471982.e1"
	assert_output "$((NOW / 1000000 + 60))"
	# still claimed a second before the lease ends; taken again after,
	# each alone (a run of -t ends with it): a claim that ran out makes
	# a suspect, which a crash may have to do with
	run --separate-stderr later 2026-11-27T10:00:59Z dphp-route -d "$S" -t -n 1
	assert_success
	run jq -r .id <<< "$output"
	assert_output e3
	run --separate-stderr later 2026-11-27T10:01:00Z dphp-route -d "$S" -t -n 2
	assert_success
	assert_stderr ""
	run jq -r .id <<< "$output"
	assert_output e1
	run --separate-stderr later 2026-11-27T10:01:00Z dphp-route -d "$S" -t -n 2
	assert_success
	assert_stderr ""
	run jq -r .id <<< "$output"
	assert_output e2
	run queued retry
	assert_output ""
}

@test "-n counts the events taken in all, with -e too; -c bounds those in flight" {
	signals e 220 > "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
	# -n 16 with -e: 16 taken, the rest left ready
	dphp-route -d "$S" -t -e -n 16 > "$T/taken" 2> "$T/err"
	assert_file_empty "$T/err"
	run jq -r .id "$T/taken"
	assert_output "$(seq -f e%g 16)"
	run queued new
	assert_equal "${#lines[@]}" 204
	# taken into a file, finished later
	{
		dphp-lock -d "$S" "$T/taken" | dphp-replay -d "$S" -x "$H" |
		    dphp-commit -d "$S" -x "$H"
	} > "$T/commits" 2> "$T/err"
	assert_file_empty "$T/err"
	run queued cur
	assert_output ""
	# -c 5 with nothing acknowledging: 5 taken, then it waits; stopped,
	# it gives them back
	dphp-route -d "$S" -t -e -c 5 > "$T/held" 2> "$T/err" & w=$!
	for i in $(seq 100); do
		[ "$(wc -l < "$T/held")" -lt 5 ] || break
		sleep 0.1
	done
	sleep 0.5	# and no more
	kill -TERM "$w"
	wait "$w"
	assert_file_empty "$T/err"
	run jq -r .id "$T/held"
	assert_output "$(seq -f e%g 17 21)"
	run queued new
	assert_equal "${#lines[@]}" 204
	# -c 3 through a worker, with -e: to the end
	{
		dphp-route -d "$S" -t -e -c 3 | dphp-lock -d "$S" |
		    dphp-replay -d "$S" -x "$H" | dphp-commit -d "$S" -x "$H"
	} > "$T/commits" 2> "$T/err"
	assert_file_empty "$T/err"
	run jq -r '.input.id' "$T/commits"
	assert_output "$(seq -f e%g 17 220)"
	run dphp-project -d "$S" get entity:counter:c
	assert_output --partial '"state":{"state":220,'
}

@test "a worker pipeline drains the queue; commits acknowledge it" {
	for i in 1 2 3 4 5; do
		ev "e$i" signal entity:counter:c add "$i"
	done > "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
	dphp-route -d "$S" -t > "$T/taken"
	run --separate-stderr dphp-lock -d "$S" "$T/taken"
	assert_success
	assert_stderr ""
	printf '%s\n' "${lines[@]}" > "$T/locked"
	assert_files_equal "$T/taken" "$T/locked"
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$T/locked"
	assert_success
	assert_stderr ""
	printf '%s\n' "${lines[@]}" > "$T/proposals"
	run --separate-stderr dphp-commit -d "$S" -x "$H" -b 4 "$T/proposals"
	assert_success
	assert_stderr ""
	run jq -r '"\(.input.id) \(.etag) \(.state.state)"' <<< "$output"
	assert_output - <<'OUT'
e1 1 1
e2 2 3
e3 3 6
e4 4 10
e5 5 15
OUT
	run find "$S/queue" "$S/delay" -type f
	assert_output ""
	# nothing left: take prints nothing and exits at once, even with -e
	run --separate-stderr timeout 10 dphp-route -d "$S" -t -e
	assert_success
	assert_output ""
	assert_stderr ""
}

@test "an acknowledgement that cannot be removed: the commit stands, the claim stays, exit 4" {
	ev e1 signal entity:counter:c add 5 > "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
	dphp-route -d "$S" -t > "$T/taken"
	dphp-replay -d "$S" -x "$H" "$T/taken" > "$T/proposals"
	# the removal is made by a thread: strace -f follows it there
	run --separate-stderr strace -f -o /dev/null \
	    -e trace=unlinkat -e inject=unlinkat:error=EIO \
	    dphp-commit -d "$S" "$T/proposals"
	assert_failure 4
	assert_stderr "dphp-commit: error: cannot remove 'queue/cur/$NOW.$C.e1': Input/output error"
	run jq -c '[.kind, .input.id, .etag, .state.state]' <<< "$output"
	assert_output '["commit","e1","1",5]'
	run queued cur
	assert_output "$NOW.$C.e1"
	# committed once: taken again when its claim runs out, a duplicate
	run --separate-stderr dphp-project -d "$S" get entity:counter:c
	assert_success
	assert_stderr ""
	run jq -c '[.etag, .state.state]' <<< "$output"
	assert_output '["1",5]'
}

@test "a conflict gives the input back to be computed again from the stored state" {
	ev e1 signal entity:counter:c add 5 > "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
	dphp-route -d "$S" -t > "$T/taken"
	dphp-replay -d "$S" -x "$H" "$T/taken" > "$T/proposals"
	echo '{"state":100}' > "$T/hundred"
	dphp-commit -d "$S" -c -s entity:counter:c "$T/hundred" > /dev/null
	run --separate-stderr dphp-commit -d "$S" "$T/proposals"
	assert_success
	assert_output ""
	assert_stderr ""
	run queued new
	assert_output "$NOW.$C.e1"
	run queued cur
	assert_output ""
	# with handlers it is computed again at once, and acknowledged
	dphp-route -d "$S" -t > "$T/taken"
	dphp-replay -d "$S" -x "$H" "$T/taken" > "$T/proposals"
	dphp-commit -d "$S" -f -s entity:counter:c "$T/hundred" > /dev/null
	run --separate-stderr dphp-commit -d "$S" -x "$H" "$T/proposals"
	assert_success
	assert_stderr ""
	run jq -c '[.input.id, .etag, .state.state]' <<< "$output"
	assert_output '["e1","3",105]'
	run find "$S/queue" -type f
	assert_output ""
}

@test "delays are released when due, by take or by -r alone" {
	ev d1 -D 1m signal entity:counter:c add 1 > "$T/in"
	ev d2 -D 2m signal entity:counter:c add 1 >> "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
	run --separate-stderr dphp-route -d "$S" -r
	assert_success
	assert_output ""
	assert_stderr ""
	run queued new
	assert_output ""
	run --separate-stderr later 2026-11-27T10:01:00Z dphp-route -d "$S" -r
	assert_success
	assert_output ""
	assert_stderr ""
	run queued new
	assert_output "$((NOW + 60000000)).$C.d1"
	run queued delay
	assert_output "$((NOW + 120000001)).$C.d2"
	run --separate-stderr later 2026-11-27T10:02:00Z dphp-route -d "$S" -t -n 5
	assert_success
	assert_stderr ""
	run jq -r .id <<< "$output"
	assert_output - <<'OUT'
d1
d2
OUT
}

@test "many waiting: a round takes the first in queue order, sharded or not" {
	# 300 events admitted newest first, over 4 destinations, far more
	# than a round takes
	awk 'BEGIN { for (i = 299; i >= 0; i--)
		printf "{\"v\":1,\"id\":\"e%d\",\"ts\":\"2026-11-27T09:%02d:%02d.000Z\"," \
		    "\"event\":{\"to\":\"entity:counter:k%d\",\"event\":{\"type\":" \
		    "\"signal\",\"op\":\"add\"}}}\n", i, i / 60, i % 60, i % 4 }' > "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
	run --separate-stderr dphp-route -d "$S" -t -n 3
	assert_success
	assert_stderr ""
	run jq -r .id <<< "$output"
	assert_output "$(printf 'e0\ne1\ne2')"
	run --separate-stderr dphp-route -d "$S" -t -n 3
	assert_success
	assert_stderr ""
	run jq -r .id <<< "$output"
	assert_output "$(printf 'e3\ne4\ne5')"
	# shard 1 of 2: the first three waiting whose destination is in it
	local name hash
	for name in $(ls "$S/queue/new"); do
		hash=${name#*.}
		hash=${hash%%.*}
		[ $((0x$hash % 2)) = 1 ] && echo "$name"
	done | head -n 3 > "$T/want"
	assert_equal "$(wc -l < "$T/want")" 3
	run --separate-stderr dphp-route -d "$S" -t -n 3 -s 1/2
	assert_success
	assert_stderr ""
	run jq -r .receipt <<< "$output"
	assert_output "$(cat "$T/want")"
}

@test "shards split the destinations: every event once, each destination in one shard" {
	awk 'BEGIN { for (i = 0; i < 60; i++)
		printf "{\"v\":1,\"id\":\"e%d\",\"ts\":\"2026-11-27T10:00:00Z\"," \
		    "\"event\":{\"to\":\"entity:counter:k%d\",\"event\":{\"type\":" \
		    "\"signal\",\"op\":\"add\"}}}\n", i, i % 12 }' > "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
	for part in 0 1 2; do
		run --separate-stderr dphp-route -d "$S" -t -n 1000 -s "$part/3"
		assert_success
		assert_stderr ""
		printf '%s\n' "$output" > "$T/shard$part"
	done
	run sh -c "cat '$T'/shard* | jq -r .id | sort | uniq -d"
	assert_output ""
	run sh -c "cat '$T'/shard* | wc -l"
	assert_output 60
	# no destination in two shards
	for part in 0 1 2; do
		jq -r .event.to "$T/shard$part" | sort -u
	done > "$T/destinations"
	sort "$T/destinations" > "$T/sorted"
	run wc -l < "$T/sorted"
	assert_output 12
	run uniq -d "$T/sorted"
	assert_output ""
	for part in 0 1 2; do
		[ -s "$T/shard$part" ] || fail "shard $part/3 got nothing"
	done
}

@test "a corrupt queue file is reported and set aside; the rest goes on" {
	ev e1 signal entity:counter:c add 1 > "$T/in"
	ev e3 signal entity:counter:c add 1 >> "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
	printf '{"v":1,"id":' > "$S/queue/new/$NOW.$C.e2"
	echo hello > "$S/queue/new/stray"
	ev e4 signal entity:counter:c add 1 > "$S/queue/new/$NOW.$C.e9"
	run --separate-stderr dphp-route -d "$S" -t -n 10
	assert_failure 3
	run jq -r .id <<< "$output"
	assert_output - <<'OUT'
e1
e3
OUT
	assert_stderr "$(cat <<ERR
dphp-route: error: queue/cur/$NOW.$C.e2: invalid JSON: unexpected token near end of file (moved to queue/bad)
dphp-route: error: queue/cur/$NOW.$C.e9: the name does not match the event (moved to queue/bad)
dphp-route: error: queue/new/stray: not a queue file name (moved to queue/bad)
ERR
)"
	run queued bad
	assert_output - <<OUT
$NOW.$C.e2
$NOW.$C.e2.why
$NOW.$C.e9
$NOW.$C.e9.why
stray
stray.why
OUT
	run cat "$S/queue/bad/stray.why"
	assert_output '{"reason":"not a queue file name","at":"2026-11-27T10:00:00.000Z","tries":0}'
}

# Account a holds 50; t1, a transfer of 20 to b, is admitted, taken and
# replayed: $T/proposals holds its proposal, which emits a deposit to b.
transfer_proposed() {
	echo '{"state":{"balance":50}}' > "$T/fifty"
	dphp-commit -d "$S" -c -s entity:account:a "$T/fifty" > /dev/null
	ev t1 signal entity:account:a transfer '{"to":"b","amount":20}' > "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
	dphp-route -d "$S" -t > "$T/taken"
	dphp-replay -d "$S" -x "$H" "$T/taken" > "$T/proposals"
}

# Commit $T/proposals: the record commits (overwritten in place); moving
# the emitted event into queue/new (the first rename) fails.
commit_failing_delivery() {
	strace -f -o /dev/null -e trace=rename,renameat,renameat2 \
	    -e inject=rename,renameat,renameat2:error=EIO:when=1 \
	    dphp-commit -d "$S" "$T/proposals"
}

@test "an event emitted by a commit is delivered once, even when delivery failed" {
	command -v strace > /dev/null || skip "no strace"
	DEPOSIT=a26e5404-41ab-895b-9c7c-13558f767b78	# derived from t1
	transfer_proposed
	run --separate-stderr commit_failing_delivery
	assert_failure 4
	assert_output ""
	assert_stderr "$(cat <<ERR
dphp-commit: error: cannot deliver 'queue/new/$NOW.fa04e9f2.$DEPOSIT': Input/output error
dphp-commit: error: the events emitted are kept with the records and delivered when their input comes again
ERR
)"
	run queued new
	assert_output ""
	run queued cur
	assert_output "$NOW.f12de986.t1"
	run jq -c '[.etag, .state.state, .outbox.cause, .outbox.receipt, (.outbox.events | length)]' "$S/state/entity/account/a"
	assert_output '["2",{"balance":30},"t1","'"$NOW"'.f12de986.t1",1]'
	# the worker died there; the lease runs out and the input comes again
	later 2026-11-27T10:05:00Z dphp-route -d "$S" -t > "$T/again"
	dphp-replay -d "$S" -x "$H" "$T/again" > "$T/proposals"
	run jq -c '[.duplicate, .emit]' "$T/proposals"
	assert_output '[true,[]]'
	run --separate-stderr dphp-commit -d "$S" "$T/proposals"
	assert_success
	assert_stderr ""
	run queued new
	assert_output "$NOW.fa04e9f2.$DEPOSIT"
	run queued cur
	assert_output ""
	run jq -c '[.id, .event.event.to, .event.event.event]' "$S/queue/new/$NOW.fa04e9f2.$DEPOSIT"
	assert_output '["'"$DEPOSIT"'","entity:account:b",{"type":"signal","op":"deposit","input":20}]'
	# and once more: the same event lands on the same name
	later 2026-11-27T10:05:00Z dphp-route -d "$S" -t -n 1 > /dev/null
	run queued new
	assert_output ""
}

@test "a store that is not there: a clear error, exit 5, nothing moved" {
	run --separate-stderr dphp-route -d "$T/nowhere" -t
	assert_failure 5
	assert_output ""
	assert_stderr "dphp-route: error: cannot open store '$T/nowhere': No such file or directory"
	ev e1 signal entity:counter:c add 1 > "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
	rmdir "$S/queue/cur"
	echo not a directory > "$S/queue/cur"
	run --separate-stderr dphp-route -d "$S" -t
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-route: error: cannot make 'queue/cur': Not a directory"
	run queued new
	assert_output "$NOW.$C.e1"
	# a queue file that is not a file is set aside like a corrupt one
	rm "$S/queue/cur" && mkdir "$S/queue/cur" "$S/queue/new/$NOW.$C.e2"
	run --separate-stderr dphp-route -d "$S" -t -n 5
	assert_failure 3
	run jq -r .id <<< "$output"
	assert_output e1
	assert_stderr "dphp-route: error: queue/cur/$NOW.$C.e2: cannot read: Invalid argument (moved to queue/bad)"
}

@test "a full disk: admission and commit fail cleanly, nothing is lost" {
	mount_or_skip "$T/full" -t tmpfs -o size=200k tmpfs "$T/full"
	S=$T/full/s
	mkstore
	ev e1 signal entity:counter:c add 1 > "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
	dphp-route -d "$S" -t > "$T/taken"
	dphp-replay -d "$S" -x "$H" "$T/taken" > "$T/proposals"
	# fill the disk
	head -c 400000 /dev/zero > "$T/full/filler" 2> /dev/null || true
	jq -nc --arg big "$(head -c 3000 /dev/zero | tr '\0' x)" \
	    '{v:1,id:"e2",ts:"2026-11-27T10:00:00Z",event:{to:"entity:counter:c",event:{type:"signal",op:"add",input:$big}}}' > "$T/big"
	run --separate-stderr dphp-route -d "$S" -q "$T/big"
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-route: error: cannot queue event e2: write: No space left on device"
	run find "$S/queue" -type f
	assert_output "$S/queue/cur/$NOW.$C.e1"
	run --separate-stderr dphp-commit -d "$S" "$T/proposals"
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-commit: error: cannot append to 'journal/00000000000000000001.ndjson': No space left on device"
	# room again: the claim runs out, the event comes back and is applied once
	rm "$T/full/filler"
	later 2026-11-27T10:05:00Z dphp-route -d "$S" -t > "$T/taken"
	dphp-replay -d "$S" -x "$H" "$T/taken" > "$T/proposals"
	run --separate-stderr dphp-commit -d "$S" "$T/proposals"
	assert_success
	assert_stderr ""
	run jq -c '[.input.id, .etag, .state.state]' <<< "$output"
	assert_output '["e1","1",1]'
	run find "$S/queue" -type f
	assert_output ""
	umount "$T/full"
}

@test "in a worker, what a stage cannot apply is rejected and acknowledged; ownership events are carried out when taken" {
	{
		ev l1 -l orchestration:o:1 -p entity:counter:c signal entity:counter:c add 1
		ev o1 share entity:counter:c user bob signal
		ev s1 completed entity:counter:c x1
		ev e1 signal entity:counter:c add 1
	} > "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
	dphp-route -d "$S" -t > "$T/taken"
	run jq -r .id "$T/taken"
	assert_output - <<'OUT'
l1
s1
e1
OUT
	run cat "$S/owner/entity/counter/c"
	assert_output '{"etag":"1","state":{"owners":[],"shares":[{"user":"bob","ops":["signal"]}]}}'
	run --separate-stderr dphp-lock -d "$S" "$T/taken"
	assert_failure 3
	assert_stderr "dphp-lock: $T/taken:1: event l1: the lock of entity:counter:c is not held by orchestration:o:1 (its lease ran out, or it was let go) (rejected)"
	printf '%s\n' "${lines[@]}" > "$T/locked"
	run jq -r .id "$T/locked"
	assert_output - <<'OUT'
s1
e1
OUT
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$T/locked"
	assert_failure 3
	assert_stderr "dphp-replay: $T/locked:1: 'completed' events are applied by the Infrastructure layer, not by dphp-replay (rejected)"
	run jq -r .input.id <<< "$output"
	assert_output e1
	run queued cur
	assert_output "$((NOW + 3)).$C.e1"
}

@test "a record replaced before its outbox was delivered delivers it first" {
	command -v strace > /dev/null || skip "no strace"
	DEPOSIT=a26e5404-41ab-895b-9c7c-13558f767b78	# derived from t1
	transfer_proposed
	commit_failing_delivery > /dev/null 2>&1 || true
	# t1 is still claimed; another operation on a commits first
	ev w1 signal entity:account:a withdraw 5 > "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
	dphp-route -d "$S" -t > "$T/taken"
	dphp-replay -d "$S" -x "$H" "$T/taken" > "$T/proposals"
	run --separate-stderr dphp-commit -d "$S" "$T/proposals"
	assert_success
	assert_stderr ""
	run jq -c '[.input.id, .etag, .state.state]' <<< "$output"
	assert_output '["w1","3",{"balance":25}]'
	run queued new
	assert_output "$NOW.fa04e9f2.$DEPOSIT"
	run jq -c .outbox "$S/state/entity/account/a"
	assert_output null
	# t1 comes again, alone (its claim ran out: a suspect), then the
	# deposit: a duplicate, acknowledged, nothing delivered twice
	later 2026-11-27T10:05:00Z dphp-route -d "$S" -t > "$T/again"
	later 2026-11-27T10:05:00Z dphp-route -d "$S" -t >> "$T/again"
	run jq -r .id "$T/again"
	assert_output - <<OUT
t1
$DEPOSIT
OUT
	dphp-replay -d "$S" -x "$H" "$T/again" > "$T/proposals"
	run --separate-stderr dphp-commit -d "$S" "$T/proposals"
	assert_success
	assert_stderr ""
	run jq -c '[.input.id, .duplicate, .etag]' <<< "$output"
	assert_output - <<'OUT'
["t1",true,"3"]
["a26e5404-41ab-895b-9c7c-13558f767b78",null,"1"]
OUT
	run find "$S/queue" -type f
	assert_output ""
	run dphp-project -d "$S" get entity:account:b
	run jq -c .state.state <<< "$output"
	assert_output '{"balance":20}'
}

@test "what a killed admitter left in queue/tmp is removed after 36 hours" {
	dphp-route -d "$S" -r
	echo partial > "$S/queue/tmp/$NOW.$C.e1.123.0"
	echo partial > "$S/queue/tmp/$NOW.$C.e2.123.0"
	touch -d '2026-11-25T00:00:00Z' "$S/queue/tmp/$NOW.$C.e1.123.0"
	touch -d '2026-11-27T09:00:00Z' "$S/queue/tmp/$NOW.$C.e2.123.0"
	run --separate-stderr dphp-route -d "$S" -r
	assert_success
	assert_output ""
	assert_stderr ""
	run queued tmp
	assert_output "$NOW.$C.e2.123.0"
}

@test "refusals and reads never create an entity, in a worker or a stream" {
	{
		ev w1 -r orchestration:o:1 call entity:account:ghost-q withdraw 5
		ev b1 -r orchestration:o:1 call entity:account:ghost-r balance
	} > "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
	{
		dphp-route -d "$S" -t -e | dphp-lock -d "$S" |
		    dphp-replay -d "$S" -x "$H" | dphp-commit -d "$S" -x "$H"
	} > "$T/commits" 2> "$T/errors"
	assert_file_empty "$T/errors"
	run jq -c 'select(.target | startswith("entity:")) | [.input.id, .etag, .failed, (.emit | map(.event.event.event.type))]' "$T/commits"
	assert_output - <<'OUT'
["w1",null,"insufficient funds",["failed"]]
["b1",null,null,["completed"]]
OUT
	run --separate-stderr dphp-project -d "$S" ls
	assert_success
	assert_output ""
	assert_stderr ""
	run --separate-stderr dphp-commit -d "$S" -g entity:account:ghost-q
	assert_failure 1
	assert_output ""
	assert_stderr "dphp-commit: error: no state for 'entity:account:ghost-q'"
	# in a stream, the same
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$T/in"
	assert_success
	assert_stderr ""
	run jq -c 'has("state")' <<< "$output"
	assert_output - <<'OUT'
false
false
OUT
}

@test "on an entity that exists, a worker remembers a refusal and a read; a stream answers them again" {
	worker() {
		dphp-route -d "$S" -q "$1" > /dev/null
		{
			dphp-route -d "$S" -t -e | dphp-lock -d "$S" |
			    dphp-replay -d "$S" -x "$H" | dphp-commit -d "$S" -x "$H"
		} > "$T/commits" 2> "$T/errors"
		assert_file_empty "$T/errors"
	}
	{
		ev d1 signal entity:account:a deposit 10
		ev w1 -r orchestration:o:1 call entity:account:a withdraw 50
		ev b1 -r orchestration:o:1 call entity:account:a balance
	} > "$T/in"
	worker "$T/in"
	run jq -c 'select(.target == "entity:account:a") | [.input.id, .etag, .failed, .state.state, (.emit | map(.event.event.event.type))]' "$T/commits"
	assert_output - <<'OUT'
["d1","1",null,{"balance":10},[]]
["w1","2","insufficient funds",{"balance":10},["failed"]]
["b1","3",null,{"balance":10},["completed"]]
OUT
	# taken again (a crash after the commit), after a deposit: the
	# refusal stands, the withdrawal is not made
	{
		ev d2 signal entity:account:a deposit 100
		ev w1 -r orchestration:o:1 call entity:account:a withdraw 50
	} > "$T/again"
	worker "$T/again"
	run jq -c 'select(.target == "entity:account:a") | [.input.id, .etag, .duplicate, .state.state.balance]' "$T/commits"
	assert_output - <<'OUT'
["d2","4",null,110]
["w1","4",true,null]
OUT
	# a stream: not remembered, decided again on the state it finds,
	# with the same reply ids
	ev w9 -r orchestration:o:1 call entity:account:a withdraw 500 > "$T/stream"
	for round in 1 2; do
		replay_commit "$T/stream"
		cp "$T/commits" "$T/commit.$round"
		run jq -c '[.input.id, .etag, .failed, has("state"), (.emit | map(.event.event.event.type))]' "$T/commit.$round"
		assert_output '["w9","4","insufficient funds",false,["failed"]]'
	done
	run jq -r '.emit[].id' "$T/commit.1" "$T/commit.2"
	assert_equal "${#lines[@]}" 2
	assert_equal "${lines[0]}" "${lines[1]}"
	run dphp-project -d "$S" get entity:account:a
	assert_output --partial '"etag":"4"'
}

@test "an entity's state written with the plumbing is what its handler gets; another shape is refused" {
	echo '{"balance":20}' > "$T/raw"
	run --separate-stderr dphp-commit -d "$S" -c -s entity:account:x "$T/raw"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-commit: error: $T/raw: an entity's document is {\"state\":STATE,\"seen\":WINDOW}; this one has 'balance'"
	echo '{"state":{"balance":20}}' > "$T/doc"
	dphp-commit -d "$S" -c -s entity:account:x "$T/doc" > /dev/null
	ev d1 signal entity:account:x deposit 5 > "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
	{
		dphp-route -d "$S" -t -e | dphp-lock -d "$S" |
		    dphp-replay -d "$S" -x "$H" | dphp-commit -d "$S" -x "$H"
	} > /dev/null 2> "$T/errors"
	assert_file_empty "$T/errors"
	run dphp-project -d "$S" get entity:account:x
	run jq -c .state.state <<< "$output"
	assert_output '{"balance":25}'
	# a record of another shape, put there by hand, fails the operation
	# (nothing is read as no state); the record is left as it was
	echo '{"etag":"9","state":{"balance":20}}' > "$S/state/entity/account/y"
	ev d2 -r orchestration:o:1 signal entity:account:y deposit 5 > "$T/in"
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$T/in"
	assert_success
	assert_stderr ""
	run jq -r '.failed, (.state // "no state"), .emit[0].event.event.event.reason' <<< "$output"
	why="the stored document of entity:account:y: an entity's document is {\"state\":STATE,\"seen\":WINDOW}; this one has 'balance'"
	assert_output "$why
no state
$why"
	assert_equal "$(cat "$S/state/entity/account/y")" '{"etag":"9","state":{"balance":20}}'
}

@test "an event no stage could pass on is set aside, with why, and the rest flows" {
	# big1 fits in a line, but not with what the stages add to it; g1's
	# proposal would hold a state too long for a line
	jq -nc '{v: 1, id: "big1", ts: "2026-11-27T09:00:00Z", event: {
	    to: "entity:counter:c", event: {type: "signal", op: "add",
	    input: ("x" * 16777000)}}}' > "$T/in"
	{
		ev g1 signal entity:grower:g grow 16777000
		ev e1 signal entity:counter:c add 1
		ev e2 signal entity:counter:c add 2
	} >> "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
	{
		dphp-route -d "$S" -t -e | dphp-lock -d "$S" |
		    dphp-replay -d "$S" -x "$H" | dphp-commit -d "$S" -x "$H"
		echo "${PIPESTATUS[*]}" > "$T/status"
	} > "$T/commits" 2> "$T/errors"
	run cat "$T/status" "$T/errors"
	assert_output - <<ERR
3 0 3 0
dphp-route: error: queue/cur/$((NOW - 3600000000)).$C.big1: longer, with its receipt, than a stage may pass on (a line is at most 16777216 bytes) (moved to queue/bad)
dphp-replay: error: queue/cur/$((NOW + 1)).0e3862a8.g1: event g1: its proposal is longer than a line may be (16777323 bytes; at most 16777216) (moved to queue/bad)
ERR
	run jq -c '[.input.id, .state.state]' "$T/commits"
	assert_output - <<'OUT'
["e1",1]
["e2",3]
OUT
	run --separate-stderr dphp-project -d "$S" dead
	assert_success
	assert_stderr ""
	run jq -c '[.name, .reason, .at, .tries, .event.id]' <<< "$output"
	assert_output - <<OUT
["$((NOW - 3600000000)).$C.big1","longer, with its receipt, than a stage may pass on (a line is at most 16777216 bytes)","2026-11-27T10:00:00.000Z",1,"big1"]
["$((NOW + 1)).0e3862a8.g1","event g1: its proposal is longer than a line may be (16777323 bytes; at most 16777216)","2026-11-27T10:00:00.000Z",1,"g1"]
OUT
	run queued new
	assert_output ""
	run queued cur
	assert_output ""
}

@test "dead letters: a file of queue/bad without its why is listed, its event null when it does not read" {
	dphp-route -d "$S" -r
	printf 'not json\n' > "$S/queue/bad/$NOW.$C.e1"
	ev e2 signal entity:counter:c add 1 > "$S/queue/bad/$NOW.$C.e2.why"
	run --separate-stderr dphp-project -d "$S" dead
	assert_success
	assert_stderr ""
	assert_output - <<OUT
{"name":"$NOW.$C.e1","reason":null,"at":null,"tries":null,"event":null}
{"name":"$NOW.$C.e2.why","reason":null,"at":null,"tries":null,"event":{"v":1,"id":"e2","ts":"2026-11-27T10:00:00.000Z","event":{"to":"entity:counter:c","event":{"type":"signal","op":"add","input":1}}}}
OUT
	run --separate-stderr dphp-project -d "$S" -P "$T/p" dead
	assert_failure 2
	assert_output ""
	assert_stderr "dphp-project: error: dead reads the whole store, not what a user may: run it without a policy"
}
