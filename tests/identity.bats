#!/usr/bin/env bats
# Who acts: HS256 tokens minted by dphp-emit -K, checked by dphp-route
# -K; every forgery rejected with its reason, nothing else lost.

load helper

# two keys, the second signs; "other" has a different secret under k2
K1=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
K2=202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f
KX=404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f

b64u() { basenc --base64url -w0 | tr -d '='; }
hexkey() { perl -e 'print pack("H*", $ARGV[0])' "$1" | b64u; }

setup() {
	T=$BATS_TEST_TMPDIR
	printf '# dphp keys\nk1 %s\n\nk2 %s\n' "$(hexkey $K1)" "$(hexkey $K2)" > "$T/keys"
	printf 'k1 %s\n' "$(hexkey $K1)" > "$T/old"
	printf 'k2 %s\n' "$(hexkey $KX)" > "$T/other"
	chmod 600 "$T/keys" "$T/old" "$T/other"
}

# a token with header $1 and claims $2 (JSON), signed with hex key $3
forge() {
	local h p
	h=$(printf '%s' "$1" | b64u)
	p=$(printf '%s' "$2" | b64u)
	printf '%s.%s.%s\n' "$h" "$p" "$(printf '%s.%s' "$h" "$p" |
	    openssl dgst -sha256 -mac HMAC -macopt "hexkey:${3:-$K2}" -binary | b64u)"
}

# an event to alice's account carrying token $1, id $2
signed() {
	ev "$2" -T "$1" signal entity:account:alice deposit 5
}

@test "a token proves who acts: the user it names replaces it, in a stream and in the queue" {
	tok=$(dphp-emit -K "$T/keys" token alice:user,admin 2h)
	signed "$tok" e1 > "$T/in"
	run --separate-stderr dphp-route -K "$T/keys" "$T/in"
	assert_success
	assert_stderr ""
	assert_output '{"v":1,"id":"e1","ts":"2026-11-27T10:00:00.000Z","event":{"to":"entity:account:alice","event":{"type":"signal","op":"deposit","input":5}},"by":{"user":"alice","roles":["user","admin"]}}'
	# the header names the signing key: the last of the file
	run sh -c 'cut -d. -f1 | tr -- "-_" "+/" | base64 -d 2>/dev/null' <<< "$tok"
	assert_output '{"alg":"HS256","kid":"k2","typ":"JWT"}'
	mkstore
	run --separate-stderr dphp-route -q -d "$S" -K "$T/keys" "$T/in"
	assert_success
	assert_stderr ""
	run sh -c 'cat "$1"/queue/new/*' sh "$S"
	assert_output '{"v":1,"id":"e1","ts":"2026-11-27T10:00:00.000Z","event":{"to":"entity:account:alice","event":{"type":"signal","op":"deposit","input":5}},"by":{"user":"alice","roles":["user","admin"]}}'
}

@test "keys rotate: a token signed with an older key is still good" {
	tok=$(dphp-emit -K "$T/old" token bob)
	signed "$tok" e1 > "$T/in"
	run --separate-stderr dphp-route -K "$T/keys" "$T/in"
	assert_success
	assert_stderr ""
	run jq -c .by <<< "$output"
	assert_output '{"user":"bob","roles":[]}'
}

@test "forged, tampered, expired, early and unsigned tokens are rejected with their reason; the rest goes on" {
	good=$(dphp-emit -K "$T/keys" token alice)
	mallory=$(dphp-emit -K "$T/other" token mallory:admin)
	tampered=$(printf '%s' "$good" | cut -d. -f1).$(printf '%s' "$mallory" | cut -d. -f2).$(printf '%s' "$good" | cut -d. -f3)
	old=$(dphp-emit -K "$T/keys" -t 2026-11-27T08:00:00Z token alice 1h)
	h='{"alg":"HS256","typ":"JWT"}'
	{
		signed "$good" ok1
		signed "$tampered" tampered
		signed "$mallory" wrongkey
		signed "$old" expired
		signed "$(forge "$h" '{"sub":"alice","exp":1795777200,"nbf":1795773660}')" early
		signed "$(forge '{"alg":"none"}' '{"sub":"alice","exp":1795777200}' | cut -d. -f1,2).x" none
		signed "$(forge '{"alg":"HS512"}' '{"sub":"alice","exp":1795777200}')" hs512
		signed "$(forge "$h" '{"sub":"alice"}')" noexp
		signed "$(forge '{"alg":"HS256","kid":"k9"}' '{"sub":"alice","exp":1795777200}')" unknownkid
		signed "$(forge "$h" '{"sub":"alice","exp":1795777200,"roles":["a b"]}')" badrole
		signed abc garbage
		signed 'a b.c!.d' notjwt
		signed "$(forge "$h" '{"sub":"alice","exp":1e300}')" hugeexp
		signed "$(forge "$h" '{"sub":"alice","exp":1795777200,"nbf":"soon"}')" badnbf
		ev claimed -b admin:admin signal entity:account:alice deposit 5
		signed "$(forge "$h" '{"sub":"carol","exp":1795777200}')" ok2
	} > "$T/in"
	run --separate-stderr dphp-route -K "$T/keys" -R "$T/rejects" "$T/in"
	assert_failure 3
	assert_stderr ""
	run jq -c '[.id, .by]' <<< "$output"
	assert_output - <<'OUT'
["ok1",{"user":"alice","roles":[]}]
["ok2",{"user":"carol","roles":[]}]
OUT
	run jq -r '"\(.line) \(.event.id): \(.reason) \(.event | has("token"))"' "$T/rejects"
	assert_output - <<'OUT'
2 tampered: the token's signature is not valid false
3 wrongkey: the token's signature is not valid false
4 expired: the token has expired false
5 early: the token is not valid yet (nbf) false
6 none: the token is not signed with HS256 false
7 hs512: the token is not signed with HS256 false
8 noexp: the token has no expiry (exp) false
9 unknownkid: the token's signature is not valid false
10 badrole: the token's claims are not valid false
11 garbage: not a JSON Web Token (header.claims.signature) false
12 notjwt: not a JSON Web Token (header.claims.signature) false
13 hugeexp: the token's exp and nbf must be times (seconds since 1970, before 10000) false
14 badnbf: the token's exp and nbf must be times (seconds since 1970, before 10000) false
15 claimed: it names a user but carries no token to prove it false
OUT
	# without -R, each is a located message
	run --separate-stderr dphp-route -K "$T/keys" "$T/in"
	assert_failure 3
	assert_equal "${#lines[@]}" 2
	assert_equal "${stderr_lines[0]}" "dphp-route: $T/in:2: event tampered rejected: the token's signature is not valid"
	assert_equal "${#stderr_lines[@]}" 14
}

