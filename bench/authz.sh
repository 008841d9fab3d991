#!/bin/sh
# authz.sh - part of make bench: what authorization costs.  N signals
# "add 1" by one user over K counters (mode explicit, the user owning
# them), admitted and then drained by a worker (dphp-route -t -e |
# dphp-lock | dphp-replay -k | dphp-commit -k -b 64): without a policy,
# with one (each event checked on admission and again when taken; the
# first event to a counter creates its ownership record), and with
# tokens checked on admission as well (dphp-route -K).
#
#	BENCH_AUTHZ_N=1000 BENCH_AUTHZ_KEYS=20 BENCH_RUNS=3 sh bench/authz.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH=$here/../cmd:$PATH
# shellcheck source=bench/common.sh
. "$here/common.sh"
n=${BENCH_AUTHZ_N:-1000}
keys=${BENCH_AUTHZ_KEYS:-20}
runs=${BENCH_RUNS:-3}
work=$(mktemp -d "${BENCH_DIR:-$here}/work.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export DPHP_STORE="$work/store"
unset DPHP_POLICY

echo 'entity jqcounter explicit role:clerk' > "$work/policy"
printf 'k1 %s\n' "$(openssl rand -base64 32 | tr +/ -_ | tr -d =)" > "$work/keys"
chmod 600 "$work/keys"
token=$(dphp-emit -K "$work/keys" token ann:clerk 1d)

# the workloads: "by" names the user, "token" proves it
awk -v n="$n" -v keys="$keys" -v tok="$token" -v w="$work" 'BEGIN {
	for (i = 0; i < n; i++) {
		ev = sprintf("\"id\":\"e%d\",\"ts\":\"2026-11-27T10:00:00Z\"," \
		    "\"event\":{\"to\":\"entity:jqcounter:k%d\",\"event\":" \
		    "{\"type\":\"signal\",\"op\":\"add\",\"input\":1}}}", i,
		    i % keys)
		printf "{\"v\":1,\"by\":{\"user\":\"ann\",\"roles\":" \
		    "[\"clerk\"]},%s\n", ev > (w "/by")
		printf "{\"v\":1,\"token\":\"%s\",%s\n", tok, ev > (w "/token")
	}
}'

# admit and drain with options $2 (of dphp-route), workload $3; the
# counters must add up to n
run() {
	rm -rf "$work/store" && dphp-commit -i
	s=$(now)
	# shellcheck disable=SC2086 # $2: the options
	dphp-route -q $2 "$work/$3" > /dev/null
	m=$(now)
	# shellcheck disable=SC2086
	dphp-route -t -e ${2%%-K*} | dphp-lock |
	    dphp-replay -k -x "$here/handlers" |
	    dphp-commit -k -x "$here/handlers" -b 64 > /dev/null
	e=$(now)
	total=$(dphp-project ls entity:jqcounter | jq -r .id |
	    xargs dphp-project get | jq -s 'map(.state.state) | add')
	[ "$total" = "$n" ] ||
	    { echo "bench: $1: the counters add up to $total, not $n" >&2; exit 1; }
	echo "$1.admit $((m - s))" >> "$work/times"
	echo "$1.drain $((e - m))" >> "$work/times"
}

: > "$work/times"
for r in $(seq "$runs"); do
	run none "" by
	run policy "-P $work/policy" by
	run tokens "-P $work/policy -K $work/keys" token
	printf 'run %d of %d done\n' "$r" "$runs" >&2
done

echo "authorization: $n signals by one user over $keys counters, median of $runs runs"
machine "$work"
echo
awk -v n="$n" "$median_awk"'
{ t[$1] = t[$1] " " $2 }
END {
	for (m in t)
		rate[m] = n / (median(t[m]) / 1e9)
	printf "%-40s %12s %12s\n", "", "admitted/s", "drained/s"
	printf "%-40s %12.0f %12.0f\n", "no policy", rate["none.admit"],
	    rate["none.drain"]
	printf "%-40s %12.0f %12.0f\n", "policy (-P): checked in and out",
	    rate["policy.admit"], rate["policy.drain"]
	printf "%-40s %12.0f %12.0f\n", "policy and tokens (-P -K)",
	    rate["tokens.admit"], rate["tokens.drain"]
	printf "worker cost of the checks: %.2fx the time without\n",
	    rate["none.drain"] / rate["policy.drain"]
}' "$work/times"
