#!/bin/sh
# hotkey.sh - part of make bench: does an operation cost more as its
# entity's history grows?  In the same run, the worker of queue.sh
# (group commit -b 64, the jq handler in-process) drains N signals
# "add 1" to ONE counter, and the same N spread over KEYS counters:
# ops/s of each and their ratio, then the hot counter's record and the
# journal's bytes per operation.  Last, LONG signals to one counter,
# applied without the queue (dphp-replay -k | dphp-commit -k -b 64):
# the size of its record and of the older ids kept beside it
# (KEY.seen, dphp-store(5)).
#
#	BENCH_HOT_N=3000 BENCH_HOT_KEYS=100 BENCH_HOT_LONG=100000 \
#	BENCH_RUNS=3 sh bench/hotkey.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH=$here/../cmd:$PATH
# shellcheck source=bench/common.sh
. "$here/common.sh"
n=${BENCH_HOT_N:-3000}
keys=${BENCH_HOT_KEYS:-100}
long=${BENCH_HOT_LONG:-100000}
runs=${BENCH_RUNS:-3}
work=$(mktemp -d "${BENCH_DIR:-$here}/work.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export DPHP_HANDLERS="$here/handlers"

signals "$n" 1 > "$work/hot"
signals "$n" "$keys" > "$work/spread"

: > "$work/times"
for r in $(seq "$runs"); do
	for w in hot spread; do
		rm -rf "$work/store" && dphp-commit -d "$work/store" -i
		dphp-route -d "$work/store" -q "$work/$w" > /dev/null
		s=$(now)
		worker "$work/store" 64 "$work/commits"
		e=$(now)
		check_total "$work/store" "$n"
		echo "$w $((e - s))" >> "$work/times"
		if [ "$w" = hot ]; then
			record=$(wc -c < "$work/store/state/entity/jqcounter/k0")
			journal=$(cat "$work/store/journal/"*.ndjson | wc -c)
		fi
	done
	printf 'run %d of %d done\n' "$r" "$runs" >&2
done

rm -rf "$work/store" && dphp-commit -d "$work/store" -i
signals "$long" 1 l > "$work/long"
dphp-replay -d "$work/store" -k "$work/long" |
    dphp-commit -d "$work/store" -k -b 64 > /dev/null
check_total "$work/store" "$long"
longrec=$(wc -c < "$work/store/state/entity/jqcounter/k0")
seen=$work/store/state/entity/jqcounter/k0.seen
longseen=$( [ -f "$seen" ] && wc -c < "$seen" || echo 0)
longjournal=$(cat "$work/store/journal/"*.ndjson | wc -c)

echo "one hot entity: $n signals to one jq counter, and spread over $keys,"
echo "drained by one worker (-b 64), median of $runs runs"
machine "$work"
echo
awk -v n="$n" "$median_awk"'
{ t[$1] = t[$1] " " $2 }
END {
	hot = n / (median(t["hot"]) / 1e9)
	spread = n / (median(t["spread"]) / 1e9)
	printf "%-44s %8s\n", "", "ops/s"
	printf "%-44s %8.0f\n", "one counter", hot
	printf "%-44s %8.0f\n", "spread over the counters", spread
	printf "%-44s %8.2f\n", "one / spread", hot / spread
}' "$work/times"
echo
echo "the hot counter after $n signals:"
awk -v r="$record" -v j="$journal" -v n="$n" 'BEGIN {
	printf "  record %d bytes, journal %.0f bytes per operation\n", r, j / n }'
echo "one counter after $long signals:"
awk -v r="$longrec" -v s="$longseen" -v j="$longjournal" -v n="$long" 'BEGIN {
	printf "  record %d bytes, older ids beside it %d bytes,\n", r, s
	printf "  journal %.0f bytes per operation\n", j / n }'
