#!/usr/bin/env bats
# Snapshots (dphp-project export, dphp-commit -I) and archives of the
# journal (dphp-project archive): tar through libarchive, the same
# bytes for the same content, read back whatever their compression.

load helper

setup() {
	bank_setup
}

# the bank's work, and an account with an ownership record: ann's
owned() {
	bank
	assert_file_empty "$T/errors"
	printf 'entity account explicit user:ann\n' > "$T/policy"
	dphp-emit -i z1 -b ann signal entity:account:zed deposit 3 > "$T/z"
	dphp-route -q -d "$S" -P "$T/policy" "$T/z" > /dev/null
	dphp-route -d "$S" -P "$T/policy" -t -e |
	    dphp-replay -d "$S" -x "$TOP/examples/bank/handlers" |
	    dphp-commit -d "$S" > /dev/null
}

# every state of store $1 without its ETag, sorted
states() {
	dphp-project -d "$1" ls > "$T/ids.$$"
	jq -r .id "$T/ids.$$" | xargs dphp-project -d "$1" get | jq -c '{id, state}'
}

@test "export: a tar of the states and ownership records, sorted, owned by nobody, the same bytes every time" {
	owned
	dphp-project -d "$S" export > "$T/a.tar"
	dphp-project -d "$S" export > "$T/b.tar"
	cmp "$T/a.tar" "$T/b.tar"
	run tar -tvf "$T/a.tar"
	assert_success
	assert_equal "$(awk '{ print $1, $2, $4, $5, $6 }' <<< "$output")" "$(cat <<'OUT'
-rw-r--r-- 0/0 1970-01-01 00:00 owner/entity/account/zed
-rw-r--r-- 0/0 1970-01-01 00:00 state/activity/notify/t1%2E0%2E2
-rw-r--r-- 0/0 1970-01-01 00:00 state/entity/account/alice
-rw-r--r-- 0/0 1970-01-01 00:00 state/entity/account/bob
-rw-r--r-- 0/0 1970-01-01 00:00 state/entity/account/zed
-rw-r--r-- 0/0 1970-01-01 00:00 state/orchestration/transfer/t1
-rw-r--r-- 0/0 1970-01-01 00:00 state/orchestration/transfer/t2
OUT
)"
	run tar -tf "$T/a.tar"
	assert_output - <<'OUT'
owner/entity/account/zed
state/activity/notify/t1%2E0%2E2
state/entity/account/alice
state/entity/account/bob
state/entity/account/zed
state/orchestration/transfer/t1
state/orchestration/transfer/t2
OUT
	# each entry is what dphp-project prints
	run tar -xOf "$T/a.tar" state/entity/account/alice
	assert_output "$(dphp-project -d "$S" get entity:account:alice)"
	run tar -xOf "$T/a.tar" owner/entity/account/zed
	assert_output "$(dphp-project -d "$S" owner entity:account:zed)"
	# a subset
	run --separate-stderr dphp-project -d "$S" export 'entity:account:[ab]*' orchestration:transfer:t2
	assert_success
	assert_stderr ""
	dphp-project -d "$S" export 'entity:account:[ab]*' orchestration:transfer:t2 > "$T/sub.tar"
	run tar -tf "$T/sub.tar"
	assert_output - <<'OUT'
state/entity/account/alice
state/entity/account/bob
state/orchestration/transfer/t2
OUT
}

@test "export compressed with gzip, xz, zstd or bzip2: reproducible, and the same tar inside" {
	owned
	# a key longer than a ustar name holds
	long=$(printf 'k%.0s' $(seq 1 150))
	printf '{"state":{"n":1}}' > "$T/s"
	dphp-commit -d "$S" -f -s "entity:counter:$long" "$T/s" > /dev/null
	dphp-project -d "$S" export > "$T/plain.tar"
	run tar -tf "$T/plain.tar"
	assert_line "state/entity/counter/$long"
	for z in gzip xz zstd bzip2; do
		dphp-project -d "$S" -z "$z" export > "$T/1.$z"
		dphp-project -d "$S" -z "$z" export > "$T/2.$z"
		cmp "$T/1.$z" "$T/2.$z"
		"$z" -dc < "$T/1.$z" > "$T/inside.tar"
		cmp "$T/plain.tar" "$T/inside.tar"
	done
	# gzip's header holds no time
	run od -An -tx1 -j4 -N4 "$T/1.gzip"
	assert_output " 00 00 00 00"
}

