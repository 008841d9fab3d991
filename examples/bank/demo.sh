#!/bin/sh
# demo.sh - make demo: bank accounts (entities) and transfers between
# them (orchestrations that call the accounts and a notify activity, and
# wait for an approval with a timeout) on a fresh directory store.
# Events are admitted into the store's durable queue; a worker
#   dphp-route -t | dphp-lock | dphp-replay | dphp-commit
# runs until the store is quiescent, and again, a second later, while a
# transfer still waits for its approval timer.  Then balances, transfers and notices
# are printed, and an audit orchestration reads every balance under one
# lock over all the accounts.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH=$here/../../cmd:$PATH
work=$(mktemp -d "${TMPDIR:-/tmp}/dphp-demo.XXXXXX")
export DPHP_STORE="$work/store" DPHP_HANDLERS="$here/handlers"
export DPHP_SH="${DPHP_SH:-$here/../../lib/dphp.sh}" BANK_NOTICES="$work/notices"

# the worker: take, lock, apply, commit, until nothing is left to do
worker() {
	dphp-route -t -e | dphp-lock | dphp-replay -k | dphp-commit -k -b 16 \
	    >> "$work/commits"
}

dphp-commit -i
echo "dphp demo: bank accounts on the directory store $DPHP_STORE"
echo

{
	dphp-emit -b alice signal entity:account:alice deposit 100
	dphp-emit -b bob signal entity:account:bob deposit 100
	dphp-emit -b alice start orchestration:transfer:t1 \
	    '{"from":"alice","to":"carol","amount":30}'
	dphp-emit -b bob start orchestration:transfer:t2 \
	    '{"from":"bob","to":"alice","amount":80}'
	dphp-emit -b alice start orchestration:transfer:t3 \
	    '{"from":"alice","to":"bob","amount":60}'
	dphp-emit -b carol signal entity:account:carol transfer \
	    '{"to":"bob","amount":10}'
	dphp-emit -b alice signal entity:account:alice withdraw 20
	dphp-emit -b manager raise orchestration:transfer:t2 approval true
} > "$work/in"
dphp-route -q "$work/in" > "$work/admitted"
echo "admitted $(wc -l < "$work/admitted") events; t2 is approved, t3 is not"

# until quiescent; again while a transfer waits for its approval timer
worker
n=0
while dphp-project ls orchestration:transfer | jq -r .id |
    xargs dphp-project get | jq -e 'select(.state.status == "running")' \
    > /dev/null; do
	n=$((n + 1))
	if [ "$n" -gt 10 ]; then
		echo "demo.sh: transfers still running after 10 s" >&2
		exit 1
	fi
	sleep 1
	worker
done
echo "the workers made $(wc -l < "$work/commits") commits"

echo
echo "account operations:"
jq -r '
  def core: if .type then . else .event | core end;
  select(.target | startswith("entity:"))
  | (.input.event | core) as $e
  | "  \(.target | split(":")[2]) \($e.op) \($e.input | tojson) -> " +
    (if .failed then "refused: \(.failed)" else "etag \(.etag)" end)' \
    "$work/commits"

echo
echo "transfers:"
dphp-project ls orchestration | jq -r .id |
    xargs dphp-project get | jq -r '.state |
  "  \(.input.from) -> \(.input.to) \(.input.amount): \(.status)" +
  (if .error then " (\(.error))" else "" end)'

echo
echo "balances:"
dphp-project ls entity:account | jq -r .id | xargs dphp-project get |
    jq -r '"  \(.id | split(":")[2])\t\(.state.state.balance)"'
total=$(dphp-project ls entity:account | jq -r .id |
    xargs dphp-project get | jq -s 'map(.state.state.balance) | add')
# what the admitted deposits and withdrawals put in and took out, as
# applied (not refused): transfers only move money, so the total is
# that difference
flows=$(jq -n -r --slurpfile in "$work/admitted" --slurpfile c "$work/commits" '
  def core: if .type then . else .event | core end;
  [$in[].id] as $ids
  | [$c[] | select((.input.id as $i | $ids | index($i)) and (.failed | not))
    | .input.event | core | select(.type == "signal")]
  | "\(map(select(.op == "deposit") | .input) | add // 0) " +
    "\(map(select(.op == "withdraw") | .input) | add // 0)"')
deposits=${flows% *} withdrawals=${flows#* }
printf '  total\t%s (deposits %s - withdrawals %s: %s)\n' "$total" \
    "$deposits" "$withdrawals" "$( [ "$total" = $((deposits - withdrawals)) ] &&
    echo "it adds up" || echo "it does NOT add up")"

echo
echo "audit, every account read under one lock:"
dphp-emit -b auditor start orchestration:audit:a1 '["alice","bob","carol"]' \
    > "$work/audit"
dphp-route -q "$work/audit" > /dev/null
worker
dphp-project get orchestration:audit:a1 | jq -r '.state.output |
  "  " + (to_entries | map("\(.key) \(.value)") | join(", "))'

echo
echo "notices sent (once each):"
cut -f2 "$BANK_NOTICES" | sed 's/^/  /'
echo
echo "the store is kept in $work"
