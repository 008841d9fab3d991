# dphp.sh - write dphp handlers in POSIX sh (with jq); see dphp-handler(5).
#
#	. "${DPHP_SH:-/usr/local/share/dphp/dphp.sh}"
#	account() { ...; }
#	dphp_entity account
#
# dphp_entity, dphp_activity and dphp_orchestration answer every request
# line on stdin, one at a time, so the same script works one-shot and as
# a co-process (dphp-replay -k).  The function runs in a subshell whose
# stdout goes to stderr: what it prints is a diagnostic, never an answer.
# With DPHP_STICKY=1, an orchestration keeps each instance waiting
# between requests (sticky, see below).
# shellcheck disable=SC2030,SC2031 # a kept instance's subshell sets
# dphp__tmp to its own directory, for itself only

dphp__tmp=$(mktemp -d) || exit 1	# in $TMPDIR, or /tmp
trap 'dphp__letall; dphp__jqstop; rm -rf "$dphp__tmp"' EXIT
trap 'exit 1' HUP INT TERM PIPE

# The jq program that prints the fields every kind of request has.
dphp__fields='.id, (.op // .name // ""), (.input | tojson),
    (.state | tojson), (.user | tojson)'

# The lines jq program $1 prints for the request, to $dphp__tmp/req; 1
# if it is not JSON or the program fails on it.  One jq, started at the
# first request and fed the next ones, since jq takes longer to start
# (25 ms for jq 1.6) than a request takes to serve; each request's
# lines end with a line that is only \001, or \002 for a failure.
dphp__jq() {
	if [ "$1" != "${dphp__jqprog:-}" ]; then
		dphp__jqstop
		mkfifo "$dphp__tmp/jq.in" "$dphp__tmp/jq.out" || return 1
		jq --unbuffered -rR "(fromjson? // null) as \$r |
		    (try [\$r | objects | $1] catch null) as \$o |
		    if \$r | type != \"object\" then null else \$o end |
		    if . == null then \"\\u0002\" else .[], \"\\u0001\" end" \
		    < "$dphp__tmp/jq.in" > "$dphp__tmp/jq.out" &
		dphp__jqpid=$!
		exec 8> "$dphp__tmp/jq.in" 9< "$dphp__tmp/jq.out"
		dphp__jqprog=$1
	fi
	printf '%s\n' "$DPHP_REQUEST" >&8
	while IFS= read -r dphp__x <&9; do
		case $dphp__x in
		"$dphp__eol") return 0 ;;
		"$dphp__bad") return 1 ;;
		esac
		printf '%s\n' "$dphp__x"
	done > "$dphp__tmp/req"
	dphp__jqprog=	# it ended: start one again next time
	return 1
}
dphp__eol=$(printf '\001')
dphp__bad=$(printf '\002')
dphp__jqstop() {
	[ -n "${dphp__jqpid:-}" ] || return 0
	exec 8>&- 9<&-
	kill "$dphp__jqpid" 2>/dev/null
	wait "$dphp__jqpid" 2>/dev/null
	rm -f "$dphp__tmp/jq.in" "$dphp__tmp/jq.out"
	dphp__jqpid=
}

# Unpack the request ($1, a jq program printing dphp__fields first and
# perhaps more lines, to $dphp__tmp/req); clear the last answer.
dphp__unpack() {
	rm -f "$dphp__tmp"/out.* "$dphp__tmp"/aw.* "$dphp__tmp"/ok.* \
	    "$dphp__tmp"/val.* "$dphp__tmp"/first.* "$dphp__tmp"/fail.* \
	    "$dphp__tmp"/time.*
	dphp__jq "${1:-$dphp__fields}" || return 1
	# DPHP_ID, DPHP_OP and DPHP_NAME are for the user's function
	# shellcheck disable=SC2034
	{
		IFS= read -r DPHP_ID
		IFS= read -r DPHP_OP
		IFS= read -r dphp__input
		IFS= read -r dphp__state
		IFS= read -r dphp__user
	} < "$dphp__tmp/req"
	# shellcheck disable=SC2034
	DPHP_NAME=$DPHP_OP
}

