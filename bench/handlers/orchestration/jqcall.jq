# jqcall - the same operation without the lock, for bench/locks.sh: call
# "add 1" on the entity named by the input and complete with its result.
.input as $e
  | [{kind: "call", to: $e, op: "add", input: 1}] as $all
  | if (.awaits | length) == 0
    then {actions: $all, await: {mode: "one", seqs: [0]}}
    else {actions: $all, output: .awaits[0].results[0].value}
    end
