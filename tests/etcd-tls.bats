#!/usr/bin/env bats
# The etcd store over TLS, with client certificates and authentication
# on: one member on loopback, its CA and certificates made here, a user
# "dphp" allowed the prefix p/ only, tokens that last two seconds.

load helper

# openssl: an EC key and a certificate signed by the CA, for $1 (a
# subject), with the extensions $2
certify() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -subj "$1" -keyout "$TLS/$3.key" -out "$TLS/$3.csr" 2> /dev/null
	printf '%b' "$2" > "$TLS/$3.ext"
	openssl x509 -req -in "$TLS/$3.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" \
	    -CAcreateserial -days 2 -extfile "$TLS/$3.ext" -out "$TLS/$3.pem" 2> /dev/null
}

tctl() {
	ETCDCTL_API=3 etcdctl --endpoints "https://$TLS_HOST" --cacert "$TLS/ca.pem" \
	    --cert "$TLS/root.pem" --key "$TLS/root.key" "$@"
}

setup_file() {
	local port try
	command -v etcd > /dev/null || fail "no etcd: run .ci/ensure-deps"
	TLS=$(mktemp -d /tmp/dphp-etcd-tls.XXXXXX)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -days 2 -subj /CN=dphp-test-ca -keyout "$TLS/ca.key" -out "$TLS/ca.pem" 2> /dev/null
	certify /CN=127.0.0.1 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' server
	# the gateway takes no CommonName while authentication is on
	certify /O=dphp 'extendedKeyUsage=clientAuth\n' client
	certify /CN=dphp 'extendedKeyUsage=clientAuth\n' named
	certify /CN=root 'extendedKeyUsage=clientAuth\n' root
	echo secret > "$TLS/password"
	echo wrong > "$TLS/wrong"
	chmod 600 "$TLS"/*.key "$TLS/password" "$TLS/wrong"
	for try in 1 2 3; do
		port=$((20000 + RANDOM % 20000))
		TLS_HOST=127.0.0.1:$port
		etcd --name t --data-dir "$TLS/data" \
		    --listen-client-urls "https://$TLS_HOST" \
		    --advertise-client-urls "https://$TLS_HOST" \
		    --listen-peer-urls "http://127.0.0.1:$((port + 1))" \
		    --initial-advertise-peer-urls "http://127.0.0.1:$((port + 1))" \
		    --initial-cluster "t=http://127.0.0.1:$((port + 1))" \
		    --cert-file "$TLS/server.pem" --key-file "$TLS/server.key" \
		    --trusted-ca-file "$TLS/ca.pem" --client-cert-auth \
		    --auth-token-ttl 2 > "$TLS/etcd.log" 2>&1 &
		echo "$!" > "$TLS/pid"
		for _ in $(seq 50); do
			tctl endpoint health > /dev/null 2>&1 && break
			sleep 0.2
		done
		tctl endpoint health > /dev/null 2>&1 && break
		kill -9 "$(cat "$TLS/pid")" 2> /dev/null || true
		rm -rf "$TLS/data"
	done
	{
		tctl user add root:rootpw
		tctl role add dphp
		tctl role grant-permission dphp readwrite --prefix=true p/
		tctl user add dphp:secret
		tctl user grant-role dphp dphp
		tctl auth enable
	} > /dev/null 2>&1 || fail "etcd did not start: $(tail -5 "$TLS/etcd.log")"
	export TLS TLS_HOST
}

teardown_file() {
	kill -9 "$(cat "$TLS/pid")" 2> /dev/null || true
	rm -rf "$TLS"
}

setup() {
	T=$BATS_TEST_TMPDIR
	E=etcd://https://$TLS_HOST/p
	export DPHP_ETCD_CA=$TLS/ca.pem DPHP_ETCD_CERT=$TLS/client.pem \
	    DPHP_ETCD_KEY=$TLS/client.key DPHP_ETCD_USER=dphp \
	    DPHP_ETCD_PASSWORD_FILE=$TLS/password
}

@test "what etcd refuses is a configuration error that says what to set, exit 5" {
	local url="https://$TLS_HOST"
	while IFS='|' read -r vars want; do
		# shellcheck disable=SC2086 # the words of $vars are assignments
		run --separate-stderr env $vars dphp-commit -d "$E" -i
		assert_failure 5
		assert_output ""
		assert_stderr "$want"
	done <<CASES
DPHP_ETCD_CA=|dphp-commit: error: etcd $url: SSL certificate problem: unable to get local issuer certificate (DPHP_ETCD_CA, DPHP_ETCD_CERT, DPHP_ETCD_KEY)
DPHP_ETCD_CERT=$TLS/named.pem DPHP_ETCD_KEY=$TLS/named.key|dphp-commit: error: etcd $url: its gateway refuses a client certificate with a CommonName while authentication is on: give one without (DPHP_ETCD_CERT)
DPHP_ETCD_USER= DPHP_ETCD_PASSWORD_FILE=|dphp-commit: error: etcd $url: authentication is on: name a user (DPHP_ETCD_USER, DPHP_ETCD_PASSWORD_FILE)
DPHP_ETCD_PASSWORD_FILE=$TLS/wrong|dphp-commit: error: etcd $url: the user 'dphp' or its password is refused
DPHP_ETCD_PASSWORD_FILE=$TLS/none|dphp-commit: error: DPHP_ETCD_PASSWORD_FILE: cannot read '$TLS/none': No such file or directory
DPHP_ETCD_PASSWORD_FILE=|dphp-commit: error: DPHP_ETCD_USER without DPHP_ETCD_PASSWORD_FILE
CASES
	# no client certificate: the handshake's alert, in OpenSSL's words,
	# logging in or not
	for user in dphp ''; do
		run --separate-stderr env DPHP_ETCD_CERT= DPHP_ETCD_KEY= \
		    DPHP_ETCD_USER="$user" DPHP_ETCD_PASSWORD_FILE="${user:+$TLS/password}" \
		    dphp-commit -d "$E" -i
		assert_failure 5
		assert_output ""
		[[ $stderr == "dphp-commit: error: etcd $url: "*"alert bad certificate"*" (DPHP_ETCD_CA, DPHP_ETCD_CERT, DPHP_ETCD_KEY)" ]]
		assert_equal "${#stderr_lines[@]}" 1
	done
	run --separate-stderr dphp-commit -d "etcd://https://$TLS_HOST/q" -i
	assert_failure 5
	assert_output ""
	assert_stderr "dphp-commit: error: etcd $url/v3/kv/txn: permission denied to 'dphp'"
	run --separate-stderr dphp-commit -d "etcd://$TLS_HOST/p" -i
	assert_failure 5
	assert_output ""
	assert_stderr "dphp-commit: error: DPHP_ETCD_CA, _CERT and _KEY are for etcd over TLS: name the store etcd://https://HOST:PORT/PREFIX"
}

@test "the bank over TLS with a user: a transfer, a critical section, the change feed" {
	export DPHP_STORE=$E DPHP_HANDLERS=$TOP/examples/bank/handlers
	run --separate-stderr dphp-commit -i
	assert_success
	assert_output ""
	assert_stderr ""
	ev d1 signal entity:account:alice deposit 100 > "$T/in"
	ev t1 start orchestration:transfer:t1 '{"from":"alice","to":"bob","amount":5}' >> "$T/in"
	dphp-route -q "$T/in" > /dev/null
	dphp-route -t -e | dphp-lock | dphp-replay -k | dphp-commit -k > /dev/null 2> "$T/err"
	assert_file_empty "$T/err"
	run --separate-stderr dphp-project get orchestration:transfer:t1
	assert_success
	run jq -c '.state | [.status, .output]' <<< "$output"
	assert_output '["completed",{"alice":95,"bob":5}]'
	run --separate-stderr dphp-lock entity:account:alice entity:account:bob -- true
	assert_success
	assert_output ""
	assert_stderr ""
	run --separate-stderr dphp-project -o ndjson follow -e 'entity:*'
	assert_success
	assert_stderr ""
	run jq -c '[.id, .doc.state.balance]' <<< "$output"
	assert_output - <<'OUT'
["entity:account:alice",100]
["entity:account:alice",95]
["entity:account:bob",5]
OUT
}

@test "a token that ran out while a worker waited: it logs in again and goes on" {
	export DPHP_STORE=$E DPHP_HANDLERS=$TOP/tests/fixtures/handlers
	dphp-commit -i
	ev a signal entity:counter:c add 1 > "$T/a"
	ev b signal entity:counter:c add 1 > "$T/b"
	dphp-route -q "$T/a" > /dev/null
	setsid sh -c 'dphp-route -t -w | dphp-lock | dphp-replay -k | dphp-commit -k -u' \
	    > "$T/out" 2> "$T/err" &
	pid=$!
	for _ in $(seq 100); do
		[ -s "$T/out" ] && break
		sleep 0.1
	done
	sleep 4.5		# the tokens last two seconds
	dphp-route -q "$T/b" > /dev/null
	for _ in $(seq 100); do
		[ "$(wc -l < "$T/out")" -ge 2 ] && break
		sleep 0.1
	done
	kill -- "-$pid" 2> /dev/null || true
	wait "$pid" || true
	assert_file_empty "$T/err"
	run jq -c '[.input.id, .state.state]' "$T/out"
	assert_output - <<'OUT'
["a",1]
["b",2]
OUT
}
