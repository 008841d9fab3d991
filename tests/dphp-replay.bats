#!/usr/bin/env bats
# dphp-replay: entity operations through handlers, into proposals.

load helper

setup() {
	mkstore
	IN=$BATS_TEST_TMPDIR/in.ndjson
}

@test "a first operation proposes a new state from nothing" {
	ev o1 signal entity:account:alice deposit 100 > "$IN"
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$IN"
	assert_success
	assert_output '{"v":1,"kind":"proposal","input":{"v":1,"id":"o1","ts":"2026-11-27T10:00:00.000Z","event":{"to":"entity:account:alice","event":{"type":"signal","op":"deposit","input":100}}},"base":null,"target":"entity:account:alice","state":{"state":{"balance":100},"seen":{"o1":"2026-11-27T10:00:00.000Z"}},"emit":[]}'
	assert_stderr ""
}

@test "a stored state is the base; later events build on earlier ones" {
	printf '{"state":{"balance":10}}' > "$BATS_TEST_TMPDIR/s"
	dphp-commit -d "$S" -c -s entity:account:alice "$BATS_TEST_TMPDIR/s" > /dev/null
	ev o1 signal entity:account:alice deposit 5 > "$IN"
	ev o2 signal entity:account:bob deposit 1 >> "$IN"
	ev o3 signal entity:account:alice withdraw 12 >> "$IN"
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$IN"
	assert_success
	assert_output - <<'OUT'
{"v":1,"kind":"proposal","input":{"v":1,"id":"o1","ts":"2026-11-27T10:00:00.000Z","event":{"to":"entity:account:alice","event":{"type":"signal","op":"deposit","input":5}}},"base":"1","target":"entity:account:alice","state":{"state":{"balance":15},"seen":{"o1":"2026-11-27T10:00:00.000Z"}},"emit":[]}
{"v":1,"kind":"proposal","input":{"v":1,"id":"o2","ts":"2026-11-27T10:00:00.000Z","event":{"to":"entity:account:bob","event":{"type":"signal","op":"deposit","input":1}}},"base":null,"target":"entity:account:bob","state":{"state":{"balance":1},"seen":{"o2":"2026-11-27T10:00:00.000Z"}},"emit":[]}
{"v":1,"kind":"proposal","input":{"v":1,"id":"o3","ts":"2026-11-27T10:00:00.000Z","event":{"to":"entity:account:alice","event":{"type":"signal","op":"withdraw","input":12}}},"base":"1","prev":"o1","target":"entity:account:alice","state":{"state":{"balance":3},"seen":{"o1":"2026-11-27T10:00:00.000Z","o3":"2026-11-27T10:00:00.000Z"}},"emit":[]}
OUT
	assert_stderr ""
}

@test "the handler gets id, op, input, state, caller and user" {
	mkdir -p "$BATS_TEST_TMPDIR/h/entity"
	cat > "$BATS_TEST_TMPDIR/h/entity/echo" <<'SH'
#!/bin/sh
jq -c '{result: .}'
SH
	chmod +x "$BATS_TEST_TMPDIR/h/entity/echo"
	ev c1 -b alice:ops -f orchestration:o:1 -r orchestration:o:1 call entity:echo:e look '[1]' > "$IN"
	run --separate-stderr dphp-replay -d "$S" -x "$BATS_TEST_TMPDIR/h" "$IN"
	assert_success
	assert_output '{"v":1,"kind":"proposal","input":{"v":1,"id":"c1","ts":"2026-11-27T10:00:00.000Z","by":{"user":"alice","roles":["ops"]},"event":{"from":"orchestration:o:1","event":{"reply_to":"orchestration:o:1","event":{"to":"entity:echo:e","event":{"type":"signal","op":"look","input":[1]}}}}},"base":null,"target":"entity:echo:e","emit":[{"v":1,"id":"701c66d8-a5df-8bc6-8bb3-3cbe6181254e","ts":"2026-11-27T10:00:00.000Z","by":{"user":"alice","roles":["ops"]},"event":{"from":"entity:echo:e","event":{"to":"orchestration:o:1","event":{"type":"completed","scheduled_id":"c1","result":{"id":"entity:echo:e","op":"look","input":[1],"state":null,"caller":"orchestration:o:1","user":{"user":"alice","roles":["ops"]}}}}}}]}'
	assert_stderr ""
}

