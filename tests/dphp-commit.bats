#!/usr/bin/env bats
# dphp-commit: the store's plumbing (init, get, compare-and-set, create,
# delete), its crash behaviour at syscall boundaries, and the pipeline
# stage that commits proposals.

load helper

setup() {
	mkstore
	J=$BATS_TEST_TMPDIR/state.json
	printf '{"state":{"n":1}}\n' > "$J"
}

@test "-i makes a store, is idempotent, and refuses other directories" {
	assert_file_exists "$S/FORMAT"
	assert_equal "$(cat "$S/FORMAT")" "dphp-store 1"
	run --separate-stderr dphp-commit -d "$S" -i
	assert_success
	assert_output ""
	assert_stderr ""
	mkdir "$BATS_TEST_TMPDIR/other"
	touch "$BATS_TEST_TMPDIR/other/file"
	run --separate-stderr dphp-commit -d "$BATS_TEST_TMPDIR/other" -i
	assert_failure 5
	assert_output ""
	assert_stderr "dphp-commit: error: '$BATS_TEST_TMPDIR/other' is not empty and not a dphp store"
	run --separate-stderr dphp-commit -d "$BATS_TEST_TMPDIR/other" -g entity:a:b
	assert_output ""
	assert_failure 5
	assert_stderr "dphp-commit: error: '$BATS_TEST_TMPDIR/other' is not a dphp store (make one with dphp-commit -i)"
}

@test "DPHP_STORE names the store; no store at all is a configuration error" {
	run --separate-stderr dphp-commit -g entity:a:b
	assert_failure 5
	assert_output ""
	assert_stderr "dphp-commit: error: no store: give -d STORE or set DPHP_STORE"
	DPHP_STORE=$S run --separate-stderr dphp-commit -c -s entity:a:b "$J"
	assert_success
	assert_output '{"id":"entity:a:b","etag":"1"}'
	assert_stderr ""
}

@test "create only, then compare-and-set, then get" {
	run --separate-stderr dphp-commit -d "$S" -c -s entity:a:b "$J"
	assert_success
	assert_output '{"id":"entity:a:b","etag":"1"}'
	assert_stderr ""
	run --separate-stderr dphp-commit -d "$S" -c -s entity:a:b "$J"
	assert_failure 1
	assert_output ""
	assert_stderr "dphp-commit: error: 'entity:a:b' already exists at \"1\""
	printf '{"state":{"n":2}}' > "$J"
	run --separate-stderr dphp-commit -d "$S" -e 1 -s entity:a:b < "$J"
	assert_success
	assert_output '{"id":"entity:a:b","etag":"2"}'
	assert_stderr ""
	run --separate-stderr dphp-commit -d "$S" -e 1 -s entity:a:b "$J"
	assert_failure 1
	assert_output ""
	assert_stderr "dphp-commit: error: etag mismatch for 'entity:a:b': is \"2\" but expected \"1\""
	run --separate-stderr dphp-commit -d "$S" -g entity:a:b
	assert_success
	assert_output '{"id":"entity:a:b","etag":"2","state":{"state":{"n":2}}}'
	assert_stderr ""
	assert_equal "$(cat "$S/state/entity/a/b.etag")" 2
}

@test "-f writes unconditionally; -r deletes; a deleted id keeps its generation" {
	run --separate-stderr dphp-commit -d "$S" -f -s entity:a:b "$J"
	assert_stderr ""
	assert_success
	assert_output '{"id":"entity:a:b","etag":"1"}'
	run --separate-stderr dphp-commit -d "$S" -e 9 -r entity:a:b
	assert_output ""
	assert_failure 1
	assert_stderr "dphp-commit: error: etag mismatch for 'entity:a:b': is \"1\" but expected \"9\""
	run --separate-stderr dphp-commit -d "$S" -e 1 -r entity:a:b
	assert_success
	assert_output '{"id":"entity:a:b","etag":"2","deleted":true}'
	assert_stderr ""
	assert_file_not_exists "$S/state/entity/a/b.etag"
	run --separate-stderr dphp-commit -d "$S" -g entity:a:b
	assert_failure 1
	assert_output ""
	assert_stderr "dphp-commit: error: no state for 'entity:a:b'"
	run --separate-stderr dphp-commit -d "$S" -f -r entity:a:b
	assert_output ""
	assert_failure 1
	assert_stderr "dphp-commit: error: no state for 'entity:a:b'"
	# An ETag from before the delete can never match the new state.
	run --separate-stderr dphp-commit -d "$S" -e 1 -s entity:a:b "$J"
	assert_output ""
	assert_failure 1
	assert_stderr "dphp-commit: error: etag mismatch for 'entity:a:b': is absent but expected \"1\""
	run --separate-stderr dphp-commit -d "$S" -c -s entity:a:b "$J"
	assert_stderr ""
	assert_success
	assert_output '{"id":"entity:a:b","etag":"3"}'
}

