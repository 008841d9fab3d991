#!/usr/bin/env bats
# The journal as the directory store's write-ahead log (dphp-store(5)
# "The journal"): a state commit is its journal lines, synced; records
# are written after them without a flush and made durable by
# checkpoints.  What a kill or a power cut leaves, the next program to
# open the store brings up to the journal: nothing acknowledged is
# lost, nothing is applied twice.

load helper

setup() {
	[ -z "$ON_ETCD" ] || skip "etcd commits a state and its journal line in one transaction"
	mkstore
	T=$BATS_TEST_TMPDIR
	J=$S/journal
	REC=$S/state/entity/counter/c
}

# entity:a:b, read through the store, in its record and its sidecar,
# is at etag $1 with {"n":$1}, and the journal agrees with the records
at() {
	run --separate-stderr dphp-commit -d "$S" -g entity:a:b
	assert_success
	assert_stderr ""
	assert_output "{\"id\":\"entity:a:b\",\"etag\":\"$1\",\"state\":{\"state\":{\"n\":$1}}}"
	run jq -c '[.etag, .state.state.n]' "$S/state/entity/a/b"
	assert_output "[\"$1\",$1]"
	assert_equal "$(cat "$S/state/entity/a/b.etag")" "$1"
	run --separate-stderr dphp-replay -J -c -d "$S"
	assert_success
	assert_output ""
	assert_stderr ""
	run sh -c 'tail -n 1 "$1"/*.ndjson | jq -c "[.end, .next]"' sh "$J"
	assert_output "[$1,$(($1 + 1))]"
}