@test "emitted events carry the emitter, the user and derived ids" {
	printf '{"state":{"balance":50}}' > "$BATS_TEST_TMPDIR/s"
	dphp-commit -d "$S" -c -s entity:account:alice "$BATS_TEST_TMPDIR/s" > /dev/null
	ev t1 -b alice -r orchestration:o:1 call entity:account:alice transfer '{"to":"bob","amount":20}' > "$IN"
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$IN"
	assert_success
	assert_output '{"v":1,"kind":"proposal","input":{"v":1,"id":"t1","ts":"2026-11-27T10:00:00.000Z","by":{"user":"alice"},"event":{"reply_to":"orchestration:o:1","event":{"to":"entity:account:alice","event":{"type":"signal","op":"transfer","input":{"to":"bob","amount":20}}}}},"base":"1","target":"entity:account:alice","state":{"state":{"balance":30},"seen":{"t1":"2026-11-27T10:00:00.000Z"}},"emit":[{"v":1,"id":"a26e5404-41ab-895b-9c7c-13558f767b78","ts":"2026-11-27T10:00:00.000Z","by":{"user":"alice"},"event":{"from":"entity:account:alice","event":{"to":"entity:account:bob","event":{"type":"signal","op":"deposit","input":20}}}},{"v":1,"id":"12cff217-d19b-8928-b8ef-2119026776a0","ts":"2026-11-27T10:00:00.000Z","by":{"user":"alice"},"event":{"from":"entity:account:alice","event":{"to":"orchestration:o:1","event":{"type":"completed","scheduled_id":"t1","result":30}}}}]}'
	assert_stderr ""
}

@test "replaying the same events again proposes the same, byte for byte" {
	printf '{"state":{"balance":50}}' > "$BATS_TEST_TMPDIR/s"
	dphp-commit -d "$S" -c -s entity:account:alice "$BATS_TEST_TMPDIR/s" > /dev/null
	ev t1 -r orchestration:o:1 call entity:account:alice transfer '{"to":"bob","amount":20}' > "$IN"
	ev t2 -r orchestration:o:1 call entity:account:alice transfer '{"to":"carol","amount":20}' >> "$IN"
	dphp-replay -d "$S" -x "$H" "$IN" > "$BATS_TEST_TMPDIR/first"
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$IN"
	assert_success
	assert_output "$(cat "$BATS_TEST_TMPDIR/first")"
	assert_stderr ""
	run jq -r '.emit[].id' "$BATS_TEST_TMPDIR/first"
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort -u | wc -l)" 4
}

@test "a refused operation changes nothing and fails every reply-to" {
	ev w1 -r orchestration:o:1 -r entity:audit:log call entity:account:alice withdraw 5 > "$IN"
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$IN"
	assert_success
	assert_output '{"v":1,"kind":"proposal","input":{"v":1,"id":"w1","ts":"2026-11-27T10:00:00.000Z","event":{"reply_to":"orchestration:o:1","event":{"reply_to":"entity:audit:log","event":{"to":"entity:account:alice","event":{"type":"signal","op":"withdraw","input":5}}}}},"base":null,"target":"entity:account:alice","failed":"insufficient funds","emit":[{"v":1,"id":"a24f1901-18e9-8c30-9e27-87488e61ad11","ts":"2026-11-27T10:00:00.000Z","event":{"from":"entity:account:alice","event":{"to":"orchestration:o:1","event":{"type":"failed","scheduled_id":"w1","reason":"insufficient funds"}}}},{"v":1,"id":"6f794526-14be-88a1-ad13-00ce064536bd","ts":"2026-11-27T10:00:00.000Z","event":{"from":"entity:account:alice","event":{"to":"entity:audit:log","event":{"type":"failed","scheduled_id":"w1","reason":"insufficient funds"}}}}]}'
	assert_stderr ""
}

@test "handler failures become failed operations; the stage goes on" {
	for h in crash killed garbage stranger forger; do
		ev "$h" signal "entity:$h:k" op >> "$IN"
	done
	ev last signal entity:counter:k add 2 >> "$IN"
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$IN"
	assert_success
	assert_stderr ""
	run jq -r '.failed // .state.state' <<< "$output"
	assert_output - <<OUT
handler entity/crash exited with status 3
handler entity/killed killed by signal 9
handler entity/garbage printed invalid JSON: '[' or '{' expected near 'state'
handler entity/stranger answered an unknown field 'colour'
handler entity/forger: emit[0]: more than one 'from' wrapper
2
OUT
}

