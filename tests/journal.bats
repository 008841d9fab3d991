#!/usr/bin/env bats
# The journal: every committed state appended, written ahead of its
# records and confirmed after them; what a crash leaves, settled by the
# next commit; dphp-replay -J rebuilding the live states from it.

load helper

setup() {
	bank_setup
}

# entity:a:b committed at etag 1 from $T/s1 ({"n":1}); $T/s2 holds
# {"n":2}, the state a fault will interrupt
committed_once() {
	printf '{"state":{"n":1}}\n' > "$T/s1"
	printf '{"state":{"n":2}}\n' > "$T/s2"
	dphp-commit -d "$S" -c -s entity:a:b "$T/s1" > /dev/null
}

@test "replaying the journal gives back the live states, byte for byte, and earlier ones" {
	bank
	assert_file_empty "$T/errors"
	live > "$T/live"
	run --separate-stderr dphp-replay -J -d "$S"
	assert_success
	assert_stderr ""
	assert_output "$(cat "$T/live")"
	run jq -r '.id' <<< "$output"
	assert_output - <<'OUT'
activity:notify:t1.0.2
entity:account:alice
entity:account:bob
orchestration:transfer:t1
orchestration:transfer:t2
OUT
	# every line numbered without a gap, every batch ended
	run sh -c 'jq -r "select(.seq) | .seq" "$1"/*.ndjson | awk "\$1 != NR { print \"gap at \" NR; exit 1 }"' sh "$J"
	assert_success
	assert_output ""
	run sh -c 'tail -n 1 "$1"/*.ndjson | jq -c "keys"' sh "$J"
	assert_output '["crc","end","next"]'
	# time travel: after line 1, alice's first deposit only
	run dphp-replay -J -S 1 "$J"
	assert_output '{"id":"entity:account:alice","etag":"1","state":{"state":{"balance":100},"seen":{"d1":"2026-11-27T10:00:00.000Z"}}}'
	run dphp-replay -J -A 2026-11-27T09:59:59Z "$J"
	assert_output ""
	# one instance's history: every state it had, and what made it
	run dphp-replay -J -I orchestration:transfer:t1 "$J"
	printf '%s\n' "${lines[@]}" > "$T/history"
	run jq -c '[.seq > 0, .state.status, .state.custom, .cause]' "$T/history"
	assert_output - <<'OUT'
[true,"pending",null,"t1"]
[true,"running","withdrawing","t1.0.run"]
[true,"running","depositing","4b017019-f4fe-85f5-803f-fd1df183c7cb"]
[true,"running","depositing","0d505fae-dab4-8159-90cd-a6c981d15196"]
[true,"completed","depositing","1fb51e88-f0ba-8957-a4b7-2bbf927e4be3"]
OUT
	run --separate-stderr dphp-replay -J -I 'x y' "$J"
	assert_failure 2
	assert_stderr "dphp-replay: error: invalid id 'x y': not of the form KIND:NAME:KEY"
}

