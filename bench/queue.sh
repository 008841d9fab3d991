#!/bin/sh
# queue.sh - part of make bench: durable entity operations per second
# end to end through a worker (dphp-route -t | dphp-lock | dphp-replay
# -k | dphp-commit -k), fsync on, with and without group commit, the jq
# counter in-process and (DPHP_JQ=process) as a co-process, beside the
# floor of the disk (write + fsync + rename + fsync(dir): one durable
# replace) and sqlite3 doing the same updates (WAL, synchronous=FULL,
# a transaction each, the rows there before), measured in the same run.
# As sqlite3's rows, the counters are there before the timed drain (a
# signal each, drained first), but in the last worker row, where the
# drain also makes them;
# then the latency from admitting one signal to its committed record,
# with a worker waiting (-w): bench/latency.bash.
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

# n signals "add 1" over the keys, as one admission; one to each first
signals "$n" "$keys" > "$work/signals"
signals "$keys" "$keys" p > "$work/first"
# the same n compare-and-set updates for sqlite3, a transaction each
awk -v n="$n" -v keys="$keys" 'BEGIN {
	print "PRAGMA synchronous=FULL;"
	for (i = 0; i < n; i++)
		printf "UPDATE kv SET v = v + 1, ver = ver + 1 WHERE " \
		    "k = \x27k%d\x27 AND ver = %d;\n", i % keys, int(i / keys)
}' > "$work/updates.sql"
{
	echo "PRAGMA journal_mode=WAL;"
	echo "CREATE TABLE kv (k TEXT PRIMARY KEY, ver INTEGER, v INTEGER);"
	echo "BEGIN;"
	awk -v keys="$keys" 'BEGIN { for (k = 0; k < keys; k++)
		printf "INSERT INTO kv VALUES (\x27k%d\x27, 0, 0);\n", k }'
	echo "COMMIT;"
} > "$work/rows.sql"

: > "$work/times"
for r in $(seq "$runs"); do
	rm -rf "$work/floor.d" && mkdir "$work/floor.d"
	floor=$("$here/floor" "$work/floor.d" "$n" |
	    awk '{ printf "%d", $1 * 1e9 }')
	echo "floor $floor" >> "$work/times"
	rm -f "$work/db" "$work/db-wal" "$work/db-shm"
	sqlite3 "$work/db" < "$work/rows.sql" > /dev/null
	s=$(now)
	sqlite3 "$work/db" < "$work/updates.sql" > /dev/null
	e=$(now)
	[ "$(sqlite3 "$work/db" 'SELECT sum(v) FROM kv')" = "$n" ] ||
	    { echo "bench: sqlite3 lost updates" >&2; exit 1; }
	echo "sqlite $((e - s))" >> "$work/times"
	for w in 1 64 64p 64new; do
		rm -rf "$work/store" && dphp-commit -d "$work/store" -i
		made=0
		if [ "$w" != 64new ]; then
			dphp-route -d "$work/store" -q "$work/first" > /dev/null
			worker "$work/store" 64 /dev/null
			made=$keys
		fi
		s=$(now)
		dphp-route -d "$work/store" -q "$work/signals" > /dev/null
		m=$(now)
		case $w in
		*p) (export DPHP_JQ=process
		    worker "$work/store" 64 "$work/commits") ;;
		*) worker "$work/store" "${w%new}" "$work/commits" ;;
		esac
		e=$(now)
		check_total "$work/store" $((n + made))
		echo "admit $((m - s))" >> "$work/times"
		echo "worker$w $((e - m))" >> "$work/times"
	done
	printf 'run %d of %d done\n' "$r" "$runs" >&2
done

# latency: one signal at a time, admitted while a worker waits
bash "$here/latency.bash" "$work" "$lat" > "$work/latency"

echo "durable entity operations through a worker: $n signals over $keys"
echo "entities, jq counters, median of $runs runs"
machine "$work"
echo
awk -v n="$n" "$median_awk"'
{ t[$1] = t[$1] " " $2 }
END {
	name["floor"] = "disk floor: write+fsync+rename+fsync(dir)"
	name["sqlite"] = "sqlite3 WAL FULL, the same updates (CAS)"
	name["admit"] = "admission, dphp-route -q (one sync per batch)"
	name["worker1"] = "worker, dphp-commit -b 1, jq in-process"
	name["worker64"] = "worker, -b 64 (group commit), jq in-process"
	name["worker64p"] = "worker, -b 64, jq as a co-process"
	name["worker64new"] = "worker, -b 64, the counters made in the run"
	for (m in t)
		rate[m] = n / (median(t[m]) / 1e9)
	printf "%-46s %8s %9s %10s\n", "", "ops/s", "vs floor", "vs sqlite"
	split("floor sqlite admit worker1 worker64 worker64p worker64new",
	    order, " ")
	for (i = 1; i <= 7; i++) {
		m = order[i]
		printf "%-46s %8.0f %9.2f %10.2f\n", name[m], rate[m],
		    rate[m] / rate["floor"], rate[m] / rate["sqlite"]
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
