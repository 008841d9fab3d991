#!/bin/bash
# latency.bash - part of bench/queue.sh: the time from admitting one
# signal to its commit record, with a worker waiting (dphp-route -t -w
# ... dphp-commit -u into a FIFO), one signal at a time.  Two ways of
# admitting: a dphp-route -q process per signal, as a shell script
# would, and one long-lived dphp-route -q reading a pipe, as a service
# would.  Timed with bash's $EPOCHREALTIME, which forks nothing, so
# that the clock does not add a process of its own to each sample.
# Prints "process MS" and "stream MS" lines, one per sample.
#
#	bash bench/latency.bash WORKDIR SAMPLES
set -eu
work=$1
n=$2

rm -rf "$work/lat" && mkdir "$work/lat"
dphp-commit -d "$work/lat/store" -i
mkfifo "$work/lat/out" "$work/lat/in"
# shellcheck disable=SC2016 # expanded by the inner sh
setsid sh -c 'dphp-route -d "$1/store" -t -w | dphp-lock -d "$1/store" |
    dphp-replay -d "$1/store" -k | dphp-commit -d "$1/store" -k -u \
    > "$1/out"' sh "$work/lat" &
worker=$!
# shellcheck disable=SC2016
setsid sh -c 'dphp-route -d "$1/store" -q < "$1/in" > /dev/null' \
    sh "$work/lat" &
admitter=$!
exec 3< "$work/lat/out" 4> "$work/lat/in"
for i in $(seq "$n"); do
	dphp-emit -i "p$i" signal entity:jqcounter:lat add 1 > "$work/lat/one"
	s=$EPOCHREALTIME
	dphp-route -d "$work/lat/store" -q "$work/lat/one" > /dev/null
	read -r _ <&3
	e=$EPOCHREALTIME
	echo "process $s $e"
	line=$(dphp-emit -i "s$i" signal entity:jqcounter:lat add 1)
	s=$EPOCHREALTIME
	printf '%s\n' "$line" >&4
	read -r _ <&3
	e=$EPOCHREALTIME
	echo "stream $s $e"
done | awk '{ printf "%s %.3f\n", $1, ($3 - $2) * 1000 }'
exec 3<&- 4>&-
kill -- "-$worker" "-$admitter" 2> /dev/null || true
# (the shell's "Terminated" for the jobs killed is not the report's)
wait 2> /dev/null || true
