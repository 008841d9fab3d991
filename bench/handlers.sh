#!/bin/sh
# handlers.sh - part of make bench: the cost of running handlers, and of
# an orchestration, measured through the real programs.
#  1. entity operations/s through dphp-replay (proposals only) with the
#     same handler one-shot and as a co-process (-k): Python and jq; and
#     the jq program in-process (bench/handlers/entity/jqcounter.jq);
#  2. an orchestration calling 5 activities one after the other, run to
#     the end with commits (replay | commit, round after round):
#     activities completed/s, Python and sh handlers, co-processes.
# Medians of BENCH_RUNS runs; BENCH_ONESHOT_OPS, BENCH_OPS and
# BENCH_ORCHESTRATIONS set the sizes.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH=$here/../cmd:$PATH
export DPHP_SH="$here/../lib/dphp.sh" DPHP_HANDLERS="$here/handlers"
runs=${BENCH_RUNS:-3}
oneshot=${BENCH_ONESHOT_OPS:-50}	# one process each: slow, so fewer
ops=${BENCH_OPS:-1000}
orchs=${BENCH_ORCHESTRATIONS:-30}
work=$(mktemp -d "${BENCH_DIR:-$here}/work.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export DPHP_STORE="$work/store"

elapsed() {
	s=$(date +%s%N)
	"$@" > /dev/null
	e=$(date +%s%N)
	echo $((e - s))
}

median() {
	sort -n | awk '{ v[NR] = $1 } END {
		print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Run the chain orchestrations $1 to the end, round after round.
orchestrate() {
	rm -rf "$DPHP_STORE" && dphp-commit -i
	i=0
	while [ "$i" -lt "$orchs" ]; do
		i=$((i + 1))
		dphp-emit start "orchestration:$1:o$i" 0
	done > "$work/in"
	while [ -s "$work/in" ]; do
		dphp-replay -k "$work/in" | dphp-commit -o > "$work/out"
		mv "$work/out" "$work/in"
	done
	n=$(dphp-project ls "orchestration:$1" | jq -r .id |
	    xargs dphp-project get | jq -s 'map(select(.state.output == 5)) | length')
	[ "$n" = "$orchs" ] ||
	    { echo "bench: $n of $orchs orchestrations finished" >&2; exit 1; }
}

i=0
while [ "$i" -lt "$ops" ]; do
	i=$((i + 1))
	dphp-emit signal entity:pycounter:c add 1
	dphp-emit signal entity:jqcounter:c add 1
done > "$work/ops"
for h in py jq; do
	dphp-route -m "entity:${h}counter:*" "$work/ops" > "$work/ops.$h"
	head -n "$oneshot" "$work/ops.$h" > "$work/few.$h"
done
dphp-commit -i

for r in $(seq "$runs"); do
	{
		for h in py jq; do
			echo "$h.oneshot $(elapsed env DPHP_JQ=process \
			    dphp-replay "$work/few.$h")"
			echo "$h.keep $(elapsed env DPHP_JQ=process \
			    dphp-replay -k "$work/ops.$h")"
		done
		echo "jq.inproc $(elapsed dphp-replay "$work/ops.jq")"
		echo "chain.py $(elapsed orchestrate pychain)"
		echo "chain.sh $(elapsed orchestrate shchain)"
	} >> "$work/t"
	printf 'run %d of %d done\n' "$r" "$runs" >&2
done

rate() {	# key count
	t=$(awk -v k="$1" '$1 == k { print $2 }' "$work/t" | median)
	awk -v n="$2" -v t="$t" 'BEGIN { printf "%.0f", n / (t / 1e9) }'
}
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo "handlers: medians of $runs runs; $(nproc) x $cpu, $(uname -sr)"
echo
printf '%-40s %10s %10s %8s %11s\n' \
    "entity operations/s through dphp-replay" one-shot co-process ratio \
    in-process
printf '%-40s %10s %10s %8s %11s\n' "  (operations per run)" "$oneshot" \
    "$ops" "" "$ops"
for h in py jq; do
	a=$(rate "$h.oneshot" "$oneshot")
	b=$(rate "$h.keep" "$ops")
	c=-
	[ "$h" = jq ] && c=$(rate jq.inproc "$ops")
	printf '%-40s %10s %10s %8s %11s\n' "  $h handler" "$a" "$b" \
	    "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.0fx", b / a }')" "$c"
done
echo
echo "orchestration of 5 sequential activities, $orchs instances, committed:"
printf '  %-44s %10s activities/s\n' "Python handlers, co-processes" \
    "$(rate chain.py $((orchs * 5)))"
printf '  %-44s %10s activities/s\n' "sh + jq handlers, co-processes" \
    "$(rate chain.sh $((orchs * 5)))"
