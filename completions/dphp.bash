# dphp.bash - bash completion for the dphp programs.  Install it under
# each program's name in bash-completion's directory (make install does).

# The options of program $1, and those of them that take an argument;
# tests/completions.bats checks both against the programs' getopt strings.
_dphp_options() {
	case $1 in
	dphp-emit) echo "-A -b -D -f -h -i -K -l -p -P -r -T -t -u -V -w --help --version" ;;
	dphp-route) echo "-a -D -d -e -h -i -K -l -m -n -P -q -R -r -s -t -u -V -v -w --help --version" ;;
	dphp-replay) echo "-A -c -D -d -h -I -J -k -M -S -s -T -u -V -x --help --version" ;;
	dphp-commit) echo "-b -c -d -e -f -g -h -I -i -k -n -o -r -s -T -u -V -x --help --version" ;;
	dphp-lock) echo "-d -F -h -L -l -o -u -V -w --help --version" ;;
	dphp-project) echo "-b -c -d -e -h -K -m -N -o -P -S -T -u -V -w -z --help --version" ;;
	esac
}

_dphp_with_argument() {
	case $1 in
	dphp-emit) echo "-A -b -D -f -i -K -l -p -P -r -T -t" ;;
	dphp-route) echo "-a -d -K -l -m -n -P -R -s" ;;
	dphp-replay) echo "-A -d -I -S -T -x" ;;
	dphp-commit) echo "-b -d -e -g -I -n -r -s -T -x" ;;
	dphp-lock) echo "-d -F -l -o -w" ;;
	dphp-project) echo "-b -c -d -K -m -N -o -P -S -T -w -z" ;;
	esac
}

_dphp() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local prog=${COMP_WORDS[0]##*/} w i nargs=0 first=

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
	# count the operands before the cursor
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == -* ]]; then
			[[ " $(_dphp_with_argument "$prog") " == *" $w "* ]] && i=$((i + 1))
		else
			[ "$nargs" -eq 0 ] && first=$w
			nargs=$((nargs + 1))
		fi
	done
	case $prog in
	dphp-emit)
		if [ "$nargs" -eq 0 ] && [[ " ${COMP_WORDS[*]} " != *" -w "* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "start signal call raise
			    schedule completed failed terminate share revoke give
			    delete token" -- "$cur")
			return
		fi
		;;
	dphp-project)
		if [ "$nargs" -eq 0 ]; then
			mapfile -t COMPREPLY < <(compgen -W "get ls owner status wait follow
			    export archive dead" -- "$cur")
			return
		fi
		case $first in ls|follow|export)
			mapfile -t COMPREPLY < <(compgen -W "entity orchestration
			    activity" -- "$cur") ;;
		esac
		return
		;;
	esac
	mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}

complete -F _dphp dphp-emit dphp-route dphp-replay dphp-commit dphp-lock \
    dphp-project
