#!/usr/bin/env bats
# Progress on a terminal, as pv shows it: long work says how far it has
# gone on stderr when that is a terminal (and stdout is not), clears
# the line before any message and at the end, and says nothing
# otherwise.  script(1) gives the programs a terminal; DPHP_PROGRESS_MS
# 0 redraws at every step.

load helper

setup() {
	bank_setup
	bank
	export DPHP_STORE=$S DPHP_PROGRESS_MS=0
}

# run $1 (a shell command) on a terminal: what the terminal showed, the
# carriage return as R, the escape as E, the rates as N/s, the time
# left as T
on_terminal() {
	script -qec "$1" /dev/null > "$T/tty"
	tr '\r\033' 'RE' < "$T/tty" |
	    sed -E 's/, [0-9]+\/s/, N\/s/g; s/, [0-9]+:[0-9]{2} left/, T left/g'
}

@test "dphp-replay -J counts the journal's lines on a terminal and clears the line at the end" {
	n=$(cat "$J"/*.ndjson | grep -c '"id":')	# the states, not batch ends
	run on_terminal "dphp-replay -J > $T/states"
	assert_success
	want=
	for i in $(seq 1 "$n"); do
		want="${want}Rdphp-replay: $i lines, N/s"$'\e[K'
	done
	assert_output "$(printf '%s' "${want}"$'\r\e[K' | tr '\r\033' 'RE')"
	run dphp-replay -J
	assert_output "$(cat "$T/states")"
}

@test "dphp-project export knows its total: a percentage; a drain counts the events taken" {
	run on_terminal "dphp-project export > $T/snap.tar"
	assert_success
	assert_output "Rdphp-project: 1 records, N/s, 20%, T leftE[KRdphp-project: 2 records, N/s, 40%, T leftE[KRdphp-project: 3 records, N/s, 60%, T leftE[KRdphp-project: 4 records, N/s, 80%, T leftE[KRdphp-project: 5 records, N/s, 100%E[KRE[K"
	ev e1 signal entity:account:alice deposit 1 > "$T/in"
	ev e2 signal entity:account:bob deposit 1 >> "$T/in"
	dphp-route -q "$T/in" > /dev/null
	run on_terminal "dphp-route -t -e | dphp-lock |
	    dphp-replay -k -x $TOP/examples/bank/handlers | dphp-commit -k > /dev/null"
	assert_success
	# redrawn as it waits for the rest of the pipeline: the same line
	[[ $output =~ ^(Rdphp-route:\ 2\ events\ taken,\ N/sE\[K)+RE\[K$ ]]
}

@test "a message clears the progress line first; no terminal, or stdout on one: nothing" {
	seg=$(cd "$J" && ls -- *.ndjson | head -n 1)
	sed -i '8s/.*/{"seq":8,/' "$J/$seg"
	run on_terminal "dphp-replay -J > /dev/null"
	assert_success
	[[ $output == "Rdphp-replay: 1 lines, N/sE[K"*" lines, N/sE[KRE[Kdphp-replay: $J/$seg:8: corrupt journal line: "* ]]
	run --separate-stderr dphp-replay -J
	assert_failure 3
	assert_stderr "dphp-replay: $J/$seg:8: corrupt journal line: string or '}' expected near end of file"
	# stdout on the terminal: the records show how far it is
	run on_terminal "dphp-project ls"
	assert_success
	[[ $output != *"records, "* ]]
}
