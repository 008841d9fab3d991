#!/usr/bin/env bats
# Authorization: the policy and ownership records of dphp-policy(5),
# enforced by dphp-route on admission (-q) and on taking (-t), and by
# dphp-project when it reads for a user.

load helper

setup() {
	T=$BATS_TEST_TMPDIR
	mkstore
	export DPHP_SH=$TOP/lib/dphp.sh
}

# the principals of the matrix, as dphp-emit -b arguments ("" for none):
# the owner, a user share, a role share, a share for another operation,
# an admin, a stranger, and no user at all
PRINCIPALS="owner:alice ushare:bob rshare:carol:auditor other:dave admin:root:admin stranger:mallory anonymous:"

# the operations, by the name used in ids
OPS="start subscribe signal call lock read delete sharep sharem owner"

opname() {
	case $1 in
	sharep) echo share+ ;;
	sharem) echo share- ;;
	*) echo "$1" ;;
	esac
}

# the resource a case acts on
res() {	# mode op principal
	if [ "$2" = start ] || [ "$2" = subscribe ]; then
		echo "orchestration:$1:$2-$3"
	else
		echo "entity:$1:$2-$3"
	fi
}

# -b and its argument for principal spec $1 (name:user[:role])
byof() {
	local u=${1#*:}
	[ -n "$u" ] && printf -- '-b\n%s\n' "$u"
}

# The expected decisions, written out by hand from the decision order
# (anon: allow; no user: deny; auth: allow but owner-only operations;
# admin; owner; a share of that operation; else deny), in the order of
# PRINCIPALS: owner ushare rshare other admin stranger anonymous.
EXPECTED='
anon     start  + + + + + + +
anon     subscribe + + + + + + +
anon     signal + + + + + + +
anon     call   + + + + + + +
anon     lock   + + + + + + +
anon     read   + + + + + + +
anon     delete + + + + + + +
anon     sharep + + + + + + +
anon     sharem + + + + + + +
anon     owner  + + + + + + +
auth     start  + + + + + + -
auth     subscribe + + + + + + -
auth     signal + + + + + + -
auth     call   + + + + + + -
auth     lock   + + + + + + -
auth     read   + + + + + + -
auth     delete + + + - + - -
auth     sharep + + + - + - -
auth     sharem + + + - + - -
auth     owner  + + + - + - -
explicit start  + + + - + - -
explicit subscribe + + + - + - -
explicit signal + + + - + - -
explicit call   + + + - + - -
explicit lock   + + + - + - -
explicit read   + + + - + - -
explicit delete + + + - + - -
explicit sharep + + + - + - -
explicit sharem + + + - + - -
explicit owner  + + + - + - -
'

# the case ids expected to be denied ($1: the operations to list)
denied_cases() {
	local mode op i p sign
	while read -r mode op signs; do
		[ -n "$mode" ] || continue
		case " $1 " in *" $op "*) ;; *) continue ;; esac
		i=0
		for p in $PRINCIPALS; do
			i=$((i + 1))
			sign=$(echo "$signs" | cut -d' ' -f$i)
			[ "$sign" = - ] && echo "$mode.$op.${p%%:*}"
		done
	done <<< "$EXPECTED"
	return 0
}

# the event of one case: id mode op principal
case_event() {
	local id=$1 mode=$2 op=$3 p=$4 r
	local -a by
	r=$(res "$mode" "$op" "${p%%:*}")
	mapfile -t by < <(byof "$p")
	case $op in
	start) ev "$id" "${by[@]}" start "$r" ;;
	subscribe) ev "$id" "${by[@]}" -r orchestration:anon:caller start "$r" ;;
	signal) ev "$id" "${by[@]}" signal "$r" add 1 ;;
	call) ev "$id" "${by[@]}" -r orchestration:anon:caller call "$r" add 1 ;;
	lock) ev "$id" "${by[@]}" -f orchestration:anon:caller \
	    -l orchestration:anon:caller -p "$r" signal "$r" x |
	    jq -c '.event.event.event.event = {"type":"lock","request":"r1"}' ;;
	delete) ev "$id" "${by[@]}" delete "$r" ;;
	sharep) ev "$id" "${by[@]}" share "$r" user zed read ;;
	sharem) ev "$id" "${by[@]}" revoke "$r" user bob ;;
	owner) ev "$id" "${by[@]}" give "$r" zed ;;
	esac
}

