# helper.bash - what every bats file of dphp shares: the libraries, the
# in-tree programs first on PATH, a fixed clock, and small helpers.
#
# not tested (and why):
# - power loss: kill -9 keeps the page cache, so it shows crash
#   atomicity, not durability; fsync failure is tested by injection.
# - permission errors: CI runs as root, which ignores file modes (a
#   read-only mount stands in for them, when root may mount).

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

# Suites linked into tests/etcd/ run again on an etcd cluster of three
# members, started for the file on loopback ports and stopped after it.
# Those linked into tests/jqprocess/ run again with the handlers written
# in jq (NAME.jq) run as co-processes by jq(1), not in-process.
unset DPHP_JQ
if [[ $BATS_TEST_DIRNAME == */tests/etcd ]]; then
	ON_ETCD=1
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
elif [[ $BATS_TEST_DIRNAME == */tests/jqprocess ]]; then
	ON_ETCD=
	export DPHP_JQ=process
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
else
	ON_ETCD=
	TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
fi
FIX=$TOP/tests/fixtures
PATH=$TOP/cmd:$PATH
export LC_ALL=C
export DPHP_NOW=2026-11-27T10:00:00.000Z
unset DPHP_STORE DPHP_HANDLERS
export DPHP_SH=$TOP/lib/dphp.sh

# The store and handlers of one test (used by the .bats files).
if [ -n "$ON_ETCD" ]; then
	S=etcd://${ETCD_HOSTS-}/t${BATS_TEST_NUMBER-0}
else
	S=$BATS_TEST_TMPDIR/store
fi
# shellcheck disable=SC2034
H=$FIX/handlers

mkstore() {
	dphp-commit -d "$S" -i
}

# Start a cluster of three etcd members on random loopback ports for a
# file (its setup_file): ETCD_DIR, ETCD_HOSTS; member I's pid in
# ETCD_DIR/nI.pid (killed by the fault tests, and by etcd_stop), its
# command in ETCD_DIR/nI.run (etcd_member I starts it again).
etcd_start() {
	local base cluster hosts i try
	command -v etcd > /dev/null || fail "no etcd: run .ci/ensure-deps"
	# a port may be taken meanwhile: then other ports
	for try in 1 2 3; do
		ETCD_DIR=$(mktemp -d /tmp/dphp-etcd.XXXXXX)
		base=$((20000 + RANDOM % 20000))
		cluster='' hosts=''
		for i in 1 2 3; do
			cluster="$cluster${cluster:+,}n$i=http://127.0.0.1:$((base + 10 + i))"
		done
		for i in 1 2 3; do
			cat > "$ETCD_DIR/n$i.run" <<-EOF
			exec etcd --name n$i --data-dir "$ETCD_DIR/n$i" \\
			    --listen-client-urls http://127.0.0.1:$((base + i)) \\
			    --advertise-client-urls http://127.0.0.1:$((base + i)) \\
			    --listen-peer-urls http://127.0.0.1:$((base + 10 + i)) \\
			    --initial-advertise-peer-urls http://127.0.0.1:$((base + 10 + i)) \\
			    --initial-cluster $cluster --initial-cluster-state new \\
			    --initial-cluster-token dphp-$base >> "$ETCD_DIR/n$i.log" 2>&1
			EOF
			etcd_member "$i"
			hosts="$hosts${hosts:+,}127.0.0.1:$((base + i))"
		done
		export ETCD_DIR ETCD_HOSTS=$hosts
		etcd_healthy && return 0
		[ "$try" = 3 ] || etcd_stop
	done
	fail "etcd did not start: $(tail -5 "$ETCD_DIR"/n*.log)"
}

# start member $1 (again: its data directory is kept)
etcd_member() {
	# in a subshell: killing it later is no job of this shell's
	(
		sh "$ETCD_DIR/n$1.run" &
		echo "$!" > "$ETCD_DIR/n$1.pid"
	)
}

# wait until every member answers and the cluster has a leader; not
# for long if a member has died (a port taken)
etcd_healthy() {
	local i
	for _ in $(seq 1 100); do
		ectl endpoint health > /dev/null 2>&1 && return 0
		for i in 1 2 3; do
			kill -0 "$(cat "$ETCD_DIR/n$i.pid")" 2> /dev/null || return 1
		done
		sleep 0.2
	done
	return 1
}

etcd_stop() {
	local f
	for f in "$ETCD_DIR"/n*.pid; do
		kill -9 "$(cat "$f")" 2> /dev/null || true
	done
	rm -rf "$ETCD_DIR"
}

if [ -n "$ON_ETCD" ]; then
	setup_file() { etcd_start; }
	teardown_file() { etcd_stop; }
fi

