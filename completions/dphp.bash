# dphp.bash - bash completion for the dphp programs.  Install it under
# each program's name in bash-completion's directory (make install does).

# The options of program $1, and those of them that take an argument;
# tests/completions.bats checks both against the programs' getopt strings.
_dphp_options() {
	case $1 in
	dphp-emit) echo "-A -b -D -f -h -i -K -l -p -P -r -T -t -u -V -w --help --version" ;;
	dphp-route) echo "-a -c -D -d -e -h -i -K -l -m -n -P -q -R -r -s -t -u -V -v -w --help --version" ;;
	dphp-replay) echo "-A -c -D -d -h -I -J -k -M -S -s -T -u -v -V -x --help --version" ;;
	dphp-commit) echo "-b -c -d -e -f -g -h -I -i -k -n -o -r -s -T -u -V -x --help --version" ;;
	dphp-lock) echo "-d -F -h -L -l -o -u -V -w --help --version" ;;
	dphp-project) echo "-b -c -d -e -h -K -m -N -o -P -S -T -u -V -w -z --help --version" ;;
	esac
}

_dphp_with_argument() {
	case $1 in
	dphp-emit) echo "-A -b -D -f -i -K -l -p -P -r -T -t" ;;
	dphp-route) echo "-a -c -d -K -l -m -n -P -R -s" ;;
	dphp-replay) echo "-A -d -I -S -T -x" ;;
	dphp-commit) echo "-b -d -e -g -I -n -r -s -T -x" ;;
	dphp-lock) echo "-d -F -l -o -w" ;;
	dphp-project) echo "-b -c -d -K -m -N -o -P -S -T -w -z" ;;
	esac
}

# The ids of kind $2 (empty: any) in the store $1 that begin with the
# word $3, as COMPREPLY wants them: bash splits words at the colons of
# an id (COMP_WORDBREAKS), so each is given from the last colon of the
# word on.
_dphp_ids() {
	local id cut=
	if [[ ${COMP_WORDBREAKS-:} == *:* && $3 == *:* ]]; then
		cut=${3%"${3##*:}"}
	fi
	COMPREPLY=()
	[ -n "$1" ] || return 0
	while IFS= read -r id; do
		if [[ $id == "$3"* ]]; then
			COMPREPLY+=("${id#"$cut"}")
		fi
	done < <(dphp-project -d "$1" ls ${2:+"$2"} 2> /dev/null |
	    sed -n 's/^{"id":"\([^"]*\)".*/\1/p')
	return 0
}

_dphp() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local prog=${COMP_WORDS[0]##*/} w i nargs=0 first='' store=${DPHP_STORE-}
	local line=${COMP_LINE-} words word

	COMPREPLY=()
	case $prev in
	-d|-x)
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return
		;;
	-o|-z)
		if [ "$prog" = dphp-project ]; then
			w="feed ndjson sqlite postgres typesense"
			[ "$prev" = -z ] && w="gzip xz zstd bzip2"
			mapfile -t COMPREPLY < <(compgen -W "$w" -- "$cur")
			return
		fi
		;;
	esac
	for w in $(_dphp_with_argument "$prog"); do
		[ "$prev" = "$w" ] && return
	done
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_dphp_options "$prog")" -- "$cur")
		return
	fi
	# the words as typed, not as bash split them at the colons of ids;
	# count the operands before the cursor, and find the store
	[ -n "$line" ] || line="${COMP_WORDS[*]:0:COMP_CWORD+1}"
	line=${line:0:${COMP_POINT-${#line}}}
	read -ra words <<< "$line"
	[[ $line == *[[:space:]] ]] && words+=("")
	word=${words[${#words[@]}-1]}
	for ((i = 1; i < ${#words[@]} - 1; i++)); do
		w=${words[i]}
		if [[ $w == -* ]]; then
			[ "$w" = -d ] && store=${words[i+1]}
			[[ " $(_dphp_with_argument "$prog") " == *" $w "* ]] && i=$((i + 1))
		else
			[ "$nargs" -eq 0 ] && first=$w
			nargs=$((nargs + 1))
		fi
	done
	case $prog in
	dphp-emit)
		[[ " ${words[*]} " == *" -w "* ]] && nargs=-1
		if [ "$nargs" -eq 0 ]; then
			mapfile -t COMPREPLY < <(compgen -W "start signal call raise
			    schedule completed failed terminate share revoke give
			    delete token" -- "$cur")
			return
		fi
		if [ "$nargs" -eq 1 ]; then	# the id the command is for
			case $first in
			signal|call) _dphp_ids "$store" entity "$word" ;;
			start|raise|terminate) _dphp_ids "$store" orchestration "$word" ;;
			schedule) _dphp_ids "$store" activity "$word" ;;
			completed|failed|share|revoke|give|delete)
				_dphp_ids "$store" "" "$word" ;;
			esac
			return
		fi
		;;
	dphp-project)
		if [ "$nargs" -eq 0 ]; then
			mapfile -t COMPREPLY < <(compgen -W "get ls owner status wait follow
			    export archive dead" -- "$cur")
			return
		fi
		case $first in
		ls|follow|export)
			mapfile -t COMPREPLY < <(compgen -W "entity orchestration
			    activity" -- "$cur") ;;
		get|owner|status) _dphp_ids "$store" "" "$word" ;;
		wait)
			if [ "$nargs" -eq 1 ]; then
				_dphp_ids "$store" "" "$word"
			fi ;;
		esac
		return
		;;
	esac
	mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}

complete -F _dphp dphp-emit dphp-route dphp-replay dphp-commit dphp-lock \
    dphp-project
