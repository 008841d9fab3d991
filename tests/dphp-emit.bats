#!/usr/bin/env bats
# dphp-emit: building every core event and wrapper; wrapping streams.

load helper

@test "signal: one envelope, compact, with the id, time and input given" {
	run --separate-stderr dphp-emit -i e1 -t 2026-01-02T03:04:05.678Z \
	    signal entity:account:alice deposit 100
	assert_success
	assert_output '{"v":1,"id":"e1","ts":"2026-01-02T03:04:05.678Z","event":{"to":"entity:account:alice","event":{"type":"signal","op":"deposit","input":100}}}'
	assert_stderr ""
}

@test "every core event, one per command" {
	{
		ev s1 start orchestration:transfer:t1 '{"amount":5}'
		ev s2 signal entity:account:alice deposit
		ev s3 -r orchestration:transfer:t1 call entity:account:alice withdraw 5
		ev s4 raise orchestration:transfer:t1 approved true
		ev s5 schedule activity:notify:n1 '"hello"'
		ev s6 completed orchestration:transfer:t1 s5 '{"ok":true}'
		ev s7 failed orchestration:transfer:t1 s5 'mail server down'
		ev s8 terminate orchestration:transfer:t1 'operator said so'
		ev s9 share entity:account:alice user bob signal,read
		ev s10 revoke entity:account:alice role auditors read
		ev s11 give entity:account:alice carol
		ev s12 delete entity:account:alice
	} > "$BATS_TEST_TMPDIR/all.ndjson"
	assert_files_equal "$BATS_TEST_TMPDIR/all.ndjson" "$FIX/emit-all.ndjson"
}

@test "a reason is a JSON string, or text that is not JSON; other JSON is refused" {
	local r
	printf '"from a file"\n' > "$BATS_TEST_TMPDIR/reason.json"
	while IFS='|' read -r r want; do
		run --separate-stderr dphp-emit -i x terminate orchestration:a:b "$r"
		assert_success
		assert_output "{\"v\":1,\"id\":\"x\",\"ts\":\"2026-11-27T10:00:00.000Z\",\"event\":{\"to\":\"orchestration:a:b\",\"event\":{\"type\":\"terminate\",\"reason\":$want}}}"
		assert_stderr ""
		run --separate-stderr dphp-emit -i x failed orchestration:a:b s1 "$r"
		assert_success
		assert_output "{\"v\":1,\"id\":\"x\",\"ts\":\"2026-11-27T10:00:00.000Z\",\"event\":{\"to\":\"orchestration:a:b\",\"event\":{\"type\":\"failed\",\"scheduled_id\":\"s1\",\"reason\":$want}}}"
		assert_stderr ""
	done <<-REASONS
	"stop it"|"stop it"
	stop it|"stop it"
	"say \\"no\\""|"say \\"no\\""
	say "no"|"say \\"no\\""
	"42"|"42"
	|""
	@$BATS_TEST_TMPDIR/reason.json|"from a file"
	REASONS
	for r in 42 '{"why":1}' null; do
		run --separate-stderr dphp-emit terminate orchestration:a:b "$r"
		assert_failure 2
		assert_output ""
		assert_stderr "dphp-emit: error: the reason '$r' is JSON but not a string: quote it"
	done
	run --separate-stderr dphp-emit terminate orchestration:a:b "$(printf 'x\377')"
	assert_failure 2
	assert_output ""
	assert_stderr "dphp-emit: error: the reason is not valid UTF-8"
}

@test "all wrappers nest in the documented order, participants sorted" {
	run --separate-stderr dphp-emit -i w1 -b alice:admin,user -D 5m \
	    -P 50 -f orchestration:transfer:t1 -l orchestration:transfer:t1 \
	    -p entity:account:bob -p entity:account:alice -p entity:account:bob \
	    -r orchestration:transfer:t1 -r entity:audit:log \
	    signal entity:account:alice withdraw 5
	assert_success
	assert_output '{"v":1,"id":"w1","ts":"2026-11-27T10:00:00.000Z","by":{"user":"alice","roles":["admin","user"]},"event":{"delay":"2026-11-27T10:05:00.000Z","event":{"priority":50,"event":{"from":"orchestration:transfer:t1","event":{"lock":{"owner":"orchestration:transfer:t1","participants":["entity:account:alice","entity:account:bob"]},"event":{"reply_to":"orchestration:transfer:t1","event":{"reply_to":"entity:audit:log","event":{"to":"entity:account:alice","event":{"type":"signal","op":"withdraw","input":5}}}}}}}}}'
	assert_stderr ""
}

