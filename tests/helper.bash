# helper.bash - what every bats file of dphp shares: the libraries, the
# in-tree programs first on PATH, a fixed clock, and small helpers.
#
# not tested (and why):
# - power loss: kill -9 keeps the page cache, so it shows crash
#   atomicity, not durability; fsync failure is tested by injection.
# - permission errors: CI runs as root, which ignores file modes.
# - ENOSPC: needs a small tmpfs (root); left for the durable-queue tests.

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
