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