# every resource: owned by alice, shared for its operation with bob and
# role auditor, and for another with dave; carried out by a worker
# with no policy, as an administrator's setup would be
seed() {
	local mode op p r ops other n=0
	for mode in anon auth explicit; do
		for op in $OPS; do
			# the share of the others: not this operation
			ops=$(opname "$op") other=read
			case $op in
			read) other=signal ;;
			subscribe) ops=start,subscribe other=start ;;
			esac
			for p in $PRINCIPALS; do
				r=$(res "$mode" "$op" "${p%%:*}")
				n=$((n + 1))
				ev "s$n.1" give "$r" alice
				ev "s$n.2" share "$r" user bob "$ops"
				ev "s$n.3" share "$r" role auditor "$ops"
				ev "s$n.4" share "$r" user dave "$other"
				if [ "$op" = read ]; then
					echo '{"state":{"n":1}}' > "$T/one"
					dphp-commit -d "$S" -f -s "$r" "$T/one" > /dev/null
				fi
			done
		done
	done > "$T/seed"
	dphp-route -q -d "$S" "$T/seed" > /dev/null
	dphp-route -t -e -d "$S" > /dev/null
}

policy_by_mode() {
	cat > "$T/policy" <<-'EOF'
	# kind          name      mode
	entity          anon      anon
	entity          auth      auth
	entity          explicit  explicit
	orchestration   anon      anon
	orchestration   auth      auth
	orchestration   explicit  explicit
	EOF
}

@test "the matrix: modes x operations x owner, user share, role share, other share, admin, stranger, anonymous" {
	policy_by_mode
	seed
	run queued
	assert_output ""
	run jq -c .state <<< "$(record owner entity:explicit:call-other)"
	assert_output '{"owners":["alice"],"shares":[{"user":"bob","ops":["call"]},{"role":"auditor","ops":["call"]},{"user":"dave","ops":["read"]}]}'
	for mode in anon auth explicit; do
		for op in $OPS; do
			[ "$op" = read ] && continue
			for p in $PRINCIPALS; do
				case_event "$mode.$op.${p%%:*}" "$mode" "$op" "$p"
			done
		done
	done > "$T/cases"
	# admission: every case but the locks, which are dphp's own
	grep -v '"type":"lock"' "$T/cases" > "$T/outside"
	grep '"type":"lock"' "$T/cases" > "$T/locks"
	run --separate-stderr dphp-route -q -d "$S" -P "$T/policy" -R "$T/rejected.q" "$T/outside"
	assert_failure 3
	assert_stderr ""
	run jq -r .event.id "$T/rejected.q"
	assert_output "$(denied_cases "start subscribe signal call delete sharep sharem owner")"
	# the others go in as a trusted admitter would put them
	jq -c .event "$T/rejected.q" > "$T/rest"
	dphp-route -q -d "$S" "$T/rest" "$T/locks" > /dev/null
	# taking: the same decisions, the locks' too
	# (-n: the events handed on wait for no later stage to finish them)
	run --separate-stderr dphp-route -t -n 1000 -d "$S" -P "$T/policy" -R "$T/rejected.t"
	assert_failure 3
	assert_stderr ""
	printf '%s\n' "${lines[@]}" > "$T/taken"
	run sh -c 'jq -r .event.id "$1" | sort' sh "$T/rejected.t"
	assert_output "$(denied_cases "$OPS" | grep -v '\.read\.' | sort)"
	# what passed is handed on, but ownership events, carried out here;
	# and each call refused is answered, where the caller may be told
	run sh -c 'jq -r "select(.id | test(\"^(anon|auth|explicit)[.]\")) | .id" "$1" | sort' sh "$T/taken"
	assert_output "$(jq -r .id "$T/cases" | awk -F. '$2 ~ /^(start|subscribe|signal|call|lock|delete)$/' |
	    grep -vxF -f <(denied_cases "$OPS") | sort)"
	run sh -c 'jq -r "select(.event.event.type == \"failed\") | [.event.to, .event.event.reason] | @tsv" "$1" | sort' sh "$T/taken"
	assert_output - <<'OUT'
orchestration:anon:caller	not authorized: dave has no 'call' right on entity:explicit:call-other
orchestration:anon:caller	not authorized: dave has no 'subscribe' right on orchestration:explicit:subscribe-other
orchestration:anon:caller	not authorized: mallory has no 'call' right on entity:explicit:call-stranger
orchestration:anon:caller	not authorized: mallory has no 'start' right on orchestration:explicit:subscribe-stranger
orchestration:anon:caller	not authorized: without a user there is no 'call' right on entity:auth:call-anonymous (mode auth)
orchestration:anon:caller	not authorized: without a user there is no 'call' right on entity:explicit:call-anonymous (mode explicit)
orchestration:anon:caller	not authorized: without a user there is no 'start' right on orchestration:auth:subscribe-anonymous (mode auth)
orchestration:anon:caller	not authorized: without a user there is no 'start' right on orchestration:explicit:subscribe-anonymous (mode explicit)
OUT
	# reading, through dphp-project
	for mode in anon auth explicit; do
		for p in $PRINCIPALS; do
			mapfile -t by < <(byof "$p")
			if dphp-project -d "$S" -P "$T/policy" "${by[@]}" get \
			    "entity:$mode:read-${p%%:*}" > /dev/null 2>&1; then
				:
			else
				echo "$mode.read.${p%%:*}"
			fi
		done
	done > "$T/unread"
	run cat "$T/unread"
	assert_output "$(denied_cases read)"
}

