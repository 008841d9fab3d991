# jqcounter - a counter in one jq program, for make bench.
((.state // 0) + (.input // 1)) as $n | {state: $n, result: $n}
