#!/usr/bin/env bats
# dphp-replay -J explaining a history: what each line did (-s), an
# orchestration's timeline in Mermaid (-M), today's handlers checked
# against it (-D), and progress on a terminal.

load helper

setup() {
	bank_setup
	bank
	assert_file_empty "$T/errors"
}

# the bank's worker once more, for the events queued since
drain() {
	dphp-route -d "$S" -t -e | dphp-lock -d "$S" |
	    dphp-replay -d "$S" -k -x "$TOP/examples/bank/handlers" |
	    dphp-commit -d "$S" -k -x "$TOP/examples/bank/handlers" > /dev/null
}

@test "-s: each line's step: results applied, the await they were bound to, actions emitted, where it blocks" {
	run --separate-stderr dphp-replay -J -d "$S" -s -I orchestration:transfer:t1
	assert_success
	assert_stderr ""
	assert_output - <<'OUT'
{"seq":3,"at":"2026-11-27T10:00:00.000Z","id":"orchestration:transfer:t1","etag":"1","cause":"t1","generation":0,"status":"pending","blocked":null}
{"seq":7,"at":"2026-11-27T10:00:00.000Z","id":"orchestration:transfer:t1","etag":"2","cause":"t1.0.run","status":"running","emitted":[{"kind":"call","to":"entity:account:alice","op":"withdraw","id":"t1.0.0","action":0}],"blocked":{"mode":"one","seqs":[0]},"custom":"withdrawing"}
{"seq":10,"at":"2026-11-27T10:00:00.000Z","id":"orchestration:transfer:t1","etag":"3","cause":"4b017019-f4fe-85f5-803f-fd1df183c7cb","status":"running","applied":[{"action":0,"id":"t1.0.0","result":{"ok":true,"value":70}}],"bound":[{"mode":"one","seqs":[0],"results":[{"ok":true,"value":70,"seq":0}],"await":0}],"emitted":[{"kind":"call","to":"entity:account:bob","op":"deposit","id":"t1.0.1","action":1}],"blocked":{"mode":"one","seqs":[1]},"custom":"depositing"}
{"seq":12,"at":"2026-11-27T10:00:00.000Z","id":"orchestration:transfer:t1","etag":"4","cause":"0d505fae-dab4-8159-90cd-a6c981d15196","status":"running","applied":[{"action":1,"id":"t1.0.1","result":{"ok":true,"value":35}}],"bound":[{"mode":"one","seqs":[1],"results":[{"ok":true,"value":35,"seq":1}],"await":1}],"emitted":[{"kind":"activity","name":"notify","id":"t1.0.2","target":"activity:notify:t1.0.2","action":2}],"blocked":{"mode":"one","seqs":[2]}}
{"seq":14,"at":"2026-11-27T10:00:00.000Z","id":"orchestration:transfer:t1","etag":"5","cause":"1fb51e88-f0ba-8957-a4b7-2bbf927e4be3","status":"completed","applied":[{"action":2,"id":"t1.0.2","result":{"ok":true,"value":"alice sent 30 to bob"}}],"bound":[{"mode":"one","seqs":[2],"results":[{"ok":true,"value":"alice sent 30 to bob","seq":2}],"await":2}],"blocked":null,"output":{"alice":70,"bob":35}}
OUT
	# without -I, every line: an entity's state before and after
	run --separate-stderr dphp-replay -J -d "$S" -s
	assert_success
	assert_stderr ""
	assert_equal "${#lines[@]}" "$(jq -s 'map(select(.seq)) | length' "$J"/*.ndjson)"
	run jq -c 'select(.id == "entity:account:alice") | [.seq, .cause, .before, .after]' <<< "$output"
	assert_output - <<'OUT'
[1,"d1",null,{"balance":100}]
[9,"t1.0.0",{"balance":100},{"balance":70}]
OUT
}

@test "-M: an orchestration's timeline as a Mermaid sequence diagram, an external event and a timer in it" {
	ev a1 raise orchestration:transfer:t2 approval true > "$T/a"
	dphp-route -q -d "$S" "$T/a" > /dev/null
	drain
	run --separate-stderr dphp-replay -J -d "$S" -M -I orchestration:transfer:t2
	assert_success
	assert_stderr ""
	assert_output - <<'OUT'
sequenceDiagram
    participant O as orchestration:transfer:t2
    Note over O: pending
    Note over O: waits for event approval
    Note over O: timer 2026-11-27T10:00:02.000Z
    Note over O: running
    participant P0 as outside
    P0-->>O: ok true
    Note over O: await 0 bound
    participant P1 as entity:account:bob
    O->>P1: call withdraw (t2.0.2)
    P1-->>O: failed "insufficient funds"
    Note over O: await 1 bound
    Note over O: failed "withdraw from bob: insufficient funds"
OUT
	run --separate-stderr dphp-replay -J -d "$S" -M -I orchestration:transfer:t1
	assert_success
	assert_stderr ""
	assert_output - <<'OUT'
sequenceDiagram
    participant O as orchestration:transfer:t1
    Note over O: pending
    participant P0 as entity:account:alice
    O->>P0: call withdraw (t1.0.0)
    Note over O: running
    P0-->>O: ok 70
    Note over O: await 0 bound
    participant P1 as entity:account:bob
    O->>P1: call deposit (t1.0.1)
    P1-->>O: ok 35
    Note over O: await 1 bound
    participant P2 as activity:notify:t1.0.2
    O->>P2: activity notify (t1.0.2)
    P2-->>O: ok "alice sent 30 to bob"
    Note over O: await 2 bound
    Note over O: completed {"alice":70,"bob":35}
OUT
}