# the bank's policy: accounts opened by tellers, transfers by any user
bank_policy() {
	cat > "$T/policy" <<-'EOF'
	entity          account   explicit  role:teller user:boss
	entity          relay     auth
	entity          cart      auth      ttl=1h
	orchestration   transfer  auth
	orchestration   audit     explicit  user:alice
	activity        *         anon
	EOF
}

# the ownership records of ids, as dphp-project prints it
owner_of() {
	dphp-project -d "$S" owner "$@"
}

@test "creation: the policy says who may create what, and the creator owns it" {
	bank_policy
	{
		ev c1 -b mallory signal entity:account:m deposit 5
		ev c2 -b teller1:teller signal entity:account:a deposit 5
		ev c3 -b boss signal entity:account:b deposit 5
		ev c4 -b root:admin signal entity:account:c deposit 5
		ev c5 signal entity:account:d deposit 5
		ev c6 -b alice start orchestration:transfer:t1 '{}'
		ev c7 schedule activity:notify:0190f7a0-0000-7000-8000-000000000001 '"hi"'
		ev c8 -b bob signal entity:ledger:x add 1
		ev c9 -b mallory delete entity:account:zz
		ev c10 -b teller1:teller signal entity:account:e deposit 1
		ev c11 -b teller2:teller signal entity:account:e deposit 1
	} > "$T/in"
	run --separate-stderr dphp-route -q -d "$S" -P "$T/policy" "$T/in"
	assert_failure 3
	run jq -r .id <<< "$output"
	assert_output - <<'OUT'
c2
c3
c4
c6
c7
c10
OUT
	assert_stderr "$(cat <<ERR
dphp-route: $T/in:1: event c1 rejected: entity:account:m has no owner and mallory may not create it
dphp-route: $T/in:5: event c5 rejected: without a user there is no 'signal' right on entity:account:d (mode explicit)
dphp-route: $T/in:8: event c8 rejected: entity:ledger:x has no owner and bob may not create it
dphp-route: $T/in:9: event c9 rejected: entity:account:zz has no owner: only an admin has a 'delete' right on it
dphp-route: $T/in:11: event c11 rejected: teller2 has no 'signal' right on entity:account:e
ERR
)"
	run --separate-stderr owner_of entity:account:a entity:account:b entity:account:c orchestration:transfer:t1 entity:account:e
	assert_success
	assert_stderr ""
	assert_output - <<'OUT'
{"id":"entity:account:a","etag":"1","owner":{"owners":["teller1"],"shares":[]}}
{"id":"entity:account:b","etag":"1","owner":{"owners":["boss"],"shares":[]}}
{"id":"entity:account:c","etag":"1","owner":{"owners":["root"],"shares":[]}}
{"id":"orchestration:transfer:t1","etag":"1","owner":{"owners":["alice"],"shares":[]}}
{"id":"entity:account:e","etag":"1","owner":{"owners":["teller1"],"shares":[]}}
OUT
	# anon resources need no owner: none is recorded; nor for refusals
	run --separate-stderr owner_of activity:notify:0190f7a0-0000-7000-8000-000000000001 entity:account:m
	assert_failure 1
	assert_output ""
	assert_stderr "$(cat <<'ERR'
dphp-project: error: no ownership record for 'activity:notify:0190f7a0-0000-7000-8000-000000000001'
dphp-project: error: no ownership record for 'entity:account:m'
ERR
)"
}

