#!/usr/bin/env bats
# dphp-route: validation, description and selection of envelopes, and
# the strict reader every program shares (bad input of every kind).

load helper

setup() {
	IN=$BATS_TEST_TMPDIR/in.ndjson
	ev r1 signal entity:account:alice deposit 100 > "$IN"
	ev r2 -r orchestration:transfer:t1 -b bob call entity:account:bob withdraw 5 >> "$IN"
	ev r3 start orchestration:transfer:t1 >> "$IN"
}

# Write $1 as line 2 after one valid line.
second() {
	ev ok signal entity:a:b op > "$IN"
	printf '%s\n' "$1" >> "$IN"
}

@test "valid envelopes pass through unchanged, blank lines skipped" {
	printf '\n  \n' >> "$IN"
	run --separate-stderr dphp-route "$IN"
	assert_success
	assert_output "$(cat "$FIX/route-in.ndjson")"
	assert_stderr ""
}

@test "-D prints the flat description" {
	ev d1 -b alice:admin -P 5 -f entity:x:y -A 2026-01-01T00:00:00Z \
	    -l orchestration:o:1 -p entity:account:bob -r orchestration:o:1 \
	    -r entity:log:l signal entity:account:bob withdraw 1 > "$IN"
	ev d2 share entity:a:b role staff read >> "$IN"
	run --separate-stderr dphp-route -D "$IN"
	assert_success
	assert_output - <<'OUT'
{"id":"d1","to":"entity:account:bob","kind":"entity","type":"signal","delay":"2026-01-01T00:00:00.000Z","reply_to":["orchestration:o:1","entity:log:l"],"lock":{"owner":"orchestration:o:1","participants":["entity:account:bob"]},"priority":5,"from":"entity:x:y","by":"alice","ops":["signal","call","lock"]}
{"id":"d2","to":"entity:a:b","kind":"entity","type":"share","delay":null,"reply_to":[],"lock":null,"priority":null,"from":null,"by":null,"ops":["share+"]}
OUT
	assert_stderr ""
}

@test "-m selects destinations by glob, -v inverts" {
	run --separate-stderr dphp-route -m 'entity:account:*' -m 'activity:*' "$IN"
	assert_success
	assert_output "$(head -n 2 "$FIX/route-in.ndjson")"
	assert_stderr ""
	run --separate-stderr dphp-route -v -m 'entity:*' "$IN"
	assert_success
	assert_output "$(tail -n 1 "$FIX/route-in.ndjson")"
	assert_stderr ""
}

@test "a delay in the future stops the stream unless -i" {
	ev due -A 2026-11-27T09:00:00Z signal entity:a:b op >> "$IN"
	ev late -A 2026-11-27T10:00:01Z signal entity:a:b op >> "$IN"
	run --separate-stderr dphp-route -m 'entity:a:*' "$IN"
	assert_failure 3
	assert_output '{"v":1,"id":"due","ts":"2026-11-27T10:00:00.000Z","event":{"delay":"2026-11-27T09:00:00.000Z","event":{"to":"entity:a:b","event":{"type":"signal","op":"op"}}}}'
	assert_stderr "dphp-route: $IN:5: event late is delayed until 2026-11-27T10:00:01.000Z; a stream cannot wait (use -i to deliver it now)"
	run --separate-stderr dphp-route -i -m 'entity:a:*' "$IN"
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_stderr ""
}

@test "stdin is named <stdin>" {
	printf 'nope\n' > "$IN"
	run --separate-stderr dphp-route < "$IN"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-route: <stdin>:1: invalid JSON: '[' or '{' expected near 'nope' (column 4)"
}

@test "malformed JSON: located, earlier records kept, later ones not read" {
	second '{"v":1,'
	ev never signal entity:a:b op >> "$IN"
	run --separate-stderr dphp-route "$IN"
	assert_failure 3
	assert_output "$(head -n 1 "$IN")"
	assert_stderr "dphp-route: $IN:2: invalid JSON: string or '}' expected near end of file (column 7)"
}

@test "invalid UTF-8 and NUL bytes" {
	second "$(printf '{"v":1,"id":"a\377"}')"
	run --separate-stderr dphp-route "$IN"
	assert_failure 3
	assert_output "$(head -n 1 "$IN")"
	assert_stderr "dphp-route: $IN:2: invalid JSON: unable to decode byte 0xff near '\"a' (column 14)"
	printf '{"v":1}\0\n' > "$IN"
	run --separate-stderr dphp-route "$IN"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-route: $IN:1: NUL byte in line (column 8)"
}