@test "keys are encoded; no id reaches outside the store" {
	run --separate-stderr dphp-commit -d "$S" -f -s 'entity:x:../../etc' "$J"
	assert_stderr ""
	assert_success
	assert_output '{"id":"entity:x:../../etc","etag":"1"}'
	assert_file_exists "$S/state/entity/x/%2E%2E%2F%2E%2E%2Fetc"
	long=$(printf 'k%.0s' $(seq 300) | head -c 256)
	run --separate-stderr dphp-commit -d "$S" -f -s "entity:x:$long" "$J"
	assert_success
	assert_output "{\"id\":\"entity:x:$long\",\"etag\":\"1\"}"
	assert_stderr ""
	slashes=$(printf '/%.0s' $(seq 256))
	run --separate-stderr dphp-commit -d "$S" -f -s "entity:x:$slashes" "$J"
	assert_success
	assert_output "{\"id\":\"entity:x:$slashes\",\"etag\":\"1\"}"
	assert_stderr ""
	# 768 bytes encoded: cut into directories of at most 200
	assert_file_exists "$S/state/entity/x/$(printf '%%2F%.0s' $(seq 66))+/$(printf '%%2F%.0s' $(seq 66))+/$(printf '%%2F%.0s' $(seq 66))+/$(printf '%%2F%.0s' $(seq 58))"
	run --separate-stderr dphp-project -d "$S" ls entity:x
	assert_stderr ""
	assert_success
	assert_output - <<OUT
{"id":"entity:x:../../etc","etag":"1"}
{"id":"entity:x:$(printf '/%.0s' $(seq 256))","etag":"1"}
{"id":"entity:x:$long","etag":"1"}
OUT
	run --separate-stderr dphp-commit -d "$S" -f -s 'entity:../x:k' "$J"
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-commit: error: invalid id 'entity:../x:k': name must match [A-Za-z0-9._-] and not start with '.'"
}

@test "links inside the store are never followed" {
	mkdir -p "$BATS_TEST_TMPDIR/outside" "$S/state/entity"
	ln -s "$BATS_TEST_TMPDIR/outside" "$S/state/entity/evil"
	run --separate-stderr dphp-commit -d "$S" -f -s entity:evil:k "$J"
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-commit: error: cannot open directory 'state/entity/evil': Not a directory"
	run ls -A "$BATS_TEST_TMPDIR/outside"
	assert_output ""
	mkdir -p "$S/state/entity/a"
	ln -s /etc/passwd "$S/state/entity/a/b"
	run --separate-stderr dphp-commit -d "$S" -g entity:a:b
	assert_output ""
	assert_failure 4
	assert_stderr "dphp-commit: error: cannot read 'state/entity/a/b': Too many levels of symbolic links"
}