@test "time-to-live: a resource is deleted when its time is up, and its name is free again" {
	bank_policy
	H=$FIX/handlers
	worker() {
		DPHP_NOW=$1 dphp-route -t -n 100 -d "$S" -P "$T/policy" > "$T/taken"
		DPHP_NOW=$1 dphp-lock -d "$S" "$T/taken" > "$T/locked"
		DPHP_NOW=$1 dphp-replay -d "$S" -x "$H" "$T/locked" > "$T/proposals"
		DPHP_NOW=$1 dphp-commit -d "$S" -x "$H" "$T/proposals"
	}
	# a cart handler: a counter will do
	mkdir -p "$T/h/entity"
	ln -s "$FIX/handlers/entity/counter" "$T/h/entity/cart"
	H=$T/h
	ev c1 -b alice signal entity:cart:c add 2 > "$T/in"
	dphp-route -q -d "$S" -P "$T/policy" "$T/in" > /dev/null
	run owner_of entity:cart:c
	TTL=768c3a11-33fd-8138-8a5e-74333a1092a9	# derived from c1
	assert_output '{"id":"entity:cart:c","etag":"1","owner":{"owners":["alice"],"shares":[],"expiry":{"at":"2026-11-27T11:00:00.000Z","event":"'$TTL'"}}}'
	run delayed
	assert_output "1795777200000000.52daa4a6.$TTL"
	worker 2026-11-27T10:00:00.000Z > /dev/null
	run dphp-project -d "$S" get entity:cart:c
	assert_output '{"id":"entity:cart:c","etag":"1","state":{"state":2,"seen":{"c1":"2026-11-27T10:00:00.000Z"}}}'
	# an hour later the delete is due: the state and its owner go
	run --separate-stderr worker 2026-11-27T11:00:00.000Z
	assert_success
	assert_stderr ""
	run jq -c '{in: .input.id, delete, etag}' <<< "$output"
	assert_output '{"in":"'$TTL'","delete":true,"etag":"2"}'
	run --separate-stderr owner_of entity:cart:c
	assert_failure 1
	assert_stderr "dphp-project: error: no ownership record for 'entity:cart:c'"
	# and bob may take the name
	ev c2 -b bob signal entity:cart:c add 1 > "$T/in"
	run --separate-stderr dphp-route -q -d "$S" -P "$T/policy" "$T/in"
	assert_success
	run jq -c .owner.owners <<< "$(owner_of entity:cart:c)"
	assert_output '["bob"]'
	# deleted by its owner before its time: the pending delete goes too
	ev c3 -b bob delete entity:cart:c > "$T/in"
	dphp-route -q -d "$S" -P "$T/policy" "$T/in" > /dev/null
	run delayed
	assert_equal "${#lines[@]}" 1
	worker 2026-11-27T11:00:00.000Z > /dev/null
	run delayed
	assert_output ""
	run queued
	assert_output ""
}

# take every ready event with the policy, rejects to $T/rejected
take() {
	dphp-route -t -n 1000 -d "$S" -P "$T/policy" -R "$T/rejected" > "$T/taken"
}

@test "ownership events are carried out by dphp-route when taken, and need share+, share- or owner" {
	bank_policy
	{
		ev o1 -b alice:teller signal entity:account:a deposit 5
		ev o2 -b bob share entity:account:a user bob signal
		ev o3 -b alice share entity:account:a user bob signal,read
		ev o4 -b alice share entity:account:a role auditor read
		ev o5 -b alice share entity:account:a user bob call
	} > "$T/in"
	# admitted as trusted: the worker decides
	dphp-route -q -d "$S" "$T/in" > /dev/null
	run --separate-stderr take
	assert_failure 3
	assert_stderr ""
	# handed on: the deposit only; the others were carried out, or not
	run jq -r .id "$T/taken"
	assert_output o1
	run jq -c '[.reason, .event.id]' "$T/rejected"
	assert_output '["bob has no '"'share+'"' right on entity:account:a","o2"]'
	run owner_of entity:account:a
	assert_output '{"id":"entity:account:a","etag":"4","owner":{"owners":["alice"],"shares":[{"user":"bob","ops":["signal","read","call"]},{"role":"auditor","ops":["read"]}]}}'
	# bob may signal now; revoking one operation, then a whole share
	{
		ev o6 -b bob signal entity:account:a deposit 1
		ev o7 -b alice revoke entity:account:a user bob signal
		ev o8 -b bob signal entity:account:a deposit 1
		ev o9 -b alice revoke entity:account:a role auditor
		ev o10 -b carol:auditor revoke entity:account:a user bob
	} > "$T/in"
	dphp-route -q -d "$S" "$T/in" > /dev/null
	rm "$T/rejected"
	run --separate-stderr take
	assert_failure 3
	run jq -r .id "$T/taken"
	assert_output o6
	run jq -c '[.reason, .event.id]' "$T/rejected"
	assert_output - <<'OUT'
["bob has no 'signal' right on entity:account:a","o8"]
["carol has no 'share-' right on entity:account:a","o10"]
OUT
	run owner_of entity:account:a
	assert_output '{"id":"entity:account:a","etag":"6","owner":{"owners":["alice"],"shares":[{"user":"bob","ops":["read","call"]}]}}'
	# giving: the new owner has every right, the old one none left;
	# an admin gives what has no owner at all
	{
		ev o11 -b alice give entity:account:a carol
		ev o12 -b alice signal entity:account:a deposit 1
		ev o13 -b carol signal entity:account:a deposit 1
		ev o14 -b mallory give entity:account:old mallory
		ev o15 -b root:admin give entity:account:old dave
	} > "$T/in"
	dphp-route -q -d "$S" "$T/in" > /dev/null
	rm "$T/rejected"
	run --separate-stderr take
	assert_failure 3
	run jq -r .id "$T/taken"
	assert_output o13
	run jq -c '[.reason, .event.id]' "$T/rejected"
	assert_output - <<'OUT'
["alice has no 'signal' right on entity:account:a","o12"]
["entity:account:old has no owner: only an admin has a 'owner' right on it","o14"]
OUT
	run owner_of entity:account:a entity:account:old
	assert_output - <<'OUT'
{"id":"entity:account:a","etag":"7","owner":{"owners":["carol"],"shares":[{"user":"bob","ops":["read","call"]}]}}
{"id":"entity:account:old","etag":"1","owner":{"owners":["dave"],"shares":[]}}
OUT
}

