# common.sh - what the benchmarks share, sourced by each: the awk
# median of a list of times, a clock in nanoseconds, and the line that
# names the machine a report was made on.

# the awk function of the reports: the median of a list of times
# shellcheck disable=SC2034 # used by the scripts that source this
median_awk='
function median(s,    a, k, i, j, x) {
	k = split(s, a, " ")
	for (i = 2; i <= k; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			x = a[j]; a[j] = a[j - 1]; a[j - 1] = x
		}
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}'

now() { date +%s%N; }

# $1 signals "add 1" to jq counters k0 ... k($2 - 1) in turn, ids
# prefixed $3 (default s)
signals() {
	awk -v n="$1" -v keys="$2" -v p="${3:-s}" 'BEGIN {
	for (i = 0; i < n; i++)
		printf "{\"v\":1,\"id\":\"%s%d\",\"ts\":\"2026-11-27T10:00:00Z\"," \
		    "\"event\":{\"to\":\"entity:jqcounter:k%d\",\"event\":{" \
		    "\"type\":\"signal\",\"op\":\"add\",\"input\":1}}}\n", p, i,
		    i % keys
	}'
}

# a worker on store $1, group commits of $2, until the queue is empty;
# the commit records in $3 (jq handlers in-process, unless DPHP_JQ says)
worker() {
	dphp-route -d "$1" -t -e | dphp-lock -d "$1" | dphp-replay -d "$1" -k |
	    dphp-commit -d "$1" -k -b "$2" > "$3"
}

# every one of $2 signals applied once: the counters of store $1 add up
check_total() {
	total=$(dphp-project -d "$1" ls entity:jqcounter | jq -r .id |
	    xargs dphp-project -d "$1" get | jq -s 'map(.state.state) | add')
	[ "$total" = "$2" ] ||
	    { echo "bench: the counters add up to $total, not $2" >&2; exit 1; }
}

# the disk floor's program, built by make bench
need_floor() {
	[ -x "$1/floor" ] ||
	    { echo "$0: no $1/floor: run make bench/floor" >&2; exit 1; }
}

# "machine: ..." for a report made on the filesystem of directory $1
machine() {
	fs=$(df -T "$1" | awk 'NR == 2 { print $2 " on " $1 }')
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	echo "machine: $(nproc) x $cpu, $(uname -sr), $fs"
}