@test "duplicate keys, non-objects and numbers out of range" {
	second '{"v":1,"v":1}'
	run --separate-stderr dphp-route "$IN"
	assert_failure 3
	assert_output "$(head -n 1 "$IN")"
	assert_stderr "dphp-route: $IN:2: invalid JSON: duplicate object key near '\"v\"' (column 10)"
	second '[1,2]'
	run --separate-stderr dphp-route "$IN"
	assert_failure 3
	assert_output "$(head -n 1 "$IN")"
	assert_stderr "dphp-route: $IN:2: record is not a JSON object"
	second '{"v":9223372036854775808}'
	run --separate-stderr dphp-route "$IN"
	assert_failure 3
	assert_output "$(head -n 1 "$IN")"
	assert_stderr "dphp-route: $IN:2: invalid JSON: too big integer near '9223372036854775808' (column 24)"
}

@test "numbers come out as they came in: the shortest form of a real, integers exact to 2^63" {
	for n in 19.99 0.1 1.0 -0.0 0.30000000000000004 1.5e300 5e-324 \
	    9007199254740993 -9223372036854775808 9223372036854775807 1e2 2.5E+10; do
		printf '{"v":1,"id":"n","ts":"2026-11-27T10:00:00.000Z","event":{"to":"entity:a:b","event":{"type":"signal","op":"o","input":%s}}}\n' "$n"
	done > "$IN"
	run --separate-stderr dphp-route "$IN"
	assert_success
	assert_stderr ""
	run sed 's/.*"input":\(.*\)}}}$/\1/' <<< "$output"
	# a real that is an integer keeps its ".0"; an exponent drops its
	# '+' and leading zeros (as jansson writes them)
	assert_output - <<'OUT'
19.99
0.1
1.0
-0.0
0.30000000000000004
1.5e300
5e-324
9007199254740993
-9223372036854775808
9223372036854775807
100.0
25000000000.0
OUT
	# and through a store: a state, its journal line and what is read back
	mkstore
	printf '{"state":{"price":19.99,"big":9007199254740993}}\n' > "$BATS_TEST_TMPDIR/st"
	dphp-commit -d "$S" -c -s entity:item:a "$BATS_TEST_TMPDIR/st" > /dev/null
	run --separate-stderr dphp-project -d "$S" get entity:item:a
	assert_success
	assert_stderr ""
	assert_output '{"id":"entity:item:a","etag":"1","state":{"state":{"price":19.99,"big":9007199254740993}}}'
	run cat "$S/journal/00000000000000000001.ndjson"
	assert_line --index 0 --partial '"state":{"state":{"price":19.99,"big":9007199254740993}}'
}

@test "control characters in what a message quotes are written escaped, never raw" {
	mkstore
	: > "$BATS_TEST_TMPDIR/policy"
	# a key may hold any UTF-8 but NUL and newline: a title-setting OSC,
	# a clear-screen CSI, a C1 CSI (U+009B) and a DEL
	printf '{"v":1,"id":"a","ts":"2026-11-27T10:00:00Z","event":{"to":"entity:x:k\\u001b]0;pwned\\u0007\\u001b[2J\\u009b1m\\u007fé","event":{"type":"signal","op":"o"}}}\n' > "$IN"
	run --separate-stderr dphp-route -q -d "$S" -P "$BATS_TEST_TMPDIR/policy" "$IN"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-route: $IN:1: event a rejected: without a user there is no 'signal' right on entity:x:k\\x1b]0;pwned\\x07\\x1b[2J\\u009b1m\\x7fé (mode explicit)"
	# and in what a handler writes on its standard error
	mkdir -p "$BATS_TEST_TMPDIR/h/entity"
	printf '#!/bin/sh\nprintf "oops\\033[2J\\n" >&2\necho "{}"\n' > "$BATS_TEST_TMPDIR/h/entity/x"
	chmod +x "$BATS_TEST_TMPDIR/h/entity/x"
	ev e1 signal entity:x:k o > "$IN"
	run --separate-stderr dphp-replay -d "$S" -x "$BATS_TEST_TMPDIR/h" "$IN"
	assert_success
	assert_stderr 'entity/x: oops\x1b[2J'
}

@test "a line over 16 MiB is refused without reading it all" {
	ev ok signal entity:a:b op > "$IN"
	head -c 16777217 /dev/zero | tr '\0' 'x' >> "$IN"
	printf '\n' >> "$IN"
	ev after signal entity:a:b op >> "$IN"
	run --separate-stderr dphp-route "$IN"
	assert_failure 3
	assert_output "$(head -n 1 "$IN")"
	assert_stderr "dphp-route: $IN:2: line longer than 16777216 bytes"
}