@test "forged internal events and wrappers are not admitted from outside" {
	bank_policy
	ev f0 -b alice start orchestration:audit:a1 > "$T/in"
	dphp-route -q -d "$S" -P "$T/policy" "$T/in" > /dev/null
	{
		ev f1 -b mallory completed orchestration:audit:a1 x1 '"approved"'
		ev f2 -b mallory failed orchestration:audit:a1 x1 nope
		printf '%s\n' '{"v":1,"id":"f3","ts":"2026-11-27T10:00:00.000Z","by":{"user":"mallory"},"event":{"to":"orchestration:audit:a1","event":{"type":"run"}}}'
		printf '%s\n' '{"v":1,"id":"f4","ts":"2026-11-27T10:00:00.000Z","by":{"user":"mallory"},"event":{"to":"entity:relay:r","event":{"type":"expire","fence":1}}}'
		ev f5 -b mallory -l orchestration:audit:a1 -p entity:relay:r signal entity:relay:r x
		ev f6 -b mallory -f orchestration:audit:a1 signal entity:relay:r x
		ev f7 -b mallory -r orchestration:audit:a1 call entity:relay:r x
		ev f8 -b mallory raise orchestration:audit:a1 approval
		ev f9 -b mallory signal entity:relay:r x
	} > "$T/in"
	run --separate-stderr dphp-route -q -d "$S" -P "$T/policy" -R "$T/rejected" "$T/in"
	assert_failure 3
	assert_stderr ""
	run jq -r .id <<< "$output"
	assert_output f9
	run jq -r '[.line, .event.id, .reason] | @tsv' "$T/rejected"
	assert_output - <<'OUT'
1	f1	'completed' events are dphp's own: not admitted from outside
2	f2	'failed' events are dphp's own: not admitted from outside
3	f3	'run' events are dphp's own: not admitted from outside
4	f4	'expire' events are dphp's own: not admitted from outside
5	f5	a 'lock' wrapper names orchestration:audit:a1, and only orchestration:audit:a1 itself sends those
6	f6	mallory cannot act through orchestration:audit:a1, where it comes from (no 'start', 'signal' or 'call' right)
7	f7	mallory has no 'signal' right on orchestration:audit:a1
8	f8	mallory has no 'signal' right on orchestration:audit:a1
OUT
}

