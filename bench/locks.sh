#!/bin/sh
# locks.sh - part of make bench: the seed post's comparison on one
# workload, two clients each adding 1 to the same entity N/2 times from
# the shell: optimistic (read the state and its ETag, write it back only
# if the ETag is unchanged, else read again) against pessimistic (take
# the entity's lock with dphp-lock, then read and write); then lock
# acquire + release per second for two entities (dphp-lock ... -- true).
#
#	BENCH_LOCK_N=200 BENCH_RUNS=3 sh bench/locks.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH=$here/../cmd:$PATH
# shellcheck source=bench/common.sh
. "$here/common.sh"
n=${BENCH_LOCK_N:-200}
runs=${BENCH_RUNS:-3}
work=$(mktemp -d "${BENCH_DIR:-$here}/work.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export DPHP_STORE="$work/store"
id=entity:bench:c

# one client: $1 increments, optimistic; $2 names its scratch file
optimistic() {
	i=0
	while [ "$i" -lt "$1" ]; do
		read -r etag next <<-EOF2
		$(dphp-commit -g "$id" | jq -r '"\(.etag) \(.state + 1)"')
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
		    dphp-commit -g "$1" | jq ".state + 1" > "$2" &&
		    dphp-commit -f -s "$1" "$2" > /dev/null' sh "$id" "$work/next.$2"
		i=$((i + 1))
	done
}


# time two clients of method $1; the counter must end at n
race() {
	rm -rf "$work/store" && dphp-commit -i
	echo 0 > "$work/zero" && dphp-commit -c -s "$id" "$work/zero" > /dev/null
	s=$(now)
	# each client its own scratch file ($$ is the same in both)
	( "$1" $((n / 2)) a ) & a=$!
	( "$1" $((n / 2)) b ) & b=$!
	wait "$a" "$b"
	e=$(now)
	[ "$(dphp-commit -g "$id" | jq .state)" = "$((n / 2 * 2))" ] ||
	    { echo "bench: $1 lost increments" >&2; exit 1; }
	echo "$1 $((e - s))" >> "$work/times"
}

: > "$work/times"
: > "$work/retries"
for r in $(seq "$runs"); do
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

echo "optimistic ETag commits against a lock per operation: 2 shell clients,"
echo "$n increments of one entity in all, median of $runs runs"
machine "$work"
echo
awk -v n="$n" -v retries="$(wc -l < "$work/retries")" -v runs="$runs" "$median_awk"'
{ t[$1] = t[$1] " " $2 }
END {
	for (m in t)
		rate[m] = n / (median(t[m]) / 1e9)
	printf "%-52s %8s\n", "", "ops/s"
	printf "%-52s %8.0f\n", "optimistic: read, compare-and-set, retry", rate["optimistic"]
	printf "%-52s %8.0f\n", "pessimistic: dphp-lock, read, write", rate["pessimistic"]
	printf "%-52s %8.2f\n", "ratio optimistic / pessimistic", rate["optimistic"] / rate["pessimistic"]
	printf "%-52s %8.1f%%\n", "optimistic retries per increment", 100 * retries / runs / n
	print ""
	printf "%-52s %8.0f\n", "dphp-lock of two entities -- true, per second", rate["lock2"]
}' "$work/times"