@test "import: into an empty store gives the same states; again changes nothing; differences refused unless -f; a bad archive writes nothing" {
	owned
	dphp-project -d "$S" -z zstd export > "$T/snap.tar.zst"
	S2=$T/two
	dphp-commit -d "$S2" -i
	run --separate-stderr dphp-commit -d "$S2" -I "$T/snap.tar.zst"
	assert_success
	assert_stderr ""
	assert_output '{"imported":7,"unchanged":0,"refused":0}'
	assert_equal "$(states "$S2")" "$(states "$S")"
	run dphp-project -d "$S2" owner entity:account:zed
	assert_output "$(dphp-project -d "$S" owner entity:account:zed | sed 's/"etag":"[0-9]*"/"etag":"1"/')"
	# the imported states are journaled like any commit
	run dphp-replay -J -d "$S2" -c
	assert_success
	assert_output ""
	run --separate-stderr dphp-commit -d "$S2" -I "$T/snap.tar.zst"
	assert_success
	assert_output '{"imported":0,"unchanged":7,"refused":0}'
	# one differs: nothing written, unless -f
	printf '{"state":{"balance":1}}' > "$T/s"
	dphp-commit -d "$S2" -f -s entity:account:bob "$T/s" > /dev/null
	dphp-commit -d "$S2" -f -r entity:account:alice > /dev/null
	before=$(cd "$S2" && find state owner -type f | sort | xargs md5sum)
	run --separate-stderr dphp-commit -d "$S2" -I "$T/snap.tar.zst"
	assert_failure 1
	assert_output '{"imported":0,"unchanged":5,"refused":1}'
	assert_stderr "dphp-commit: error: $T/snap.tar.zst: 'entity:account:bob' exists with another state (-f: replace it)"
	assert_equal "$(cd "$S2" && find state owner -type f | sort | xargs md5sum)" "$before"
	run --separate-stderr dphp-commit -d "$S2" -f -I "$T/snap.tar.zst" 'entity:account:*'
	assert_success
	assert_stderr ""
	assert_output '{"imported":2,"unchanged":2,"refused":0}'
	assert_equal "$(states "$S2")" "$(states "$S")"
}