@test "escalation: what handlers emit acts as their user, and gets no further" {
	cat > "$T/policy" <<-'EOF'
	entity          account   explicit  role:teller
	entity          relay     auth
	orchestration   transfer  explicit  role:customer
	activity        *         anon
	EOF
	mkdir -p "$T/h/entity" "$T/h/orchestration" "$T/h/activity"
	B=$TOP/examples/bank/handlers
	ln -s "$B/entity/account" "$T/h/entity/account"
	ln -s "$FIX/handlers/entity/relay" "$T/h/entity/relay"
	ln -s "$B/orchestration/transfer" "$T/h/orchestration/transfer"
	ln -s "$B/activity/notify" "$T/h/activity/notify"
	export BANK_NOTICES=$T/notices
	relay() {	# id chain: mallory has her relay emit chain
		ev "$1" -b mallory:customer signal entity:relay:m pass "$2"
	}
	{
		ev a1 -b teller1:teller signal entity:account:alice deposit 100
		ev a2 -b teller1:teller share entity:account:alice user alice signal,call,read
		ev a3 -b teller1:teller signal entity:account:mallory deposit 1
		ev a4 -b teller1:teller share entity:account:mallory user mallory signal,call,read
		ev t1 -b alice:customer start orchestration:transfer:t1 '{"from":"alice","to":"mallory","amount":60}'
		relay r1 '{"to":"entity:account:alice","event":{"type":"signal","op":"withdraw","input":100}}'
		relay r2 '{"to":"entity:account:alice","event":{"type":"give","user":"mallory"}}'
		relay r3 '{"to":"orchestration:transfer:t1","event":{"type":"raise","name":"approval"}}'
		relay r4 '{"to":"orchestration:transfer:t1","event":{"type":"completed","scheduled_id":"x","result":1}}'
		relay r5 '{"lock":{"owner":"orchestration:transfer:t1","participants":["entity:account:alice"]},"event":{"to":"entity:account:alice","event":{"type":"signal","op":"withdraw","input":1}}}'
		ev m1 -b mallory:customer start orchestration:transfer:m1 '{"from":"alice","to":"mallory","amount":30}'
	} > "$T/in"
	run --separate-stderr dphp-route -q -d "$S" -P "$T/policy" "$T/in"
	assert_success
	assert_stderr ""
	{
		{
			st=0
			dphp-route -t -e -d "$S" -P "$T/policy" -R "$T/rejected" || st=$?
			echo "$st" > "$T/rc"
		} | dphp-lock -d "$S" | dphp-replay -d "$S" -x "$T/h" |
		    dphp-commit -d "$S" -x "$T/h" > "$T/commits"
	} 2> "$T/errors"
	assert_file_empty "$T/errors"
	run cat "$T/rc"
	assert_output 3
	run sh -c 'jq -r "[first(.event | .. | objects | select(has(\"to\")) | .to), .reason] | @tsv" "$1" | sort' sh "$T/rejected"
	assert_output - <<'OUT'
entity:account:alice	a 'lock' wrapper names orchestration:transfer:t1, and only orchestration:transfer:t1 itself sends those
entity:account:alice	mallory has no 'call' right on entity:account:alice
entity:account:alice	mallory has no 'owner' right on entity:account:alice
entity:account:alice	mallory has no 'signal' right on entity:account:alice
orchestration:transfer:t1	mallory has no 'signal' right on orchestration:transfer:t1
orchestration:transfer:t1	mallory has no 'signal' right on orchestration:transfer:t1
OUT
	# nothing moved: alice's money and rights, her transfer still waits
	run dphp-project -d "$S" get entity:account:alice
	run jq -c .state.state <<< "$output"
	assert_output '{"balance":100}'
	run owner_of entity:account:alice
	assert_output '{"id":"entity:account:alice","etag":"2","owner":{"owners":["teller1"],"shares":[{"user":"alice","ops":["signal","call","read"]}]}}'
	run dphp-project -d "$S" get orchestration:transfer:t1 orchestration:transfer:m1
	run jq -c '[.state.status, .state.custom, .state.error]' <<< "$output"
	assert_output - <<'OUT'
["running","awaiting approval",null]
["failed","withdrawing","withdraw from alice: not authorized: mallory has no 'call' right on entity:account:alice"]
OUT
}

@test "a reply binds only where its action went: a handler cannot answer another's orchestration" {
	cat > "$T/policy" <<-'EOF'
	entity          relay     auth
	orchestration   greet     auth
	activity        *         anon
	EOF
	mkdir -p "$T/h/entity" "$T/h/orchestration" "$T/h/activity"
	ln -s "$FIX/handlers/entity/relay" "$T/h/entity/relay"
	ln -s "$FIX/handlers/orchestration/greet" "$T/h/orchestration/greet"
	ln -s "$FIX/handlers/activity/notify" "$T/h/activity/notify"
	drain() {
		{
			dphp-route -t -e -d "$S" -P "$T/policy" |
			    dphp-lock -d "$S" | dphp-replay -d "$S" -x "$T/h" |
			    dphp-commit -d "$S" -x "$T/h" > /dev/null
		} 2> "$T/errors"
	}
	# alice's greet:g1 has its notice's answer and waits for an ack or
	# its timer, g1.0.2
	ev g1 -b alice start orchestration:greet:g1 '"hi"' > "$T/in"
	dphp-route -q -d "$S" -P "$T/policy" "$T/in" > /dev/null
	drain
	assert_file_empty "$T/errors"
	# mallory's relay answers the notice again, and the timer
	{
		ev r1 -b mallory signal entity:relay:m pass '{"to":"orchestration:greet:g1","event":{"type":"completed","scheduled_id":"g1.0.0","result":"FORGED by mallory"}}'
		ev r2 -b mallory signal entity:relay:m pass '{"to":"orchestration:greet:g1","event":{"type":"completed","scheduled_id":"g1.0.2","result":"FORGED by mallory"}}'
	} > "$T/in"
	dphp-route -q -d "$S" -P "$T/policy" "$T/in" > /dev/null
	drain
	run sed -E 's/<stdin>:[0-9]+: event [^:]+:/<stdin>:N: event ID:/' "$T/errors"
	assert_output - <<'OUT'
dphp-replay: <stdin>:N: event ID: a reply to g1.0.0 from entity:relay:m, where that activity did not go (it went to activity:notify:g1.0.0) (rejected)
dphp-replay: <stdin>:N: event ID: a reply to g1.0.2 from entity:relay:m, where that timer did not go (it went to orchestration:greet:g1) (rejected)
OUT
	run dphp-project -d "$S" get orchestration:greet:g1
	run jq -c '.state | [.status, .custom, .actions[0].result.value, .actions[2].result]' <<< "$output"
	assert_output '["running","waiting for ack","sent: hi",null]'
	# the ack still works; nothing is left but the timer, due in an hour
	ev k1 -b alice raise orchestration:greet:g1 ack '"ok"' > "$T/in"
	dphp-route -q -d "$S" -P "$T/policy" "$T/in" > /dev/null
	drain
	assert_file_empty "$T/errors"
	run dphp-project -d "$S" get orchestration:greet:g1
	run jq -c '.state | [.status, .output]' <<< "$output"
	assert_output '["completed",{"receipt":"sent: hi","ack":"ok"}]'
	run queued
	assert_output delay/1795777200000000.44b7752c.g1.0.2
}