@test "links planted at the queue, the journal or its lock lead nowhere: refused, nothing written outside" {
	O=$BATS_TEST_TMPDIR/outside
	mkdir -p "$O"
	ev e1 signal entity:a:b op > "$BATS_TEST_TMPDIR/in"
	# the queue: admitting refuses to go through it
	rm -rf "$S/queue" && ln -s "$O" "$S/queue"
	run --separate-stderr dphp-route -q -d "$S" "$BATS_TEST_TMPDIR/in"
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-route: error: cannot make 'queue/tmp': Not a directory"
	rm "$S/queue"
	# the journal, and its lock: a commit refuses them
	ln -s "$O" "$S/journal"
	run --separate-stderr dphp-commit -d "$S" -c -s entity:a:b "$J"
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-commit: error: cannot open the journal: Not a directory"
	rm "$S/journal" && mkdir "$S/journal"
	ln -s "$O/lock" "$S/journal/.lock"
	run --separate-stderr dphp-commit -d "$S" -c -s entity:a:b "$J"
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-commit: error: cannot open the journal: Too many levels of symbolic links"
	run ls -A "$O"
	assert_output ""
	# nor is a segment linked to a file outside read as the history
	rm "$S/journal/.lock"
	printf '{"seq":1,"b":1,"at":"2026-11-27T10:00:00Z","id":"entity:x:y","etag":"1","state":{"state":"forged"}}\n{"end":1,"next":2}\n' > "$O/seg"
	ln -s "$O/seg" "$S/journal/00000000000000000001.ndjson"
	run --separate-stderr dphp-replay -J -d "$S"
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-replay: error: '$S/journal/00000000000000000001.ndjson' is not a segment (a link?): not read"
	run --separate-stderr dphp-project -d "$S" follow -e
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-project: error: '$S/journal/00000000000000000001.ndjson' is not a segment (a link?): not read"
	rm -r "$S/journal" && ln -s "$O" "$S/journal"
	run --separate-stderr dphp-replay -J -d "$S"
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-replay: error: '$S/journal' is not a directory (a link?): not read"
}

@test "invalid state JSON changes nothing" {
	dphp-commit -d "$S" -c -s entity:a:b "$J" > /dev/null
	printf '{"n":' > "$BATS_TEST_TMPDIR/bad.json"
	run --separate-stderr dphp-commit -d "$S" -e 1 -s entity:a:b "$BATS_TEST_TMPDIR/bad.json"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-commit: error: $BATS_TEST_TMPDIR/bad.json: invalid JSON: unexpected token near end of file (line 1, column 5)"
	run --separate-stderr dphp-commit -d "$S" -g entity:a:b
	assert_success
	assert_stderr ""
	assert_output '{"id":"entity:a:b","etag":"1","state":{"state":{"n":1}}}'
}

@test "a corrupt record is reported, never repaired" {
	dphp-commit -d "$S" -c -s entity:a:b "$J"
	printf '{"etag":"1","sta' > "$S/state/entity/a/b"
	run --separate-stderr dphp-commit -d "$S" -g entity:a:b
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-commit: error: corrupt record 'state/entity/a/b': premature end of input near '\"sta'"
	run --separate-stderr dphp-commit -d "$S" -f -s entity:a:b "$J"
	assert_output ""
	assert_failure 4
	assert_stderr "dphp-commit: error: corrupt record 'state/entity/a/b': premature end of input near '\"sta'"
}

@test "a stale or missing sidecar is repaired on read" {
	dphp-commit -d "$S" -c -s entity:a:b "$J"
	echo 7 > "$S/state/entity/a/b.etag"
	run --separate-stderr dphp-commit -d "$S" -g entity:a:b
	assert_success
	assert_output '{"id":"entity:a:b","etag":"1","state":{"state":{"n":1}}}'
	assert_stderr ""
	assert_equal "$(cat "$S/state/entity/a/b.etag")" 1
	rm "$S/state/entity/a/b.etag"
	run --separate-stderr dphp-project -d "$S" get entity:a:b
	assert_success
	assert_output '{"id":"entity:a:b","etag":"1","state":{"state":{"n":1}}}'
	assert_stderr ""
	assert_equal "$(cat "$S/state/entity/a/b.etag")" 1
}

@test "killed after the record is written: the stale sidecar is repaired" {
	dphp-commit -d "$S" -c -s entity:a:b "$J" > /dev/null
	printf '{"state":{"n":2}}\n' > "$J"
	# the record is overwritten in place, then its sidecar: both pwrite
	run strace -f -o /dev/null -e trace=pwrite64 \
	    -e inject=pwrite64:signal=KILL:when=2 \
	    dphp-commit -d "$S" -e 1 -s entity:a:b "$J"
	assert_output ""
	assert_stderr ""
	assert_failure 137
	run jq -c '[.etag, .state]' "$S/state/entity/a/b"
	assert_output '["2",{"state":{"n":2}}]'
	assert_equal "$(cat "$S/state/entity/a/b.etag")" 1
	run --separate-stderr dphp-commit -d "$S" -g entity:a:b
	assert_stderr ""
	assert_success
	assert_output '{"id":"entity:a:b","etag":"2","state":{"state":{"n":2}}}'
	assert_equal "$(cat "$S/state/entity/a/b.etag")" 2
}

