#!/usr/bin/env bats
# The shipped systemd units and crontab: valid, and their commands
# run a worker and release delays on a real store.

load helper

C=$TOP/contrib

setup() {
	mkstore
	T=$BATS_TEST_TMPDIR
	export DPHP_STORE=$S DPHP_HANDLERS=$H
}

@test "systemd-analyze verify accepts the units, without a warning" {
	command -v systemd-analyze > /dev/null || skip "no systemd-analyze"
	cp "$C/systemd/dphp-delays.service" "$C/systemd/dphp-delays.timer" "$T/"
	cp "$C/systemd/dphp-worker@.service" "$T/dphp-worker@0.service"
	run timeout 60 systemd-analyze verify "$T/dphp-delays.service" \
	    "$T/dphp-delays.timer" "$T/dphp-worker@0.service"
	assert_success
	assert_output ""
}

# the command line of a unit's ExecStart, %i made shard 0 of 1
execstart() {
	sed -n 's/^ExecStart=//p' "$1" | sed 's|%i/2|0/1|; s|%i|0|g'
}

@test "the worker unit's command drains a queue and keeps waiting" {
	for i in 1 2 3; do
		ev "e$i" signal entity:counter:c add 1
	done > "$T/in"
	dphp-route -q "$T/in" > /dev/null
	execstart "$C/systemd/dphp-worker@.service" > "$T/cmd"
	setsid sh -c "$(cat "$T/cmd")" 2> "$T/err" & pid=$!
	for _ in $(seq 100); do
		[ -z "$(find "$S/queue/new" "$S/queue/cur" -type f)" ] && break
		sleep 0.1
	done
	kill -0 "$pid" || fail "the worker stopped"
	kill -- "-$pid"
	wait "$pid" || true
	assert_file_empty "$T/err"
	run dphp-commit -g entity:counter:c
	assert_success
	run jq -c .state.state <<< "$output"
	assert_output 3
}

@test "the delays unit's command releases due delays" {
	ev d1 -D 1m signal entity:counter:c add 1 > "$T/in"
	dphp-route -q "$T/in" > /dev/null
	execstart "$C/systemd/dphp-delays.service" > "$T/cmd"
	run --separate-stderr env DPHP_NOW=2026-11-27T10:01:00Z sh -c "$(cat "$T/cmd")"
	assert_success
	assert_output ""
	assert_stderr ""
	run ls "$S/queue/new" "$S/delay"
	assert_output - <<OUT
$S/delay:

$S/queue/new:
1795773660000000.e51d06b3.d1
OUT
}

@test "the crontab line is well formed and its command drains the queue" {
	grep -v '^#' "$C/crontab" | grep -v '^[A-Z_]*=' | grep . > "$T/lines"
	run wc -l < "$T/lines"
	assert_output 1
	run awk 'NF < 6 || $1 != "*" || $5 != "*" { print "bad: " $0 }' "$T/lines"
	assert_output ""
	cut -d' ' -f6- "$T/lines" | sed "s|/var/lib/dphp|$S|g" > "$T/cmd"
	for i in 1 2; do
		ev "e$i" -D "${i}0s" signal entity:counter:c add 1
	done > "$T/in"
	dphp-route -q "$T/in" > /dev/null
	run --separate-stderr env DPHP_NOW=2026-11-27T10:00:30Z sh -c "$(cat "$T/cmd")"
	assert_success
	assert_output ""
	assert_stderr ""
	run find "$S/queue" "$S/delay" -type f
	assert_output ""
	run dphp-commit -g entity:counter:c
	run jq -c .state.state <<< "$output"
	assert_output 2
}
