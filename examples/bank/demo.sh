#!/bin/sh
# demo.sh - make demo: bank accounts (entities), transfers between them
# (orchestrations calling the accounts and a notify activity) on a fresh
# directory store.  Events flow through the streaming pipeline
#   dphp-route | dphp-lock | dphp-replay | dphp-commit
# and everything the handlers send is fed back, round after round, until
# nothing is left; then balances, transfers and notices are printed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH=$here/../../cmd:$PATH
work=$(mktemp -d "${TMPDIR:-/tmp}/dphp-demo.XXXXXX")
export DPHP_STORE="$work/store" DPHP_HANDLERS="$here/handlers"
export DPHP_SH="${DPHP_SH:-$here/../../lib/dphp.sh}" BANK_NOTICES="$work/notices"

dphp-commit -i
echo "dphp demo: bank accounts on the directory store $DPHP_STORE"
echo

{
	dphp-emit -b alice signal entity:account:alice deposit 100
	dphp-emit -b bob signal entity:account:bob deposit 50
	dphp-emit -b alice start orchestration:transfer:t1 \
	    '{"from":"alice","to":"carol","amount":30}'
	dphp-emit -b bob start orchestration:transfer:t2 \
	    '{"from":"bob","to":"alice","amount":80}'
	dphp-emit -b carol signal entity:account:carol transfer \
	    '{"to":"bob","amount":10}'
	dphp-emit -b alice signal entity:account:alice withdraw 20
} > "$work/in.1"

round=1
while [ -s "$work/in.$round" ]; do
	dphp-route "$work/in.$round" | dphp-lock | dphp-replay |
	    dphp-commit > "$work/commits.$round"
	jq -c '.emit[]' "$work/commits.$round" > "$work/in.$((round + 1))"
	printf 'round %d: %2d events applied, %2d sent\n' "$round" \
	    "$(wc -l < "$work/commits.$round")" \
	    "$(wc -l < "$work/in.$((round + 1))")"
	round=$((round + 1))
done

echo
echo "account operations:"
cat "$work"/commits.* | jq -r '
  def core: if .type then . else .event | core end;
  select(.target | startswith("entity:"))
  | (.input.event | core) as $e
  | "  \(.target | split(":")[2]) \($e.op) \($e.input | tojson) -> " +
    (if .failed then "refused: \(.failed)" else "etag \(.etag)" end)'

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
printf '  total\t%s (deposits 150 - withdrawals 20)\n' "$total"

echo
echo "notices sent (once each):"
sed 's/^/  /' "$BANK_NOTICES"
echo
echo "the store is kept in $work"
