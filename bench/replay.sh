#!/bin/sh
# replay.sh - part of make bench: rebuilding states offline from a
# journal.  A journal of N committed entity states (K accounts, batches
# of 8 lines, segments of 64 MiB, as a worker writes them) is generated,
# then folded into the last state of each account by dphp-replay -J and
# by the same fold written in jq, side by side, each run timed with its
# peak memory (GNU time); both must print the same bytes.  cat of the
# segments is the floor: reading them at all.
#
#	BENCH_REPLAY_N=1000000 BENCH_REPLAY_KEYS=10000 BENCH_RUNS=3 sh bench/replay.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH=$here/../cmd:$PATH
# shellcheck source=bench/common.sh
. "$here/common.sh"
n=${BENCH_REPLAY_N:-1000000}
keys=${BENCH_REPLAY_KEYS:-10000}
runs=${BENCH_RUNS:-3}
work=$(mktemp -d "${BENCH_DIR:-$here}/work.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir "$work/journal"

awk -v n="$n" -v keys="$keys" -v dir="$work/journal" 'BEGIN {
	max = 64 * 1024 * 1024
	for (seq = 1; seq <= n; seq++) {
		if (seq % 8 == 1) {
			b = seq
			if (size == 0 || size > max) {
				if (f != "")
					close(f)
				f = sprintf("%s/%020d.ndjson", dir, seq)
				size = 0
			}
		}
		k = seq % keys
		gen[k]++
		line = sprintf("{\"seq\":%d,\"b\":%d,\"at\":\"2026-11-27T10:00:00.000Z\"," \
		    "\"id\":\"entity:account:a%d\",\"etag\":\"%d\",\"state\":{\"state\":" \
		    "{\"balance\":%d,\"owner\":\"user%d\"},\"seen\":{\"e%d\":" \
		    "\"2026-11-27T10:00:00.000Z\"}},\"cause\":\"e%d\"}", seq, b, k,
		    gen[k], seq, k, seq, seq)
		print line > f
		size += length(line) + 1
		if (seq % 8 == 0 || seq == n) {
			end = sprintf("{\"end\":%d,\"next\":%d}", b, seq + 1)
			print end > f
			size += length(end) + 1
		}
	}
}'

# the fold in jq: the last state of each id, as dphp-replay -J prints
# them (sorted by id; a deleted id dropped)
cat > "$work/fold.jq" <<'EOF'
reduce (inputs | select(.seq)) as $l ({};
    if $l.deleted then del(.[$l.id])
    else .[$l.id] = {id: $l.id, etag: $l.etag, state: $l.state} end)
| to_entries | sort_by(.key) | .[].value
EOF

# time command $2... as $1, with its peak memory: "name ns kib"
timed() {
	name=$1
	shift
	s=$(now)
	/usr/bin/time -f '%M' -o "$work/mem" "$@" > "$work/out.$name"
	e=$(now)
	echo "$name $((e - s)) $(cat "$work/mem")" >> "$work/times"
}

: > "$work/times"
for r in $(seq "$runs"); do
	timed floor cat "$work"/journal/*.ndjson
	timed dphp dphp-replay -J "$work/journal"
	timed jq jq -cn -f "$work/fold.jq" "$work"/journal/*.ndjson
	cmp -s "$work/out.dphp" "$work/out.jq" ||
	    { echo "bench: dphp-replay -J and jq disagree" >&2; exit 1; }
	printf 'run %d of %d done\n' "$r" "$runs" >&2
done
[ "$(wc -l < "$work/out.dphp")" -eq "$keys" ] ||
    { echo "bench: not $keys states rebuilt" >&2; exit 1; }

mib=$(du -sm "$work/journal" | cut -f1)
segs=$(find "$work/journal" -name '*.ndjson' | wc -l)
echo "journal rebuild: $n lines ($mib MiB, $segs segments) into $keys states, median of $runs runs"
machine "$work"
echo
awk -v n="$n" "$median_awk"'
{ t[$1] = t[$1] " " $2; m[$1] = m[$1] " " $3 }
END {
	printf "%-28s %10s %12s %14s\n", "", "seconds", "lines/s", "peak MiB"
	split("floor dphp jq", order, " ")
	label["floor"] = "cat (reading, the floor)"
	label["dphp"] = "dphp-replay -J"
	label["jq"] = "jq fold"
	for (i = 1; i <= 3; i++) {
		k = order[i]
		s = median(t[k]) / 1e9
		printf "%-28s %10.2f %12.0f %14.1f\n", label[k], s, n / s,
		    median(m[k]) / 1024
	}
	printf "dphp-replay -J takes %.2fx the time of jq, %.2fx its memory\n",
	    median(t["dphp"]) / median(t["jq"]), median(m["dphp"]) / median(m["jq"])
}' "$work/times"