# Set dphp__j to the arguments joined with commas.
dphp__join() {
	dphp__j=
	for dphp__x; do
		dphp__j="$dphp__j${dphp__j:+,}$dphp__x"
	done
}

# The request's input, state and user as JSON text.
dphp_input() { printf '%s\n' "$dphp__input"; }
dphp_state() { printf '%s\n' "$dphp__state"; }
dphp_user() { printf '%s\n' "$dphp__user"; }

# Answers, from an entity or activity function.
dphp_set_state() { printf '%s' "$1" > "$dphp__tmp/out.state"; }
dphp_result() { printf '%s' "$1" > "$dphp__tmp/out.result"; }
dphp_refuse() {
	printf '%s' "$1" | jq -Rs . > "$dphp__tmp/out.error"
	exit 0
}
# dphp_emit_signal ENTITY OP [INPUT]: an event for another entity.
dphp_emit_signal() {
	printf '{"to":"%s","event":{"type":"signal","op":"%s"%s}}\n' "$1" \
	    "$2" "${3:+,\"input\":$3}" >> "$dphp__tmp/out.emit"
}

# Print the answer of an entity or activity from the out.* files.
dphp__answer() {
	if [ -s "$dphp__tmp/out.error" ]; then
		printf '{"error":%s}\n' "$(cat "$dphp__tmp/out.error")"
		return
	fi
	dphp__sep=
	printf '{'
	if [ -e "$dphp__tmp/out.state" ]; then
		printf '"state":%s' "$(cat "$dphp__tmp/out.state")"
		dphp__sep=,
	fi
	if [ -e "$dphp__tmp/out.result" ]; then
		printf '%s"result":%s' "$dphp__sep" \
		    "$(cat "$dphp__tmp/out.result")"
		dphp__sep=,
	fi
	if [ -e "$dphp__tmp/out.emit" ]; then
		printf '%s"emit":[%s]' "$dphp__sep" \
		    "$(paste -sd, "$dphp__tmp/out.emit")"
	fi
	printf '}\n'
}

# Serve requests with an entity or activity function ($1); an activity's
# also set DPHP_KEY and DPHP_ATTEMPT ($2 set).
dphp__serve() {
	while IFS= read -r DPHP_REQUEST; do
		dphp__unpack ${2:+"$dphp__fields, (.key // .id), (.attempt // 1)"} ||
		    { echo '{"error":"bad request"}'; continue; }
		# for the user's function
		# shellcheck disable=SC2034
		[ -z "${2:-}" ] || {
			read -r _ && read -r _ && read -r _ && read -r _ &&
			    read -r _ && IFS= read -r DPHP_KEY &&
			    IFS= read -r DPHP_ATTEMPT
		} < "$dphp__tmp/req"
		if ! ("$1" >&2 8>&- 9<&-); then
			[ -s "$dphp__tmp/out.error" ] ||
			    echo '"the handler failed"' > "$dphp__tmp/out.error"
		fi
		dphp__answer
	done
}
dphp_entity() { dphp__serve "$1"; }
dphp_activity() { dphp__serve "$1" activity; }

# --- orchestrations -------------------------------------------------
#
# The function is run again from the start each time it can go further;
# every action returns its sequence number, every await returns the
# results it was given before, or ends this run there.

# Record an action (its JSON) and set variable $1 to its number.
dphp__act() {
	printf '%s\n' "$2" >> "$dphp__tmp/out.actions"
	eval "$1=\$dphp__seq"
	dphp__seq=$((dphp__seq + 1))
}

