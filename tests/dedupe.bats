#!/usr/bin/env bats
# Dedupe windows that cost the same however long the history: a
# directory store's record keeps the newest ids and the older ones are
# kept beside it (dphp-store(5) "Dedupe windows"); an event delivered
# again is applied once, however far back it was applied, within the
# hour.  The etcd store keeps whole windows in its records.

load helper

setup() {
	mkstore
	T=$BATS_TEST_TMPDIR
	REC=$S/state/entity/counter/c
}

# the counter's value and the ids its record's window holds
counter_is() {
	run --separate-stderr dphp-commit -d "$S" -g entity:counter:c
	assert_success
	assert_stderr ""
	run jq -c '[.state.state, (.state.seen | keys_unsorted)]' <<< "$output"
	assert_output "$1"
}

@test "the record keeps the 8 to 12 newest ids; the older ones beside it still stop a redelivery" {
	[ -z "$ON_ETCD" ] || skip "the etcd store keeps whole windows"
	signals e 30 > "$T/in"
	replay_commit "$T/in"
	# cut at the 13th, 18th, 23rd and 28th: 8 kept, then 9, 10
	counter_is '[30,["e21","e22","e23","e24","e25","e26","e27","e28","e29","e30"]]'
	assert_file_exists "$REC.seen"
	assert_equal "$(wc -c < "$REC.seen")" 4096
	# e1 and e17 are beside the record, e29 in it: none applies again
	sed -n '1p;17p;29p' "$T/in" > "$T/again"
	replay_commit "$T/again"
	run jq -c '[.input.id, .duplicate, .etag]' "$T/commits"
	assert_output - <<'OUT'
["e1",true,"30"]
["e17",true,"30"]
["e29",true,"30"]
OUT
	counter_is '[30,["e21","e22","e23","e24","e25","e26","e27","e28","e29","e30"]]'
	# a new event is applied
	signals e 31 31 > "$T/new"
	replay_commit "$T/new"
	counter_is '[31,["e21","e22","e23","e24","e25","e26","e27","e28","e29","e30","e31"]]'
}

@test "a hot counter's record and its journal stay under 1 KiB an operation" {
	[ -z "$ON_ETCD" ] || skip "the etcd store keeps whole windows"
	signals e 300 > "$T/in"
	replay_commit "$T/in"
	counter_is '[300,["e291","e292","e293","e294","e295","e296","e297","e298","e299","e300"]]'
	assert [ "$(wc -c < "$REC")" -lt 1024 ]
	assert [ "$(cat "$S"/journal/*.ndjson | wc -c)" -lt $((300 * 1024)) ]
	# 290 ids beside the record: two pages once one filled
	assert [ "$(wc -c < "$REC.seen")" -le 8192 ]
}

@test "workers: events queued again long after they were applied are applied once" {
	signals e 40 > "$T/in"
	dphp-route -d "$S" -q "$T/in" > /dev/null
	dphp-route -d "$S" -t -e | dphp-lock -d "$S" | dphp-replay -d "$S" -x "$H" |
	    dphp-commit -d "$S" -x "$H" -b 8 > "$T/commits" 2> "$T/errors"
	assert_file_empty "$T/errors"
	sed -n '2p;9p;33p' "$T/in" > "$T/again"
	dphp-route -d "$S" -q "$T/again" > /dev/null
	dphp-route -d "$S" -t -e | dphp-lock -d "$S" | dphp-replay -d "$S" -x "$H" |
	    dphp-commit -d "$S" -x "$H" -b 8 > "$T/commits" 2> "$T/errors"
	assert_file_empty "$T/errors"
	run jq -c '[.input.id, .duplicate]' "$T/commits"
	assert_output - <<'OUT'
["e2",true]
["e9",true]
["e33",true]
OUT
	run --separate-stderr dphp-commit -d "$S" -g entity:counter:c
	assert_stderr ""
	run jq .state.state <<< "$output"
	assert_output 40
	run queued
	assert_output ""
}