# On etcd an ETag is the key's revision, not a generation counted from
# 1: compared as present ("etag":"E") in the outputs the suites pin.
if [ -n "$ON_ETCD" ]; then
	eval "$(declare -f assert_output | sed '1s/assert_output/bats_assert_output/')"
	assert_output() {
		local args=("$@") last=$(($# - 1)) want
		if [ "$#" -eq 0 ] || [[ " $* " == *" --regexp "* ]]; then
			bats_assert_output "$@"
			return
		fi
		if [ "${args[$last]}" = - ]; then
			want=$(cat)
		else
			want=${args[$last]}
		fi
		args[last]=$(sed -E 's/"etag":"[0-9]+"/"etag":"E"/g' <<< "$want")
		output=$(sed -E 's/"etag":"[0-9]+"/"etag":"E"/g' <<< "$output")
		bats_assert_output "${args[@]}"
	}
fi

# etcdctl on the test's cluster
ectl() {
	ETCDCTL_API=3 etcdctl --endpoints "$ETCD_HOSTS" "$@"
}

# The record of $2 in space $1 (state, lock, owner) as the store keeps
# it, {"state":...}, whichever the backend; nothing if there is none.
# Only for keys of [A-Za-z0-9_-], which the store does not encode.
record() {
	local path
	path=$1/$(tr : / <<< "$2")
	if [ -n "$ON_ETCD" ]; then
		ectl get --print-value-only "${S##*/}/$path"
	elif [ -f "$S/$path" ]; then
		cat "$S/$path"
	fi
}

# What the store's queue holds, one "DIR/NAME" a line, sorted: dirs
# queue/new, queue/cur (claimed; on etcd, queue/claim), queue/retry
# (suspects; on etcd, queue/tries counts them), queue/bad and delay.
queued() {
	if [ -n "$ON_ETCD" ]; then
		ectl get --prefix --keys-only "${S##*/}/queue/" | grep . | sed "s|^${S##*/}/||"
		ectl get --prefix --keys-only "${S##*/}/delay/" | grep . | sed "s|^${S##*/}/||"
	else
		(cd "$S" && find queue/new queue/cur queue/retry queue/bad delay -type f 2> /dev/null)
	fi | sort
}

# the names of the delayed events, sorted
delayed() {
	queued | sed -n 's|^delay/||p'
}

# the names of the events ready to be taken (admitted, not claimed)
ready() {
	queued > "$BATS_TEST_TMPDIR/queued"
	sed -n 's|^queue/new/||p' "$BATS_TEST_TMPDIR/queued" |
	    grep -vxF -f <(sed -n 's|^queue/claim/||p' "$BATS_TEST_TMPDIR/queued")
}

# stderr must be exactly $1 (bats-assert 2.1 has no assert_stderr);
# bats sets $stderr in run --separate-stderr.
# shellcheck disable=SC2154
assert_stderr() {
	assert_equal "$stderr" "${1-}"
}

# Print an event line built by dphp-emit with a fixed id.
ev() {
	local id=$1
	shift
	dphp-emit -i "$id" "$@"
}

# Replay the events of $1 (proposals built on each other) into
# $T/proposals and commit them into $T/commits, each stage silent
# (bats sets $lines in run).
# shellcheck disable=SC2154
replay_commit() {
	run --separate-stderr dphp-replay -d "$S" -x "$H" "$1"
	assert_success
	assert_stderr ""
	printf '%s\n' "${lines[@]}" > "$T/proposals"
	run --separate-stderr dphp-commit -d "$S" -x "$H" "$T/proposals"
	assert_success
	assert_stderr ""
	printf '%s\n' "${lines[@]}" > "$T/commits"
}

# $2 signals "add 1" to entity:counter:c, ids $1$3 ... $1$2 (from 1)
signals() {
	awk -v p="$1" -v n="$2" -v from="${3:-1}" 'BEGIN {
	for (i = from; i <= n; i++)
		printf "{\"v\":1,\"id\":\"%s%d\",\"ts\":\"2026-11-27T10:00:00.000Z\"," \
		    "\"event\":{\"to\":\"entity:counter:c\",\"event\":{\"type\":" \
		    "\"signal\",\"op\":\"add\",\"input\":1}}}\n", p, i }'
}

# Each JSON object of file $1, a line, sealed as a journal line is
# (dphp-store(5)): its CRC-32C as its last member, "crc".
seal() {
	python3 - "$1" <<'PY'
import sys
table = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    table.append(c)
for line in open(sys.argv[1], encoding="utf-8").read().splitlines():
    text = line[:-1]
    c = 0xFFFFFFFF
    for b in text.encode():
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    print('%s,"crc":"%08x"}' % (text, c ^ 0xFFFFFFFF))
PY
}

# strace, for the fault injection tests, under make check-asan: the
# LeakSanitizer cannot work in a process traced, so it is not asked to
# there (a script that execs strace, so that no shell waits to report
# the kills the tests inject).
if [ -n "${ASAN_OPTIONS-}" ] && command -v strace > /dev/null &&
    [ ! -x "$BATS_RUN_TMPDIR/traced/strace" ]; then
	mkdir -p "$BATS_RUN_TMPDIR/traced"
	# shellcheck disable=SC2016 # expanded when the script runs
	printf '#!/bin/sh\nexec %s -E "ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0" "$@"\n' \
	    "$(command -v strace)" > "$BATS_RUN_TMPDIR/traced/strace"
	chmod +x "$BATS_RUN_TMPDIR/traced/strace"
fi
[ -z "${ASAN_OPTIONS-}" ] || PATH=$BATS_RUN_TMPDIR/traced:$PATH

# A digest of everything in the store, to show that nothing changed.
store_digest() {
	(cd "$S" && find . -type f -print0 | sort -z | xargs -0 md5sum)
}

# Feed each bad line of the shared corpus, alone, to "CMD... FILE" (the
# arguments after PROG, the name in messages): each
# must stop the program with status 3, nothing on stdout, the located
# reason on stderr, and the store untouched.
refuses_bad_input() {
	local f=$BATS_TEST_TMPDIR/bad.ndjson prog=$1 before=
	shift
	if [ -d "$S" ]; then
		before=$(store_digest)
	fi
	while IFS='|' read -r kind why; do
		case $kind in
		truncated) printf '{"v":1,\n' ;;
		utf8) printf '{"v":"\377"}\n' ;;
		duplicate) printf '{"v":1,"v":2}\n' ;;
		array) printf '[{"v":1}]\n' ;;
		nul) printf '{"v":1}\0\n' ;;
		scalar) printf '42\n' ;;
		huge) head -c 16777217 /dev/zero | tr '\0' ' ' ;;
		esac > "$f"
		run --separate-stderr "$@" "$f"
		assert_failure 3
		assert_output ""
		assert_stderr "$prog: $f:1: $why"
	done <<'CORPUS'