@test "-A delivers at an absolute time; -D counts from -t" {
	run --separate-stderr dphp-emit -i a1 -A 2027-01-01T00:00:00Z \
	    delete entity:a:b
	assert_success
	assert_output '{"v":1,"id":"a1","ts":"2026-11-27T10:00:00.000Z","event":{"delay":"2027-01-01T00:00:00.000Z","event":{"to":"entity:a:b","event":{"type":"delete"}}}}'
	assert_stderr ""
	run --separate-stderr dphp-emit -i a2 -t 2026-12-31T23:59:59.500Z \
	    -D 500ms delete entity:a:b
	assert_success
	assert_output '{"v":1,"id":"a2","ts":"2026-12-31T23:59:59.500Z","event":{"delay":"2027-01-01T00:00:00.000Z","event":{"to":"entity:a:b","event":{"type":"delete"}}}}'
	assert_stderr ""
}

@test "input from @file and from stdin" {
	printf '{"amount": 7,\n "memo": "x"}\n' > "$BATS_TEST_TMPDIR/in.json"
	run --separate-stderr dphp-emit -i f1 signal entity:a:b op \
	    "@$BATS_TEST_TMPDIR/in.json"
	assert_success
	assert_output '{"v":1,"id":"f1","ts":"2026-11-27T10:00:00.000Z","event":{"to":"entity:a:b","event":{"type":"signal","op":"op","input":{"amount":7,"memo":"x"}}}}'
	assert_stderr ""
	run --separate-stderr dphp-emit -i f2 signal entity:a:b op - \
	    < "$BATS_TEST_TMPDIR/in.json"
	assert_success
	assert_output '{"v":1,"id":"f2","ts":"2026-11-27T10:00:00.000Z","event":{"to":"entity:a:b","event":{"type":"signal","op":"op","input":{"amount":7,"memo":"x"}}}}'
	assert_stderr ""
}

@test "a fresh id is a UUIDv7 and differs every time" {
	run --separate-stderr dphp-emit signal entity:a:b op
	assert_stderr ""
	assert_success
	assert_output --regexp '^\{"v":1,"id":"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",'
	first=$output
	run --separate-stderr dphp-emit signal entity:a:b op
	assert_success
	refute_output "$first"
	assert_stderr ""
}

@test "-w wraps every envelope read, keeping its id" {
	ev k1 signal entity:a:b op > "$BATS_TEST_TMPDIR/in"
	ev k2 -r orchestration:o:1 call entity:a:c op >> "$BATS_TEST_TMPDIR/in"
	run --separate-stderr dphp-emit -w -P 0 -D 1h "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_output - <<'OUT'
{"v":1,"id":"k1","ts":"2026-11-27T10:00:00.000Z","event":{"delay":"2026-11-27T11:00:00.000Z","event":{"priority":0,"event":{"to":"entity:a:b","event":{"type":"signal","op":"op"}}}}}
{"v":1,"id":"k2","ts":"2026-11-27T10:00:00.000Z","event":{"delay":"2026-11-27T11:00:00.000Z","event":{"priority":0,"event":{"reply_to":"orchestration:o:1","event":{"to":"entity:a:c","event":{"type":"signal","op":"op"}}}}}}
OUT
	assert_stderr ""
}

@test "-w refuses a wrapper the event already has, naming the line" {
	ev k1 signal entity:a:b op > "$BATS_TEST_TMPDIR/in"
	ev k2 -D 1m signal entity:a:b op >> "$BATS_TEST_TMPDIR/in"
	run --separate-stderr dphp-emit -w -D 5m "$BATS_TEST_TMPDIR/in"
	assert_failure 3
	assert_output '{"v":1,"id":"k1","ts":"2026-11-27T10:00:00.000Z","event":{"delay":"2026-11-27T10:05:00.000Z","event":{"to":"entity:a:b","event":{"type":"signal","op":"op"}}}}'
	assert_stderr "dphp-emit: $BATS_TEST_TMPDIR/in:2: cannot wrap: more than one 'delay' wrapper"
}

@test "-w on invalid input stops with a located error" {
	printf '{"v":1}\n' > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr dphp-emit -w -P 1 "$BATS_TEST_TMPDIR/in"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-emit: $BATS_TEST_TMPDIR/in:1: invalid event: 'id' must be an event id ([A-Za-z0-9._-]{1,128}, not starting with '.')"
}

@test "a key that looks like a path is just a key" {
	run --separate-stderr dphp-emit -i p1 signal 'entity:x:../../etc' op
	assert_success
	assert_output '{"v":1,"id":"p1","ts":"2026-11-27T10:00:00.000Z","event":{"to":"entity:x:../../etc","event":{"type":"signal","op":"op"}}}'
	assert_stderr ""
}