# dphp_activity_call [-r RETRY] VAR NAME [INPUT]: RETRY is a policy,
# {"attempts":N,"first":"1s","backoff":2,"max":"1m","nonretryable":[...]}
dphp_activity_call() {
	dphp__retry=
	if [ "$1" = -r ]; then
		dphp__retry=",\"retry\":$2"
		shift 2
	fi
	dphp__act "$1" "{\"kind\":\"activity\",\"name\":\"$2\"${3:+,\"input\":$3}$dphp__retry}"
}
# dphp_call VAR ENTITY OP [INPUT]: an entity operation with a reply
dphp_call() {
	dphp__act "$1" "{\"kind\":\"call\",\"to\":\"$2\",\"op\":\"$3\"${4:+,\"input\":$4}}"
}
# dphp_signal ENTITY OP [INPUT]: an entity operation, no reply
dphp_signal() {
	dphp__act dphp__unused "{\"kind\":\"signal\",\"to\":\"$1\",\"op\":\"$2\"${3:+,\"input\":$3}}"
}
# dphp_start VAR NAME|ORCHESTRATION-ID [INPUT]: a sub-orchestration
dphp_start() {
	case $2 in
	*:*) dphp__act "$1" "{\"kind\":\"start\",\"to\":\"$2\"${3:+,\"input\":$3}}" ;;
	*) dphp__act "$1" "{\"kind\":\"start\",\"name\":\"$2\"${3:+,\"input\":$3}}" ;;
	esac
}
# dphp_timer VAR DURATION|TIME: completes after DURATION (15m) or at TIME
dphp_timer() {
	case $2 in
	*T*Z) dphp__act "$1" "{\"kind\":\"timer\",\"at\":\"$2\"}" ;;
	*) dphp__act "$1" "{\"kind\":\"timer\",\"after\":\"$2\"}" ;;
	esac
}
# dphp_event VAR NAME: the next external event called NAME
dphp_event() {
	dphp__act "$1" "{\"kind\":\"event\",\"name\":\"$2\"}"
}

# dphp_lock VAR [-l LEASE] ENTITY...: ask for the locks of the entities,
# all at once; await VAR before the critical section (the result holds
# the fencing tokens).  Calls and signals to them then pass the lock.
dphp_lock() {
	dphp__lockvar=$1
	shift
	dphp__lease=
	if [ "$1" = -l ]; then
		dphp__lease=",\"lease\":\"$2\""
		shift 2
	fi
	dphp__act "$dphp__lockvar" "{\"kind\":\"lock\",\"entities\":$(jq -cn '$ARGS.positional' --args "$@")$dphp__lease}"
}
# dphp_unlock: let go of the locks (ending the orchestration does too)
dphp_unlock() {
	dphp__act dphp__unused '{"kind":"unlock"}'
}

# End this run here, blocked on an await: $1 mode, the rest seqs.
dphp__block() {
	dphp__mode=$1
	shift
	dphp__join "$@"
	printf '"await":{"mode":"%s","seqs":[%s]}' "$dphp__mode" "$dphp__j" \
	    > "$dphp__tmp/out.end"
	[ -n "${dphp__kept:-}" ] || exit 0
	# kept: the answer is there; wait for the request that resumes
	printf x > "$dphp__tmp/ready"
	IFS= read -r dphp__x < "$dphp__tmp/wake" || exit 0
	IFS= read -r dphp__reached < "$dphp__tmp/reached"
}

# Set $dphp__got to the frozen await point we are at, after checking
# that it is the same await as before; 1 if there is none yet.
dphp__frozen() {
	[ -e "$dphp__tmp/aw.$dphp__k" ] || return 1
	IFS= read -r dphp__was < "$dphp__tmp/aw.$dphp__k"
	dphp__mode=$1
	shift
	dphp__join "$@"
	dphp__now="$dphp__mode [$dphp__j]"
	if [ "$dphp__was" != "$dphp__now" ]; then
		dphp_fail "non-deterministic: await $dphp__k was $dphp__was in the history, now $dphp__now"
	fi
	dphp__got=$dphp__k
	dphp__k=$((dphp__k + 1))
}

# The result of action $2 at await point $1: sets dphp__ok and dphp__val.
dphp__result() {
	IFS= read -r dphp__ok < "$dphp__tmp/ok.$1.$2"
	IFS= read -r dphp__val < "$dphp__tmp/val.$1.$2"
}