@test "without keys a token is not believed; a user without a token is (a trusted pipeline)" {
	tok=$(dphp-emit -K "$T/keys" token alice)
	signed "$tok" e1 > "$T/in"
	ev e2 -b alice signal entity:account:alice deposit 5 >> "$T/in"
	run --separate-stderr dphp-route "$T/in"
	assert_failure 3
	assert_stderr "dphp-route: $T/in:1: event e1 rejected: it carries a token and there are no keys to check it (-K)"
	run jq -c '[.id, .by]' <<< "$output"
	assert_output '["e2",{"user":"alice"}]'
}

@test "key files: too short, malformed, empty or missing keys are refused, a configuration error; readable by others, warned" {
	printf 'k1 %s\n' "$(hexkey 0001020304)" > "$T/short"
	printf 'just-one-word\n' > "$T/malformed"
	printf '# nothing\n' > "$T/empty"
	chmod 600 "$T/short" "$T/malformed" "$T/empty"
	for f in short malformed; do
		run --separate-stderr dphp-route -K "$T/$f" /dev/null
		assert_failure 5
		assert_output ""
		assert_stderr "dphp-route: $T/$f:1: not a key: \"KID SECRET\", SECRET at least 32 bytes in base64url"
	done
	run --separate-stderr dphp-route -K "$T/empty" /dev/null
	assert_failure 5
	assert_stderr "dphp-route: $T/empty: no key"
	run --separate-stderr dphp-emit -K "$T/nothing" token alice
	assert_failure 5
	assert_output ""
	assert_stderr "dphp-emit: error: cannot open key file '$T/nothing': No such file or directory"
	chmod 644 "$T/keys"
	run --separate-stderr dphp-route -K "$T/keys" /dev/null
	assert_success
	assert_stderr "dphp-route: warning: key file '$T/keys' can be read by others than its owner"
}

@test "minting: bad users, roles and lifetimes are usage errors" {
	run --separate-stderr dphp-emit -K "$T/keys" token 'a b'
	assert_failure 2
	assert_stderr "dphp-emit: error: invalid user 'a b'"
	run --separate-stderr dphp-emit -K "$T/keys" token 'alice:x y'
	assert_failure 2
	assert_stderr "dphp-emit: error: invalid role in 'alice:x y'"
	run --separate-stderr dphp-emit -K "$T/keys" token alice soon
	assert_failure 2
	assert_stderr "dphp-emit: error: 'soon' is not a lifetime (a duration of 1s or more)"
	run --separate-stderr dphp-emit -K "$T/keys" -b alice token alice
	assert_failure 2
	assert_output ""
	run --separate-stderr dphp-emit -b alice -T x.y.z signal entity:a:b op
	assert_failure 2
	assert_output ""
}

@test "provenance: every event caused by alice's, down the whole chain, acts as alice" {
	mkstore
	H=$TOP/examples/bank/handlers
	export BANK_NOTICES=$T/notices
	tok=$(dphp-emit -K "$T/keys" token alice:user)
	{
		ev d1 -T "$tok" signal entity:account:alice deposit 100
		ev t1 -T "$tok" start orchestration:transfer:t1 '{"from":"alice","to":"bob","amount":30}'
	} > "$T/in"
	run --separate-stderr dphp-route -q -d "$S" -K "$T/keys" "$T/in"
	assert_success
	assert_stderr ""
	{
		dphp-route -d "$S" -t -e | dphp-lock -d "$S" | dphp-replay -d "$S" -x "$H" |
		    dphp-commit -d "$S" -x "$H" > "$T/commits"
	} 2> "$T/errors"
	assert_file_empty "$T/errors"
	run dphp-project -d "$S" get orchestration:transfer:t1
	run jq -c '.state | [.status, .by]' <<< "$output"
	assert_output '["completed",{"user":"alice","roles":["user"]}]'
	# every input applied and every event emitted: alice, and nobody else
	run jq -r '.input.by.user, .emit[].by.user' "$T/commits"
	[ "${#lines[@]}" -ge 10 ] || fail "only ${#lines[@]} events"
	run sh -c 'jq -r ".input.by.user, .emit[].by.user" "$1" | sort -u' sh "$T/commits"
	assert_output alice
}