truncated|invalid JSON: string or '}' expected near end of file (column 7)
utf8|invalid JSON: unable to decode byte 0xff near '"' (column 6)
duplicate|invalid JSON: duplicate object key near '"v"' (column 10)
array|record is not a JSON object
nul|NUL byte in line (column 8)
scalar|invalid JSON: '[' or '{' expected near '42' (column 2)
huge|line longer than 16777216 bytes
CORPUS
	if [ -d "$S" ]; then
		assert_equal "$(store_digest)" "$before"
	fi
}

# "$@ FILE" with stdout on a full disk: exit 4, said on stderr.
fails_on_full_disk() {
	run --separate-stderr sh -c '"$@" > /dev/full' sh "$@"
	assert_failure 4
	assert_output ""
	assert_stderr "$1: error: write error on <stdout>: No space left on device"
}

# Mount a filesystem at $1 for a fault test, or skip where that is not
# allowed (not root, no mount in this sandbox).
mount_or_skip() {
	[ "$(id -u)" = 0 ] || skip "needs root to mount"
	mkdir -p "$1"
	shift
	mount "$@" 2>/dev/null || skip "mount is not allowed here"
}

# The set-up of the tests of the journal: a store $S, its journal $J, a
# scratch directory $T, and what the bank example's handlers need.
bank_setup() {
	mkstore
	T=$BATS_TEST_TMPDIR
	# shellcheck disable=SC2034 # for the tests that call this
	J=$S/journal
	export DPHP_SH=$TOP/lib/dphp.sh BANK_NOTICES=$T/notices
}

# every live state, as dphp-project prints them, sorted by id
live() {
	dphp-project -d "$S" ls > "$T/ids"
	jq -r .id "$T/ids" > "$T/idlist"
	if [ -s "$T/idlist" ]; then
		xargs dphp-project -d "$S" get < "$T/idlist"
	fi
}

# some bank work through a worker (entities, orchestrations, an
# activity, a delete)
bank() {
	{
		ev d1 signal entity:account:alice deposit 100
		ev d2 signal entity:account:bob deposit 5
		ev t1 start orchestration:transfer:t1 '{"from":"alice","to":"bob","amount":30}'
		ev t2 start orchestration:transfer:t2 '{"from":"bob","to":"alice","amount":500}'
		ev x1 signal entity:account:carol deposit 1
		ev x2 delete entity:account:carol
	} > "$T/in"
	dphp-route -q -d "$S" "$T/in" > /dev/null
	{
		dphp-route -d "$S" -t -e | dphp-lock -d "$S" |
		    dphp-replay -d "$S" -k -x "$TOP/examples/bank/handlers" |
		    dphp-commit -d "$S" -k -b 16 -x "$TOP/examples/bank/handlers" > /dev/null
	} 2> "$T/errors"
}