# dphp_await VAR SEQ: the result of an action; a failure fails the
# orchestration with its reason.
dphp_await() {
	dphp_await_catch "$@" || dphp_fail "$DPHP_ERROR"
}
# dphp_await_catch VAR SEQ: as dphp_await, but a failure returns 1 with
# its reason in $DPHP_ERROR.
dphp_await_catch() {
	until dphp__frozen one "$2"; do dphp__block one "$2"; done
	dphp__result "$dphp__got" "$2"
	if [ "$dphp__ok" = true ]; then
		eval "$1=\$dphp__val"
		return 0
	fi
	DPHP_ERROR=$(printf '%s' "$dphp__val" | jq -r .)
	return 1
}
# dphp_await_all VAR SEQ...: their results as a JSON array, in the order
# given; any failure (the first to arrive) fails the orchestration.
dphp_await_all() {
	dphp__var=$1
	shift
	until dphp__frozen all "$@"; do dphp__block all "$@"; done
	if [ -e "$dphp__tmp/fail.$dphp__got" ]; then
		IFS= read -r dphp__first < "$dphp__tmp/fail.$dphp__got"
		dphp__result "$dphp__got" "$dphp__first"
		dphp_fail "$(printf '%s' "$dphp__val" | jq -r .)"
	fi
	dphp__all=
	for dphp__s; do
		dphp__result "$dphp__got" "$dphp__s"
		dphp__all="$dphp__all${dphp__all:+,}$dphp__val"
	done
	eval "$dphp__var=\"[\$dphp__all]\""
}
# dphp_await_any VAR WINNER SEQ...: the first result to arrive, and
# which action it answered; a failure fails the orchestration.
dphp_await_any() {
	dphp__var=$1
	dphp__win=$2
	shift 2
	until dphp__frozen any "$@"; do dphp__block any "$@"; done
	IFS= read -r dphp__first < "$dphp__tmp/first.$dphp__got"
	dphp__result "$dphp__got" "$dphp__first"
	[ "$dphp__ok" = true ] || dphp_fail "$(printf '%s' "$dphp__val" | jq -r .)"
	eval "$dphp__var=\$dphp__val; $dphp__win=\$dphp__first"
}

# The time now, as the orchestration sees it: the same on every replay.
dphp_now() {
	IFS= read -r dphp__t < "$dphp__tmp/time.$dphp__k"
	printf '%s\n' "$dphp__t"
}
# dphp_replaying: true where the code runs again what an earlier run did
# (before the await point it reached last time): for logging once.
dphp_replaying() { [ "$dphp__k" -lt "$dphp__reached" ]; }
# dphp_guid VAR: a new id, the same on every replay.
dphp_guid() {
	dphp__n=$((dphp__n + 1))
	eval "$1=\$(printf '%s.%s.%s' \"\$DPHP_ID\" \"\$dphp__gen\" \"\$dphp__n\" |
	    sha256sum | cut -c1-32)"
}
# dphp_random VAR N: a number from 0 to N-1, the same on every replay.
dphp_random() {
	dphp_guid dphp__h
	eval "$1=\$((0x\$(printf '%s' \"\$dphp__h\" | cut -c1-12) % \$2))"
}
# dphp_status JSON: the custom status.
dphp_status() { printf '%s' "$1" > "$dphp__tmp/out.status"; }
dphp_complete() {
	printf '"output":%s' "${1:-null}" > "$dphp__tmp/out.end"
	exit 0
}
dphp_fail() {
	printf '"error":%s' "$(printf '%s' "$1" | jq -Rs .)" \
	    > "$dphp__tmp/out.end"
	exit 0
}
dphp_continue() {
	printf '"continue":%s' "${1:-null}" > "$dphp__tmp/out.end"
	exit 0
}

# The frozen awaits and the times, as lines for dphp__history; a
# resumed run's request has those past the ones it saw ("resume").
# shellcheck disable=SC2016 # a jq program, not for the shell
dphp__hist='(
	    (.resume // 0) as $r | (if .resume then $r + 1 else 0 end) as $t |
	    "G \(.generation) \(.reached // 0) \(.resume // "-")",
	    (.times | to_entries[] | "T \(.key + $t) \(.value)"),
	    (.awaits | to_entries[] | (.key + $r) as $k |
	        "A \($k) \(.value.mode) [\(.value.seqs | join(","))]",
	        "F \($k) \(.value.results[0].seq)",
	        (.value.results | map(select(.ok | not)) | first |
	            select(.) | "X \($k) \(.seq)"),
	        (.value.results[] |
	            "R \($k) \(.seq) \(.ok) \(if .ok then .value else .reason end | tojson)")))'