@test "killed before the record is written: the commit is made, its journal line synced; the next program to open the store writes the record" {
	dphp-commit -d "$S" -c -s entity:a:b "$J" > /dev/null
	printf '{"state":{"n":2}}\n' > "$J"
	# a new record is renamed into place: killed at that rename
	run strace -f -o /dev/null -e trace=rename,renameat,renameat2 \
	    -e inject=rename,renameat,renameat2:signal=KILL:when=1 \
	    dphp-commit -d "$S" -c -s entity:c:d "$J"
	assert_output ""
	assert_failure 137
	assert_file_exists "$S/state/entity/c/.d.tmp"
	assert_file_not_exists "$S/state/entity/c/d"
	run --separate-stderr dphp-commit -d "$S" -g entity:c:d
	assert_success
	assert_stderr ""
	assert_output '{"id":"entity:c:d","etag":"1","state":{"state":{"n":2}}}'
	assert_file_not_exists "$S/state/entity/c/.d.tmp"
	# a record there is overwritten in place: killed at that pwrite
	run strace -f -o /dev/null -e trace=pwrite64 \
	    -e inject=pwrite64:signal=KILL:when=1 \
	    dphp-commit -d "$S" -e 1 -s entity:a:b "$J"
	assert_output ""
	assert_failure 137
	run jq -c .state "$S/state/entity/a/b"
	assert_output '{"state":{"n":1}}'
	run --separate-stderr dphp-commit -d "$S" -g entity:a:b
	assert_success
	assert_stderr ""
	assert_output '{"id":"entity:a:b","etag":"2","state":{"state":{"n":2}}}'
	run jq -c .state "$S/state/entity/a/b"
	assert_output '{"state":{"n":2}}'
	assert_equal "$(cat "$S/state/entity/a/b.etag")" 2
	assert_file_not_exists "$S/state/entity/a/.b.tmp"
	run --separate-stderr dphp-commit -d "$S" -e 1 -s entity:a:b "$J"
	assert_failure 1
	assert_output ""
	assert_stderr "dphp-commit: error: etag mismatch for 'entity:a:b': is \"2\" but expected \"1\""
}

# the flushes the trace of strace -e trace=fsync,fdatasync,syncfs shows
# are the words of $1, in order, and the program exited with $2
flushes() {
	run sed 's/^[0-9]* *//; s/(.*//' "$BATS_TEST_TMPDIR/trace"
	# shellcheck disable=SC2086 # words
	assert_output "$(printf '%s\n' $1 "+++ exited with $2 +++")"
}

@test "a state commit flushes once, the journal's; a failed flush fails it and is not retried" {
	dphp-commit -d "$S" -c -s entity:a:b "$J"
	printf '{"state":{"n":2}}\n' > "$J"
	run --separate-stderr strace -f -o "$BATS_TEST_TMPDIR/trace" \
	    -e trace=fsync,fdatasync,syncfs \
	    dphp-commit -d "$S" -e 1 -s entity:a:b "$J"
	assert_success
	assert_stderr ""
	assert_output '{"id":"entity:a:b","etag":"2"}'
	flushes fdatasync 0
	run --separate-stderr strace -f -o "$BATS_TEST_TMPDIR/trace" \
	    -e trace=fsync,fdatasync,syncfs \
	    -e inject=fdatasync:error=EIO:when=1 \
	    dphp-commit -d "$S" -e 2 -s entity:a:b "$J"
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-commit: error: cannot append to 'journal/00000000000000000001.ndjson': Input/output error"
	# not tried again; the fsync takes back the lines written ahead
	flushes "fdatasync fsync" 4
	run --separate-stderr dphp-commit -d "$S" -g entity:a:b
	assert_success
	assert_stderr ""
	assert_output '{"id":"entity:a:b","etag":"2","state":{"state":{"n":2}}}'
}

