#!/usr/bin/env bats
# The exit statuses of dphp(7), program by program and case by case:
# 0 success, 1 an expected no, 2 usage, 3 invalid input, 4 a temporary
# failure, 5 configuration, 75 a wait that ran out, 126/127/128+n a
# command dphp-lock runs.

load helper

setup() {
	T=$BATS_TEST_TMPDIR
	mkstore
	ev e1 signal entity:counter:c add 1 > "$T/ev"
	echo '{bad' > "$T/bad"
	mkdir "$T/empty" "$T/junk"
	touch "$T/junk/x" "$T/noexec"
	unset DPHP_STORE
}

# cases STATUS|STDERR|COMMAND, one a line on stdin: each command (words
# split by sh, no pipe) exits STATUS with nothing on stdout and STDERR
# as the first line of its stderr; "usage" after it, when the synopsis
# follows.
cases() {
	local status want cmd
	while IFS='|' read -r status want cmd; do
		[ -n "$cmd" ] || continue
		run "-$status" --separate-stderr sh -c "$cmd" < /dev/null
		if [ "$status" = 0 ]; then
			assert_success
		else
			assert_failure "$status"
		fi
		assert_output ""
		assert_equal "${stderr_lines[0]-}" "$want"
		case ${stderr_lines[1]-} in
		usage:*) [[ $cmd == *usage* ]] || assert_equal "${#stderr_lines[@]}" 1 ;;
		*) assert_equal "${#stderr_lines[@]}" "$([ -n "$want" ] && echo 1 || echo 0)" ;;
		esac
	done
}

@test "dphp-emit: 2 usage, 3 invalid JSON, 4 a file or stdout, 5 keys or DPHP_NOW" {
	cases <<CASES
2|dphp-emit: invalid option -- 'Z'|dphp-emit -Z # usage
2|dphp-emit: error: no command (start, signal, call, raise, schedule, completed, failed, terminate, share, revoke, give or delete; or -K keys token)|dphp-emit # usage
2|dphp-emit: error: signal: missing operands: signal entity op [input]|dphp-emit signal # usage
2|dphp-emit: error: signal: too few operands: signal entity op [input]|dphp-emit signal entity:a:b # usage
2|dphp-emit: error: delete: too many operands: delete id|dphp-emit delete entity:a:b x # usage
2|dphp-emit: error: invalid id 'bad': not of the form KIND:NAME:KEY|dphp-emit signal bad op
3|dphp-emit: error: argument: invalid JSON: string or '}' expected near 'bad' (line 1, column 4)|dphp-emit signal entity:a:b op '{bad'
4|dphp-emit: error: cannot open '$T/missing': No such file or directory|dphp-emit signal entity:a:b op @$T/missing
4|dphp-emit: error: write error on <stdout>: No space left on device|dphp-emit signal entity:a:b op > /dev/full
5|dphp-emit: error: cannot open key file '$T/missing': No such file or directory|dphp-emit -K $T/missing token alice
5|dphp-emit: error: DPHP_NOW is not an RFC 3339 UTC time: 'yesterday'|DPHP_NOW=yesterday dphp-emit signal entity:a:b op
CASES
}