@test "dphp-project reads for a user what the policy lets them read, and nothing else" {
	bank_policy
	{
		ev p1 -b alice:teller signal entity:account:a deposit 5
		ev p2 -b alice:teller share entity:account:a user bob read
		ev p3 -b boss signal entity:account:b deposit 7
		ev p4 -b carol start orchestration:transfer:t1
	} > "$T/in"
	dphp-route -q -d "$S" "$T/in" > /dev/null
	take
	for f in a b; do
		echo '{"state":{"balance":1}}' > "$T/st"
		dphp-commit -d "$S" -f -s "entity:account:$f" "$T/st" > /dev/null
	done
	echo '{"status":"pending"}' > "$T/st"
	dphp-commit -d "$S" -f -s orchestration:transfer:t1 "$T/st" > /dev/null
	run --separate-stderr dphp-project -d "$S" -P "$T/policy" -b bob get entity:account:a entity:account:b
	assert_failure 1
	assert_output '{"id":"entity:account:a","etag":"1","state":{"state":{"balance":1}}}'
	assert_stderr "dphp-project: error: bob has no 'read' right on entity:account:b"
	# ls leaves out what the user may not read; transfers are auth
	run --separate-stderr dphp-project -d "$S" -P "$T/policy" -b bob ls
	assert_success
	assert_stderr ""
	assert_output - <<'OUT'
{"id":"entity:account:a","etag":"1"}
{"id":"orchestration:transfer:t1","etag":"1"}
OUT
	# with no user, not even the transfers
	DPHP_POLICY=$T/policy run --separate-stderr dphp-project -d "$S" ls
	assert_success
	assert_output ""
	# status needs read; wait, being told of the end, subscribe
	run --separate-stderr dphp-project -d "$S" -P "$T/policy" -b bob status orchestration:transfer:t1
	assert_success
	assert_output '{"id":"orchestration:transfer:t1","etag":"1","status":"pending","custom":null,"output":null,"error":null}'
	run --separate-stderr dphp-project -d "$S" -P "$T/policy" -w 1s wait orchestration:transfer:t1
	assert_failure 1
	assert_output ""
	assert_stderr "dphp-project: error: without a user there is no 'subscribe' right on orchestration:transfer:t1 (mode auth)"
	# the ownership record: for whoever may manage its shares
	run --separate-stderr dphp-project -d "$S" -P "$T/policy" -b bob owner entity:account:a
	assert_failure 1
	assert_output ""
	assert_stderr "dphp-project: error: bob has no 'share-' right on entity:account:a"
	# a proven user: a token checked with the keys
	printf 'k1 %s\n' AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8 > "$T/keys"
	chmod 600 "$T/keys"
	dphp-emit -K "$T/keys" token boss > "$T/token"
	run --separate-stderr dphp-project -d "$S" -P "$T/policy" -K "$T/keys" -T "@$T/token" get entity:account:b
	assert_success
	assert_stderr ""
	assert_output '{"id":"entity:account:b","etag":"1","state":{"state":{"balance":1}}}'
	run --separate-stderr dphp-project -d "$S" -P "$T/policy" -K "$T/keys" -T "x.y.z" get entity:account:b
	assert_failure 2
	assert_output ""
	assert_stderr "dphp-project: error: the token is refused: not a JSON Web Token (header.claims.signature)"
	run --separate-stderr dphp-project -d "$S" -b bob get entity:account:b
	assert_failure 2
	assert_stderr "dphp-project: error: a user reads under a policy: give -P or set DPHP_POLICY"
	for bad in "-b bob -K $T/keys -T x" "-K $T/keys" "-T x"; do
		# shellcheck disable=SC2086 # the words of $bad are options
		run --separate-stderr dphp-project -d "$S" -P "$T/policy" $bad get entity:account:b
		assert_failure 2
		assert_output ""
		assert_equal "${stderr_lines[0]}" "usage: dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy] get id ..."
	done
	run --separate-stderr dphp-project -d "$S" -P "$T/nopolicy" ls
	assert_failure 5
	assert_stderr "dphp-project: error: cannot open the policy '$T/nopolicy': No such file or directory"
}