@test "import from standard input (-), into a store it makes when there is none" {
	owned
	dphp-project -d "$S" -z gzip export > "$T/snap.tar.gz"
	run --separate-stderr dphp-commit -d "$T/new" -I - < "$T/snap.tar.gz"
	assert_success
	assert_stderr ""
	assert_output '{"imported":7,"unchanged":0,"refused":0}'
	assert_equal "$(states "$T/new")" "$(states "$S")"
	assert_file_exists "$T/new/FORMAT"
	# read twice from a pipe too (checked, then written)
	run --separate-stderr sh -c 'dphp-commit -d "$1" -I - < "$2"' sh "$T/new" "$T/snap.tar.gz"
	assert_success
	assert_output '{"imported":0,"unchanged":7,"refused":0}'
	echo 'not a snapshot' > "$T/bad"
	run --separate-stderr dphp-commit -d "$T/new" -I - < "$T/bad"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-commit: <stdin>:1: want {\"id\",\"etag\",\"state\"}: '[' or '{' expected near 'not'"
	mkdir "$T/other" && touch "$T/other/file"
	run --separate-stderr dphp-commit -d "$T/other" -I "$T/snap.tar.gz"
	assert_failure 5
	assert_output ""
	assert_stderr "dphp-commit: error: '$T/other' is not empty and not a dphp store"
}

@test "import: entries out of place, not JSON or not records are located errors, and nothing is written" {
	owned
	S2=$T/two
	dphp-commit -d "$S2" -i
	mkdir -p "$T/x/state/entity/account" "$T/x/owner/entity/account" "$T/x/other"
	dphp-project -d "$S" get entity:account:alice > "$T/x/state/entity/account/alice"
	dphp-project -d "$S" get entity:account:bob > "$T/x/state/entity/account/bob"
	before=$(cd "$S2" && find . -type f | sort | xargs md5sum)
	for bad in moved notjson norecord other; do
		cp "$T/x/state/entity/account/alice" "$T/alice"
		rm -rf "$T/y" && cp -r "$T/x" "$T/y"
		case $bad in
		moved) cp "$T/alice" "$T/y/state/entity/account/bob" ;;
		notjson) echo '{"id":' > "$T/y/state/entity/account/bob" ;;
		norecord) echo '{"id":"entity:account:bob","etag":"1"}' > "$T/y/state/entity/account/bob" ;;
		other) echo '{}' > "$T/y/other/f" ;;
		esac
		(cd "$T/y" && tar -cf "$T/$bad.tar" state other)
		run --separate-stderr dphp-commit -d "$S2" -I "$T/$bad.tar"
		assert_failure 3
		assert_output ""
		case $bad in
		moved) assert_stderr "dphp-commit: $T/moved.tar:state/entity/account/bob: the record of 'entity:account:alice' belongs elsewhere" ;;
		notjson) assert_stderr "dphp-commit: $T/notjson.tar:state/entity/account/bob: want {\"id\",\"etag\",\"state\"}: unexpected token near end of file" ;;
		norecord) assert_stderr "dphp-commit: $T/norecord.tar:state/entity/account/bob: want {\"id\",\"etag\",\"state\"}" ;;
		other) assert_stderr "dphp-commit: $T/other.tar:other/: a directory where no record goes" ;;
		esac
		assert_equal "$(cd "$S2" && find . -type f | sort | xargs md5sum)" "$before"
	done
	# neither a tar nor lines of records
	echo 'not a tar' > "$T/junk"
	run --separate-stderr dphp-commit -d "$S2" -I "$T/junk"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-commit: $T/junk:1: want {\"id\",\"etag\",\"state\"}: '[' or '{' expected near 'not'"
	run --separate-stderr dphp-commit -d "$S2" -I "$T/missing"
	assert_failure 4
	assert_output ""
	[[ $stderr == "dphp-commit: error: cannot read '$T/missing': "* ]]
}

# Run "$@", its peak memory in KiB the last line of $T/peak.
peak() {
	command time -f %M -o "$T/peak" "$@"
}