@test "a record outside the journal (a lock) is synced on its own: a failed fsync fails its commit" {
	run --separate-stderr strace -f -o "$BATS_TEST_TMPDIR/trace" \
	    -e trace=fsync -e inject=fsync:error=EIO:when=1 \
	    dphp-lock -d "$S" -o job1 entity:x:y -- true
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-lock: error: commit of 'lock/entity/x/y' failed: fsync '.y.tmp': Input/output error"
	assert_equal "$(grep -c 'fsync(' "$BATS_TEST_TMPDIR/trace")" 1
	assert_file_not_exists "$S/lock/entity/x/y"
	assert_file_not_exists "$S/lock/entity/x/.y.tmp"
	run --separate-stderr strace -f -o /dev/null -e trace=fsync \
	    -e inject=fsync:error=EIO:when=2 \
	    dphp-lock -d "$S" -o job1 entity:x:y -- true
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-lock: error: commit of 'lock/entity/x/y' is visible but not durable: fsync of its directory: Input/output error"
}

@test "usage errors" {
	run --separate-stderr dphp-commit -d "$S" -s entity:a:b
	assert_failure 2
	assert_output ""
	assert_equal "${stderr_lines[0]}" "dphp-commit: error: -s takes one of -c, -e and -f"
	assert_equal "${stderr_lines[1]}" "usage: dphp-commit [-d store] -i"
	run --separate-stderr dphp-commit -d "$S" -c -r entity:a:b
	assert_failure 2
	assert_output ""
	assert_equal "${stderr_lines[0]}" "dphp-commit: error: -r takes one of -e and -f"
	run --separate-stderr dphp-commit -d "$S" -o -g entity:a:b
	assert_failure 2
	assert_output ""
	assert_equal "${stderr_lines[0]}" "dphp-commit: error: -b, -k, -o and -x are for committing proposals, not for -g"
	run --separate-stderr dphp-commit -d "$S" -g entity:a:b -s entity:a:b
	assert_failure 2
	assert_output ""
	assert_equal "${stderr_lines[0]}" "dphp-commit: error: -g and -s cannot be used together"
	run --separate-stderr dphp-commit -d "$S" -i "$S"
	assert_failure 2
	assert_output ""
	assert_equal "${stderr_lines[0]}" "dphp-commit: error: -i takes no file"
	run --separate-stderr dphp-commit -d "$S" -f
	assert_failure 2
	assert_output ""
	assert_equal "${stderr_lines[0]}" "dphp-commit: error: -f goes with -s, -r or -I"
	run --separate-stderr dphp-commit -d "$S" -s entity:a:b -f "$S" "$S"
	assert_failure 2
	assert_output ""
	assert_equal "${stderr_lines[0]}" "dphp-commit: error: -s takes one file"
	run --separate-stderr dphp-commit -d "$S" -n 0
	assert_output ""
	assert_failure 2
	assert_stderr "dphp-commit: error: invalid tries '0' (want 1..1000000)"
}

# Proposals from dphp-replay for the events given as dphp-emit arguments
# separated by "--" (a file in, a file out).  The events of one test are
# numbered e1, e2, ... across calls.
propose() {
	local args=() n=${PROPOSED:-0}
	: > "$BATS_TEST_TMPDIR/ev"
	for a in "$@" --; do
		if [ "$a" = -- ]; then
			n=$((n + 1))
			ev "e$n" "${args[@]}" >> "$BATS_TEST_TMPDIR/ev"
			args=()
		else
			args+=("$a")
		fi
	done
	PROPOSED=$n
	dphp-replay -d "$S" -x "$H" "$BATS_TEST_TMPDIR/ev" > "$BATS_TEST_TMPDIR/p"
}

@test "the stage commits chained proposals and prints commit records" {
	propose signal entity:counter:a add 2 -- signal entity:counter:a add 3
	run --separate-stderr dphp-commit -d "$S" "$BATS_TEST_TMPDIR/p"
	assert_success
	assert_output - <<'OUT'
{"v":1,"kind":"commit","input":{"v":1,"id":"e1","ts":"2026-11-27T10:00:00.000Z","event":{"to":"entity:counter:a","event":{"type":"signal","op":"add","input":2}}},"base":null,"target":"entity:counter:a","state":{"state":2,"seen":{"e1":"2026-11-27T10:00:00.000Z"}},"emit":[],"etag":"1"}
{"v":1,"kind":"commit","input":{"v":1,"id":"e2","ts":"2026-11-27T10:00:00.000Z","event":{"to":"entity:counter:a","event":{"type":"signal","op":"add","input":3}}},"base":null,"prev":"e1","target":"entity:counter:a","state":{"state":5,"seen":{"e1":"2026-11-27T10:00:00.000Z","e2":"2026-11-27T10:00:00.000Z"}},"emit":[],"etag":"2"}
OUT
	assert_stderr ""
}