@test "what is wrong with the handlers is a configuration error: nothing is proposed, exit 5" {
	ev e0 signal entity:counter:k add 1 > "$IN"
	ev e1 signal entity:counter:k add 1 >> "$IN"
	run --separate-stderr dphp-replay -d "$S" -x "$BATS_TEST_TMPDIR/nonexistent" "$IN"
	assert_failure 5
	assert_output ""
	assert_stderr "dphp-replay: error: cannot use the handlers in '$BATS_TEST_TMPDIR/nonexistent': No such file or directory"
	run --separate-stderr dphp-replay -d "$S" -x "$IN" "$IN"
	assert_failure 5
	assert_output ""
	assert_stderr "dphp-replay: error: cannot use the handlers in '$IN': Not a directory"
	hx=$BATS_TEST_TMPDIR/hx
	mkdir "$hx"
	run --separate-stderr dphp-replay -d "$S" -x "$hx" "$IN"
	assert_failure 5
	assert_output ""
	assert_stderr "dphp-replay: $IN:1: the handlers in '$hx' have no directory 'entity' (a configuration error)"
	mkdir "$hx/entity"
	run --separate-stderr dphp-replay -d "$S" -x "$hx" "$IN"
	assert_failure 5
	assert_output ""
	assert_stderr "dphp-replay: $IN:1: no handler entity/counter in '$hx' (a configuration error)"
	printf '#!/bin/sh\n. "$DPHP_SH"\nexec jq -c "{state: 1}"\n' > "$hx/entity/counter"
	run --separate-stderr dphp-replay -d "$S" -x "$hx" "$IN"
	assert_failure 5
	assert_output ""
	assert_stderr "dphp-replay: $IN:1: handler entity/counter in '$hx' is not executable (a configuration error)"
	chmod +x "$hx/entity/counter"
	DPHP_SH=$BATS_TEST_TMPDIR/no-dphp.sh run --separate-stderr dphp-replay -d "$S" -x "$hx" "$IN"
	assert_failure 5
	assert_output ""
	assert_stderr "$(cat <<ERR
entity/counter: $hx/entity/counter: 2: .: cannot open $BATS_TEST_TMPDIR/no-dphp.sh: No such file
dphp-replay: $IN:1: handler entity/counter sources the sh library '$BATS_TEST_TMPDIR/no-dphp.sh', which cannot be read: No such file or directory (a configuration error)
ERR
)"
	# configured: both proposed
	run --separate-stderr dphp-replay -d "$S" -x "$hx" "$IN"
	assert_success
	assert_stderr ""
	run jq -c '[.input.id, .state.state]' <<< "$output"
	assert_output - <<'OUT'
["e0",1]
["e1",1]
OUT
}

@test "a handler that does not answer in time is killed" {
	ev s1 signal entity:slow:k op > "$IN"
	run --separate-stderr dphp-replay -T 300 -d "$S" -x "$H" "$IN"
	assert_success
	assert_output '{"v":1,"kind":"proposal","input":{"v":1,"id":"s1","ts":"2026-11-27T10:00:00.000Z","event":{"to":"entity:slow:k","event":{"type":"signal","op":"op"}}},"base":null,"target":"entity:slow:k","failed":"handler entity/slow timed out after 300 ms","emit":[]}'
	assert_stderr ""
}

@test "what a handler leaves behind does not keep the stage: its group is killed on a time-out, its stderr read only as it ends" {
	export LEAVER_PIDS=$BATS_TEST_TMPDIR/pids
	ev h1 signal entity:leaver:k hang > "$IN"
	ev l1 signal entity:leaver:k leave >> "$IN"
	# bounded, not timed: without the fix the stage waits 60 s
	run --separate-stderr timeout 20 dphp-replay -T 1000 -d "$S" -x "$H" "$IN"
	assert_success
	assert_stderr ""
	run jq -c '[.input.id, .failed, .emit]' <<< "$output"
	assert_output - <<'OUT'
["h1","handler entity/leaver timed out after 1000 ms",[]]
["l1",null,[]]
OUT
	# the first, in the group killed, is gone (a zombie, or reaped); the
	# second lives on
	run sh -c 'while read -r p; do case $(cut -d" " -f3 "/proc/$p/stat" 2> /dev/null) in ""|Z) echo gone ;; *) echo alive ;; esac; done < "$1"' sh "$LEAVER_PIDS"
	assert_output - <<'OUT'
gone
alive
OUT
	xargs kill < "$LEAVER_PIDS" 2> /dev/null || true
}