# Unpack the history, which dphp__unpack left after the fields, to
# files in directory $1; dphp__resume is the request's "resume" (- when
# it has the whole history), dphp__seen the await points known after it.
dphp__history() {
	tail -n +6 "$dphp__tmp/req" > "$dphp__tmp/hist"
	while read -r dphp__tag dphp__a dphp__b dphp__c dphp__rest; do
		# shellcheck disable=SC2034 # dphp__gen: read in an eval
		case $dphp__tag in
		G)
			dphp__gen=$dphp__a dphp__reached=$dphp__b
			dphp__resume=$dphp__c dphp__seen=${dphp__c#-}
			dphp__seen=${dphp__seen:-0}
			;;
		T) printf '%s\n' "$dphp__b" > "$1/time.$dphp__a" ;;
		A)
			printf '%s %s\n' "$dphp__b" "$dphp__c" > "$1/aw.$dphp__a"
			dphp__seen=$((dphp__a + 1))
			;;
		F) printf '%s\n' "$dphp__b" > "$1/first.$dphp__a" ;;
		X) printf '%s\n' "$dphp__b" > "$1/fail.$dphp__a" ;;
		R)
			printf '%s\n' "$dphp__c" > "$1/ok.$dphp__a.$dphp__b"
			printf '%s\n' "$dphp__rest" > "$1/val.$dphp__a.$dphp__b"
			;;
		esac
	done < "$dphp__tmp/hist"
}

# Print the answer from the out.* files of directory $1, and $2.
dphp__reply() {
	printf '{"actions":[%s],%s%s%s}\n' \
	    "$(paste -sd, "$1/out.actions" 2>/dev/null)" \
	    "$(cat "$1/out.end")" \
	    "$([ -e "$1/out.status" ] &&
	        printf ',"status":%s' "$(cat "$1/out.status")")" "$2"
}

# How a run that ended without an answer ends: $1 is its status.
dphp__ended() {
	[ -e "$dphp__tmp/out.end" ] && return
	if [ "$1" = 0 ]; then
		printf '"output":null' > "$dphp__tmp/out.end"
	else
		printf '"error":"the orchestration failed"' > "$dphp__tmp/out.end"
	fi
}

# --- sticky: an instance kept waiting between requests ---------------
#
# Each kept instance runs in a background subshell with a directory
# i.N of its own (its history files, out.*, id, pid, seen, and the
# FIFOs ready and wake): at an await with no result it says "ready"
# and waits on "wake" for the request that brings the results, which
# carries only the await points passed since ("resume").  A request
# with the whole history starts the instance over; one that resumes an
# instance not kept here is answered {"evicted":true}, and dphp-replay
# sends the whole history.  At most dphp__keepmax are kept.
dphp__keepmax=100
dphp__count=0

# Set dphp__dir to the directory keeping instance $DPHP_ID; 1 if none.
dphp__find() {
	for dphp__dir in "$dphp__tmp"/i.*; do
		[ -e "$dphp__dir/id" ] || continue
		IFS= read -r dphp__x < "$dphp__dir/id"
		[ "$dphp__x" = "$DPHP_ID" ] && return 0
	done
	return 1
}

# Let go of the instance kept in directory $1.
dphp__letgo() {
	if IFS= read -r dphp__x < "$1/pid"; then
		kill "$dphp__x" 2>/dev/null
		wait "$dphp__x" 2>/dev/null
	fi
	rm -rf "$1"
}
dphp__letall() {
	for dphp__x in "$dphp__tmp"/i.*; do
		[ -d "$dphp__x" ] && dphp__letgo "$dphp__x"
	done
	[ -z "${dphp__watcher:-}" ] || kill "$dphp__watcher" 2>/dev/null
	return 0
}

