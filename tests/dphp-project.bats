#!/usr/bin/env bats
# dphp-project: get and ls over a store.

load helper

setup() {
	mkstore
	for id in entity:account:bob entity:account:alice entity:cart:c1 \
	    orchestration:transfer:t1 activity:mail:m1; do
		printf '{"of":"%s"}' "$id" > "$BATS_TEST_TMPDIR/s"
		dphp-commit -d "$S" -c -s "$id" "$BATS_TEST_TMPDIR/s" > /dev/null
	done
	dphp-commit -d "$S" -f -r entity:cart:c1 > /dev/null
}

@test "get prints each state with its ETag" {
	run --separate-stderr dphp-project -d "$S" get entity:account:alice activity:mail:m1
	assert_success
	assert_output - <<'OUT'
{"id":"entity:account:alice","etag":"1","state":{"of":"entity:account:alice"}}
{"id":"activity:mail:m1","etag":"1","state":{"of":"activity:mail:m1"}}
OUT
	assert_stderr ""
}

@test "get of a missing id says so, goes on, exits 1" {
	run --separate-stderr dphp-project -d "$S" get entity:cart:c1 entity:account:bob
	assert_failure 1
	assert_output '{"id":"entity:account:bob","etag":"1","state":{"of":"entity:account:bob"}}'
	assert_stderr "dphp-project: error: no state for 'entity:cart:c1'"
}

@test "get of an invalid id is a usage error, before any output" {
	run --separate-stderr dphp-project -d "$S" get entity:account:bob 'entity:a b:c'
	assert_failure 2
	assert_output ""
	assert_stderr "dphp-project: error: invalid id 'entity:a b:c': name must match [A-Za-z0-9._-] and not start with '.'"
}

@test "ls lists live ids sorted, by kind or kind and name" {
	run --separate-stderr dphp-project -d "$S" ls
	assert_success
	assert_output - <<'OUT'
{"id":"activity:mail:m1","etag":"1"}
{"id":"entity:account:alice","etag":"1"}
{"id":"entity:account:bob","etag":"1"}
{"id":"orchestration:transfer:t1","etag":"1"}
OUT
	assert_stderr ""
	run --separate-stderr dphp-project -d "$S" ls entity:account
	assert_stderr ""
	assert_success
	assert_output - <<'OUT'
{"id":"entity:account:alice","etag":"1"}
{"id":"entity:account:bob","etag":"1"}
OUT
	run --separate-stderr dphp-project -d "$S" ls orchestration
	assert_success
	assert_stderr ""
	assert_output '{"id":"orchestration:transfer:t1","etag":"1"}'
	run --separate-stderr dphp-project -d "$S" ls entity:nothing
	assert_stderr ""
	assert_success
	assert_output ""
}

@test "ls ignores what is not dphp's" {
	touch "$S/state/entity/account/stray.txt" "$S/state/entity/account/%41"
	mkdir "$S/state/entity/.hidden"
	run --separate-stderr dphp-project -d "$S" ls entity
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_stderr ""
}

@test "usage errors" {
	run --separate-stderr dphp-project -d "$S" ls planets
	assert_failure 2
	assert_output ""
	assert_stderr "dphp-project: error: invalid filter 'planets' (want KIND or KIND:NAME)"
	run --separate-stderr dphp-project -d "$S" show
	assert_output ""
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "usage: dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy] get id ..."
	run --separate-stderr dphp-project -d "$S" get
	assert_failure 2
	assert_output ""
	assert_equal "${stderr_lines[0]}" "usage: dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy] get id ..."
}

@test "a full disk" {
	fails_on_full_disk dphp-project -d "$S" ls
}