@test "bad ids are usage errors that name the rule" {
	run --separate-stderr dphp-emit signal 'entity:../x:k' op
	assert_failure 2
	assert_output ""
	assert_stderr "dphp-emit: error: invalid id 'entity:../x:k': name must match [A-Za-z0-9._-] and not start with '.'"
	run --separate-stderr dphp-emit signal 'thing:x:k' op
	assert_output ""
	assert_failure 2
	assert_stderr "dphp-emit: error: invalid id 'thing:x:k': unknown kind (want entity, orchestration or activity)"
	run --separate-stderr dphp-emit signal 'entity:x:' op
	assert_output ""
	assert_failure 2
	assert_stderr "dphp-emit: error: invalid id 'entity:x:': key must be 1 to 256 bytes"
	run --separate-stderr dphp-emit signal "entity:x:$(printf 'a\377b')" op
	assert_output ""
	assert_failure 2
	# the byte that is not UTF-8 is written escaped
	assert_stderr "dphp-emit: error: invalid id 'entity:x:a\\xffb': key must be UTF-8 without newlines"
	run --separate-stderr dphp-emit signal "entity:x:$(printf '%0257d' 0)" op
	assert_output ""
	assert_failure 2
	assert_stderr "dphp-emit: error: invalid id 'entity:x:$(printf '%0257d' 0)': key must be 1 to 256 bytes"
	run --separate-stderr dphp-emit signal 'entity' op
	assert_output ""
	assert_failure 2
	assert_stderr "dphp-emit: error: invalid id 'entity': not of the form KIND:NAME:KEY"
}

@test "internal names cannot be forged; events go to their kind" {
	run --separate-stderr dphp-emit raise orchestration:o:1 _lock
	assert_failure 2
	assert_output ""
	assert_stderr "dphp-emit: error: 'name' must match [A-Za-z0-9._-]{1,128} and start with a letter, digit or '-'"
	run --separate-stderr dphp-emit signal entity:a:b __signal
	assert_output ""
	assert_failure 2
	assert_stderr "dphp-emit: error: 'op' must match [A-Za-z0-9._-]{1,128} and start with a letter, digit or '-'"
	run --separate-stderr dphp-emit start entity:a:b
	assert_output ""
	assert_failure 2
	assert_stderr "dphp-emit: error: a 'start' event cannot be sent to an entity"
	run --separate-stderr dphp-emit share entity:a:b user bob fly
	assert_output ""
	assert_failure 2
	assert_stderr "dphp-emit: error: 'ops' holds an unknown operation"
}

@test "invalid JSON input is an input error; a file that cannot be read, an I/O error" {
	run --separate-stderr dphp-emit signal entity:a:b op '{"a":1,"a":2}'
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-emit: error: argument: invalid JSON: duplicate object key near '\"a\"' (line 1, column 10)"
	run --separate-stderr dphp-emit signal entity:a:b op "@$BATS_TEST_TMPDIR/missing"
	assert_output ""
	assert_failure 4
	assert_stderr "dphp-emit: error: cannot open '$BATS_TEST_TMPDIR/missing': No such file or directory"
}

@test "usage errors exit 2" {
	run --separate-stderr dphp-emit call entity:a:b op
	assert_failure 2
	assert_output ""
	assert_stderr "dphp-emit: error: 'call' needs a reply-to (-r)"
	run --separate-stderr dphp-emit launch entity:a:b
	assert_output ""
	assert_failure 2
	assert_stderr "dphp-emit: error: unknown command 'launch'"
	run --separate-stderr dphp-emit -P 1001 delete entity:a:b
	assert_output ""
	assert_failure 2
	assert_stderr "dphp-emit: error: invalid priority '1001' (want 0..1000)"
	run --separate-stderr dphp-emit -D soon delete entity:a:b
	assert_output ""
	assert_failure 2
	assert_stderr "dphp-emit: error: 'soon' is not a duration"
	run --separate-stderr dphp-emit -A 2026-13-01T00:00:00Z delete entity:a:b
	assert_output ""
	assert_failure 2
	assert_stderr "dphp-emit: error: '2026-13-01T00:00:00Z' is not an RFC 3339 UTC time"
	run --separate-stderr dphp-emit -w -i x1
	assert_failure 2
	assert_output ""
	assert_equal "${stderr_lines[0]}" "usage: dphp-emit [-u] [-A time | -D duration] [-b user[:role,...] | -T token]"
	run --separate-stderr dphp-emit signal entity:a:b
	assert_output ""
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "dphp-emit: error: signal: too few operands: signal entity op [input]"
	assert_equal "${stderr_lines[1]}" "usage: dphp-emit [-u] [-A time | -D duration] [-b user[:role,...] | -T token]"
}

@test "a write error on stdout is an error" {
	run --separate-stderr sh -c 'dphp-emit -i x1 delete entity:a:b > /dev/full'
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-emit: error: write error on <stdout>: No space left on device"
}

@test "--help and --version" {
	run --separate-stderr dphp-emit --help
	assert_success
	assert_line -n 0 "usage: dphp-emit [-u] [-A time | -D duration] [-b user[:role,...] | -T token]"
	assert_line "  -w             wrap the envelopes read from files or stdin"
	assert_stderr ""
	run --separate-stderr dphp-emit --version
	assert_success
	assert_output --regexp '^dphp-emit \(dphp\) [0-9]+\.[0-9]+\.[0-9]+$'
	assert_stderr ""
}

@test "-w: the shared bad-input corpus; a full disk" {
	refuses_bad_input dphp-emit dphp-emit -w -P 1
	fails_on_full_disk dphp-emit -w -P 1 "$FIX/route-in.ndjson"
}