@test "dphp-route: 3 invalid input, 4 a file, 5 no store, not a store, a bad spec or policy" {
	printf 'entity x sometimes\n' > "$T/policy"
	cases <<CASES
3|dphp-route: $T/bad:1: invalid JSON: string or '}' expected near 'bad' (column 4)|dphp-route $T/bad
4|dphp-route: error: cannot open '$T/missing': No such file or directory|dphp-route $T/missing
5|dphp-route: error: no store: give -d STORE or set DPHP_STORE|dphp-route -q $T/ev
5|dphp-route: error: cannot open store '$T/nowhere': No such file or directory|dphp-route -d $T/nowhere -q $T/ev
5|dphp-route: error: '$T/empty' is not a dphp store (make one with dphp-commit -i)|dphp-route -d $T/empty -t
5|dphp-route: error: invalid store 'etcd://nohost' (want etcd://[https://]HOST:PORT[,...]/PREFIX)|dphp-route -d etcd://nohost -q $T/ev
5|dphp-route: $T/policy:1: the mode must be anon, auth or explicit|dphp-route -d $S -P $T/policy -q $T/ev
CASES
	run find "$S/queue" -type f
	assert_output ""
}

@test "dphp-replay: 3 invalid input, 5 handlers or the store" {
	cases <<CASES
3|dphp-replay: $T/bad:1: invalid JSON: string or '}' expected near 'bad' (column 4)|dphp-replay -d $S -x $H $T/bad
5|dphp-replay: error: cannot use the handlers in '$T/none': No such file or directory|dphp-replay -d $S -x $T/none $T/ev
5|dphp-replay: error: '$T/empty' is not a dphp store (make one with dphp-commit -i)|dphp-replay -d $T/empty -x $H $T/ev
CASES
}

@test "dphp-commit: 1 no state, 3 a state not JSON, 4 a file, 5 not a store" {
	cases <<CASES
1|dphp-commit: error: no state for 'entity:a:b'|dphp-commit -d $S -g entity:a:b
3|dphp-commit: error: $T/bad: invalid JSON: string or '}' expected near 'bad' (line 1, column 4)|dphp-commit -d $S -f -s entity:a:b $T/bad
4|dphp-commit: error: cannot open '$T/missing': No such file or directory|dphp-commit -d $S -f -s entity:a:b $T/missing
5|dphp-commit: error: '$T/junk' is not empty and not a dphp store|dphp-commit -d $T/junk -i
5|dphp-commit: error: no store: give -d STORE or set DPHP_STORE|dphp-commit -g entity:a:b
CASES
}

@test "dphp-lock: the command's status, 126 and 127 when it cannot run, 128+n on a signal, 5 not a store, 75 no lock in time" {
	cases <<CASES
0||dphp-lock -d $S entity:a:b -- true
1||dphp-lock -d $S entity:a:b -- false
127|dphp-lock: error: cannot run '$T/missing': No such file or directory|dphp-lock -d $S entity:a:b -- $T/missing
126|dphp-lock: error: cannot run '$T/noexec': Permission denied|dphp-lock -d $S entity:a:b -- $T/noexec
143||dphp-lock -d $S entity:a:b -- sh -c 'kill -TERM \$\$'
5|dphp-lock: error: cannot open store '$T/nowhere': No such file or directory|dphp-lock -d $T/nowhere entity:a:b -- true
CASES
	mkfifo "$T/held" "$T/go"
	dphp-lock -d "$S" -o holder entity:a:b -- sh -c 'echo > "$1"; read -r _ < "$2"' sh "$T/held" "$T/go" 3>&- &
	read -r _ < "$T/held"
	cases <<CASES
75|dphp-lock: error: 'entity:a:b' is locked by holder until 2026-11-27T10:00:30.000Z|dphp-lock -d $S -w 200ms entity:a:b -- true
CASES
	echo > "$T/go"
	wait
}

@test "dphp-project: 2 usage, 1 no state, 3 a checkpoint, 5 not a store or a mapping, 75 a wait that ran out" {
	echo twelve > "$T/cp"
	printf 'entity x\n' > "$T/map"
	echo '{"status":"pending"}' > "$T/pending"
	dphp-commit -d "$S" -c -s orchestration:o:w "$T/pending" > /dev/null
	cases <<CASES
2|dphp-project: error: no command (get, ls, owner, status, wait, follow, export, archive or dead)|dphp-project # usage
2|dphp-project: error: unknown command 'bogus' (get, ls, owner, status, wait, follow, export, archive or dead)|dphp-project bogus # usage
2|dphp-project: error: get: no id|dphp-project -d $S get # usage
2|dphp-project: error: wait: no id|dphp-project -d $S wait # usage
1|dphp-project: error: no state for 'entity:a:b'|dphp-project -d $S get entity:a:b
3|dphp-project: $T/cp: not a checkpoint (a seq of the journal)|dphp-project -d $S -c $T/cp follow
5|dphp-project: error: cannot open store '$T/nowhere': No such file or directory|dphp-project -d $T/nowhere ls
5|dphp-project: $T/map:1: want KIND NAME TABLE [COLUMN=PATH[:TYPE] ...]|dphp-project -d $S -m $T/map -o ndjson follow
75|dphp-project: error: 'orchestration:o:w' is pending after 100 ms|dphp-project -d $S -w 100ms wait orchestration:o:w
CASES
}
