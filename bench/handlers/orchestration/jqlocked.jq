# jqlocked - one operation under a lock, for bench/locks.sh: lock the
# entity named by the input, call "add 1" on it, let go, and complete
# with its result.  In jq, so that the benchmark measures dphp rather
# than the start-up of a shell.
.input as $e | (.awaits | length) as $k
  | [{kind: "lock", entities: [$e]},
     {kind: "call", to: $e, op: "add", input: 1},
     {kind: "unlock"}] as $all
  | if $k == 0 then {actions: $all[0:1], await: {mode: "one", seqs: [0]}}
    elif $k == 1 then {actions: $all[0:2], await: {mode: "one", seqs: [1]}}
    else {actions: $all, output: .awaits[1].results[0].value}
    end