@test "a bad policy is a located configuration error; DPHP_POLICY is read by -q and -t" {
	printf 'entity account explicit\n# fine\nentity x sometimes\n' > "$T/bad"
	run --separate-stderr dphp-route -q -d "$S" -P "$T/bad" /dev/null
	assert_failure 5
	assert_output ""
	assert_stderr "dphp-route: $T/bad:3: the mode must be anon, auth or explicit"
	while IFS='|' read -r line why; do
		printf '%s\n' "$line" > "$T/bad"
		run --separate-stderr dphp-route -t -d "$S" -P "$T/bad"
		assert_failure 5
		assert_stderr "dphp-route: $T/bad:1: $why"
	done <<'CASES'
entity|want KIND NAME MODE [user:U|role:R ...] [ttl=DURATION]
thing x auth|the kind must be entity, orchestration, activity or *
entity a/b auth|the name must be a glob of names
entity x anon user:bob|anyone creates an anon resource: no creators to list
entity x auth friend:bob|want user:NAME, role:NAME or ttl=DURATION after the mode
entity x auth user:b%d|invalid user or role name
entity x auth ttl=soon|ttl= needs a duration (90s, 15m, 2h, 1d)
entity x auth ttl=1h ttl=2h|more than one ttl=
CASES
	printf 'entity * explicit\n' > "$T/closed"
	ev e1 -b bob signal entity:account:a deposit 1 > "$T/in"
	DPHP_POLICY=$T/closed run --separate-stderr dphp-route -q -d "$S" "$T/in"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-route: $T/in:1: event e1 rejected: entity:account:a has no owner and bob may not create it"
	dphp-route -q -d "$S" "$T/in" > /dev/null
	DPHP_POLICY=$T/closed run --separate-stderr dphp-route -t -d "$S"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-route: queue: event e1 rejected: entity:account:a has no owner and bob may not create it"
	# a stream has no store to check against: DPHP_POLICY is not for it
	DPHP_POLICY=$T/closed run --separate-stderr dphp-route "$T/in"
	assert_success
	assert_output "$(cat "$T/in")"
}

@test "concurrent workers change one ownership record: every change is kept" {
	bank_policy
	ev w0 -b alice:teller signal entity:account:a deposit 1 > "$T/in"
	for i in $(seq 1 30); do
		ev "w$i" -b alice share entity:account:a user "u$i" read
	done >> "$T/in"
	dphp-route -q -d "$S" -P "$T/policy" "$T/in" > /dev/null
	dphp-route -t -n 1 -d "$S" -P "$T/policy" > /dev/null	# w0 makes it
	dphp-route -t -n 100 -d "$S" -P "$T/policy" > "$T/taken1" &
	p1=$!
	dphp-route -t -n 100 -d "$S" -P "$T/policy" > "$T/taken2" &
	p2=$!
	wait "$p1"
	wait "$p2"
	run sh -c 'cat "$1" "$2"' sh "$T/taken1" "$T/taken2"
	assert_output ""
	owner_of entity:account:a > "$T/owner"
	run jq -c '{etag, shares: (.owner.shares | length), users: ([.owner.shares[].user] | unique | length)}' "$T/owner"
	assert_output '{"etag":"31","shares":30,"users":30}'
	run ready
	assert_output ""
}

@test "a lock is let go of even by a user whose rights are gone" {
	bank_policy
	printf '%s\n' '{"v":1,"id":"u1","ts":"2026-11-27T10:00:00.000Z","by":{"user":"mallory"},"event":{"from":"orchestration:transfer:t1","event":{"lock":{"owner":"orchestration:transfer:t1","participants":["entity:account:a"]},"event":{"to":"entity:account:a","event":{"type":"unlock","request":"r1"}}}}}' > "$T/in"
	sed 's/"u1"/"l1"/; s/"unlock"/"lock"/' "$T/in" > "$T/lock"
	dphp-route -q -d "$S" "$T/in" "$T/lock" > /dev/null
	run --separate-stderr dphp-route -t -n 10 -d "$S" -P "$T/policy"
	assert_failure 3
	assert_stderr "dphp-route: queue: event l1 rejected: entity:account:a has no owner and mallory may not create it"
	run jq -r .id <<< "$output"
	assert_output u1
}
