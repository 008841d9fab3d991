#!/bin/bash
# orchestrations.bash - part of make bench: orchestrations through one
# durable worker (dphp-route -t | dphp-lock | dphp-replay -k |
# dphp-commit -k), where issue 19 starts from:
#  1. N orchestrations of 5 sequential activities, admitted at once and
#     drained until the queue is quiescent: activities/s, with Python
#     co-processes (pychain) and with the sh library (shchain, NSH);
#     then the same admitted at once into a waiting worker whose
#     handlers have started (a service's steady state: no program or
#     handler starts inside the time);
#  2. one 3-step workflow at a time (pysteps 3), admitted by a
#     long-lived dphp-route -q into a waiting worker: admission to the
#     commit that completes it, p50 and p99 of LAT samples;
#  3. one chain of STEPS activities (pysteps STEPS) in the same worker:
#     the time of a step (an activity's result committed to the next)
#     at the last steps against at steps 8-12.
# Timed with bash's $EPOCHREALTIME, each commit record as it is read:
# jq cuts each down to "TARGET REPLY STATUS" first, since bash reads a
# pipe a byte at a time and a record holds the whole state (a long
# chain's grows with its steps: read whole, it timed bash).
#
#	BENCH_ORCH_N=60 BENCH_ORCH_NSH=10 BENCH_ORCH_LAT=50 \
#	BENCH_ORCH_STEPS=100 BENCH_RUNS=3 bash bench/orchestrations.bash
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH=$here/../cmd:$PATH
export DPHP_SH="$here/../lib/dphp.sh" DPHP_HANDLERS="$here/handlers"
n=${BENCH_ORCH_N:-60}
nsh=${BENCH_ORCH_NSH:-10}
lat=${BENCH_ORCH_LAT:-50}
steps=${BENCH_ORCH_STEPS:-100}
runs=${BENCH_RUNS:-3}
work=$(mktemp -d "${BENCH_DIR:-$here}/work.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# 1. $2 chains of handler $1 drained by one worker: seconds
drain() {
	local s e i
	rm -rf "$work/s" && dphp-commit -d "$work/s" -i
	for ((i = 0; i < $2; i++)); do
		dphp-emit start "orchestration:$1:o$i" 0
	done > "$work/in"
	dphp-route -d "$work/s" -q "$work/in" > /dev/null
	s=$EPOCHREALTIME
	dphp-route -d "$work/s" -t -e | dphp-lock -d "$work/s" |
	    dphp-replay -d "$work/s" -k |
	    dphp-commit -d "$work/s" -k -b 64 > /dev/null
	e=$EPOCHREALTIME
	i=$(dphp-project -d "$work/s" ls "orchestration:$1" | jq -r .id |
	    xargs dphp-project -d "$work/s" get |
	    jq -s 'map(select(.state.output == 5)) | length')
	[ "$i" = "$2" ] ||
	    { echo "bench: $i of $2 chains finished" >&2; exit 1; }
	echo "$s $e" | awk '{ printf "%.6f\n", $2 - $1 }'
}

for r in $(seq "$runs"); do
	echo "py $(drain pychain "$n")"
	echo "sh $(drain shchain "$nsh")"
	printf 'run %d of %d done\n' "$r" "$runs" >&2
done > "$work/drains"

# 2 and 3: a waiting worker, its commit records read as they come
rm -rf "$work/s" && dphp-commit -d "$work/s" -i
mkfifo "$work/out" "$work/admit"
# shellcheck disable=SC2016 # expanded by the inner sh
setsid sh -c 'dphp-route -d "$1/s" -t -w | dphp-lock -d "$1/s" |
    dphp-replay -d "$1/s" -k | dphp-commit -d "$1/s" -k -b 64 -u |
    jq --unbuffered -r "$2" > "$1/out"' sh "$work" '"\(.target) \(
	if .input | tostring | contains("\"type\":\"completed\"") then
	"reply" else "-" end) \(.state.status // "-")"' &
worker=$!
# shellcheck disable=SC2016
setsid sh -c 'dphp-route -d "$1/s" -q < "$1/admit" > /dev/null' sh "$work" &
admitter=$!
exec 3< "$work/out" 4> "$work/admit"

# read commit records until the one that completes instance $1
completed() {
	local line
	while IFS= read -r line <&3; do
		case $line in
		"$1 "*" completed") return 0 ;;
		esac
	done
	echo "bench: the worker stopped" >&2
	exit 1
}