@test "delete proposes a deletion and needs no handler" {
	ev d1 -r orchestration:o:1 delete entity:nohandler:k > "$IN"
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$IN"
	assert_success
	assert_output '{"v":1,"kind":"proposal","input":{"v":1,"id":"d1","ts":"2026-11-27T10:00:00.000Z","event":{"reply_to":"orchestration:o:1","event":{"to":"entity:nohandler:k","event":{"type":"delete"}}}},"base":null,"target":"entity:nohandler:k","delete":true,"emit":[{"v":1,"id":"90f49c55-90b6-8f65-9236-1b9397d6ad6f","ts":"2026-11-27T10:00:00.000Z","event":{"from":"entity:nohandler:k","event":{"to":"orchestration:o:1","event":{"type":"completed","scheduled_id":"d1","result":null}}}}]}'
	assert_stderr ""
}

@test "ownership events are not replay's: they stop the stage, located" {
	ev o1 signal entity:counter:k add > "$IN"
	ev o2 share entity:counter:k user bob read >> "$IN"
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$IN"
	assert_failure 3
	assert_line -n 0 --partial '"id":"o1"'
	assert_equal "${#lines[@]}" 1
	assert_stderr "dphp-replay: $IN:2: 'share' events are applied by the Infrastructure layer, not by dphp-replay"
}

@test "invalid input stops the stage and touches nothing" {
	ev o1 signal entity:counter:k add > "$IN"
	printf '{"v":1,"id":"x","ts":"2026-11-27T10:00:00Z","event":{"to":"entity:x:y","event":{"type":"signal","op":"o","op2":1}}}\n' >> "$IN"
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$IN"
	assert_failure 3
	assert_equal "${#lines[@]}" 1
	assert_stderr "dphp-replay: $IN:2: invalid event: unknown field 'op2' in a 'signal' event"
	run ls "$S/state"
	assert_output ""
}

@test "no handlers or no store" {
	run --separate-stderr dphp-replay -d "$S" "$IN"
	assert_failure 2
	assert_output ""
	assert_equal "${stderr_lines[0]}" "dphp-replay: error: no handlers: give -x DIR or set DPHP_HANDLERS"
	assert_equal "${stderr_lines[1]}" "usage: dphp-replay [-ku] [-d store] [-T ms] [-x dir] [file ...]"
	run --separate-stderr dphp-replay -d "$BATS_TEST_TMPDIR/nostore" -x "$H" "$IN"
	assert_output ""
	assert_failure 5
	assert_stderr "dphp-replay: error: cannot open store '$BATS_TEST_TMPDIR/nostore': No such file or directory"
}

@test "the shared bad-input corpus leaves the store untouched; a full disk" {
	ev o1 signal entity:counter:k add > "$IN"
	dphp-replay -d "$S" -x "$H" "$IN" > "$BATS_TEST_TMPDIR/p"
	dphp-commit -d "$S" "$BATS_TEST_TMPDIR/p" > /dev/null
	refuses_bad_input dphp-replay dphp-replay -d "$S" -x "$H"
	fails_on_full_disk dphp-replay -d "$S" -x "$H" "$IN"
}

@test "-k keeps a handler running; it is started again after it dies" {
	for i in 1 2 3 4 5; do
		op=get
		[ "$i" = 2 ] && op=die
		ev "k$i" -r orchestration:o:1 call entity:tally:t "$op" >> "$IN"
	done
	run --separate-stderr dphp-replay -k -d "$S" -x "$H" "$IN"
	assert_success
	assert_stderr ""
	run jq -r '.emit[0].event.event.event.result.n' <<< "$output"
	assert_output "$(printf '%s\n' 1 2 1 2 3)"
	run --separate-stderr dphp-replay -k -d "$S" -x "$H" "$IN"
	assert_success
	assert_stderr ""
	pids=$(jq -r '.emit[0].event.event.event.result.pid' <<< "$output" | uniq | wc -l)
	assert_equal "$pids" 2
}

