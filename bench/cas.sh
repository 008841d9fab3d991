#!/bin/sh
# cas.sh - part of make bench: durable compare-and-set commits per second, side
# by side on one disk and in one run: dphp-commit on the directory store,
# sqlite3 doing the same compare-and-set (WAL and its default rollback
# journal, synchronous=FULL, one transaction per update), and the floor
# of the disk: write + fsync + rename + fsync(dir).  The methods take
# turns, run after run, and the medians are reported.
#
#	BENCH_N=1000 BENCH_RUNS=5 BENCH_DIR=bench sh bench/cas.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH=$here/../cmd:$PATH
# shellcheck source=bench/common.sh
. "$here/common.sh"
need_floor "$here"
n=${BENCH_N:-1000}
runs=${BENCH_RUNS:-5}
work=$(mktemp -d "${BENCH_DIR:-$here}/work.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# n proposals, each a compare-and-set on the ETag the last one made
awk -v n="$n" 'BEGIN {
	for (i = 1; i <= n; i++)
		printf "{\"v\":1,\"kind\":\"proposal\",\"input\":{\"v\":1," \
		    "\"id\":\"p%d\",\"ts\":\"2026-11-27T10:00:00Z\",\"event\":" \
		    "{\"to\":\"entity:bench:k\",\"event\":{\"type\":\"signal\"," \
		    "\"op\":\"set\"}}},\"target\":\"entity:bench:k\",\"base\":%s," \
		    "\"state\":{\"state\":{\"n\":%d},\"seen\":{}}," \
		    "\"emit\":[]}\n", i,
		    i == 1 ? "null" : "\"" (i - 1) "\"", i
}' > "$work/proposals"
# the same n updates for sqlite3, each its own transaction
awk -v n="$n" 'BEGIN {
	print "PRAGMA synchronous=FULL;"
	for (i = 1; i <= n; i++)
		printf "UPDATE kv SET v = \x27{\"n\":%d}\x27, ver = ver + 1 " \
		    "WHERE k = \x27entity:bench:k\x27 AND ver = %d;\n", i, i - 1
}' > "$work/updates.sql"

# nanoseconds taken by the command
elapsed() {
	s=$(date +%s%N)
	"$@" > /dev/null
	e=$(date +%s%N)
	echo $((e - s))
}

# A fresh sqlite3 database in journal mode $1 with the rows of the SQL
# file $2; time the updates of $3; the versions must then add up to $4.
sqlite() {
	rm -f "$work/db" "$work/db-wal" "$work/db-shm" "$work/db-journal"
	{
		echo "PRAGMA journal_mode=$1;"
		echo "CREATE TABLE kv (k TEXT PRIMARY KEY, ver INTEGER, v TEXT);"
		cat "$2"
	} | sqlite3 "$work/db" > /dev/null
	t=$(elapsed sqlite3 "$work/db" < "$3")
	[ "$(sqlite3 "$work/db" 'SELECT sum(ver) FROM kv')" = "$4" ] ||
	    { echo "bench: sqlite3 lost updates" >&2; exit 1; }
	echo "$t"
}
echo "INSERT INTO kv VALUES ('entity:bench:k', 0, '{}');" > "$work/one.sql"

: > "$work/times"
for r in $(seq "$runs"); do
	rm -rf "$work/floor.d" && mkdir "$work/floor.d"
	floor=$("$here/floor" "$work/floor.d" "$n" |
	    awk '{ printf "%d", $1 * 1e9 }')

	rm -rf "$work/store" && dphp-commit -d "$work/store" -i
	dphp=$(elapsed dphp-commit -d "$work/store" "$work/proposals")
	[ "$(cat "$work/store/state/entity/bench/k.etag")" = "$n" ] ||
	    { echo "bench: dphp lost commits" >&2; exit 1; }

	wal=$(sqlite WAL "$work/one.sql" "$work/updates.sql" "$n")
	delete=$(sqlite DELETE "$work/one.sql" "$work/updates.sql" "$n")
	printf 'floor %s\ndphp %s\nwal %s\ndelete %s\n' "$floor" "$dphp" \
	    "$wal" "$delete" >> "$work/times"
	printf 'run %d of %d done\n' "$r" "$runs" >&2
done

