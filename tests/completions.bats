#!/usr/bin/env bats
# The completions know every option of every program, and only those.

load helper

# The option letters of program $1 from its getopt string, plus -h, -V.
getopt_letters() {
	sed -n 's/.*getopt_long(argc, argv, "\([^"]*\)".*/\1/p' "$TOP/cmd/$1.c" |
	    tr -d '+:' | fold -w1 | sed 's/^/-/' | sort -u
}

# Options that take an argument, from the getopt string.
getopt_arguments() {
	sed -n 's/.*getopt_long(argc, argv, "\([^"]*\)".*/\1/p' "$TOP/cmd/$1.c" |
	    tr -d '+' | grep -o '.:' | tr -d ':' | sed 's/^/-/' | sort -u
}

@test "bash: the options of each program match its getopt string" {
	source "$TOP/completions/dphp.bash"
	for p in dphp-emit dphp-route dphp-replay dphp-commit dphp-lock dphp-project; do
		run getopt_letters "$p"
		want=$output
		[ -n "$want" ] || fail "no getopt string in $p"
		run sh -c "printf '%s\n' $(_dphp_options "$p") | grep -v -- -- | sort -u"
		assert_output "$want"
		run getopt_arguments "$p"
		want=$output
		run sh -c "printf '%s\n' $(_dphp_with_argument "$p") | sort -u | grep ."
		assert_output "$want"
	done
}

# The option letters the zsh completion offers for program $1: the
# specs in its case branch, and -h, -V, -u from the common list.
zsh_letters() {
	{
		awk -v p="$1)" '$0 == p { on = 1; next } on && /;;/ { exit } on' \
		    "$TOP/completions/_dphp" | grep -o -- '-[A-Za-z]\[' | tr -d '['
		printf '%s\n' -h -u -V
	} | sort -u
}

@test "zsh: the options of each program match its getopt string" {
	for p in dphp-emit dphp-route dphp-replay dphp-commit dphp-lock dphp-project; do
		run getopt_letters "$p"
		want=$output
		run zsh_letters "$p"
		assert_output "$want"
	done
}

@test "bash completes commands and options" {
	source "$TOP/completions/dphp.bash"
	COMP_WORDS=(dphp-emit s)
	COMP_CWORD=1
	_dphp
	assert_equal "${COMPREPLY[*]}" "start signal schedule share"
	COMP_WORDS=(dphp-emit -b alice sig)
	COMP_CWORD=3
	_dphp
	assert_equal "${COMPREPLY[*]}" "signal"
	COMP_WORDS=(dphp-project "")
	COMP_CWORD=1
	_dphp
	assert_equal "${COMPREPLY[*]}" "get ls owner status wait follow export archive dead"
	COMP_WORDS=(dphp-project -o s)
	COMP_CWORD=2
	_dphp
	assert_equal "${COMPREPLY[*]}" "sqlite"
	COMP_WORDS=(dphp-project -e follow entity -m map o)
	COMP_CWORD=6
	_dphp
	assert_equal "${COMPREPLY[*]}" "orchestration"
	COMP_WORDS=(dphp-commit -)
	COMP_CWORD=1
	_dphp
	assert_equal "${COMPREPLY[*]}" "-b -c -d -e -f -g -h -I -i -k -n -o -r -s -T -u -V -x --help --version"
	COMP_WORDS=(dphp-project -z z)
	COMP_CWORD=2
	_dphp
	assert_equal "${COMPREPLY[*]}" "zstd"
}

@test "every option of every program is in its man page's SYNOPSIS and described" {
	for p in dphp-emit dphp-route dphp-replay dphp-commit dphp-lock dphp-project; do
		man=$TOP/man/$p.1
		for o in $(getopt_letters "$p" | tr -d -); do
			[ "$o" = h ] || [ "$o" = V ] && continue
			awk '/^\.Sh SYNOPSIS/,/^\.Sh DESCRIPTION/' "$man" |
			    grep -q "Fl [A-Za-z]*$o" ||
			    fail "$p: -$o is not in the SYNOPSIS of $p.1"
			awk '/^\.Sh DESCRIPTION/,/^\.Sh EXIT/' "$man" |
			    grep -q "^\.It Fl $o\b" ||
			    fail "$p: -$o is not described in $p.1"
		done
	done
}