@test "a read-only proposal writes nothing but checks its base" {
	propose signal entity:counter:a add 2
	dphp-commit -d "$S" "$BATS_TEST_TMPDIR/p" > /dev/null
	propose signal entity:counter:a get
	run --separate-stderr dphp-commit -d "$S" "$BATS_TEST_TMPDIR/p"
	assert_success
	assert_output '{"v":1,"kind":"commit","input":{"v":1,"id":"e2","ts":"2026-11-27T10:00:00.000Z","event":{"to":"entity:counter:a","event":{"type":"signal","op":"get"}}},"base":"1","target":"entity:counter:a","emit":[],"etag":"1"}'
	assert_stderr ""
	printf '{"state":7}' > "$J"
	dphp-commit -d "$S" -e 1 -s entity:counter:a "$J" > /dev/null
	run --separate-stderr dphp-commit -d "$S" "$BATS_TEST_TMPDIR/p"
	assert_failure 1
	assert_output ""
	assert_stderr "dphp-commit: $BATS_TEST_TMPDIR/p:1: etag mismatch for 'entity:counter:a': is \"2\" but expected \"1\""
}

# a's state was set after e1 and e3 were proposed on it: committed
# with the options $@, e1 and what builds on it are refused, reported,
# and e2 is committed
lost_race() {
	propose signal entity:counter:a add 2 -- signal entity:counter:b add 1 \
	    -- signal entity:counter:a add 3
	printf '{"state":100}' > "$J"
	dphp-commit -d "$S" -c -s entity:counter:a "$J" > /dev/null
	run --separate-stderr dphp-commit "$@" -d "$S" "$BATS_TEST_TMPDIR/p"
	assert_failure 1
	assert_output '{"v":1,"kind":"commit","input":{"v":1,"id":"e2","ts":"2026-11-27T10:00:00.000Z","event":{"to":"entity:counter:b","event":{"type":"signal","op":"add","input":1}}},"base":null,"target":"entity:counter:b","state":{"state":1,"seen":{"e2":"2026-11-27T10:00:00.000Z"}},"emit":[],"etag":"1"}'
	assert_equal "${stderr_lines[0]}" "dphp-commit: $BATS_TEST_TMPDIR/p:1: etag mismatch for 'entity:counter:a': is \"1\" but expected absent"
	assert_equal "${stderr_lines[1]}" "dphp-commit: $BATS_TEST_TMPDIR/p:3: 'entity:counter:a' is at \"1\" but the proposal builds on event e1, not committed here"
	assert_equal "${#stderr_lines[@]}" 2
}

@test "a lost race: without -x reported, the rest still committed" {
	lost_race
	run --separate-stderr dphp-commit -d "$S" -g entity:counter:a
	assert_success
	assert_stderr ""
	assert_output '{"id":"entity:counter:a","etag":"1","state":{"state":100}}'
}

@test "a lost race with -x is recomputed, and so is what built on it" {
	propose signal entity:counter:a add 2 -- signal entity:counter:a add 3
	printf '{"state":100}' > "$J"
	dphp-commit -d "$S" -c -s entity:counter:a "$J" > /dev/null
	run --separate-stderr dphp-commit -d "$S" -x "$H" "$BATS_TEST_TMPDIR/p"
	assert_success
	assert_output - <<'OUT'
{"v":1,"kind":"commit","input":{"v":1,"id":"e1","ts":"2026-11-27T10:00:00.000Z","event":{"to":"entity:counter:a","event":{"type":"signal","op":"add","input":2}}},"base":"1","target":"entity:counter:a","state":{"state":102,"seen":{"e1":"2026-11-27T10:00:00.000Z"}},"emit":[],"etag":"2"}
{"v":1,"kind":"commit","input":{"v":1,"id":"e2","ts":"2026-11-27T10:00:00.000Z","event":{"to":"entity:counter:a","event":{"type":"signal","op":"add","input":3}}},"base":"2","target":"entity:counter:a","state":{"state":105,"seen":{"e1":"2026-11-27T10:00:00.000Z","e2":"2026-11-27T10:00:00.000Z"}},"emit":[],"etag":"3"}
OUT
	assert_stderr ""
}