@test "segments rotate by size; replay reads them in order" {
	export DPHP_JOURNAL_SEGMENT_MAX=400
	bank
	assert_file_empty "$T/errors"
	run sh -c 'ls "$1" | wc -l' sh "$J"
	[ "$output" -gt 3 ] || fail "only $output segments"
	# each named by its first line
	for f in "$J"/*.ndjson; do
		first=$(head -n 1 "$f" | jq .seq)
		assert_equal "$(basename "$f")" "$(printf '%020d.ndjson' "$first")"
	done
	live > "$T/live"
	run --separate-stderr dphp-replay -J "$J"
	assert_success
	assert_output "$(cat "$T/live")"
}

@test "a torn last line is dropped; a corrupt line in the middle stops the replay, located" {
	printf '{"state":{"n":1}}\n' > "$T/s1"
	for i in 1 2 3; do
		dphp-commit -d "$S" -f -s "entity:note:n$i" "$T/s1" > /dev/null
	done
	seg=$J/00000000000000000001.ndjson
	cp "$seg" "$T/whole"
	printf '{"seq":4,"b":4,"at":"2026-11-2' >> "$seg"
	run --separate-stderr dphp-replay -J "$J"
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_stderr "dphp-replay: warning: $seg:7: a torn last line, dropped"
	# the next commit cuts it off
	dphp-commit -d "$S" -f -s entity:note:n4 "$T/s1" > /dev/null
	run sh -c 'tail -n 2 "$1" | jq -c "[.seq, .id, .end]"' sh "$seg"
	assert_output - <<'OUT'
[4,"entity:note:n4",null]
[null,null,4]
OUT
	# corrupt in the middle: stop there
	sed '3s/.*/{"seq":2,"b":2,"at"/' "$T/whole" > "$T/bad.ndjson"
	run --separate-stderr dphp-replay -J "$T/bad.ndjson"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-replay: $T/bad.ndjson:3: corrupt journal line: ':' expected near end of file"
	# a digit changed: its checksum says so
	sed '3s/"n":1/"n":7/' "$T/whole" > "$T/bad.ndjson"
	run --separate-stderr dphp-replay -J "$T/bad.ndjson"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-replay: $T/bad.ndjson:3: corrupt journal line: its checksum is not its text's: it is not as it was written"
	# a journal from before checksums reads; its lines are still checked
	sed 's/,"crc":"[0-9a-f]*"}$/}/' "$T/whole" > "$T/old.ndjson"
	run --separate-stderr dphp-replay -J "$T/old.ndjson"
	assert_success
	assert_stderr ""
	assert_equal "${#lines[@]}" 3
	sed '3s/"seq":2/"seq":1/' "$T/old.ndjson" > "$T/bad.ndjson"
	run --separate-stderr dphp-replay -J "$T/bad.ndjson"
	assert_failure 3
	assert_stderr "dphp-replay: $T/bad.ndjson:3: corrupt journal line: 'seq' must be an integer greater than the one before"
	# but a line without one after lines with one is not of the journal
	{ head -n 2 "$T/whole"; sed -n '3,$p' "$T/old.ndjson"; } > "$T/bad.ndjson"
	run --separate-stderr dphp-replay -J "$T/bad.ndjson"
	assert_failure 3
	assert_stderr "dphp-replay: $T/bad.ndjson:3: corrupt journal line: no checksum, after lines that have one"
	# -v: every line checked, nothing rebuilt
	run --separate-stderr dphp-replay -J -v "$T/whole"
	assert_success
	assert_stderr ""
	assert_output '{"lines":3,"states":3}'
	run --separate-stderr dphp-replay -J -v "$T/bad.ndjson"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-replay: $T/bad.ndjson:3: corrupt journal line: no checksum, after lines that have one"
}

@test "killed between its journal lines and its record: the commit is made, and the next commit writes the record" {
	command -v strace > /dev/null || skip "no strace"
	committed_once
	# (the record, there already, is overwritten by the first pwrite)
	run strace -f -o /dev/null -e trace=pwrite64 \
	    -e inject=pwrite64:signal=KILL:when=1 \
	    dphp-commit -d "$S" -e 1 -s entity:a:b "$T/s2"
	assert_failure 137
	# written ahead and synced: committed, but not ended yet, so a
	# replay of the segments alone leaves it out
	run sh -c 'tail -n 1 "$1"/*.ndjson | jq -c "[.seq, .state]"' sh "$J"
	assert_output '[2,{"state":{"n":2}}]'
	run jq -c .state "$S/state/entity/a/b"
	assert_output '{"state":{"n":1}}'
	run --separate-stderr dphp-replay -J "$J"
	assert_success
	assert_output '{"id":"entity:a:b","etag":"1","state":{"state":{"n":1}}}'
	assert_stderr "dphp-replay: warning: $J/00000000000000000001.ndjson:3: the last batch has no end yet: left out (its writer stopped, or is still at it; the next program to open the store ends it or takes it back)"
	# the next commit writes the record from the line, and ends it
	dphp-commit -d "$S" -f -s entity:c:d "$T/s1" > /dev/null
	run jq -c .state "$S/state/entity/a/b"
	assert_output '{"state":{"n":2}}'
	assert_file_not_exists "$S/state/entity/a/.b.tmp"
	run sh -c 'tail -n 3 "$1"/*.ndjson | jq -c "[.seq, .void, .end, .next]"' sh "$J"
	assert_output - <<'OUT'
[null,null,2,3]
[3,null,null,null]
[null,null,3,4]
OUT
	live > "$T/live"
	run --separate-stderr dphp-replay -J "$J"
	assert_success
	assert_stderr ""
	assert_output "$(cat "$T/live")"
}

@test "an end that cannot be written: the commit is made, said with a warning, and ended by whatever opens the store" {
	command -v strace > /dev/null || skip "no strace"
	committed_once
	# the 2nd write: the journal's lines, then the end (the record and
	# its ETag file, there already, are overwritten with pwrite)
	for fault in ENOSPC EIO; do
		run --separate-stderr strace -f -o /dev/null -e trace=write \
		    -e inject=write:error=$fault:when=2 \
		    dphp-commit -d "$S" -f -s entity:a:b "$T/s2"
		assert_success
		assert_output --regexp '^\{"id":"entity:a:b","etag":"[23]"\}$'
		[[ $stderr == "dphp-commit: warning: the commit is made, but its end could not be written to 'journal/00000000000000000001.ndjson': the next program to open the store writes it: "* ]] ||
		    fail "$stderr"
		# a reader opens the store: the batch ends, and all agree
		run --separate-stderr dphp-replay -J -c -d "$S"
		assert_success
		assert_output ""
		assert_stderr ""
		run sh -c 'tail -n 1 "$1"/*.ndjson' sh "$J"
		assert_output --regexp '^\{"end":[23],"next":[34],"crc":"[0-9a-f]{8}"\}$'
	done
	live > "$T/live"
	run --separate-stderr dphp-replay -J "$J"
	assert_success
	assert_stderr ""
	assert_output "$(cat "$T/live")"
}

@test "a failed sync of the journal fails the commit: nothing changes, the journal takes its lines back" {
	command -v strace > /dev/null || skip "no strace"
	committed_once
	before=$(cat "$J"/*.ndjson)
	run --separate-stderr strace -f -o /dev/null -e trace=fdatasync \
	    -e inject=fdatasync:error=EIO:when=1 \
	    dphp-commit -d "$S" -e 1 -s entity:a:b "$T/s2"
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-commit: error: cannot append to 'journal/00000000000000000001.ndjson': Input/output error"
	assert_equal "$(cat "$J"/*.ndjson)" "$before"
	run --separate-stderr dphp-commit -d "$S" -g entity:a:b
	assert_output '{"id":"entity:a:b","etag":"1","state":{"state":{"n":1}}}'
	run --separate-stderr dphp-replay -J -c -d "$S"
	assert_success
	assert_output ""
	assert_stderr ""
}

@test "killed at the end of a batch: the next program to open the store ends it, commit or not" {
	command -v strace > /dev/null || skip "no strace"
	committed_once
	run strace -f -o /dev/null -e trace=write \
	    -e inject=write:signal=KILL:when=2 \
	    dphp-commit -d "$S" -e 1 -s entity:a:b "$T/s2"
	assert_failure 137
	run sh -c 'tail -n 1 "$1"/*.ndjson | jq -c "[.seq, .state]"' sh "$J"
	assert_output '[2,{"state":{"n":2}}]'
	# a read: the batch is ended for it (and for every reader after)
	run --separate-stderr dphp-project -d "$S" get entity:a:b
	assert_success
	assert_stderr ""
	assert_output '{"id":"entity:a:b","etag":"2","state":{"state":{"n":2}}}'
	run sh -c 'tail -n 1 "$1"/*.ndjson | jq -c "del(.crc)"' sh "$J"
	assert_output '{"end":2,"next":3}'
	run --separate-stderr dphp-replay -J -c -d "$S"
	assert_success
	assert_output ""
	assert_stderr ""
}

@test "a store with no commit yet, or an empty segment left by a commit killed at its first append, replays nothing" {
	run --separate-stderr dphp-replay -J -d "$S"
	assert_success
	assert_output ""
	assert_stderr ""
	run --separate-stderr dphp-replay -J -c -d "$S"
	assert_success
	assert_output ""
	assert_stderr ""
	mkdir -p "$J"
	: > "$J/00000000000000000001.ndjson"
	for opt in "" -c; do
		run --separate-stderr dphp-replay -J $opt -d "$S"
		assert_success
		assert_output ""
		assert_stderr ""
	done
	run --separate-stderr dphp-replay -J "$J/00000000000000000001.ndjson"
	assert_success
	assert_output ""
	assert_stderr ""
	# and the next commit begins the journal there
	printf '{"state":{"n":1}}\n' > "$T/s1"
	dphp-commit -d "$S" -c -s entity:a:b "$T/s1" > /dev/null
	run --separate-stderr dphp-replay -J -d "$S"
	assert_success
	assert_output '{"id":"entity:a:b","etag":"1","state":{"state":{"n":1}}}'
}

@test "killed after its record was written, before the end: the next commit confirms it" {
	command -v strace > /dev/null || skip "no strace"
	committed_once
	run strace -f -o /dev/null -e trace=pwrite64 \
	    -e inject=pwrite64:signal=KILL:when=1 \
	    dphp-commit -d "$S" -e 1 -s entity:a:b "$T/s2"
	assert_failure 137
	dphp-commit -d "$S" -f -s entity:c:d "$T/s1" > /dev/null
	run sh -c 'tail -n 3 "$1"/*.ndjson | jq -c "[.seq, .void, .end, .next]"' sh "$J"
	assert_output - <<'OUT'
[null,null,2,3]
[3,null,null,null]
[null,null,3,4]
OUT
	live > "$T/live"
	run --separate-stderr dphp-replay -J "$J"
	assert_success
	assert_stderr ""
	assert_output "$(cat "$T/live")"
	run jq -c .state "$T/live"
	assert_output - <<'OUT'
{"state":{"n":2}}
{"state":{"n":1}}
OUT
}

@test "usage: -A and -S only with -J, -J takes no handlers, -v only with -J alone" {
	for bad in "-S 1" "-A 2026-11-27T10:00:00Z" "-I entity:a:b" "-J -k" "-J -x /tmp" \
	    "-v" "-J -v -c" "-J -v -I entity:a:b" "-J -v -S 1"; do
		# shellcheck disable=SC2086 # the words of $bad are options
		run --separate-stderr dphp-replay -d "$S" $bad
		assert_failure 2
		assert_output ""
		assert_equal "${stderr_lines[0]}" "usage: dphp-replay [-ku] [-d store] [-T ms] [-x dir] [file ...]"
	done
	run --separate-stderr dphp-replay -J -A yesterday
	assert_failure 2
	assert_stderr "dphp-replay: error: invalid time 'yesterday' (RFC 3339 UTC)"
	run --separate-stderr dphp-replay -J "$T/none"
	assert_failure 4
	assert_stderr "dphp-replay: error: cannot open '$T/none': No such file or directory"
}

@test "compressed segments and tar archives of them, told apart by their content" {
	export DPHP_JOURNAL_SEGMENT_MAX=400
	bank
	live > "$T/live"
	mkdir "$T/z"
	i=0
	# each segment compressed its own way, the names saying nothing
	for f in "$J"/*.ndjson; do
		case $((i % 4)) in
		0) gzip -c "$f" ;;
		1) xz -c "$f" ;;
		2) zstd -q -c "$f" ;;
		3) bzip2 -c "$f" ;;
		esac > "$T/z/$(basename "$f")"
		i=$((i + 1))
	done
	run --separate-stderr dphp-replay -J "$T/z"
	assert_success
	assert_stderr ""
	assert_output "$(cat "$T/live")"
	# - is standard input, compressed or not
	cat "$J"/*.ndjson > "$T/all"
	xz -c "$T/all" > "$T/all.z"
	run --separate-stderr dphp-replay -J - < "$T/all.z"
	assert_success
	assert_stderr ""
	assert_output "$(cat "$T/live")"
	(cd "$J" && tar -cf "$T/j.tar" -- *.ndjson)
	(cd "$J" && tar -czf "$T/j.tgz" -- *.ndjson)
	(cd "$J" && tar --zstd -cf "$T/j.tzst" -- *.ndjson)
	for a in j.tar j.tgz j.tzst; do
		run --separate-stderr dphp-replay -J "$T/$a"
		assert_success
		assert_stderr ""
		assert_output "$(cat "$T/live")"
	done
	# a line of a segment in an archive is named archive:segment:line
	printf 'not json\n' > "$T/00000000000000000999.ndjson"
	(cd "$T" && tar -rf j.tar 00000000000000000999.ndjson)
	run --separate-stderr dphp-replay -J "$T/j.tar"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-replay: $T/j.tar:00000000000000000999.ndjson:1: corrupt journal line: '[' or '{' expected near 'not'"
}

@test "-c compares a journal with the live store and prints what differs" {
	bank
	run --separate-stderr dphp-replay -J -c -d "$S"
	assert_success
	assert_output ""
	assert_stderr ""
	# as it was after line 1 (alice's first deposit): all since differs
	run --separate-stderr dphp-replay -J -c -S 1 -d "$S"
	assert_failure 1
	assert_stderr ""
	printf '%s\n' "${lines[@]}" > "$T/diff"
	run jq -c '[.id, .journal, (.store != null), .state]' "$T/diff"
	assert_output - <<'OUT'
["activity:notify:t1.0.2",null,true,null]
["entity:account:alice","1",true,"differs"]
["entity:account:bob",null,true,null]
["orchestration:transfer:t1",null,true,null]
["orchestration:transfer:t2",null,true,null]
OUT
	run --separate-stderr dphp-replay -J -c -I entity:account:alice -d "$S"
	assert_failure 2
}

@test "a line changed on the disk is found by every reader: the recovery of an open batch, follow and -J" {
	printf '{"state":{"n":1}}\n' > "$T/s1"
	printf '{"state":{"n":2}}\n' > "$T/s2"
	dphp-commit -d "$S" -c -s entity:a:b "$T/s1" > /dev/null
	dphp-commit -d "$S" -e 1 -s entity:a:b "$T/s2" > /dev/null
	seg=$J/00000000000000000001.ndjson
	# the last batch without its end, and a digit of it changed
	head -n -1 "$seg" > "$T/seg"
	sed '$s/"n":2/"n":5/' "$T/seg" > "$seg"
	run --separate-stderr dphp-project -d "$S" get entity:a:b
	assert_success
	assert_output '{"id":"entity:a:b","etag":"2","state":{"state":{"n":2}}}'
	assert_stderr "dphp-project: warning: journal/00000000000000000001.ndjson: a corrupt line
dphp-project: warning: the records could not be brought up to the journal: read as they are"
	run --separate-stderr dphp-project -d "$S" follow -e
	assert_failure 3
	assert_output "$(head -n 1 "$seg" | jq -c 'del(.crc)')"
	assert_equal "${stderr_lines[2]}" "dphp-project: $seg:3: corrupt journal line: its checksum is not its text's: it is not as it was written"
	run --separate-stderr dphp-replay -J -v "$J"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-replay: $seg:3: corrupt journal line: its checksum is not its text's: it is not as it was written"
}

@test "every character of a journal changed, one at a time: the line is refused, located; never read as written" {
	bank
	assert_file_empty "$T/errors"
	seg=$(ls "$J"/0*.ndjson | head -n 1)
	head -n 6 "$seg" > "$T/seg"
	run --separate-stderr dphp-replay -J -v "$T/seg"
	assert_success
	assert_stderr ""
	# each character by another of its kind (a digit by a digit, a
	# letter by a letter, anything else by a letter): every ninth one
	awk -v dir="$T" 'BEGIN { FS = "" }
	{ lines[NR] = $0 }
	END {
		for (l = 1; l <= NR; l++)
			for (i = 1; i <= length(lines[l]); i += 9) {
				c = substr(lines[l], i, 1)
				r = c ~ /[0-8]/ ? c + 1 : c == "9" ? "0" : \
				    c ~ /[a-y]/ ? "z" : "q"
				out = ""
				for (k = 1; k <= NR; k++)
					out = out (k == l ? substr(lines[k], 1, i - 1) r \
					    substr(lines[k], i + 1) : lines[k]) "\n"
				printf("%d %d\n", l, i) > "/dev/stderr"
				printf "%s", out > (dir "/m." l "." i)
				close(dir "/m." l "." i)
			}
	}' "$T/seg" 2> "$T/where"
	[ "$(wc -l < "$T/where")" -gt 100 ] || fail "only $(wc -l < "$T/where") mutants"
	while read -r ln col; do
		run --separate-stderr dphp-replay -J -v "$T/m.$ln.$col" < /dev/null
		[ "$status" -eq 3 ] && [ -z "$output" ] ||
		    fail "line $ln, character $col: status $status, $output, $stderr"
		[[ $stderr == "dphp-replay: $T/m.$ln.$col:$ln: corrupt journal line: "* ]] ||
		    fail "line $ln, character $col: $stderr"
	done < "$T/where"
}

@test "an end that cannot be written, then only a duplicate in the same run: that commit ends the batch" {
	command -v strace > /dev/null || skip "no strace"
	H=$TOP/examples/bank/handlers
	ev d1 signal entity:account:a deposit 5 > "$T/e1"
	ev d2 signal entity:account:a deposit 5 > "$T/e2"
	replay_commit "$T/e1"
	# d2 applied, then d1 again: a duplicate, which changes nothing
	dphp-replay -d "$S" -x "$H" "$T/e2" > "$T/both"
	dphp-replay -d "$S" -x "$H" "$T/e1" >> "$T/both"
	run --separate-stderr strace -f -o /dev/null -e trace=write \
	    -e inject=write:error=EIO:when=2 \
	    dphp-commit -d "$S" -x "$H" "$T/both"
	assert_success
	run jq -c '[.input.id, .etag, .duplicate]' <<< "$output"
	assert_output - <<'OUT'
["d2","2",null]
["d1","2",true]
OUT
	assert_stderr "dphp-commit: warning: the commit is made, but its end could not be written to 'journal/00000000000000000001.ndjson': the next program to open the store writes it: Input/output error"
	# ended by the duplicate's commit, before any other program came
	run sh -c 'tail -n 1 "$1"/*.ndjson | jq -c "[.end, .next]"' sh "$J"
	assert_output '[2,3]'
	run --separate-stderr dphp-replay -J -c -d "$S"
	assert_success
	assert_output ""
	assert_stderr ""
}
