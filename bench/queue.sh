#!/bin/sh
# queue.sh - part of make bench: durable entity operations per second
# end to end through a worker (dphp-route -t | dphp-lock | dphp-replay
# -k | dphp-commit -k), fsync on, with and without group commit, beside
# the floor of the disk measured in the same run (write + fsync + rename
# + fsync(dir): one durable replace); then the latency from admitting
# one signal to its committed record, with a worker waiting (-w):
# bench/latency.bash.
#
#	BENCH_N=1000 BENCH_KEYS=100 BENCH_RUNS=3 BENCH_LAT=200 sh bench/queue.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH=$here/../cmd:$PATH
# shellcheck source=bench/common.sh
. "$here/common.sh"
need_floor "$here"
n=${BENCH_N:-1000}
keys=${BENCH_KEYS:-100}
runs=${BENCH_RUNS:-3}
lat=${BENCH_LAT:-200}
work=$(mktemp -d "${BENCH_DIR:-$here}/work.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export DPHP_HANDLERS="$here/handlers"

# n signals "add 1" over the keys, as one admission
signals "$n" "$keys" > "$work/signals"

: > "$work/times"
for r in $(seq "$runs"); do
	rm -rf "$work/floor.d" && mkdir "$work/floor.d"
	floor=$("$here/floor" "$work/floor.d" "$n" |
	    awk '{ printf "%d", $1 * 1e9 }')
	echo "floor $floor" >> "$work/times"
	for b in 1 64; do
		rm -rf "$work/store" && dphp-commit -d "$work/store" -i
		s=$(now)
		dphp-route -d "$work/store" -q "$work/signals" > /dev/null
		m=$(now)
		worker "$work/store" "$b" "$work/commits"
		e=$(now)
		check_total "$work/store" "$n"
		echo "admit $((m - s))" >> "$work/times"
		echo "worker$b $((e - m))" >> "$work/times"
	done
	printf 'run %d of %d done\n' "$r" "$runs" >&2
done

# latency: one signal at a time, admitted while a worker waits
bash "$here/latency.bash" "$work" "$lat" > "$work/latency"

echo "durable entity operations through a worker: $n signals over $keys"
echo "entities, jq handler as a co-process, median of $runs runs"
machine "$work"
echo
awk -v n="$n" "$median_awk"'
{ t[$1] = t[$1] " " $2 }
END {
	name["floor"] = "disk floor: write+fsync+rename+fsync(dir)"
	name["admit"] = "admission, dphp-route -q (one sync per batch)"
	name["worker1"] = "worker, dphp-commit -b 1"
	name["worker64"] = "worker, dphp-commit -b 64 (group commit)"
	for (m in t)
		rate[m] = n / (median(t[m]) / 1e9)
	printf "%-48s %8s %9s\n", "", "ops/s", "vs floor"
	split("floor admit worker1 worker64", order, " ")
	for (i = 1; i <= 4; i++) {
		m = order[i]
		printf "%-48s %8.0f %9.2f\n", name[m], rate[m],
		    rate[m] / rate["floor"]
	}
}' "$work/times"
echo
echo "latency, admitting one signal to its commit record, $lat samples each:"
for how in process stream; do
	awk -v how="$how" '$1 == how { print $2 }' "$work/latency" | sort -n |
	    awk -v how="$how" '
	{ v[NR] = $1 }
	END {
		name = "a long-lived dphp-route -q reading a pipe"
		if (how == "process")
			name = "a dphp-route -q per signal"
		printf "  %s: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		    name, v[int(NR * 0.5 + 0.5)], v[int(NR * 0.9 + 0.5)],
		    v[int(NR * 0.99 + 0.5)], v[NR]
	}'
done