# The system calls of "$@" (a commit) from the opening of the store on,
# into $T/calls: NAME OCCURRENCE AFTER, AFTER 1 once the journal's lines
# from seq 2 on are written.
calls() {
	strace -o "$T/trace" "$@" < /dev/null > "$T/out" 2> "$T/err"
	awk -v store="\"$S\"" '
	    match($0, /^[a-z0-9_]+\(/) {
		name = substr($0, 1, RLENGTH - 1); n[name]++
		if (index($0, store)) open = 1
		if (open && name != "exit_group")
			print name, n[name], written + 0
		if (name == "write" && index($0, "{\\\"seq\\\":2,"))
			written = 1
	    }' "$T/trace" > "$T/calls"
	# the lines, the records, the end: a hundred calls or so
	[ "$(grep -c ' 1$' "$T/calls")" -gt 5 ] || fail "$(cat "$T/calls")"
	[ "$(grep -c ' 0$' "$T/calls")" -gt 20 ] || fail "$(cat "$T/calls")"
}

# Kill "$@" at each of those calls in turn, on a copy of $T/before;
# then the function $check, given AFTER, looks at what it left.  What
# the commit said before the kill, it did.
killed_at_each() {
	while read -r name k after; do
		echo "# killed at $name #$k"
		rm -rf "$S"
		cp -a "$T/before" "$S"
		status=0
		strace -o /dev/null -e inject="$name":signal=KILL:when="$k" \
		    "$@" < /dev/null > "$T/out" 2> "$T/err" || status=$?
		assert_equal "$status" 137
		assert_file_empty "$T/err"
		[ ! -s "$T/out" ] || assert_equal "$after" 1
		"$check" "$after"
	done < "$T/calls"
}

# entity:a:b is at 1 + $1, and so is what the commit said
set_once() {
	[ ! -s "$T/out" ] ||
	    assert_equal "$(cat "$T/out")" '{"id":"entity:a:b","etag":"2"}'
	at $((1 + $1))
}

@test "killed at each system call of a commit: before its journal lines are written it did not happen, from then on it did; every reader agrees" {
	printf '{"state":{"n":1}}\n' > "$T/s1"
	printf '{"state":{"n":2}}\n' > "$T/s2"
	dphp-commit -d "$S" -c -s entity:a:b "$T/s1" > /dev/null
	cp -a "$S" "$T/before"
	# (the same files as below: the calls depend on what they are)
	calls dphp-commit -d "$S" -e 1 -s entity:a:b "$T/s2"
	check=set_once killed_at_each \
	    dphp-commit -d "$S" -e 1 -s entity:a:b "$T/s2"
}

# entity:counter:c is at 1 + 4 * $1, read through the store and in its
# record, and the journal agrees with the records
run_of_four() {
	local n=$((1 + 4 * $1))
	run --separate-stderr dphp-commit -d "$S" -g entity:counter:c
	assert_success
	assert_stderr ""
	run jq -c '[.etag, .state.state]' <<< "$output"
	assert_output "[\"$n\",$n]"
	run jq -c '[.etag, .state.state]' "$REC"
	assert_output "[\"$n\",$n]"
	run --separate-stderr dphp-replay -J -c -d "$S"
	assert_success
	assert_output ""
	assert_stderr ""
}

@test "killed at each system call of a batch that changes one state four times: none of it or all of it" {
	signals e 1 > "$T/in"
	replay_commit "$T/in"
	signals e 5 2 > "$T/in"
	dphp-replay -d "$S" -x "$H" "$T/in" > "$T/run"
	cp -a "$S" "$T/before"
	calls dphp-commit -b 8 -d "$S" "$T/run"
	check=run_of_four killed_at_each dphp-commit -b 8 -d "$S" "$T/run"
}

@test "a record torn while overwritten in place, that still reads and names its line, is written again from the line" {
	printf '{"state":{"n":1}}\n' > "$T/s1"
	printf '{"state":{"n":2}}\n' > "$T/s2"
	dphp-commit -d "$S" -c -s entity:a:b "$T/s1" > /dev/null
	# killed at its end (the 2nd write), its record written
	run strace -f -o /dev/null -e trace=write \
	    -e inject=write:signal=KILL:when=2 \
	    dphp-commit -d "$S" -e 1 -s entity:a:b "$T/s2"
	assert_failure 137
	# as a crash in the middle of the write can leave it: the first
	# bytes new, the rest old
	printf '{"etag":"2","seq":2,"state":{"state":{"n":1}}}\n' \
	    > "$S/state/entity/a/b"
	at 2
}

@test "a power cut: the records written since the checkpoint are lost or torn; the first program of the next boot brings them back from the journal" {
	# five signals, a checkpoint after each commit: their records are
	# on the disk
	signals e 5 > "$T/in"
	DPHP_JOURNAL_CHECKPOINT=1 replay_commit "$T/in"
	run jq -c '[.boot, .size > 0]' "$J/checkpoint"
	assert_output "[\"$(cat /proc/sys/kernel/random/boot_id)\",true]"
	cp -a "$S" "$T/disk"
	# 25 more, acknowledged, with no checkpoint: the window is cut 4
	# times, the older ids kept beside the record
	signals e 30 6 > "$T/in"
	replay_commit "$T/in"
	assert_file_exists "$REC.seen"
	assert_equal "$(wc -l < "$T/commits")" 25
	cmp "$T/disk/journal/checkpoint" "$J/checkpoint"
	# the cut: the journal was synced, nothing else was; the record
	# is torn, its older ids and its sidecar are gone
	rm -r "$S/state"
	cp -a "$T/disk/state" "$S/state"
	: > "$REC"
	rm -f "$REC.etag" "$REC.seen"
	jq -c '.boot = "an earlier boot"' "$T/disk/journal/checkpoint" > "$J/checkpoint"
	# the next boot: any program that opens the store
	run --separate-stderr dphp-commit -d "$S" -g entity:counter:c
	assert_success
	assert_stderr ""
	run jq -c '[.etag, .state.state, (.state.seen | keys_unsorted)]' <<< "$output"
	assert_output '["30",30,["e21","e22","e23","e24","e25","e26","e27","e28","e29","e30"]]'
	run jq -c '[.etag, .state.state]' "$REC"
	assert_output '["30",30]'
	assert_equal "$(cat "$REC.etag")" 30
	assert_file_exists "$REC.seen"
	run jq -r .boot "$J/checkpoint"
	assert_output "$(cat /proc/sys/kernel/random/boot_id)"
	run --separate-stderr dphp-replay -J -c -d "$S"
	assert_success
	assert_output ""
	assert_stderr ""
	# every one applied before the cut is still a duplicate
	signals e 30 > "$T/again"
	replay_commit "$T/again"
	run jq -c 'select(.duplicate != true)' "$T/commits"
	assert_output ""
	assert_equal "$(wc -l < "$T/commits")" 30
	signals e 31 31 > "$T/new"
	replay_commit "$T/new"
	run jq -c '[.etag, .state.state]' "$REC"
	assert_output '["31",31]'
}

@test "a power cut that kept the record but lost the older ids beside it: they come back from the journal" {
	signals e 5 > "$T/in"
	DPHP_JOURNAL_CHECKPOINT=1 replay_commit "$T/in"
	signals e 30 6 > "$T/in"
	replay_commit "$T/in"
	rm "$REC.seen"
	jq -c '.boot = "an earlier boot"' "$J/checkpoint" > "$T/cp"
	mv "$T/cp" "$J/checkpoint"
	signals e 30 > "$T/again"
	replay_commit "$T/again"
	assert_file_exists "$REC.seen"
	run jq -c 'select(.duplicate != true)' "$T/commits"
	assert_output ""
	run jq -c '[.etag, .state.state]' "$REC"
	assert_output '["30",30]'
}

@test "a power cut in the middle of an append: a batch with fewer lines than it says is cut off, a whole one is redone; a reader does it" {
	printf '{"state":{"n":1}}\n' > "$T/s1"
	dphp-commit -d "$S" -c -s entity:a:b "$T/s1" > /dev/null
	seg=$J/00000000000000000001.ndjson
	cp "$seg" "$T/seg"
	# the first line of a batch of two, never synced nor acknowledged
	printf '%s\n' '{"seq":2,"b":2,"n":2,"at":"2026-11-27T10:00:00.000Z","id":"entity:a:b","etag":"2","state":{"state":{"n":2}}}' > "$T/line"
	seal "$T/line" >> "$seg"
	printf '%s' '{"seq":3,"b":2,"n":2,"at":"2026-11-27T10:00:00.000Z","id":"ent' >> "$seg"
	at 1
	cmp "$T/seg" "$seg"
	# a batch of one, whole: synced, so it happened
	printf '%s\n' '{"seq":2,"b":2,"n":1,"at":"2026-11-27T10:00:00.000Z","id":"entity:a:b","etag":"2","state":{"state":{"n":2}}}' > "$T/line"
	seal "$T/line" >> "$seg"
	run --separate-stderr dphp-project -d "$S" get entity:a:b
	assert_success
	assert_stderr ""
	assert_output '{"id":"entity:a:b","etag":"2","state":{"state":{"n":2}}}'
	at 2
}

@test "a checkpoint every DPHP_JOURNAL_CHECKPOINT bytes, and where each segment begins" {
	printf '{"state":{"n":1}}\n' > "$T/s1"
	dphp-commit -d "$S" -c -s entity:a:b "$T/s1" > /dev/null
	# the segment's first: made before its first line
	run jq -c '[.segment, .size, .next]' "$J/checkpoint"
	assert_output '["00000000000000000001.ndjson",0,1]'
	for i in 2 3 4; do
		printf '{"state":{"n":%d}}\n' "$i" > "$T/s"
		DPHP_JOURNAL_CHECKPOINT=300 dphp-commit -d "$S" -e $((i - 1)) \
		    -s entity:a:b "$T/s" > /dev/null
		jq -c '[.segment, .size, .next]' "$J/checkpoint"
	done > "$T/cps"
	# each commit is 162 bytes, its line and its end, each sealed: the
	# second ends at 324, past 300, the fourth at 648, past 600
	run cat "$T/cps"
	assert_output - <<'OUT'
["00000000000000000001.ndjson",324,3]
["00000000000000000001.ndjson",324,3]
["00000000000000000001.ndjson",648,5]
OUT
	assert_equal "$(wc -c < "$J/00000000000000000001.ndjson")" 648
	at 4
}

@test "a power cut loses the events a commit queued without a flush: the first program of the next boot queues them again from the journal" {
	local relayed='{"to":"entity:counter:c","event":{"type":"signal","op":"add","input":1}}'
	signals e 2 > "$T/in"
	DPHP_JOURNAL_CHECKPOINT=1 replay_commit "$T/in"
	cp -a "$S" "$T/disk"
	# two relays, admitted, taken: each emits a signal to the counter
	for n in 1 2; do
		ev "r$n" signal entity:relay:r go "$relayed"
	done > "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
	dphp-route -d "$S" -t -n 10 > "$T/taken"
	dphp-replay -d "$S" -x "$H" -k "$T/taken" > "$T/proposals"
	jq -r '.emit[].id' "$T/proposals" | sort > "$T/emitted"
	assert_equal "$(wc -l < "$T/emitted")" 2
	# committed: the journal's flush for each, none for the queue
	run --separate-stderr strace -f -o "$T/trace" \
	    -e trace=fsync,fdatasync,syncfs dphp-commit -d "$S" -k "$T/proposals"
	assert_success
	assert_stderr ""
	run sed -n 's/^[0-9]* *\([a-z]*\)(.*/\1/p' "$T/trace"
	assert_output "$(printf 'fdatasync\nfdatasync')"
	run sh -c 'cat "$1"/queue/new/* | jq -r .id | sort' sh "$S"
	assert_output "$(cat "$T/emitted")"
	cmp "$T/disk/journal/checkpoint" "$J/checkpoint"
	# the cut: the journal was synced, the queue was not
	rm -r "$S/queue"
	cp -a "$T/disk/queue" "$S/queue"
	jq -c '.boot = "an earlier boot"' "$T/disk/journal/checkpoint" > "$J/checkpoint"
	run queued
	assert_output ""
	# the next boot: any program that opens the store
	run --separate-stderr dphp-commit -d "$S" -g entity:relay:r
	assert_success
	assert_stderr ""
	assert_equal "$(jq -c '[.etag, .state.state]' <<< "$output")" '["2",2]'
	run sh -c 'cat "$1"/queue/new/* | jq -r .id | sort' sh "$S"
	assert_output "$(cat "$T/emitted")"
	# taken and applied, each once
	dphp-route -d "$S" -t -n 10 > "$T/taken"
	dphp-replay -d "$S" -x "$H" -k "$T/taken" > "$T/proposals"
	run --separate-stderr dphp-commit -d "$S" -k "$T/proposals"
	assert_success
	assert_stderr ""
	run jq -c '[.target, .etag, .state.state]' <<< "$output"
	assert_output - <<'OUT'
["entity:counter:c","3",3]
["entity:counter:c","4",4]
OUT
	run queued
	assert_output ""
}

@test "a checkpoint after a commit comes after the events it queued without a flush: its syncfs makes them durable" {
	ev r1 signal entity:relay:r go \
	    '{"to":"entity:counter:c","event":{"type":"signal","op":"add","input":1}}' > "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
	dphp-route -d "$S" -t -n 10 > "$T/taken"
	dphp-replay -d "$S" -x "$H" -k "$T/taken" > "$T/proposals"
	id=$(jq -r '.emit[].id' "$T/proposals")
	DPHP_JOURNAL_CHECKPOINT=1 run --separate-stderr strace -f -o "$T/trace" \
	    -e trace=fdatasync,syncfs,renameat,renameat2 \
	    dphp-commit -d "$S" -k "$T/proposals"
	assert_success
	assert_stderr ""
	run sed -n -e 's/^[0-9]* *\(fdatasync\|syncfs\)(.*/\1/p' \
	    -e "s/^[0-9]* *renameat.*\"[^\"]*$id\".*/queued/p" "$T/trace"
	assert_output "$(printf 'fdatasync\nqueued\nsyncfs')"
	run jq -r .boot "$J/checkpoint"
	assert_output "$(cat /proc/sys/kernel/random/boot_id)"
}
