#!/usr/bin/env bats
# The shipped systemd units, sysusers entry and cron files: installed by
# make install, valid, hardened, and their commands run a worker and
# release delays on a real store.

load helper

C=$TOP/contrib

setup() {
	mkstore
	T=$BATS_TEST_TMPDIR
	export DPHP_STORE=$S DPHP_HANDLERS=$H
}

# make install under the prefix $T/usr (a real one: the units name its
# programs), the worker template as instance 0
installed() {
	make -s -C "$TOP" install PREFIX="$T/usr" > /dev/null
	U=$T/usr/lib/systemd/system
	cp "$U/dphp-worker@.service" "$T/dphp-worker@0.service"
}

@test "systemd-analyze verify accepts the installed units, without a warning" {
	installed
	run grep -h '^ExecStart' "$T/dphp-worker@0.service" "$U/dphp-delays.service"
	assert_output - <<OUT
ExecStartPre=$T/usr/bin/dphp-commit -i
ExecStart=/bin/bash -c 'set -o pipefail; dphp-route -t -w -s %i/\${DPHP_SHARDS} -l 5m | dphp-lock | dphp-replay -k | dphp-commit -k -b 64'
ExecStartPre=$T/usr/bin/dphp-commit -i
ExecStart=$T/usr/bin/dphp-route -r
OUT
	run timeout 60 env MANPATH="$T/usr/share/man" systemd-analyze verify \
	    "$T/dphp-worker@0.service" "$U/dphp-delays.service" \
	    "$U/dphp-delays.timer"
	assert_success
	assert_output ""
}

@test "systemd-analyze security scores both services 1.4 OK (at most 2.0)" {
	installed
	run timeout 60 systemd-analyze security --offline=true --threshold=20 \
	    "$T/dphp-worker@0.service" "$U/dphp-delays.service"
	assert_success
	run grep Overall <<< "$output"
	assert_output - <<'OUT'
-> Overall exposure level for dphp-worker@0.service: 1.4 OK :-)
-> Overall exposure level for dphp-delays.service: 1.4 OK :-)
OUT
}

@test "the sysusers entry makes the user dphp, its home the store" {
	installed
	mkdir -p "$T/root/etc"
	run systemd-sysusers --root="$T/root" "$T/usr/lib/sysusers.d/dphp.conf"
	assert_success
	run cut -d: -f1,6,7 "$T/root/etc/passwd"
	assert_output "dphp:/var/lib/dphp:/usr/sbin/nologin"
	run cut -d: -f1 "$T/root/etc/group"
	assert_output dphp
}

# the command line of a unit's ExecStart, its instance and variables
# filled in: shard 0 of 1
execstart() {
	sed -n 's/^ExecStart=//p' "$1" | sed 's|%i|0|g; s|${DPHP_SHARDS}|1|g'
}

@test "the worker unit's command drains a queue and keeps waiting" {
	for i in 1 2 3; do
		ev "e$i" signal entity:counter:c add 1
	done > "$T/in"
	dphp-route -q "$T/in" > /dev/null
	execstart "$C/systemd/dphp-worker@.service" > "$T/cmd"
	run cat "$T/cmd"
	assert_output "/bin/bash -c 'set -o pipefail; dphp-route -t -w -s 0/1 -l 5m | dphp-lock | dphp-replay -k | dphp-commit -k -b 64'"
	setsid sh -c "$(cat "$T/cmd")" > "$T/out" 2> "$T/err" & pid=$!
	for _ in $(seq 100); do
		[ -z "$(find "$S/queue/new" "$S/queue/cur" -type f)" ] && break
		sleep 0.1
	done
	kill -0 "$pid" || fail "the worker stopped"
	kill -- "-$pid"
	wait "$pid" || true
	assert_file_empty "$T/err"
	run jq -r '[.input.id, .etag] | join(" ")' "$T/out"
	assert_output - <<'OUT'
e1 1
e2 2
e3 3
OUT
	run dphp-commit -g entity:counter:c
	assert_success
	run jq -c .state.state <<< "$output"
	assert_output 3
}

@test "a worker unit's pipeline ends with the status of the stage that failed: 5 for a configuration error, not restarted" {
	run grep -x 'RestartPreventExitStatus=2 5' "$C/systemd/dphp-worker@.service"
	assert_success
	ev e1 signal entity:nobody:c add 1 > "$T/in"
	dphp-route -q "$T/in" > /dev/null
	execstart "$C/systemd/dphp-worker@.service" > "$T/cmd"
	run --separate-stderr env DPHP_HANDLERS="$T/none" sh -c "$(cat "$T/cmd")"
	assert_failure 5
	assert_output ""
	assert_stderr "dphp-replay: <stdin>:1: cannot use the handlers in '$T/none': No such file or directory (a configuration error: the event is given back)"
}

@test "the delays unit's command releases due delays" {
	ev d1 -D 1m signal entity:counter:c add 1 > "$T/in"
	dphp-route -q "$T/in" > /dev/null
	execstart "$C/systemd/dphp-delays.service" | sed 's|/usr/local/bin/||' > "$T/cmd"
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

# the one job line of a cron file $1, its command (from field $2 on) on
# the test's store
cronjob() {
	grep -v '^#' "$1" | grep -v '^[A-Z_]*=' | grep . > "$T/lines"
	run wc -l < "$T/lines"
	assert_output 1
	run awk 'NF < 6 || $1 != "*" || $5 != "*" { print "bad: " $0 }' "$T/lines"
	assert_output ""
	cut -d' ' -f"$2"- "$T/lines" | sed "s|/var/lib/dphp|$S|g" > "$T/cmd"
}

@test "the crontab and cron.d lines are well formed and their command drains the queue" {
	for f in crontab:6 cron.d/dphp:7; do
		rm -rf "$S" && dphp-commit -i
		cronjob "$C/${f%:*}" "${f#*:}"
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
	done
	run awk '!/^#/ && !/=/ && NF { print $6 }' "$C/cron.d/dphp"
	assert_output dphp
}

@test "the crontab says how to add it without replacing a crontab" {
	run grep -F '(crontab -l 2>/dev/null; cat contrib/crontab) | crontab -' "$C/crontab"
	assert_success
}