# 1, warm: $2 chains of handler $1 admitted at once into the waiting
# worker, run $3: seconds from the admission to the last completed
warm() {
	local s e i line left=$2
	for ((i = 0; i < $2; i++)); do
		dphp-emit start "orchestration:$1:w$3.$i" 0
	done > "$work/in"
	s=$EPOCHREALTIME
	cat "$work/in" >&4
	while ((left > 0)) && IFS= read -r line <&3; do
		case $line in
		"orchestration:$1:w$3."*" completed") left=$((left - 1)) ;;
		esac
	done
	e=$EPOCHREALTIME
	((left == 0)) || { echo "bench: the worker stopped" >&2; exit 1; }
	echo "$s $e" | awk '{ printf "%.6f\n", $2 - $1 }'
}

for h in pychain shchain; do	# one chain first starts the handlers
	printf '%s\n' "$(dphp-emit start "orchestration:$h:warm" 0)" >&4
	completed "orchestration:$h:warm"
done
for r in $(seq "$runs"); do
	echo "py $(warm pychain "$n" "$r")"
	echo "sh $(warm shchain "$nsh" "$r")"
done > "$work/warm"

for ((i = 0; i < lat + 2; i++)); do	# the first two start the handlers
	line=$(dphp-emit start "orchestration:pysteps:l$i" 3)
	s=$EPOCHREALTIME
	printf '%s\n' "$line" >&4
	completed "orchestration:pysteps:l$i"
	e=$EPOCHREALTIME
	((i < 2)) || echo "$s $e"
done | awk '{ printf "%.3f\n", ($2 - $1) * 1000 }' | sort -n > "$work/latency"

# each step of the long chain: its activity's result committed to it
id=orchestration:pysteps:long
printf '%s\n' "$(dphp-emit start "$id" "$steps")" >&4
k=0
while IFS= read -r line <&3; do
	case $line in
	"$id reply "*)
		k=$((k + 1))
		echo "$k $EPOCHREALTIME"
		((k < steps)) || break ;;
	esac
done > "$work/steps"
exec 3<&- 4>&-
kill -- "-$worker" "-$admitter" 2> /dev/null || true
wait 2> /dev/null || true

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo "orchestrations through one worker, median of $runs runs;" \
    "$(nproc) x $cpu, $(uname -sr)"
echo
for f in drains warm; do
	for h in py sh; do
		c=$n name="Python co-processes (pychain)"
		[ "$h" = sh ] && c=$nsh name="sh library (shchain)"
		[ "$f" = warm ] && name="$name, warm"
		awk -v h="$h" '$1 == h { print $2 }' "$work/$f" | sort -n |
		    awk -v c="$c" -v name="$name" '{ v[NR] = $1 } END {
			m = (v[int((NR + 1) / 2)] + v[int(NR / 2) + 1]) / 2
			printf "%-56s %8.0f activities/s\n",
			    c " x 5 activities, " name, c * 5 / m }'
	done
done
awk -v n="$lat" '{ v[NR] = $1 } END {
	printf "%-56s p50 %.1f ms, p99 %.1f ms\n",
	    "a 3-step workflow, admitted to completed", v[int(NR * 0.5 + 0.5)],
	    v[int(NR * 0.99 + 0.5)] }' "$work/latency"
awk -v s="$steps" '{ t[$1] = $2 } END {
	a = (t[12] - t[7]) / 5
	b = (t[s] - t[s - 5]) / 5
	printf "%-56s %.1f ms, at the last five %.1f ms: %.2f\n",
	    "a chain of " s " steps: a step at steps 8-12", a * 1000, b * 1000,
	    b / a }' "$work/steps"