@test "-k: a co-process over its time limit is killed and replaced" {
	ev h1 -r orchestration:o:1 call entity:tally:t hang > "$IN"
	ev h2 -r orchestration:o:1 call entity:tally:t get >> "$IN"
	run --separate-stderr dphp-replay -k -T 300 -d "$S" -x "$H" "$IN"
	assert_success
	assert_stderr ""
	run jq -c '[.failed, .emit[0].event.event.event.result.n]' <<< "$output"
	assert_output - <<'OUT'
["handler entity/tally timed out after 300 ms",null]
[null,1]
OUT
}

@test "a handler's stderr is passed on, each line prefixed with its name" {
	ev n1 signal entity:tally:t noise > "$IN"
	for k in "" -k; do
		run --separate-stderr dphp-replay $k -d "$S" -x "$H" "$IN"
		assert_success
		assert_output --partial '"input":{"v":1,"id":"n1"'
		assert_stderr "$(printf 'entity/tally: request 1\nentity/tally: second line')"
	done
}

@test "a redelivered operation is not applied again, in a stream or later" {
	ev d1 -r orchestration:o:1 call entity:counter:k add 5 > "$IN"
	ev d1 -r orchestration:o:1 call entity:counter:k add 5 >> "$IN"
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$IN"
	assert_success
	assert_stderr ""
	run jq -c '[.duplicate, .state, (.emit | length)]' <<< "$output"
	assert_output - <<'OUT'
[null,{"state":5,"seen":{"d1":"2026-11-27T10:00:00.000Z"}},1]
[true,null,0]
OUT
	dphp-replay -d "$S" -x "$H" "$IN" > "$BATS_TEST_TMPDIR/p"
	dphp-commit -d "$S" "$BATS_TEST_TMPDIR/p" > /dev/null
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$IN"
	assert_success
	assert_stderr ""
	run jq -c '[.duplicate, .base]' <<< "$output"
	assert_output - <<'OUT'
[true,"1"]
[true,"1"]
OUT
}

@test "the window forgets ids after an hour" {
	ev old signal entity:counter:k add 1 > "$IN"
	DPHP_NOW=2026-11-27T08:00:00Z dphp-replay -d "$S" -x "$H" "$IN" > "$BATS_TEST_TMPDIR/p"
	dphp-commit -d "$S" "$BATS_TEST_TMPDIR/p" > /dev/null
	ev new signal entity:counter:k add 1 > "$IN"
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$IN"
	assert_success
	assert_stderr ""
	run jq -c '.state' <<< "$output"
	assert_output '{"state":2,"seen":{"new":"2026-11-27T10:00:00.000Z"}}'
}

@test "an event after one that changed nothing sees the state before it" {
	ev a1 signal entity:account:alice deposit 10 > "$IN"
	ev a2 signal entity:account:alice withdraw 50 >> "$IN"
	ev a3 signal entity:account:alice balance >> "$IN"
	ev a4 signal entity:account:alice withdraw 5 >> "$IN"
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$IN"
	assert_success
	assert_stderr ""
	run jq -c '[.input.id, .prev, .failed, .state.state, .emit]' <<< "$output"
	assert_output - <<'OUT'
["a1",null,null,{"balance":10},[]]
["a2","a1","insufficient funds",null,[]]
["a3","a2",null,null,[]]
["a4","a3",null,{"balance":5},[]]
OUT
}

@test "an entity can remind itself later and start an orchestration" {
	ev p1 -b alice signal entity:planner:p plan > "$IN"
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$IN"
	assert_success
	assert_stderr ""
	run jq -c '.emit[] | [.id, .by.user, .event.from, .event.event]' <<< "$output"
	assert_output - <<'OUT'
["d02fc183-855e-8fb1-a30f-43a24489d6dd","alice","entity:planner:p",{"delay":"2026-11-27T11:00:00.000Z","event":{"to":"entity:planner:p","event":{"type":"signal","op":"remind"}}}]
["f9b373b7-3a67-8b40-a1fa-cec5880bfe23","alice","entity:planner:p",{"to":"orchestration:greet:from-planner","event":{"type":"start","input":"plan made"}}]
OUT
}

@test "an activity whose handler fails fails, and stays failed" {
	ev a1 -r orchestration:o:1 schedule activity:notify:m1 '"fail"' > "$IN"
	# the same activity again, with what would not fail: it stays failed
	ev a2 -r orchestration:o:1 schedule activity:notify:m1 '"hello"' >> "$IN"
	ev a3 -r orchestration:o:1 schedule activity:notify:n1 '"fail"' >> "$IN"
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$IN"
	assert_success
	assert_stderr ""
	run jq -c '[.input.id, .memoised, .failed, .emit[0].event.event.event.reason]' <<< "$output"
	assert_output - <<OUT
["a1",null,"cannot notify","cannot notify"]
["a2",true,"cannot notify","cannot notify"]
["a3",null,"cannot notify","cannot notify"]
OUT
}

