# digest.jq - one line per proposal for the scenario tests: the event
# applied, what became of its target ("bound": the actions bound to each
# frozen await point, in the order their results arrived), and each
# event it sent as [id, destination, core event] (plus its delay).
def core: if has("type") then . else .event | core end;
def dest: if has("to") then .to else .event | dest end;
def delay: if has("delay") then .delay elif has("type") then null
    else .event | delay end;
def sent: [.id, (.event | dest), (.event | core)]
    + (if .event | delay then [{delay: (.event | delay)}] else [] end);
{in: .input.id}
+ (if .duplicate then {duplicate: true} else {} end)
+ (if .memoised then {memoised: true} else {} end)
+ (if .ignored then {ignored: .ignored} else {} end)
+ (if .state then .state | {status, generation, blocked, result, output,
    error, custom, bound: (.awaits // [] | map([.results[].seq]))}
    | with_entries(select(.value != null and .value != 0 and .value != []))
    else {} end)
+ {emit: [.emit[] | sent]}