@test "-o prints the emitted events instead" {
	printf '{"state":{"balance":50}}' > "$J"
	dphp-commit -d "$S" -c -s entity:account:alice "$J" > /dev/null
	propose signal entity:account:alice transfer '{"to":"bob","amount":5}'
	run --separate-stderr dphp-commit -o -d "$S" "$BATS_TEST_TMPDIR/p"
	assert_success
	assert_output "$(jq -c '.emit[]' "$BATS_TEST_TMPDIR/p")"
	assert_equal "${#lines[@]}" 1
	assert_stderr ""
}

@test "an invalid proposal stops the stage, located; earlier ones stay" {
	propose signal entity:counter:a add 2
	printf '{"v":1,"kind":"proposal","input":{},"target":"entity:a:b","base":null,"emit":[]}\n' >> "$BATS_TEST_TMPDIR/p"
	run --separate-stderr dphp-commit -d "$S" "$BATS_TEST_TMPDIR/p"
	assert_failure 3
	assert_equal "${#lines[@]}" 1
	assert_stderr "dphp-commit: $BATS_TEST_TMPDIR/p:2: invalid proposal: input: 'v' must be 1"
	while IFS='|' read -r line why; do
		printf '%s\n' "$line" > "$BATS_TEST_TMPDIR/p"
		run --separate-stderr dphp-commit -d "$S" "$BATS_TEST_TMPDIR/p"
		assert_failure 3
		assert_output ""
		assert_stderr "dphp-commit: $BATS_TEST_TMPDIR/p:1: invalid proposal: $why"
	done < "$FIX/bad-proposals.txt"
}

@test "the stage: the shared bad-input corpus; a full disk" {
	propose signal entity:counter:a add 2
	refuses_bad_input dphp-commit dphp-commit -d "$S" -x "$H"
	fails_on_full_disk dphp-commit -d "$S" "$BATS_TEST_TMPDIR/p"
}

@test "-b commits several proposals together; results stay in input order" {
	propose signal entity:counter:a add 1 -- signal entity:counter:b add 2 \
	    -- signal entity:counter:a add 3 -- signal entity:counter:c get
	printf '{"state":100}' > "$J"
	dphp-commit -d "$S" -c -s entity:counter:b "$J" > /dev/null
	run --separate-stderr dphp-commit -b 8 -d "$S" "$BATS_TEST_TMPDIR/p"
	assert_failure 1
	assert_stderr "dphp-commit: $BATS_TEST_TMPDIR/p:2: etag mismatch for 'entity:counter:b': is \"1\" but expected absent"
	run jq -c '[.input.id, .target, .etag, .state.state]' <<< "$output"
	assert_output - <<'OUT'
["e1","entity:counter:a","1",1]
["e3","entity:counter:a","2",4]
["e4","entity:counter:c",null,null]
OUT
	run --separate-stderr dphp-commit -b 0 -d "$S" "$BATS_TEST_TMPDIR/p"
	assert_failure 2
	assert_output ""
	assert_stderr "dphp-commit: error: invalid batch size '0' (want 1..4096)"
}