@test "killed after keeping ids apart, before the record: committed by its journal line, the next opener writes the record; none applies twice" {
	[ -z "$ON_ETCD" ] || skip "the etcd store keeps whole windows"
	command -v strace > /dev/null || skip "no strace"
	signals e 12 > "$T/in"
	replay_commit "$T/in"
	signals e 13 13 > "$T/13"
	dphp-replay -d "$S" -x "$H" "$T/13" > "$T/proposal"
	run jq -c '[.state.state, (.state.seen | keys_unsorted), (.evict | keys_unsorted)]' "$T/proposal"
	assert_output '[13,["e6","e7","e8","e9","e10","e11","e12","e13"],["e1","e2","e3","e4","e5"]]'
	# the 3rd flock: the journal's, the record read under a shared one,
	# then the record overwritten under an exclusive one
	run strace -f -o /dev/null -e trace=flock \
	    -e inject=flock:signal=KILL:when=3 \
	    dphp-commit -d "$S" "$T/proposal"
	assert_failure 137
	assert_output ""
	assert_file_exists "$REC.seen"
	run jq -c .state.state "$REC"
	assert_output 12
	counter_is '[13,["e6","e7","e8","e9","e10","e11","e12","e13"]]'
	run jq -c .state.state "$REC"
	assert_output 13
	replay_commit "$T/13"
	run jq -c '[.input.id, .duplicate]' "$T/commits"
	assert_output '["e13",true]'
	cat "$T/in" "$T/13" > "$T/all"
	replay_commit "$T/all"
	run jq -c 'select(.duplicate | not) | .input.id' "$T/commits"
	assert_output ""
	counter_is '[13,["e6","e7","e8","e9","e10","e11","e12","e13"]]'
}

@test "ids a proposal cuts that the stored window does not hold are not kept: such an event still applies" {
	[ -z "$ON_ETCD" ] || skip "the etcd store keeps whole windows"
	signals e 1 > "$T/in"
	replay_commit "$T/in"
	signals e 2 2 > "$T/2"
	dphp-replay -d "$S" -x "$H" "$T/2" |
	    jq -c '.evict = {"x1": "2026-11-27T10:00:00.000Z"}' > "$T/forged"
	run --separate-stderr dphp-commit -d "$S" "$T/forged"
	assert_success
	assert_stderr ""
	assert_file_not_exists "$REC.seen"
	signals x 1 > "$T/x"
	replay_commit "$T/x"
	counter_is '[3,["e1","e2","x1"]]'
}

@test "a deleted counter forgets the ids beside its record" {
	[ -z "$ON_ETCD" ] || skip "the etcd store keeps whole windows"
	signals e 20 > "$T/in"
	replay_commit "$T/in"
	assert_file_exists "$REC.seen"
	dphp-emit -i gone delete entity:counter:c > "$T/delete"
	replay_commit "$T/delete"
	assert_file_not_exists "$REC.seen"
	# the same ids make a new counter from nothing
	replay_commit "$T/in"
	counter_is '[20,["e11","e12","e13","e14","e15","e16","e17","e18","e19","e20"]]'
}

@test "a proposal's evict must be event ids and times, beside a new state" {
	signals e 1 > "$T/in"
	dphp-replay -d "$S" -x "$H" "$T/in" > "$T/p"
	jq -c '.evict = {"no way": "2026-11-27T10:00:00.000Z"}' "$T/p" > "$T/bad"
	run --separate-stderr dphp-commit -d "$S" "$T/bad"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-commit: $T/bad:1: invalid proposal: evict: 'no way' must be an event id and a time"
	jq -c 'del(.state) | .evict = {}' "$T/p" > "$T/bad"
	run --separate-stderr dphp-commit -d "$S" "$T/bad"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-commit: $T/bad:1: invalid proposal: 'evict' must be an object of the ids cut from the window of the new 'state'"
	run --separate-stderr dphp-commit -d "$S" -g entity:counter:c
	assert_failure 1
	assert_output ""
}
