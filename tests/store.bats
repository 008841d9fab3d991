#!/usr/bin/env bats
# The directory store under stress: racing compare-and-set writers and
# writers killed with SIGKILL at random points.

load helper

setup() {
	mkstore
	ID=entity:counter:c
	printf '{"state":0}\n' > "$BATS_TEST_TMPDIR/zero"
	dphp-commit -d "$S" -c -s "$ID" "$BATS_TEST_TMPDIR/zero" > /dev/null
}

# One racer: M rounds of read, increment, compare-and-set; on a lost
# race it reads again.  Logs the ETag each win started from.
racer() {
	local me=$1 m=$2 won=0 rec etag n
	while [ "$won" -lt "$m" ]; do
		rec=$(dphp-commit -d "$S" -g "$ID") || return 1
		etag=${rec#*\"etag\":\"}
		etag=${etag%%\"*}
		n=${rec##*\"state\":}
		n=${n%%\}*}
		echo "{\"state\":$((n + 1))}" > "$BATS_TEST_TMPDIR/next.$me"
		if dphp-commit -d "$S" -e "$etag" -s "$ID" \
		    "$BATS_TEST_TMPDIR/next.$me" > /dev/null 2>&1; then
			echo "$etag" >> "$BATS_TEST_TMPDIR/won.$me"
			won=$((won + 1))
		fi
	done
}

@test "two racers, 2x150 rounds: one winner per round, no update lost" {
	racer a 150 3>&- &
	pa=$!
	racer b 150 3>&- &
	pb=$!
	wait "$pa"
	wait "$pb"
	run --separate-stderr dphp-commit -d "$S" -g "$ID"
	assert_success
	assert_output '{"id":"entity:counter:c","etag":"301","state":{"state":300}}'
	assert_stderr ""
	# every generation 1..300 was won from exactly once
	run sh -c "cat '$BATS_TEST_TMPDIR'/won.* | sort -n | uniq -d"
	assert_output ""
	run sh -c "cat '$BATS_TEST_TMPDIR'/won.* | sort -n | tr '\n' ' '"
	assert_output "$(seq 1 300 | tr '\n' ' ')"
}

# Proposals setting the counter to $1..$2, each built on the last (awk:
# a shell loop is slow under bats' trap).
proposals() {
	awk -v from="$1" -v to="$2" -v id="$ID" 'BEGIN {
		for (i = from; i <= to; i++)
			printf "{\"v\":1,\"kind\":\"proposal\",\"input\":{\"v\":1," \
			    "\"id\":\"p%d\",\"ts\":\"2026-11-27T10:00:00Z\",\"event\":" \
			    "{\"to\":\"%s\",\"event\":{\"type\":\"signal\",\"op\":" \
			    "\"set\"}}},\"target\":\"%s\",\"base\":\"%d\"," \
			    "\"state\":{\"state\":%d},\"emit\":[]}\n", i, id, id, i, i
	}'
}

@test "SIGKILL at random points: old-or-new, consistent ETags, no loss" {
	local round next=1 acked stored etag state
	for round in $(seq 1 25); do
		proposals "$next" $((next + 2000)) > "$BATS_TEST_TMPDIR/p"
		# -u: each commit record is printed once its commit is durable
		timeout -s KILL "0.0$((RANDOM % 9 + 1))" \
		    dphp-commit -u -d "$S" "$BATS_TEST_TMPDIR/p" \
		    > "$BATS_TEST_TMPDIR/acked" 2>&1 || true
		acked=$(grep -c '"kind":"commit"' "$BATS_TEST_TMPDIR/acked" || true)
		run --separate-stderr dphp-commit -d "$S" -g "$ID"
		assert_success
		assert_stderr ""
		etag=${output#*\"etag\":\"}
		etag=${etag%%\"*}
		state=${output##*\"state\":}
		state=${state%%\}*}
		# the state is the one its ETag names (state n has ETag n+1)
		assert_equal "$etag" $((state + 1))
		# every acknowledged commit is there; at most one more
		stored=$((state - next + 1))
		[ "$stored" -ge "$acked" ] && [ "$stored" -le $((acked + 1)) ] ||
		    fail "round $round: $acked acknowledged, $stored stored"
		assert_equal "$(cat "$S/state/entity/counter/c.etag")" "$etag"
		next=$((state + 1))
	done
	# and the store takes the next commit with no repair by hand
	proposals "$next" "$next" > "$BATS_TEST_TMPDIR/p"
	run --separate-stderr dphp-commit -d "$S" "$BATS_TEST_TMPDIR/p"
	assert_success
	assert_output --regexp "^\{\"v\":1,\"kind\":\"commit\",\"input\":\{\"v\":1,\"id\":\"p$next\",.*\"etag\":\"$((next + 1))\"\}\$"
	assert_stderr ""
}

@test "a read-only store is read, and refuses writes cleanly" {
	mount_or_skip "$BATS_TEST_TMPDIR/ro" --bind -o ro "$S" "$BATS_TEST_TMPDIR/ro"
	echo 7 > "$S/state/entity/counter/c.etag"	# stale: repair would write
	run --separate-stderr dphp-commit -d "$BATS_TEST_TMPDIR/ro" -g "$ID"
	assert_success
	assert_output '{"id":"entity:counter:c","etag":"1","state":{"state":0}}'
	assert_stderr ""
	run --separate-stderr dphp-commit -d "$BATS_TEST_TMPDIR/ro" -e 1 -s "$ID" "$BATS_TEST_TMPDIR/zero"
	assert_failure 4
	assert_output ""
	assert_stderr "dphp-commit: error: cannot open the journal: Read-only file system"
	umount "$BATS_TEST_TMPDIR/ro"
}

@test "a full disk fails the commit and leaves the old state, no temp file" {
	mount_or_skip "$BATS_TEST_TMPDIR/full" -t tmpfs -o size=64k tmpfs "$BATS_TEST_TMPDIR/full"
	dphp-commit -d "$BATS_TEST_TMPDIR/full/s" -i
	printf '{"state":"small"}' > "$BATS_TEST_TMPDIR/small"
	dphp-commit -d "$BATS_TEST_TMPDIR/full/s" -c -s entity:a:b "$BATS_TEST_TMPDIR/small" > /dev/null
	head -c 100000 /dev/zero | tr '\0' x | jq -Rs '{state: .}' > "$BATS_TEST_TMPDIR/big"
	run --separate-stderr dphp-commit -d "$BATS_TEST_TMPDIR/full/s" -e 1 -s entity:a:b "$BATS_TEST_TMPDIR/big"
	assert_failure 4
	assert_output ""
	# the journal, written ahead, is the first to find the disk full;
	# what it had written of the batch is taken back
	assert_stderr "dphp-commit: error: cannot append to 'journal/00000000000000000001.ndjson': No space left on device"
	run --separate-stderr dphp-commit -d "$BATS_TEST_TMPDIR/full/s" -g entity:a:b
	assert_success
	assert_output '{"id":"entity:a:b","etag":"1","state":{"state":"small"}}'
	assert_stderr ""
	run --separate-stderr dphp-replay -J -d "$BATS_TEST_TMPDIR/full/s"
	assert_success
	assert_output '{"id":"entity:a:b","etag":"1","state":{"state":"small"}}'
	assert_stderr ""
	assert_file_not_exists "$BATS_TEST_TMPDIR/full/s/state/entity/a/.b.tmp"
	umount "$BATS_TEST_TMPDIR/full"
}

# Proposals giving each of the $2 keys of round $1 the values 1..$3,
# interleaved (k1=1, k2=1, ..., k1=2, ...).
spread() {
	awk -v round="$1" -v keys="$2" -v values="$3" 'BEGIN {
		for (v = 1; v <= values; v++)
			for (k = 1; k <= keys; k++)
				printf "{\"v\":1,\"kind\":\"proposal\",\"input\":{\"v\":1," \
				    "\"id\":\"r%d.%d.%d\",\"ts\":\"2026-11-27T10:00:00Z\"," \
				    "\"event\":{\"to\":\"entity:r%d:k%d\",\"event\":{\"type\":" \
				    "\"signal\",\"op\":\"set\"}}},\"target\":\"entity:r%d:k%d\"," \
				    "\"base\":%s,\"state\":{\"state\":%d},\"emit\":[]}\n", round, k, v,
				    round, k, round, k, v == 1 ? "null" : "\"" (v - 1) "\"", v
	}'
}

@test "SIGKILL during group commits: acknowledged commits kept, state matches ETag" {
	local round k acked stored keys=12
	for round in $(seq 1 8); do
		spread "$round" "$keys" 300 > "$BATS_TEST_TMPDIR/p"
		timeout -s KILL "0.0$((RANDOM % 9 + 1))" \
		    dphp-commit -b 6 -u -d "$S" "$BATS_TEST_TMPDIR/p" \
		    > "$BATS_TEST_TMPDIR/acked" 2>/dev/null || true
		for k in $(seq 1 "$keys"); do
			acked=$(grep -c "\"target\":\"entity:r$round:k$k\"" \
			    "$BATS_TEST_TMPDIR/acked" || true)
			run --separate-stderr dphp-project -d "$S" get "entity:r$round:k$k"
			if [ "$status" != 0 ]; then
				[ "$acked" = 0 ] ||
				    fail "round $round: k$k acknowledged $acked times, absent"
				continue
			fi
			assert_stderr ""
			# state v has ETag v; one batch may be in flight
			run jq -r '"\(.etag) \(.state.state)"' <<< "$output"
			stored=${output% *}
			assert_equal "$output" "$stored $stored"
			[ "$stored" -ge "$acked" ] && [ "$stored" -le $((acked + 1)) ] ||
			    fail "round $round: k$k acknowledged $acked, stored $stored"
		done
	done
}

@test "a state overwritten in place, under a flock readers share: a shorter one is padded, a much shorter one cut" {
	T=$BATS_TEST_TMPDIR
	REC=$S/state/entity/counter/c
	jq -nc '{state: ("x" * 6000)}' > "$T/big"
	jq -nc '{state: ("y" * 300)}' > "$T/medium"
	# sizes: cut when less than half of a file past 4 KiB, else padded
	dphp-commit -d "$S" -f -s "$ID" "$T/big" > /dev/null
	[ "$(stat -c %s "$REC")" -gt 6000 ] || fail "$(stat -c %s "$REC")"
	dphp-commit -d "$S" -f -s "$ID" "$T/medium" > /dev/null
	assert_equal "$(stat -c %s "$REC")" "$(jq -c . "$REC" | wc -c)"
	size=$(stat -c %s "$REC")
	dphp-commit -d "$S" -f -s "$ID" "$T/zero" > /dev/null
	assert_equal "$(stat -c %s "$REC")" "$size"
	run jq -c . "$REC"
	assert_output '{"etag":"4","seq":4,"state":{"state":0}}'
	assert_equal "$(tail -c 1 "$REC" | od -An -c | tr -d ' ')" '\n'
	# a reader waits while the record is overwritten (an exclusive
	# flock), a writer while it is read (a shared one)
	run flock -x "$REC" timeout 1 dphp-commit -d "$S" -g "$ID"
	assert_failure 124
	assert_output ""
	run flock -s "$REC" timeout 1 dphp-commit -d "$S" -f -s "$ID" "$T/big"
	assert_failure 124
	assert_output ""
	run jq -c .state "$REC"
	assert_output '{"state":0}'
	# killed waiting, after its journal line: the next reader writes it
	run --separate-stderr dphp-commit -d "$S" -g "$ID"
	assert_success
	assert_stderr ""
	run jq -c '[.etag, (.state.state | length)]' <<< "$output"
	assert_output '["5",6000]'
}
