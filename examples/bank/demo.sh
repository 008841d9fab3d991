#!/bin/sh
# demo.sh - make demo: bank accounts as dphp entities on a fresh
# directory store.  Events flow through the streaming pipeline
#   dphp-route | dphp-lock | dphp-replay | dphp-commit
# and the events the handlers emit (a transfer's deposit) are fed back
# until nothing is left; then the balances and refusals are printed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH=$here/../../cmd:$PATH
work=$(mktemp -d "${TMPDIR:-/tmp}/dphp-demo.XXXXXX")
export DPHP_STORE="$work/store" DPHP_HANDLERS="$here/handlers"

dphp-commit -i
echo "dphp demo: bank accounts on the directory store $DPHP_STORE"
echo

{
	dphp-emit -b alice signal entity:account:alice deposit 100
	dphp-emit -b bob signal entity:account:bob deposit 50
	dphp-emit -b alice signal entity:account:alice transfer \
	    '{"to":"carol","amount":30}'
	dphp-emit -b bob signal entity:account:bob withdraw 80
	dphp-emit -b carol signal entity:account:carol transfer \
	    '{"to":"bob","amount":10}'
	dphp-emit -b alice signal entity:account:alice withdraw 20
} > "$work/in.1"

round=1
while [ -s "$work/in.$round" ]; do
	dphp-route "$work/in.$round" | dphp-lock | dphp-replay |
	    dphp-commit > "$work/commits.$round"
	jq -c '.emit[] | select(.event.event.to | startswith("entity:"))' \
	    "$work/commits.$round" > "$work/in.$((round + 1))"
	printf 'round %d: %d events applied, %d emitted\n' "$round" \
	    "$(wc -l < "$work/commits.$round")" \
	    "$(wc -l < "$work/in.$((round + 1))")"
	round=$((round + 1))
done

echo
echo "operations:"
cat "$work"/commits.* | jq -r '
  def core: if .type then . else .event | core end;
  (.input.event | core) as $e
  | "  \(.target | split(":")[2]) \($e.op) \($e.input | tojson) -> " +
    (if .failed then "refused: \(.failed)" else "etag \(.etag)" end)'

echo
echo "balances:"
dphp-project ls entity:account | jq -r .id > "$work/ids"
# shellcheck disable=SC2046
dphp-project get $(cat "$work/ids") |
    jq -r '"  \(.id | split(":")[2])\t\(.state.state.balance)"'
# shellcheck disable=SC2046
total=$(dphp-project get $(cat "$work/ids") |
    jq -s 'map(.state.state.balance) | add')
printf '  total\t%s (deposits 150 - withdrawals 20)\n' "$total"
echo
echo "the store is kept in $work"
