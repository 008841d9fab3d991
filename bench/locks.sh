#!/bin/sh
# locks.sh - part of make bench: the seed post's comparison, optimistic
# ETag commits against a lock per operation, on one workload.
#
# Through a worker (dphp-route -t | dphp-lock | dphp-replay -k |
# dphp-commit -k -b 64), N operations "add 1" over K counters: as N
# signals (each an ETag commit), as N orchestrations that call the
# counter (the same, through an orchestration), and as N orchestrations
# that lock the counter, call it and let go (a lock per operation).
# Then from the shell, two clients adding 1 to one entity N/2 times
# each: optimistic (read the state and its ETag, write it back only if
# the ETag is unchanged, else read again) against pessimistic (take the
# entity's lock with dphp-lock, then read and write); and lock acquire +
# release per second for two entities (dphp-lock ... -- true).
#
#	BENCH_LOCK_N=200 BENCH_LOCK_KEYS=20 BENCH_RUNS=3 sh bench/locks.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH=$here/../cmd:$PATH
# shellcheck source=bench/common.sh
. "$here/common.sh"
n=${BENCH_LOCK_N:-200}
keys=${BENCH_LOCK_KEYS:-20}
runs=${BENCH_RUNS:-3}
work=$(mktemp -d "${BENCH_DIR:-$here}/work.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export DPHP_STORE="$work/store"
id=entity:bench:c

# n events of the workload: $1 signal, jqcall or jqlocked
workload() {
	awk -v n="$n" -v keys="$keys" -v how="$1" 'BEGIN {
		for (i = 0; i < n; i++) {
			to = "entity:jqcounter:k" (i % keys)
			printf "{\"v\":1,\"id\":\"e%d\",\"ts\":\"2026-11-27T10:00:00Z\",", i
			if (how == "signal")
				printf "\"event\":{\"to\":\"%s\",\"event\":{\"type\":" \
				    "\"signal\",\"op\":\"add\",\"input\":1}}}\n", to
			else
				printf "\"event\":{\"to\":\"orchestration:%s:o%d\"," \
				    "\"event\":{\"type\":\"start\",\"input\":\"%s\"}}}\n",
				    how, i, to
		}
	}' > "$work/$1"
}

# time a worker draining workload $1; the counters must add up to n
drain() {
	rm -rf "$work/store" && dphp-commit -i
	dphp-route -q "$work/$1" > /dev/null
	s=$(now)
	dphp-route -t -e | dphp-lock | dphp-replay -k -x "$here/handlers" |
	    dphp-commit -k -x "$here/handlers" -b 64 > /dev/null
	e=$(now)
	total=$(dphp-project ls entity:jqcounter | jq -r .id |
	    xargs dphp-project get | jq -s 'map(.state.state) | add')
	[ "$total" = "$n" ] ||
	    { echo "bench: $1: the counters add up to $total, not $n" >&2; exit 1; }
	echo "$1 $((e - s))" >> "$work/times"
}

# one client: $1 increments, optimistic; $2 names its scratch file
optimistic() {
	i=0
	while [ "$i" -lt "$1" ]; do
		read -r etag next <<-EOF2
		$(dphp-commit -g "$id" | jq -c -r '"\(.etag) \(.state | .state += 1)"')
		EOF2
		echo "$next" > "$work/next.$2"
		if dphp-commit -e "$etag" -s "$id" "$work/next.$2" > /dev/null 2>&1; then
			i=$((i + 1))
		else
			echo retry >> "$work/retries"
		fi
	done
}

# one client: $1 increments, each under the entity's lock
pessimistic() {
	i=0
	while [ "$i" -lt "$1" ]; do
		# shellcheck disable=SC2016 # expanded by the inner sh
		dphp-lock "$id" -- sh -c '
		    dphp-commit -g "$1" | jq -c ".state | .state += 1" > "$2" &&
		    dphp-commit -f -s "$1" "$2" > /dev/null' sh "$id" "$work/next.$2"
		i=$((i + 1))
	done
}


# time two clients of method $1; the counter must end at n
race() {
	rm -rf "$work/store" && dphp-commit -i
	echo '{"state":0}' > "$work/zero" && dphp-commit -c -s "$id" "$work/zero" > /dev/null
	s=$(now)
	# each client its own scratch file ($$ is the same in both)
	( "$1" $((n / 2)) a ) & a=$!
	( "$1" $((n / 2)) b ) & b=$!
	wait "$a" "$b"
	e=$(now)
	[ "$(dphp-commit -g "$id" | jq .state.state)" = "$((n / 2 * 2))" ] ||
	    { echo "bench: $1 lost increments" >&2; exit 1; }
	echo "$1 $((e - s))" >> "$work/times"
}

: > "$work/times"
: > "$work/retries"
for w in signal jqcall jqlocked; do
	workload "$w"
done
for r in $(seq "$runs"); do
	for w in signal jqcall jqlocked; do
		drain "$w"
	done
	race optimistic
	race pessimistic
	rm -rf "$work/store" && dphp-commit -i
	s=$(now)
	i=0
	while [ "$i" -lt "$n" ]; do
		dphp-lock entity:bench:x entity:bench:y -- true
		i=$((i + 1))
	done
	echo "lock2 $(($(now) - s))" >> "$work/times"
	printf 'run %d of %d done\n' "$r" "$runs" >&2
done

echo "optimistic ETag commits against a lock per operation, median of $runs runs"
machine "$work"
echo
awk -v n="$n" -v keys="$keys" -v retries="$(wc -l < "$work/retries")" -v runs="$runs" "$median_awk"'
{ t[$1] = t[$1] " " $2 }
END {
	for (m in t)
		rate[m] = n / (median(t[m]) / 1e9)
	printf "through a worker (-b 64): %d operations over %d counters\n", n, keys
	printf "%-52s %8s\n", "", "ops/s"
	printf "%-52s %8.0f\n", "signals: an ETag commit each", rate["signal"]
	printf "%-52s %8.0f\n", "orchestrations calling the counter", rate["jqcall"]
	printf "%-52s %8.0f\n", "orchestrations: lock, call, unlock", rate["jqlocked"]
	printf "%-52s %8.2f\n", "ratio signals / lock per operation", rate["signal"] / rate["jqlocked"]
	printf "%-52s %8.2f\n", "ratio orchestrations without / with the lock", rate["jqcall"] / rate["jqlocked"]
	print ""
	printf "from the shell: 2 clients, %d increments of one entity in all\n", n
	printf "%-52s %8s\n", "", "ops/s"
	printf "%-52s %8.0f\n", "optimistic: read, compare-and-set, retry", rate["optimistic"]
	printf "%-52s %8.0f\n", "pessimistic: dphp-lock, read, write", rate["pessimistic"]
	printf "%-52s %8.2f\n", "ratio optimistic / pessimistic", rate["optimistic"] / rate["pessimistic"]
	printf "%-52s %8.1f%%\n", "optimistic retries per increment", 100 * retries / runs / n
	print ""
	printf "%-52s %8.0f\n", "dphp-lock of two entities -- true, per second", rate["lock2"]
}' "$work/times"
