#!/usr/bin/env bats
# Every EXAMPLES block of every man page is a transcript: "$ command"
# lines (continued by a final backslash or by "> " lines, as a shell
# shows them) followed by exactly what the command prints, stdout and
# stderr together.  Each page's
# examples run in order in a fresh directory, where DPHP_STORE names
# an empty store and DPHP_HANDLERS the bank example's handlers.

load helper

# Print the examples of page $1 as NUL-separated "command" / "output".
transcript() {
	awk '
	/^\.Sh / { ex = ($2 == "EXAMPLES") }
	ex && /^\.Bd -literal/ { lit = 1; next }
	ex && /^\.Ed/ { flush(); lit = 0; next }
	function flush() {
		if (cmd != "")
			printf "%s%c%s%c", cmd, 0, out, 0
		cmd = ""; out = ""
	}
	function unesc(s) {
		gsub(/\\&/, "", s)
		gsub(/\\\(aq/, "\047", s)
		gsub(/\\e/, "\\", s)
		return s
	}
	lit && cont { cmd = cmd "\n" unesc($0); cont = /\\e$/; next }
	lit && /^\$ / { flush(); cmd = unesc(substr($0, 3)); cont = /\\e$/; next }
	lit && cmd != "" && out == "" && /^> / { cmd = cmd "\n" unesc(substr($0, 3)); next }
	lit && cmd != "" { out = out (out == "" ? "" : "\n") unesc($0) }
	' "$1"
}

examples() {
	local page=$TOP/man/$1 cmd want n=0
	mkdir "$BATS_TEST_TMPDIR/ex"
	cd "$BATS_TEST_TMPDIR/ex" || return 1
	export DPHP_STORE=$PWD/store DPHP_HANDLERS=$TOP/examples/bank/handlers
	dphp-commit -i
	transcript "$page" > "$BATS_TEST_TMPDIR/t"
	while IFS= read -r -d '' cmd && IFS= read -r -d '' want; do
		n=$((n + 1))
		run sh -c "$cmd"
		[ "$output" = "$want" ] || fail "$1 example $n: $cmd
-- want --
$want
-- got (status $status) --
$output"
	done < "$BATS_TEST_TMPDIR/t"
	[ "$n" -gt 0 ] || fail "$1 has no examples"
}

@test "dphp.7 examples" { examples dphp.7; }
@test "dphp-event.5 examples" { examples dphp-event.5; }
@test "dphp-store.5 examples" { examples dphp-store.5; }
@test "dphp-handler.5 examples" { examples dphp-handler.5; }
@test "dphp-policy.5 examples" { examples dphp-policy.5; }
@test "dphp-emit.1 examples" { examples dphp-emit.1; }
@test "dphp-route.1 examples" { examples dphp-route.1; }
@test "dphp-replay.1 examples" { examples dphp-replay.1; }
@test "dphp-commit.1 examples" { examples dphp-commit.1; }
@test "dphp-lock.1 examples" { examples dphp-lock.1; }
@test "dphp-project.1 examples" { examples dphp-project.1; }

@test "every man page is mandoc -Tlint clean" {
	run mandoc -Tlint -Wwarning "$TOP"/man/*.[157]
	assert_success
	assert_output ""
}