@test "an entity written with the sh library, one-shot and as a co-process" {
	ev a signal entity:shcounter:c add 5 > "$IN"
	ev b -r orchestration:o:1 call entity:shcounter:c get >> "$IN"
	ev c -r orchestration:o:1 call entity:shcounter:c fly >> "$IN"
	ev d signal entity:shcounter:c boom >> "$IN"
	for k in "" -k; do
		run --separate-stderr dphp-replay $k -d "$S" -x "$H" "$IN"
		assert_success
		assert_stderr "entity/shcounter: about to fail"
		run jq -c '[.input.id, .state.state, .failed,
		    [.emit[].event.event | .to, (.event | .op // .result // .reason)]]' <<< "$output"
		assert_output - <<'OUT'
["a",5,null,["entity:audit:log","counted"]]
["b",null,null,["orchestration:o:1",5]]
["c",null,"no operation fly",["orchestration:o:1","no operation fly"]]
["d",null,"the handler failed",[]]
OUT
	done
}

@test "handlers are told where dphp.sh and the Python helper are: beside the programs, or DPHP_SH" {
	local top
	top=$(cd "$TOP" && pwd -P)	# the programs' own path, links resolved
	ev w1 -r orchestration:o:1 call entity:whereis:w where > "$IN"
	for sh in "" /opt/dphp.sh; do
		if [ -n "$sh" ]; then
			export DPHP_SH=$sh
		else
			unset DPHP_SH
		fi
		run --separate-stderr env PYTHONPATH=/opt/py dphp-replay -d "$S" \
		    -x "$H" "$IN"
		assert_success
		assert_stderr ""
		run jq -c '.emit[0].event.event.event.result' <<< "$output"
		assert_output "{\"sh\":\"${sh:-$top/lib/dphp.sh}\",\"py\":\"$top/examples/python:/opt/py\"}"
	done
}

@test "event logs compressed or in tar archives are read by their content, located archive:file:line; into a scratch store" {
	T=$BATS_TEST_TMPDIR
	mkdir "$T/logs"
	ev m1 signal entity:account:alice deposit 100 > "$T/logs/monday"
	ev t1 signal entity:account:alice withdraw 30 > "$T/logs/tuesday"
	printf '%s' "$(ev t2 signal entity:account:bob deposit 5)" >> "$T/logs/tuesday"
	dphp-replay -d "$S" -x "$H" "$T/logs/monday" "$T/logs/tuesday" > "$T/plain"
	(cd "$T/logs" && tar -cf "$T/week.tar" monday tuesday)
	zstd -q -c "$T/week.tar" > "$T/week.tar.zst"
	xz -c "$T/logs/monday" > "$T/monday.log.xz"
	gzip -c "$T/logs/tuesday" > "$T/t"
	for log in "$T/week.tar" "$T/week.tar.zst" "$T/monday.log.xz $T/t"; do
		# shellcheck disable=SC2086 # one or two files
		run --separate-stderr dphp-replay -d "$S" -x "$H" $log
		assert_success
		assert_stderr ""
		assert_output "$(cat "$T/plain")"
	done
	# rebuilt into a scratch store, with no worker
	dphp-commit -d "$T/scratch" -i
	dphp-replay -d "$T/scratch" -x "$H" "$T/week.tar.zst" > "$T/p"
	dphp-commit -d "$T/scratch" "$T/p" > /dev/null
	run dphp-project -d "$T/scratch" ls
	assert_output '{"id":"entity:account:alice","etag":"2"}
{"id":"entity:account:bob","etag":"1"}'
	run dphp-commit -d "$T/scratch" -g entity:account:alice
	assert_output --partial '"state":{"state":{"balance":70}'
	# a bad line, located in its file within the archive
	echo '{"v":1,"id":"x"}' >> "$T/logs/monday"
	(cd "$T/logs" && tar -czf "$T/bad.tgz" tuesday monday)
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$T/bad.tgz"
	assert_failure 3
	assert_stderr "dphp-replay: $T/bad.tgz:monday:2: invalid event: 'ts' must be an RFC 3339 UTC time"
}