@test "-D: today's handlers against the history: silent when they agree; the first difference of each instance, exit 1" {
	run --separate-stderr dphp-replay -J -d "$S" -D -x "$TOP/examples/bank/handlers"
	assert_success
	assert_stderr ""
	assert_output ""
	cp -r "$TOP/examples/bank/handlers" "$T/h"
	sed -i 's/" deposit "/" credit "/' "$T/h/orchestration/transfer"
	run --separate-stderr dphp-replay -J -d "$S" -D -x "$T/h"
	assert_failure 1
	assert_stderr ""
	assert_output '{"id":"orchestration:transfer:t1","step":1,"history":"call entity:account:bob deposit","now":"call entity:account:bob credit"}'
	# as it was before its deposit: it agrees
	run --separate-stderr dphp-replay -J -d "$S" -D -x "$T/h" -S 8
	assert_success
	assert_output ""
	# an end that differs; a handler that fails
	cp -r "$TOP/examples/bank/handlers" "$T/h2"
	sed -i 's/dphp_complete "{/dphp_complete "{\\"v\\":2,/' "$T/h2/orchestration/transfer"
	run --separate-stderr dphp-replay -J -d "$S" -D -x "$T/h2" -I orchestration:transfer:t1
	assert_failure 1
	assert_output '{"id":"orchestration:transfer:t1","step":"end","history":"output {\"alice\":70,\"bob\":35}","now":"output {\"v\":2,\"alice\":70,\"bob\":35}"}'
	printf '#!/bin/sh\nexit 9\n' > "$T/h2/orchestration/transfer"
	run --separate-stderr dphp-replay -J -d "$S" -D -x "$T/h2"
	assert_failure 1
	assert_output - <<'OUT'
{"id":"orchestration:transfer:t1","step":"run","history":"an answer","now":"handler orchestration/transfer exited with status 9"}
{"id":"orchestration:transfer:t2","step":"run","history":"an answer","now":"handler orchestration/transfer exited with status 9"}
OUT
}

@test "a long replay says how far it is on a terminal, and nothing when stderr is not one" {
	awk 'BEGIN {
		for (seq = 1; seq <= 140000; seq++)
			printf "{\"seq\":%d,\"b\":%d,\"at\":\"2026-11-27T10:00:00.000Z\",\"id\":\"entity:c:k%d\",\"etag\":\"%d\",\"state\":{\"n\":%d}}\n{\"end\":%d,\"next\":%d}\n", seq, seq, seq % 10, seq, seq, seq, seq + 1
	}' > "$T/big.ndjson"
	export DPHP_PROGRESS_MS=1
	run script -qec "dphp-replay -J '$T/big.ndjson' > '$T/out'" /dev/null
	assert_success
	[[ $output =~ $'\r'"dphp-replay: "[0-9]+" lines, "[0-9]+/s ]]
	[[ $output == *$'\r\e[K' ]]	# cleared at the end
	assert_equal "$(wc -l < "$T/out")" 10
	run --separate-stderr dphp-replay -J "$T/big.ndjson"
	assert_success
	assert_stderr ""
}

@test "-s and -M onto a full disk fail, exit 4" {
	for o in -s "-M -I orchestration:transfer:t1"; do
		# shellcheck disable=SC2086 # the words of $o are options
		fails_on_full_disk dphp-replay -J -d "$S" $o
	done
}

@test "-s, -M and -D: usage" {
	for bad in "-J -M" "-J -M -I entity:account:alice" "-J -s -c" "-J -M -D -I orchestration:transfer:t1" \
	    "-J -s -x $TOP/examples/bank/handlers" "-s" "-D -x $TOP/examples/bank/handlers"; do
		# shellcheck disable=SC2086 # the words of $bad are options
		run --separate-stderr dphp-replay -d "$S" $bad
		assert_failure 2
		assert_output ""
		assert_equal "${stderr_lines[0]}" "usage: dphp-replay [-ku] [-d store] [-T ms] [-x dir] [file ...]"
	done
}
