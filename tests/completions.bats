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

# complete the line $1 as bash would: COMP_LINE, COMP_POINT at its end,
# and COMP_WORDS split at blanks and at colons (COMP_WORDBREAKS)
complete_line() {
	COMP_LINE=$1
	COMP_POINT=${#1}
	read -ra COMP_WORDS <<< "$(sed 's/:/ : /g' <<< "$1")"
	[[ $1 == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	[[ $1 == *: ]] && COMP_WORDS+=("") && COMP_CWORD=$((COMP_CWORD + 1))
	_dphp
}

@test "bash completes ids from the store (-d or DPHP_STORE), from the last colon of the word" {
	mkstore
	printf '{"state":1}' > "$BATS_TEST_TMPDIR/s"
	for id in entity:account:alice entity:account:bob entity:audit:log; do
		dphp-commit -d "$S" -f -s "$id" "$BATS_TEST_TMPDIR/s" > /dev/null
	done
	printf '{"status":"pending"}' > "$BATS_TEST_TMPDIR/o"
	dphp-commit -d "$S" -f -s orchestration:transfer:t1 "$BATS_TEST_TMPDIR/o" > /dev/null
	source "$TOP/completions/dphp.bash"
	export DPHP_STORE=$S
	complete_line "dphp-project get "
	assert_equal "${COMPREPLY[*]}" "entity:account:alice entity:account:bob entity:audit:log orchestration:transfer:t1"
	complete_line "dphp-project get entity:a"
	assert_equal "${COMPREPLY[*]}" "account:alice account:bob audit:log"
	complete_line "dphp-project get entity:account:"
	assert_equal "${COMPREPLY[*]}" "alice bob"
	complete_line "dphp-project get entity:account:alice entity:account:b"
	assert_equal "${COMPREPLY[*]}" "bob"
	complete_line "dphp-emit signal "
	assert_equal "${COMPREPLY[*]}" "entity:account:alice entity:account:bob entity:audit:log"
	complete_line "dphp-emit raise orch"
	assert_equal "${COMPREPLY[*]}" "orchestration:transfer:t1"
	unset DPHP_STORE
	complete_line "dphp-project get e"
	assert_equal "${COMPREPLY[*]}" ""
	complete_line "dphp-project -d $S owner entity:au"
	assert_equal "${COMPREPLY[*]}" "audit:log"
}

# the ids zsh's _dphp_ids offers to $1 (a program) on the line $2, whose
# arguments are $3, compadd and _arguments stood in for
zsh_ids() {
	zsh -c 'service=$1 words=(${=2}) line=(${=3})
	    compadd() { shift; print -rl -- ${(P)1}; }
	    _arguments() { :; }
	    source "$4"; _dphp_ids' zsh "$1" "$2" "$3" "$TOP/completions/_dphp"
}

@test "zsh completes ids from the store, of the kind dphp-emit's command is for" {
	mkstore
	printf '{"state":1}' > "$BATS_TEST_TMPDIR/s"
	dphp-commit -d "$S" -f -s entity:account:alice "$BATS_TEST_TMPDIR/s" > /dev/null
	printf '{"status":"pending"}' > "$BATS_TEST_TMPDIR/o"
	dphp-commit -d "$S" -f -s orchestration:transfer:t1 "$BATS_TEST_TMPDIR/o" > /dev/null
	DPHP_STORE=$S run zsh_ids dphp-emit "dphp-emit signal" signal
	assert_success
	assert_output entity:account:alice
	DPHP_STORE=$S run zsh_ids dphp-emit "dphp-emit start" start
	assert_output orchestration:transfer:t1
	run zsh_ids dphp-project "dphp-project -d $S get" get
	assert_success
	assert_output - <<'OUT'
entity:account:alice
orchestration:transfer:t1
OUT
	run zsh_ids dphp-project "dphp-project get" get
	assert_failure
	assert_output ""
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