@test "envelope errors name the rule broken" {
	while IFS='|' read -r line why; do
		second "$line"
		run --separate-stderr dphp-route "$IN"
		assert_failure 3
		assert_output "$(head -n 1 "$IN")"
		assert_stderr "dphp-route: $IN:2: invalid event: $why"
	done < "$FIX/bad-envelopes.txt"
}

@test "a missing file is a system error" {
	run --separate-stderr dphp-route "$BATS_TEST_TMPDIR/none"
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-route: error: cannot open '$BATS_TEST_TMPDIR/none': No such file or directory"
}

@test "usage" {
	run --separate-stderr dphp-route -v "$IN"
	assert_failure 2
	assert_output ""
	assert_stderr "$(cat <<'USAGE'
dphp-route: error: -v inverts -m: give a pattern
usage: dphp-route [-Diuv] [-K keys] [-m pattern ...] [-R rejects] [file ...]
       dphp-route -q [-uv] [-d store] [-K keys] [-m pattern ...] [-P policy]
           [-R rejects] [file ...]
       dphp-route -t [-e | -w] [-a tries] [-c claims] [-d store] [-l lease]
           [-n max] [-P policy] [-R rejects] [-s i/n]
       dphp-route -r [-d store]
USAGE
)"
	while IFS='|' read -r bad said; do
		# shellcheck disable=SC2086 # the words of $bad are options
		run --separate-stderr dphp-route $bad
		assert_failure 2
		assert_output ""
		assert_equal "${stderr_lines[0]}" "dphp-route: error: $said"
		assert_equal "${stderr_lines[1]}" "usage: dphp-route [-Diuv] [-K keys] [-m pattern ...] [-R rejects] [file ...]"
		assert_equal "${#stderr_lines[@]}" 7
	done <<'BAD'
-q -D|-D and -i are for filtering, not for -q
-q -i|-D and -i are for filtering, not for -q
-t -D|-D and -i are for filtering, not for -t
-t -m x|-t takes no file and no -m
-n 1|-a, -c, -e, -l, -n, -s and -w go with -t
-w|-a, -c, -e, -l, -n, -s and -w go with -t
-s 0/2|-a, -c, -e, -l, -n, -s and -w go with -t
-l 1s|-a, -c, -e, -l, -n, -s and -w go with -t
-d x|-d goes with -q, -t or -r
-q -t|-q and -t cannot be used together
-t -r|-t and -r cannot be used together
-t x|-t takes no file and no -m
-r x|-r takes no file and no -m
-e|-a, -c, -e, -l, -n, -s and -w go with -t
-t -e -w|-e and -w cannot be used together
-t -K k|-K checks events as they are queued, not with -t
-r -R r|-r takes no -R
-P p|-P goes with -q or -t
-r -P p|-P goes with -q or -t
-a 3|-a, -c, -e, -l, -n, -s and -w go with -t
-c 3|-a, -c, -e, -l, -n, -s and -w go with -t
-q -a 3|-a, -c, -e, -l, -n, -s and -w go with -t
-m x -m y -v -q -t|-q and -t cannot be used together
BAD
	# (4294967296 would be 0 once narrowed to an unsigned int)
	for bad in 2/2 4294967296/2 -1/2 1/-2 0/65537 /2 1/ 1/2x; do
		run --separate-stderr dphp-route -t -e -s "$bad"
		assert_failure 2
		assert_output ""
		assert_stderr "dphp-route: error: invalid shard '$bad' (want i/n with 0 <= i < n <= 65536)"
	done
	for bad in 0 1000001 x; do
		run --separate-stderr dphp-route -t -c "$bad"
		assert_failure 2
		assert_output ""
		assert_stderr "dphp-route: error: invalid claims '$bad' (want 1..1000000)"
	done
	run --separate-stderr dphp-route -t -l 0
	assert_failure 2
	assert_output ""
	assert_stderr "dphp-route: error: invalid lease '0' (a duration: 90s, 15m, 2h)"
	run --separate-stderr dphp-route -h
	assert_success
	assert_line -n 0 "usage: dphp-route [-Diuv] [-K keys] [-m pattern ...] [-R rejects] [file ...]"
	assert_stderr ""
}

@test "the shared bad-input corpus; a full disk" {
	refuses_bad_input dphp-route dphp-route
	fails_on_full_disk dphp-route "$FIX/route-in.ndjson"
}
