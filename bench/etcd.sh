#!/bin/sh
# etcd.sh - part of make bench: on a directory store and on etcd
# clusters of one and of three members on loopback, started here, side
# by side in one run: the stream pipeline (dphp-route | dphp-replay -k |
# dphp-commit -k, group commits of 1 and of 64), with a floor (the same
# number of single puts, one after the other, by one process); then the
# worker end to end (admitted, then dphp-route -t | dphp-lock |
# dphp-replay -k | dphp-commit -k -b 64 until the queue is empty), one
# worker and two (each its shard).
#
#	BENCH_ETCD_N=500 BENCH_KEYS=50 BENCH_RUNS=3 sh bench/etcd.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH=$here/../cmd:$PATH
# shellcheck source=bench/common.sh
. "$here/common.sh"
n=${BENCH_ETCD_N:-500}
keys=${BENCH_KEYS:-50}
runs=${BENCH_RUNS:-3}
work=$(mktemp -d "${BENCH_DIR:-$here}/work.XXXXXX")
# the members' pids are kept in a file: cluster() runs in a subshell
trap 'xargs kill -9 < "$work/pids" 2> /dev/null; rm -rf "$work"' EXIT INT TERM
: > "$work/pids"
export DPHP_HANDLERS="$here/handlers" ETCDCTL_API=3

awk -v n="$n" -v keys="$keys" 'BEGIN {
	for (i = 0; i < n; i++)
		printf "{\"v\":1,\"id\":\"s%d\",\"ts\":\"2026-11-27T10:00:00Z\"," \
		    "\"event\":{\"to\":\"entity:jqcounter:k%d\",\"event\":{" \
		    "\"type\":\"signal\",\"op\":\"add\",\"input\":1}}}\n", i, i % keys
}' > "$work/signals"

# a cluster of $1 members named $2 on ports from $3: its endpoints
cluster() {
	c=
	for i in $(seq 1 "$1"); do
		c="$c${c:+,}$2$i=http://127.0.0.1:$(($3 + 10 + i))"
	done
	h=
	for i in $(seq 1 "$1"); do
		etcd --name "$2$i" --data-dir "$work/$2$i" \
		    --listen-client-urls "http://127.0.0.1:$(($3 + i))" \
		    --advertise-client-urls "http://127.0.0.1:$(($3 + i))" \
		    --listen-peer-urls "http://127.0.0.1:$(($3 + 10 + i))" \
		    --initial-advertise-peer-urls "http://127.0.0.1:$(($3 + 10 + i))" \
		    --initial-cluster "$c" --initial-cluster-state new \
		    > "$work/$2$i.log" 2>&1 &
		echo "$!" >> "$work/pids"
		h="$h${h:+,}127.0.0.1:$(($3 + i))"
	done
	for _ in $(seq 1 100); do
		etcdctl --endpoints "$h" endpoint health > /dev/null 2>&1 && break
		sleep 0.2
	done
	echo "$h"
}

base=$((30000 + $$ % 10000))
one=$(cluster 1 one "$base")
three=$(cluster 3 three $((base + 50)))

# the counters of store $2 add up to n, or the run $1 failed
check() {
	total=$(dphp-project -d "$2" ls | jq -r .id |
	    xargs dphp-project -d "$2" get | jq -s 'map(.state.state) | add')
	[ "$total" = "$n" ] ||
	    { echo "bench: $1: the counters add up to $total, not $n" >&2; exit 1; }
}

# the pipeline on store $2 with group commits of $3, timed as $1
run() {
	s=$(now)
	dphp-route "$work/signals" | dphp-replay -d "$2" -k |
	    dphp-commit -d "$2" -k -b "$3" > /dev/null
	e=$(now)
	check "$1" "$2"
	echo "$1 $((e - s))" >> "$work/times"
}

# the signals admitted to store $2, then $3 workers, each its shard of
# the counters (as workers on several machines would be set up: no two
# race for one entity), until the queue is empty, timed as $1 (the
# admission apart); the counters must add up
workers() {
	dphp-route -d "$2" -q "$work/signals" > /dev/null
	s=$(now)
	for i in $(seq 0 $(($3 - 1))); do
		dphp-route -d "$2" -t -e -s "$i/$3" | dphp-lock -d "$2" |
		    dphp-replay -d "$2" -k | dphp-commit -d "$2" -k -b 64 \
		    > /dev/null &
	done
	wait
	e=$(now)
	check "$1" "$2"
	echo "$1 $((e - s))" >> "$work/times"
}

# n keys put one after the other through the JSON gateway by one
# process on one kept-alive connection to the first endpoint of $2: the
# floor of a request at a time (a commit makes two: a read, a write)
puts() {
	s=$(now)
	python3 "$work/puts.py" "${2%%,*}" "$n"
	e=$(now)
	echo "$1 $((e - s))" >> "$work/times"
}
cat > "$work/puts.py" <<'EOF'
import base64, http.client, json, sys
host, port = sys.argv[1].split(":")
c = http.client.HTTPConnection(host, int(port))
for i in range(int(sys.argv[2])):
    k = base64.b64encode(b"bench/k%d" % i).decode()
    c.request("POST", "/v3/kv/put", json.dumps({"key": k, "value": k}),
              {"Content-Type": "application/json"})
    c.getresponse().read()
EOF

# $1 (run or workers) on a new store of each kind, timed as KIND.$2,
# given $3; run $r's stores on etcd under a prefix of their own
on_each() {
	rm -rf "$work/dir" && dphp-commit -d "$work/dir" -i
	"$1" "dir.$2" "$work/dir" "$3"
	dphp-commit -d "etcd://$one/r$r.$2" -i
	"$1" "one.$2" "etcd://$one/r$r.$2" "$3"
	dphp-commit -d "etcd://$three/r$r.$2" -i
	"$1" "three.$2" "etcd://$three/r$r.$2" "$3"
}

: > "$work/times"
for r in $(seq "$runs"); do
	for b in 1 64; do
		on_each run "b$b" "$b"
	done
	puts one.put "$one"
	puts three.put "$three"
	for w in 1 2; do
		on_each workers "w$w" "$w"
	done
	printf 'run %d of %d done\n' "$r" "$runs" >&2
done

echo "etcd: the stream pipeline, $n signals over $keys counters, median of $runs runs"
machine "$work"
echo
awk -v n="$n" "$median_awk"'
{ t[$1] = t[$1] " " $2 }
# ops/s of runs a and b, a row of the table
function row(label, a, b) {
	printf "%-44s %10.0f %10.0f\n", label, n / (median(t[a]) / 1e9),
	    n / (median(t[b]) / 1e9)
}
END {
	printf "%-44s %10s %10s\n", "ops/s", "-b 1", "-b 64"
	row("directory store", "dir.b1", "dir.b64")
	row("etcd, 1 member", "one.b1", "one.b64")
	row("etcd, 3 members", "three.b1", "three.b64")
	printf "floor, one put at a time, one client: %.0f/s on 1 member, %.0f/s on 3\n",
	    n / (median(t["one.put"]) / 1e9), n / (median(t["three.put"]) / 1e9)
	printf "\nthe worker, -b 64, until the queue is empty (two: a shard each)\n"
	printf "%-44s %10s %10s\n", "ops/s", "1 worker", "2 workers"
	row("directory store", "dir.w1", "dir.w2")
	row("etcd, 1 member", "one.w1", "one.w2")
	row("etcd, 3 members", "three.w1", "three.w2")
}' "$work/times"