@test "-b: a run of proposals to one state is one batch: a journal line each, one flush, its record written once" {
	propose signal entity:counter:z add 1
	dphp-commit -d "$S" "$BATS_TEST_TMPDIR/p" > /dev/null
	propose signal entity:counter:a add 1 -- signal entity:counter:a add 2 \
	    -- signal entity:counter:b add 4 -- signal entity:counter:a add 3
	run --separate-stderr strace -f -o "$BATS_TEST_TMPDIR/trace" \
	    -e trace=fsync,fdatasync,syncfs,renameat,renameat2 \
	    dphp-commit -b 8 -d "$S" "$BATS_TEST_TMPDIR/p"
	assert_success
	assert_stderr ""
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/out"
	run jq -c '[.input.id, .target, .etag, .state.state]' "$BATS_TEST_TMPDIR/out"
	assert_output - <<'OUT'
["e2","entity:counter:a","1",1]
["e3","entity:counter:a","2",3]
["e4","entity:counter:b","1",4]
["e5","entity:counter:a","3",6]
OUT
	run grep -c fdatasync "$BATS_TEST_TMPDIR/trace"
	assert_output 1
	run grep -c '"\.a\.tmp"' "$BATS_TEST_TMPDIR/trace"
	assert_output 1
	run jq -c 'select(.id and .id != "entity:counter:z") |
	    [.b, .n, .id, .etag, .state.state]' "$S"/journal/*.ndjson
	assert_output - <<'OUT'
[2,4,"entity:counter:a","1",1]
[2,4,"entity:counter:a","2",3]
[2,4,"entity:counter:b","1",4]
[2,4,"entity:counter:a","3",6]
OUT
	run jq -c '[.etag, .seq, .state.state]' "$S/state/entity/counter/a"
	assert_output '["3",5,6]'
	run --separate-stderr dphp-replay -J -c -d "$S"
	assert_success
	assert_output ""
	assert_stderr ""
}

@test "-b: when the first of a run loses its race the rest fail with it, reported; with -x they are computed again" {
	lost_race -b 8
	run --separate-stderr dphp-commit -b 8 -d "$S" -x "$H" \
	    "$BATS_TEST_TMPDIR/p"
	assert_success
	assert_stderr ""
	run jq -c '[.input.id, .base, .etag, .state.state]' <<< "$output"
	assert_output - <<'OUT'
["e1","1","2",102]
["e2","1","1",null]
["e3","2","3",105]
OUT
}

@test "-b does not keep a proposal waiting when no more input comes" {
	propose signal entity:counter:a add 1 -- signal entity:counter:b add 1
	mkfifo "$BATS_TEST_TMPDIR/pipe"
	dphp-commit -u -b 8 -d "$S" "$BATS_TEST_TMPDIR/pipe" > "$BATS_TEST_TMPDIR/out" 3>&- &
	pid=$!
	exec 4> "$BATS_TEST_TMPDIR/pipe"
	head -n 1 "$BATS_TEST_TMPDIR/p" >&4
	# the first is committed while the pipe stays open
	for _ in $(seq 100); do
		[ -s "$BATS_TEST_TMPDIR/out" ] && break
		sleep 0.05
	done
	run jq -r .input.id "$BATS_TEST_TMPDIR/out"
	assert_output e1
	tail -n 1 "$BATS_TEST_TMPDIR/p" >&4
	exec 4>&-
	wait "$pid"
	run jq -r .input.id "$BATS_TEST_TMPDIR/out"
	assert_output "$(printf 'e1\ne2')"
}

@test "-b: a batch of states flushes once, the journal's; a failed flush fails the whole batch, nothing changes, no temp files" {
	propose signal entity:counter:a add 1 -- signal entity:counter:b add 2 \
	    -- signal entity:counter:c add 3
	dphp-commit -d "$S" "$BATS_TEST_TMPDIR/p" > /dev/null
	before=$(store_digest)
	propose signal entity:counter:a add 1 -- signal entity:counter:b add 2 \
	    -- signal entity:counter:c add 3
	run --separate-stderr strace -f -o "$BATS_TEST_TMPDIR/trace" \
	    -e trace=fsync,fdatasync,syncfs -e inject=fdatasync:error=EIO \
	    dphp-commit -b 8 -d "$S" "$BATS_TEST_TMPDIR/p"
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-commit: error: cannot append to 'journal/00000000000000000001.ndjson': Input/output error"
	flushes "fdatasync fsync" 4
	assert_equal "$(store_digest)" "$before"
	run find "$S" -name '*.tmp'
	assert_output ""
	run --separate-stderr strace -f -o "$BATS_TEST_TMPDIR/trace" \
	    -e trace=fsync,fdatasync,syncfs \
	    dphp-commit -b 8 -d "$S" "$BATS_TEST_TMPDIR/p"
	assert_success
	assert_stderr ""
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/out"
	run jq -r .etag "$BATS_TEST_TMPDIR/out"
	assert_output "$(printf '2\n2\n2')"
	flushes fdatasync 0
}