@test "hostile archives: links, stray directories, owner records of the wrong shape, unknown fields, records over 16 MiB: located, exit 3, nothing written" {
	owned
	S2=$T/two
	dphp-commit -d "$S2" -i
	mkdir -p "$T/x/state/entity/account" "$T/x/owner/entity/account"
	dphp-project -d "$S" get entity:account:alice > "$T/x/state/entity/account/alice"
	before=$(cd "$S2" && find . -type f | sort | xargs md5sum)
	big() {
		printf '{"id":"entity:account:big","etag":"1","state":{"state":"'
		head -c 41943040 /dev/zero | tr '\0' x
		printf '","seen":{}}}\n'
	}
	for bad in symlink hardlink fifo dir owner shares unknown big; do
		rm -rf "$T/y" && cp -r "$T/x" "$T/y"
		set -- state owner
		case $bad in
		symlink) ln -s /etc/passwd "$T/y/state/entity/account/bob" ;;
		hardlink)
			ln "$T/y/state/entity/account/alice" "$T/y/state/entity/account/zed"
			set -- state/entity/account/alice state/entity/account/zed ;;
		fifo) mkfifo "$T/y/state/entity/account/bob" ;;
		dir) mkdir "$T/y/state/entity/account/bob" ;;
		owner) echo '{"id":"entity:account:ann","etag":"1","owner":{"owners":"ann"}}' > "$T/y/owner/entity/account/ann" ;;
		shares) echo '{"id":"entity:account:ann","etag":"1","owner":{"owners":["ann"],"shares":[{"user":"bob","ops":["steal"]}]}}' > "$T/y/owner/entity/account/ann" ;;
		unknown) jq -c '.x = 1' "$T/x/state/entity/account/alice" > "$T/y/state/entity/account/alice" ;;
		big) big > "$T/y/state/entity/account/big" ;;
		esac
		(cd "$T/y" && tar -cf "$T/$bad.tar" "$@")
		run --separate-stderr peak dphp-commit -d "$S2" -I "$T/$bad.tar"
		assert_failure 3
		assert_output ""
		case $bad in
		symlink) assert_stderr "dphp-commit: $T/symlink.tar:state/entity/account/bob: a symbolic link, not a record" ;;
		hardlink) assert_stderr "dphp-commit: $T/hardlink.tar:state/entity/account/zed: a hard link, not a record" ;;
		fifo) assert_stderr "dphp-commit: $T/fifo.tar:state/entity/account/bob: not a regular file, not a record" ;;
		dir) assert_stderr "dphp-commit: $T/dir.tar:state/entity/account/bob/: a directory where no record goes" ;;
		owner) assert_stderr "dphp-commit: $T/owner.tar:owner/entity/account/ann: 'owners' must be an array of user names" ;;
		shares) assert_stderr "dphp-commit: $T/shares.tar:owner/entity/account/ann: shares[0]: want {\"user\" or \"role\",\"ops\"}, with one operation or more" ;;
		unknown) assert_stderr "dphp-commit: $T/unknown.tar:state/entity/account/alice: unknown field 'x' in a record" ;;
		big) assert_stderr "dphp-commit: $T/big.tar:state/entity/account/big: longer than a record may be (16777216 bytes and a newline)" ;;
		esac
		assert_equal "$(cd "$S2" && find . -type f | sort | xargs md5sum)" "$before"
	done
	# a 40 MiB record in a 40 MiB tar entry, a line of records and a
	# journal: refused without being held whole (the sanitizers' memory
	# is not the program's)
	big > "$T/big.ndjson"
	gzip -k "$T/big.ndjson"
	run --separate-stderr peak dphp-commit -d "$S2" -I "$T/big.ndjson.gz"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-commit: $T/big.ndjson.gz:1: line longer than 16777216 bytes"
	[ -n "${ASAN_OPTIONS-}" ] || [ "$(tail -n 1 "$T/peak")" -lt 65536 ] ||
	    fail "dphp-commit -I held $(tail -n 1 "$T/peak") KiB"
	# a segment of a journal with one batch, then the big line
	{
		cat "$(ls "$S"/journal/0*.ndjson | head -n 1)"
		jq -c '{seq: 1000000, b: 1000000, n: 1, id: "entity:account:big", etag: "1", at: "2026-11-27T10:00:00.000Z", state: .state}' \
		    "$T/big.ndjson"
	} > "$T/segment.ndjson"
	n=$(($(wc -l < "$T/segment.ndjson")))
	run --separate-stderr peak dphp-replay -J "$T/segment.ndjson"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-replay: $T/segment.ndjson:$n: corrupt journal line: longer than a journal line may be"
	[ -n "${ASAN_OPTIONS-}" ] || [ "$(tail -n 1 "$T/peak")" -lt 65536 ] ||
	    fail "dphp-replay -J held $(tail -n 1 "$T/peak") KiB"
}

