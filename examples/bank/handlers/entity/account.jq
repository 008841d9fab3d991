# account - a bank account entity for dphp-replay (see dphp-handler(5)).
# Operations: deposit N, withdraw N, transfer {"to":KEY,"amount":N},
# balance.  A transfer withdraws here and signals a deposit to the other
# account; a refused operation answers {"error": REASON}.
  (.state // {balance: 0}) as $s
  | .input as $in
  | def positive: type == "number" and . > 0;
  if .op == "deposit" then
    if ($in | positive) | not then {error: "deposit needs a positive amount"}
    else {state: {balance: ($s.balance + $in)}, result: ($s.balance + $in)}
    end
  elif .op == "withdraw" then
    if ($in | positive) | not then {error: "withdraw needs a positive amount"}
    elif $in > $s.balance then {error: "insufficient funds"}
    else {state: {balance: ($s.balance - $in)}, result: ($s.balance - $in)}
    end
  elif .op == "transfer" then
    if ($in.amount | positive) | not then {error: "transfer needs a positive amount"}
    elif $in.amount > $s.balance then {error: "insufficient funds"}
    else {state: {balance: ($s.balance - $in.amount)},
          result: ($s.balance - $in.amount),
          emit: [{to: ("entity:account:" + $in.to),
                  event: {type: "signal", op: "deposit", input: $in.amount}}]}
    end
  elif .op == "balance" then {result: $s.balance}
  else {error: ("unknown operation " + .op)}
  end