echo "durable compare-and-set: $n commits per run, median of $runs runs"
machine "$work"
echo
awk -v n="$n" "$median_awk"'
{ t[$1] = t[$1] " " $2 }
END {
	name["floor"] = "disk floor: write+fsync+rename+fsync(dir)"
	name["dphp"] = "dphp-commit, directory store"
	name["wal"] = "sqlite3 WAL, synchronous=FULL"
	name["delete"] = "sqlite3 rollback journal, synchronous=FULL"
	for (m in t)
		rate[m] = n / (median(t[m]) / 1e9)
	printf "%-44s %10s %9s %11s\n", "", "commits/s", "vs floor", "vs sqlite WAL"
	split("floor dphp wal delete", order, " ")
	for (i = 1; i <= 4; i++) {
		m = order[i]
		printf "%-44s %10.0f %9.2f %11.2f\n", name[m], rate[m],
		    rate[m] / rate["floor"], rate[m] / rate["wal"]
	}
}' "$work/times"

# Part two, group commit: the same number of updates spread over
# $keys keys that exist already, so that commits to different keys can
# share their flushes (dphp-commit -b); sqlite3 WAL does the same updates,
# one transaction each.
keys=${BENCH_KEYS:-100}
awk -v n="$n" -v keys="$keys" 'BEGIN {
	for (i = 1; i <= n + keys; i++) {
		k = (i - 1) % keys + 1
		v = int((i - 1) / keys) + 1
		printf "{\"v\":1,\"kind\":\"proposal\",\"input\":{\"v\":1," \
		    "\"id\":\"g%d\",\"ts\":\"2026-11-27T10:00:00Z\",\"event\":" \
		    "{\"to\":\"entity:bench:k%d\",\"event\":{\"type\":\"signal\"," \
		    "\"op\":\"set\"}}},\"target\":\"entity:bench:k%d\",\"base\":%s," \
		    "\"state\":{\"state\":{\"n\":%d},\"seen\":{}}," \
		    "\"emit\":[]}\n", i, k, k,
		    v == 1 ? "null" : "\"" (v - 1) "\"", v
	}
}' > "$work/spread"
head -n "$keys" "$work/spread" > "$work/spread.setup"
tail -n +"$((keys + 1))" "$work/spread" > "$work/spread.timed"
awk -v n="$n" -v keys="$keys" 'BEGIN {
	print "PRAGMA synchronous=FULL;"
	for (i = 1; i <= n; i++) {
		k = (i - 1) % keys + 1
		v = int((i - 1) / keys) + 1
		printf "UPDATE kv SET v = \x27{\"n\":%d}\x27, ver = ver + 1 " \
		    "WHERE k = \x27entity:bench:k%d\x27 AND ver = %d;\n", v + 1, k, v
	}
}' > "$work/spread.sql"

spread_dphp() {	# batch size
	rm -rf "$work/store" && dphp-commit -d "$work/store" -i
	dphp-commit -d "$work/store" "$work/spread.setup" > /dev/null
	t=$(elapsed dphp-commit -b "$1" -d "$work/store" "$work/spread.timed")
	[ "$(cat "$work/store/state/entity/bench/k1.etag")" = \
	    "$((n / keys + 1))" ] ||
	    { echo "bench: dphp lost commits" >&2; exit 1; }
	echo "$t"
}

{
	echo "BEGIN;"
	for k in $(seq 1 "$keys"); do
		echo "INSERT INTO kv VALUES ('entity:bench:k$k', 1, '{}');"
	done
	echo "COMMIT;"
} > "$work/keys.sql"

: > "$work/gtimes"
for r in $(seq "$runs"); do
	printf 'b1 %s\nb64 %s\nwal %s\n' "$(spread_dphp 1)" "$(spread_dphp 64)" \
	    "$(sqlite WAL "$work/keys.sql" "$work/spread.sql" $((n + keys)))" \
	    >> "$work/gtimes"
	printf 'group commit run %d of %d done\n' "$r" "$runs" >&2
done
echo
echo "group commit: $n compare-and-set updates over $keys existing keys, median of $runs runs"
echo
awk -v n="$n" "$median_awk"'
{ t[$1] = t[$1] " " $2 }
END {
	name["b1"] = "dphp-commit, one commit per flush"
	name["b64"] = "dphp-commit -b 64 (group commit)"
	name["wal"] = "sqlite3 WAL, synchronous=FULL"
	for (m in t)
		rate[m] = n / (median(t[m]) / 1e9)
	printf "%-44s %10s %13s\n", "", "commits/s", "vs sqlite WAL"
	split("b1 b64 wal", order, " ")
	for (i = 1; i <= 3; i++) {
		m = order[i]
		printf "%-44s %10.0f %13.2f\n", name[m], rate[m], rate[m] / rate["wal"]
	}
}' "$work/gtimes"