@test "a tar as tar(1) makes it, with the directories on the way to its records, is imported" {
	owned
	S2=$T/two
	dphp-commit -d "$S2" -i
	mkdir "$T/x"
	(cd "$T/x" && tar -xf - ) < <(dphp-project -d "$S" export)
	(cd "$T/x" && tar -cf "$T/retarred.tar" state owner)
	run --separate-stderr tar -tf "$T/retarred.tar"
	assert_line state/
	assert_line owner/entity/account/
	run --separate-stderr dphp-commit -d "$S2" -I "$T/retarred.tar"
	assert_success
	assert_stderr ""
	assert_output --regexp '^\{"imported":[0-9]+,"unchanged":0,"refused":0\}$'
	assert_equal "$(states "$S2")" "$(states "$S")"
}

@test "import of records as dphp-replay -J and dphp-project print them: a scratch store as the store was" {
	owned
	dphp-replay -J -d "$S" -S 6 > "$T/then.ndjson"
	dphp-project -d "$S" owner entity:account:zed > "$T/owners.ndjson"
	S2=$T/two
	dphp-commit -d "$S2" -i
	run --separate-stderr dphp-commit -d "$S2" -I "$T/then.ndjson"
	assert_success
	assert_stderr ""
	assert_output "{\"imported\":$(grep -c . "$T/then.ndjson"),\"unchanged\":0,\"refused\":0}"
	assert_equal "$(states "$S2")" "$(jq -c '{id, state}' "$T/then.ndjson")"
	gzip -c "$T/owners.ndjson" > "$T/owners.gz"
	run --separate-stderr dphp-commit -d "$S2" -I "$T/owners.gz"
	assert_success
	assert_output '{"imported":1,"unchanged":0,"refused":0}'
	printf '\n{"id":"entity:account:x","etag":"1","state":{"state":{}}}\n{"id":"entity:account:y"}\n' > "$T/bad.ndjson"
	run --separate-stderr dphp-commit -d "$S2" -I "$T/bad.ndjson"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-commit: $T/bad.ndjson:3: want {\"id\",\"etag\",\"state\"}"
	run dphp-project -d "$S2" get entity:account:x
	assert_failure 1
	# an entity's state its handler would not see is refused too
	printf '{"id":"entity:account:x","etag":"1","state":{"balance":1}}\n' > "$T/bad.ndjson"
	run --separate-stderr dphp-commit -d "$S2" -I "$T/bad.ndjson"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-commit: $T/bad.ndjson:1: an entity's document is {\"state\":STATE,\"seen\":WINDOW}; this one has 'balance'"
}

@test "archive: the journal's full segments, a tar that dphp-replay -J reads with the segment still written" {
	export DPHP_JOURNAL_SEGMENT_MAX=2000
	bank
	assert_file_empty "$T/errors"
	(cd "$J" && ls -- *.ndjson) > "$T/segs"
	[ "$(grep -c . "$T/segs")" -ge 3 ] || fail "want several segments: $(cat "$T/segs")"
	dphp-project -d "$S" -z zstd archive > "$T/j.tar.zst"
	dphp-project -d "$S" -z zstd archive > "$T/k.tar.zst"
	cmp "$T/j.tar.zst" "$T/k.tar.zst"
	run tar -tf "$T/j.tar.zst"
	assert_output "$(head -n -1 "$T/segs")"
	run --separate-stderr dphp-replay -J "$T/j.tar.zst" "$J/$(tail -n 1 "$T/segs")"
	assert_success
	assert_stderr ""
	assert_output "$(dphp-replay -J -d "$S")"
	# the archived segments removed: a follower from before them refuses
	tar -tf "$T/j.tar.zst" | sed "s,^,$J/," | xargs rm
	first=$(cd "$J" && ls -- *.ndjson)
	first=$((10#${first%.ndjson}))
	run --separate-stderr dphp-project -d "$S" follow -e
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-project: error: $J begins at seq $first: the lines after 0 were archived (replay the archive with dphp-replay -J)"
	run --separate-stderr dphp-project -d "$S" follow -e -S $((first - 1))
	assert_success
	assert_stderr ""
	assert_output "$(jq -c 'select(.seq) | del(.crc)' "$J"/*.ndjson)"
}

@test "export and archive onto a full disk fail, exit 4" {
	bank
	for cmd in export archive; do
		run --separate-stderr sh -c 'dphp-project -d "$1" "$2" > /dev/full' sh "$S" "$cmd"
		assert_failure 4
		assert_output ""
		[ "$cmd" = export ] && what=snapshot || what=archive
		assert_stderr "dphp-project: error: cannot write the $what: Write error"
	done
}

@test "export, archive and import: usage" {
	run --separate-stderr dphp-project -d "$S" -z lz4 export
	assert_failure 2
	assert_output ""
	assert_stderr "dphp-project: error: invalid filter 'lz4' (gzip, xz, zstd or bzip2)"
	run --separate-stderr dphp-project -d "$S" -P /dev/null export
	assert_failure 2
	assert_stderr "dphp-project: error: export reads the whole store, not what a user may: run it without a policy"
	run --separate-stderr dphp-project -d "$S" export planets
	assert_failure 2
	assert_stderr "dphp-project: error: invalid pattern 'planets': a pattern begins with a kind: entity, orchestration or activity"
	run --separate-stderr dphp-project -d "$S" archive entity
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "usage: dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy] get id ..."
	run --separate-stderr dphp-project -d "$S" -z gzip ls
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "usage: dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy] get id ..."
	run --separate-stderr dphp-commit -d "$S" -c -I "$T/x"
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "dphp-commit: error: -c and -e go with -s or -r"
	assert_equal "${stderr_lines[1]}" "usage: dphp-commit [-d store] -i"
	run --separate-stderr dphp-commit -d "$S" -I "$T/x" planets
	assert_failure 2
	assert_stderr "dphp-commit: error: invalid pattern 'planets': a pattern begins with a kind: entity, orchestration or activity"
}

@test "every mutation of a snapshot's records: imported, or refused, located, with nothing written" {
	S2=$T/two
	dphp-commit -d "$S2" -i
	before=$(cd "$S2" && find . -type f | sort | xargs md5sum)
	{
		echo '{"id":"entity:account:alice","etag":"3","state":{"state":{"balance":70},"seen":{"d1":"2026-11-27T10:00:00.000Z"}}}'
		echo '{"id":"entity:account:zed","etag":"1","owner":{"owners":["ann"],"shares":[{"user":"bob","ops":["call","read"]},{"role":"auditor","ops":["read"]}],"expiry":{"at":"2026-11-27T11:00:00.000Z","event":"x1"}}}'
	} > "$T/records"
	# at each path of each record, the value replaced by null, 5, "x",
	# {} or [], or removed: one record a file
	jq -c '. as $d | paths as $p | (null, 5, "x", {}, [], "(removed)") as $v |
	    if $v == "(removed)" then $d | delpaths([$p]) else $d | setpath($p; $v) end' \
	    "$T/records" > "$T/mutants"
	imported=0 refused=0 n=0
	while IFS= read -r rec; do
		n=$((n + 1))
		printf '%s\n' "$rec" > "$T/m$n"
		run --separate-stderr dphp-commit -d "$S2" -I "$T/m$n" < /dev/null
		case $status in
		0)	assert_output '{"imported":1,"unchanged":0,"refused":0}'
			assert_stderr ""
			imported=$((imported + 1))
			rm -rf "$S2" && dphp-commit -d "$S2" -i ;;
		3)	assert_output ""
			[[ $stderr == "dphp-commit: $T/m$n:1: "* ]] || fail "$rec: $stderr"
			assert_equal "$(cd "$S2" && find . -type f | sort | xargs md5sum)" "$before"
			refused=$((refused + 1)) ;;
		*)	fail "$rec: status $status: $stderr" ;;
		esac
	done < "$T/mutants"
	# the state's content is the entity's own; the rest is checked
	assert_equal "$imported $refused" "34 116"
}
