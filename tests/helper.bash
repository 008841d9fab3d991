# helper.bash - what every bats file of dphp shares: the libraries, the
# in-tree programs first on PATH, a fixed clock, and small helpers.
#
# not tested (and why):
# - power loss: kill -9 keeps the page cache, so it shows crash
#   atomicity, not durability; fsync failure is tested by injection.
# - permission errors: CI runs as root, which ignores file modes (a
#   read-only mount stands in for them, when root may mount).

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
FIX=$TOP/tests/fixtures
PATH=$TOP/cmd:$PATH
export LC_ALL=C
export DPHP_NOW=2026-11-27T10:00:00.000Z
unset DPHP_STORE DPHP_HANDLERS
export DPHP_SH=$TOP/lib/dphp.sh

# The store and handlers of one test (used by the .bats files).
S=$BATS_TEST_TMPDIR/store
# shellcheck disable=SC2034
H=$FIX/handlers

mkstore() {
	dphp-commit -d "$S" -i
}

# stderr must be exactly $1 (bats-assert 2.1 has no assert_stderr);
# bats sets $stderr in run --separate-stderr.
# shellcheck disable=SC2154
assert_stderr() {
	assert_equal "$stderr" "${1-}"
}

# Print an event line built by dphp-emit with a fixed id.
ev() {
	local id=$1
	shift
	dphp-emit -i "$id" "$@"
}

# A digest of everything in the store, to show that nothing changed.
store_digest() {
	(cd "$S" && find . -type f -print0 | sort -z | xargs -0 md5sum)
}

# Feed each bad line of the shared corpus, alone, to "CMD... FILE" (the
# arguments after PROG, the name in messages): each
# must stop the program with status 3, nothing on stdout, the located
# reason on stderr, and the store untouched.
refuses_bad_input() {
	local f=$BATS_TEST_TMPDIR/bad.ndjson prog=$1 before=
	shift
	if [ -d "$S" ]; then
		before=$(store_digest)
	fi
	while IFS='|' read -r kind why; do
		case $kind in
		truncated) printf '{"v":1,\n' ;;
		utf8) printf '{"v":"\377"}\n' ;;
		duplicate) printf '{"v":1,"v":2}\n' ;;
		array) printf '[{"v":1}]\n' ;;
		nul) printf '{"v":1}\0\n' ;;
		scalar) printf '42\n' ;;
		huge) head -c 16777217 /dev/zero | tr '\0' ' ' ;;
		esac > "$f"
		run --separate-stderr "$@" "$f"
		assert_failure 3
		assert_output ""
		assert_stderr "$prog: $f:1: $why"
	done <<'CORPUS'
truncated|invalid JSON: string or '}' expected near end of file (column 7)
utf8|invalid JSON: unable to decode byte 0xff near '"' (column 6)
duplicate|invalid JSON: duplicate object key near '"v"' (column 10)
array|record is not a JSON object
nul|NUL byte in line (column 8)
scalar|invalid JSON: '[' or '{' expected near '42' (column 2)
huge|line longer than 16777216 bytes
CORPUS
	if [ -d "$S" ]; then
		assert_equal "$(store_digest)" "$before"
	fi
}

# "$@ FILE" with stdout on a full disk: exit 4, said on stderr.
fails_on_full_disk() {
	run --separate-stderr sh -c '"$@" > /dev/full' sh "$@"
	assert_failure 4
	assert_output ""
	assert_stderr "$1: error: write error on <stdout>: No space left on device"
}

# Mount a filesystem at $1 for a fault test, or skip where that is not
# allowed (not root, no mount in this sandbox).
mount_or_skip() {
	[ "$(id -u)" = 0 ] || skip "needs root to mount"
	mkdir -p "$1"
	shift
	mount "$@" 2>/dev/null || skip "mount is not allowed here"
}

# The set-up of the tests of the journal: a store $S, its journal $J, a
# scratch directory $T, and what the bank example's handlers need.
bank_setup() {
	mkstore
	T=$BATS_TEST_TMPDIR
	# shellcheck disable=SC2034 # for the tests that call this
	J=$S/journal
	export DPHP_SH=$TOP/lib/dphp.sh BANK_NOTICES=$T/notices
}

# every live state, as dphp-project prints them, sorted by id
live() {
	dphp-project -d "$S" ls > "$T/ids"
	jq -r .id "$T/ids" > "$T/idlist"
	if [ -s "$T/idlist" ]; then
		xargs dphp-project -d "$S" get < "$T/idlist"
	fi
}

# some bank work through a worker (entities, orchestrations, an
# activity, a delete)
bank() {
	{
		ev d1 signal entity:account:alice deposit 100
		ev d2 signal entity:account:bob deposit 5
		ev t1 start orchestration:transfer:t1 '{"from":"alice","to":"bob","amount":30}'
		ev t2 start orchestration:transfer:t2 '{"from":"bob","to":"alice","amount":500}'
		ev x1 signal entity:account:carol deposit 1
		ev x2 delete entity:account:carol
	} > "$T/in"
	dphp-route -q -d "$S" "$T/in" > /dev/null
	{
		dphp-route -d "$S" -t -e | dphp-lock -d "$S" |
		    dphp-replay -d "$S" -k -x "$TOP/examples/bank/handlers" |
		    dphp-commit -d "$S" -k -b 16 -x "$TOP/examples/bank/handlers" > /dev/null
	} 2> "$T/errors"
}