# Within a second of this shell's end, however it ends (SIGKILL runs no
# trap), end the instances it kept, which would wait for it forever.
dphp__watch() {
	[ -z "${dphp__watcher:-}" ] || return 0
	(
		while kill -0 "$$" 2>/dev/null; do sleep 1; done
		for dphp__x in "$dphp__tmp"/i.*/pid; do
			IFS= read -r dphp__pid < "$dphp__x" &&
			    kill "$dphp__pid"
		done
		rm -rf "$dphp__tmp"
	) < /dev/null > /dev/null 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9<&- &
	dphp__watcher=$!
}

# Start function $1 on the whole history, kept in a new directory.
dphp__start() {
	dphp__oldest='' dphp__nkept=0
	for dphp__x in "$dphp__tmp"/i.*; do
		[ -d "$dphp__x" ] || continue
		dphp__nkept=$((dphp__nkept + 1))
		[ "${dphp__x##*.}" -lt "${dphp__oldest:-$dphp__count}" ] &&
		    dphp__oldest=${dphp__x##*.}
	done
	[ "$dphp__nkept" -ge "$dphp__keepmax" ] &&
	    dphp__letgo "$dphp__tmp/i.$dphp__oldest"
	dphp__watch
	dphp__count=$((dphp__count + 1))
	dphp__dir=$dphp__tmp/i.$dphp__count
	mkdir "$dphp__dir" && mkfifo "$dphp__dir/ready" "$dphp__dir/wake" ||
	    return 1
	printf '%s\n' "$DPHP_ID" > "$dphp__dir/id"
	dphp__history "$dphp__dir"
	(
		trap 'dphp__ended $?; printf x > "$dphp__tmp/ready"' EXIT
		dphp__tmp=$dphp__dir dphp__kept=1
		dphp__seq=0 dphp__k=0 dphp__n=0
		"$1"
	) < /dev/null >&2 8>&- 9<&- &
	printf '%s\n' "$!" > "$dphp__dir/pid"
}

# Answer a request with function $1, keeping its instance.
dphp__sticky() {
	if [ "$dphp__resume" = - ]; then
		! dphp__find || dphp__letgo "$dphp__dir"
		dphp__start "$1" || return 1
	else
		if ! dphp__find; then
			echo '{"evicted":true}'
			return 0
		fi
		IFS= read -r dphp__x < "$dphp__dir/seen"
		IFS= read -r dphp__pid < "$dphp__dir/pid"
		if [ "$dphp__x" != "$dphp__resume" ] ||
		    ! kill -0 "$dphp__pid" 2>/dev/null; then
			dphp__letgo "$dphp__dir"
			echo '{"evicted":true}'
			return 0
		fi
		rm -f "$dphp__dir/out.end"
		dphp__history "$dphp__dir"
		printf '%s\n' "$dphp__reached" > "$dphp__dir/reached"
		echo go > "$dphp__dir/wake"
	fi
	IFS= read -r dphp__x < "$dphp__dir/ready" || :
	printf '%s\n' "$dphp__seen" > "$dphp__dir/seen"
	case $(cat "$dphp__dir/out.end") in
	'"await"'*)
		dphp__reply "$dphp__dir" ',"sticky":true'
		: > "$dphp__dir/out.actions"
		;;
	*)
		dphp__reply "$dphp__dir"
		dphp__letgo "$dphp__dir"
		;;
	esac
}

# Serve requests with an orchestration function.
dphp_orchestration() {
	while IFS= read -r DPHP_REQUEST; do
		if ! dphp__unpack "$dphp__fields, $dphp__hist"; then
			echo '{"error":"bad request"}'
			continue
		fi
		if [ "${DPHP_STICKY:-}" = 1 ]; then
			# the G line first: is it a resume?
			{
				for dphp__x in 1 2 3 4 5; do read -r dphp__x; done
				read -r dphp__x dphp__x dphp__x dphp__resume
			} < "$dphp__tmp/req"
			dphp__sticky "$1" || echo '{"error":"bad request"}'
			continue
		fi
		dphp__history "$dphp__tmp"
		dphp__seq=0 dphp__k=0 dphp__n=0
		("$1" >&2 8>&- 9<&-)
		dphp__ended $?
		dphp__reply "$dphp__tmp"
	done
}
