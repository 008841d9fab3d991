#!/usr/bin/env bats
# dphp-project follow: the journal as a change feed, resumable from a
# checkpoint, and projected into read models (documents, SQLite,
# PostgreSQL, Typesense) that a cut or a kill never leaves wrong.

load helper

setup() {
	bank_setup
	cat > "$T/map" <<'EOF'
# kind name table columns
entity account accounts balance=.state.balance:integer owner=.state.owner
entity count* counters n=.state.n:integer
orchestration transfer transfers status=.status amount=.input.amount:real ok=.output.ok:boolean input=.input:json
EOF
}

# set id to the JSON $2, one commit (shell form)
put() {
	printf '%s' "$2" > "$T/s"
	dphp-commit -d "$S" -f -s "$1" "$T/s" > /dev/null
}

# n commits over 7 counters and 3 accounts, every 9th a delete
churn() {
	local i
	for i in $(seq 1 "$1"); do
		if [ $((i % 9)) = 0 ]; then
			dphp-commit -d "$S" -f -r "entity:counter:c$((i % 7))" > /dev/null 2>&1 || true
		else
			put "entity:counter:c$((i % 7))" "{\"state\":{\"n\":$i}}"
			put "entity:account:a$((i % 3))" "{\"state\":{\"balance\":$i,\"owner\":\"o'$i\"}}"
		fi
	done
}

# A PostgreSQL server of the test's own, on a socket in a directory of
# its own, no TCP; stopped by teardown.  As root, it runs as postgres.
pg_start() {
	PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1)
	[ -x "$PGBIN/postgres" ] || fail "no PostgreSQL server: run .ci/ensure-deps"
	PGHOST=$(mktemp -d /tmp/dphp-pg.XXXXXX)
	chmod 755 "$PGHOST"
	as=()
	if [ "$(id -u)" = 0 ]; then
		chown postgres "$PGHOST"
		as=(runuser -u postgres --)
	fi
	"${as[@]}" "$PGBIN/initdb" -D "$PGHOST/data" -A trust -U dphp > /dev/null
	"${as[@]}" "$PGBIN/pg_ctl" -D "$PGHOST/data" -l "$PGHOST/log" -w \
	    -o "-k $PGHOST -c listen_addresses=''" start > /dev/null
	export PGHOST PGUSER=dphp PGDATABASE=postgres \
	    PGOPTIONS='-c client_min_messages=warning'
}

teardown() {
	if [ -n "${PGBIN-}" ]; then
		"${as[@]}" "$PGBIN/pg_ctl" -D "$PGHOST/data" -m immediate stop > /dev/null || true
		rm -rf "$PGHOST"
	fi
}

# the rows of the PostgreSQL database, as rows() prints SQLite's
pgrows() {
	psql -X -At -c "SELECT 'c', feed, seq FROM dphp_checkpoint" \
	    -c "SELECT 'a', * FROM accounts ORDER BY id" \
	    -c "SELECT 'n', * FROM counters ORDER BY id" \
	    -c "SELECT 't', * FROM transfers ORDER BY id"
}

# $T/full.sql: the script of format $1 that a follower catching up $2
# times writes, each after $3 more commits, then once more after a
# transfer (ok: $4): several transactions, each with its checkpoint
catching_up() {
	local last=0
	for _ in $(seq 1 "$2"); do
		churn "$3"
		dphp-project -d "$S" follow -e -m "$T/map" -o "$1" -S "$last" >> "$T/full.sql"
		last=$(jq -s 'map(.seq // 0) | max' "$J"/*.ndjson)
	done
	put orchestration:transfer:t1 "{\"status\":\"completed\",\"input\":{\"amount\":2.5},\"output\":{\"ok\":$4}}"
	dphp-project -d "$S" follow -e -m "$T/map" -o "$1" -S "$last" >> "$T/full.sql"
}

# the rows of a SQLite database, table by table, sorted
rows() {
	sqlite3 "$1" "SELECT 'c', feed, seq FROM dphp_checkpoint; SELECT 'a', * FROM accounts ORDER BY id; SELECT 'n', * FROM counters ORDER BY id; SELECT 't', * FROM transfers ORDER BY id"
}

@test "follow -e: the settled lines of the journal as they are, from a seq, by pattern, or from a checkpoint" {
	bank
	assert_file_empty "$T/errors"
	jq -c 'select(.seq) | del(.crc)' "$J"/*.ndjson > "$T/all"
	run --separate-stderr dphp-project -d "$S" follow -e
	assert_success
	assert_stderr ""
	assert_output "$(cat "$T/all")"
	run --separate-stderr dphp-project -d "$S" follow -e -S 5 'entity:account:*' 'activity'
	assert_success
	assert_stderr ""
	assert_output "$(jq -c 'select(.seq > 5 and (.id | test("^entity:account:|^activity:")))' "$T/all")"
	# a checkpoint: everything the first time, what is new the next
	last=$(jq -s 'map(.seq) | max' "$T/all")
	dphp-project -d "$S" follow -e -c "$T/cp" > "$T/out1"
	assert_equal "$(cat "$T/out1")" "$(cat "$T/all")"
	assert_equal "$(cat "$T/cp")" "$last"
	put entity:counter:x '{"state":{"n":1}}'
	put entity:counter:y '{"state":{"n":2}}'
	run --separate-stderr dphp-project -d "$S" follow -e -c "$T/cp"
	assert_success
	assert_stderr ""
	assert_equal "$(jq -r '"\(.seq) \(.id) \(.state.state.n)"' <<< "$output")" "$((last + 1)) entity:counter:x 1
$((last + 2)) entity:counter:y 2"
	assert_equal "$(cat "$T/cp")" "$((last + 2))"
	run --separate-stderr dphp-project -d "$S" follow -e -c "$T/cp"
	assert_success
	assert_output ""
	assert_stderr ""
}

@test "a checkpoint that cannot be written: exit 4, the old one kept, no temporary left" {
	command -v strace > /dev/null || skip "no strace"
	put entity:counter:x '{"state":{"n":1}}'
	echo 0 > "$T/cp"
	run --separate-stderr strace -f -o /dev/null -e trace=rename,renameat,renameat2 \
	    -e inject=rename,renameat,renameat2:error=EIO \
	    dphp-project -d "$S" follow -e -c "$T/cp"
	assert_failure 4
	assert_equal "$(jq -r .id <<< "$output")" entity:counter:x
	assert_stderr "dphp-project: error: cannot write the checkpoint '$T/cp': Input/output error"
	assert_equal "$(cat "$T/cp")" 0
	assert_file_not_exists "$T/.cp.tmp"
}

@test "documents through a mapping: NDJSON and Typesense's JSONL, typed, deletions" {
	put entity:account:a '{"state":{"balance":5,"owner":"ann"},"seen":{}}'
	put entity:account:b '{"state":{"balance":"many"}}'
	put orchestration:transfer:t1 '{"status":"completed","input":{"amount":2},"output":{"ok":true}}'
	put entity:counter:c '{"state":{"n":1.5}}'
	put activity:mail:m '{"status":"completed"}'
	dphp-commit -d "$S" -f -r entity:account:a > /dev/null
	run --separate-stderr dphp-project -d "$S" follow -e -m "$T/map" -o ndjson
	assert_success
	assert_stderr ""
	assert_output - <<'OUT'
{"seq":1,"table":"accounts","id":"entity:account:a","etag":"1","doc":{"balance":5,"owner":"ann"}}
{"seq":2,"table":"accounts","id":"entity:account:b","etag":"1","doc":{"balance":null,"owner":null}}
{"seq":3,"table":"transfers","id":"orchestration:transfer:t1","etag":"1","doc":{"status":"completed","amount":2.0,"ok":true,"input":{"amount":2}}}
{"seq":4,"table":"counters","id":"entity:counter:c","etag":"1","doc":{"n":null}}
{"seq":6,"table":"accounts","id":"entity:account:a","deleted":true}
OUT
	run --separate-stderr dphp-project -d "$S" follow -e -m "$T/map" -o typesense 'entity:account'
	assert_success
	assert_stderr ""
	assert_output - <<'OUT'
{"id":"entity:account:a","seq":1,"etag":"1","balance":5,"owner":"ann"}
{"id":"entity:account:b","seq":2,"etag":"1"}
{"id":"entity:account:a","seq":6,"deleted":true}
OUT
	# no mapping: every state whole, in one table
	run --separate-stderr dphp-project -d "$S" follow -e -o ndjson activity
	assert_success
	assert_stderr ""
	assert_output '{"seq":5,"table":"states","id":"activity:mail:m","etag":"1","doc":{"status":"completed"}}'
}

@test "SQLite: a projection cut anywhere, resumed from the checkpoint it committed, equals a full rebuild" {
	catching_up sqlite 4 10 false
	sqlite3 -bail "$T/full.db" < "$T/full.sql"
	rows "$T/full.db" > "$T/full.rows"
	# each run commits its schema, then its lines
	run grep -c "^COMMIT;" "$T/full.sql"
	assert_output 10
	# every statement boundary and the middle of every statement
	size=$(wc -c < "$T/full.sql")
	cuts=$(awk '{ n += length($0) + 1; print n; print n - int(length($0) / 2) }' "$T/full.sql")
	for cut in 0 $cuts; do
		rm -f "$T/part.db"
		head -c "$cut" "$T/full.sql" > "$T/part.sql"
		sqlite3 "$T/part.db" < "$T/part.sql" 2> /dev/null || true
		seq=$(sqlite3 "$T/part.db" 'SELECT seq FROM dphp_checkpoint' 2> /dev/null) || seq=0
		dphp-project -d "$S" follow -e -m "$T/map" -o sqlite -S "${seq:-0}" > "$T/rest.sql"
		sqlite3 -bail "$T/part.db" < "$T/rest.sql"
		rows "$T/part.db" > "$T/part.rows"
		cmp -s "$T/full.rows" "$T/part.rows" || {
			echo "cut at $cut of $size, resumed after $seq:"
			diff "$T/full.rows" "$T/part.rows"
			return 1
		}
	done
	# the same script again changes nothing; from the start, neither
	sqlite3 -bail "$T/full.db" < "$T/full.sql"
	run rows "$T/full.db"
	assert_output "$(cat "$T/full.rows")"
	assert_output - <<'OUT'
c|dphp|77
a|entity:account:a0|8|69|6|o'6
a|entity:account:a1|16|76|10|o'10
a|entity:account:a2|12|73|8|o'8
n|entity:counter:c0|4|70|7
n|entity:counter:c1|8|72|8
n|entity:counter:c3|8|75|10
n|entity:counter:c4|4|64|4
n|entity:counter:c5|4|66|5
n|entity:counter:c6|4|68|6
t|orchestration:transfer:t1|1|77|completed|2.5|0|{"amount":2.5}
OUT
}

@test "resumed from the database's own checkpoint, as the pages say: a new database starts from the beginning; two feeds each from theirs" {
	printf 'entity account accounts balance=.state.balance:integer\n' > "$T/a.map"
	printf 'entity counter counters n=.state.n:integer\n' > "$T/c.map"
	for round in 1 2; do
		churn 6		# 12 commits
		for feed in a c; do
			# the query of dphp-project(1), the feed's own name
			seq=$(sqlite3 "$T/two.db" "SELECT seq FROM dphp_checkpoint WHERE feed = '$feed'" 2> /dev/null) || true
			assert_equal "$seq" "$([ "$round" = 1 ] || echo 12)"
			run --separate-stderr dphp-project -d "$S" follow -e -N "$feed" \
			    -m "$T/$feed.map" -o sqlite -S "$seq"
			assert_success
			assert_stderr ""
			printf '%s\n' "$output" > "$T/$feed.sql"
			sqlite3 -bail "$T/two.db" < "$T/$feed.sql"
		done
	done
	run sqlite3 "$T/two.db" "SELECT feed, seq FROM dphp_checkpoint ORDER BY feed; SELECT id, balance FROM accounts ORDER BY id; SELECT id, n FROM counters ORDER BY id"
	assert_output - <<'OUT'
a|24
c|24
entity:account:a0|6
entity:account:a1|4
entity:account:a2|5
entity:counter:c1|1
entity:counter:c2|2
entity:counter:c3|3
entity:counter:c4|4
entity:counter:c5|5
entity:counter:c6|6
OUT
}

@test "PostgreSQL through psql: the same rows, and a script cut short then resumed equals a full one" {
	pg_start
	catching_up postgres 3 6 true
	dphp-project -d "$S" follow -e -m "$T/map" -o sqlite > "$T/lite.sql"
	sqlite3 -bail "$T/lite.db" < "$T/lite.sql"
	run psql -X -q -v ON_ERROR_STOP=1 -f "$T/full.sql"
	assert_success
	assert_output ""
	pgrows > "$T/full.rows"
	# the same rows as SQLite's, but for how each prints a boolean and
	# JSON
	run cat "$T/full.rows"
	assert_output "$(rows "$T/lite.db" | sed 's/|1|{"amount":2.5}$/|t|{"amount": 2.5}/')"
	assert_line --index 0 "c|dphp|$(jq -s 'map(.seq // 0) | max' "$J"/*.ndjson)"
	size=$(wc -c < "$T/full.sql")
	for cut in $((size / 5)) $((size / 2)) $((size * 3 / 4)) $((size - 9)); do
		psql -X -q -c 'DROP TABLE accounts, counters, transfers, dphp_checkpoint'
		head -c "$cut" "$T/full.sql" > "$T/part.sql"
		psql -X -q -f "$T/part.sql" > /dev/null 2>&1 || true
		seq=$(psql -X -At -c 'SELECT seq FROM dphp_checkpoint' 2> /dev/null) || seq=0
		dphp-project -d "$S" follow -e -m "$T/map" -o postgres -S "${seq:-0}" > "$T/rest.sql"
		psql -X -q -v ON_ERROR_STOP=1 -f "$T/rest.sql"
		run pgrows
		assert_output "$(cat "$T/full.rows")"
	done
}

@test "a live projection into SQLite, killed with SIGKILL while commits go on, resumed, equals a full rebuild" {
	churn 10
	sqlite3 "$T/live.db" 'SELECT 1' > /dev/null
	sh -c 'exec dphp-project -d "$1" follow -m "$2" -o sqlite' sh "$S" "$T/map" > "$T/fifo.sql" &
	killer=$!
	(churn 30) &
	worker=$!
	sleep 0.4
	kill -9 "$killer"
	wait "$worker"
	wait "$killer" || true
	# what the killed feed wrote reaches the database as far as it got
	sqlite3 "$T/live.db" < "$T/fifo.sql" 2> /dev/null || true
	seq=$(sqlite3 "$T/live.db" 'SELECT seq FROM dphp_checkpoint' 2> /dev/null) || seq=0
	dphp-project -d "$S" follow -e -m "$T/map" -o sqlite -S "${seq:-0}" > "$T/rest.sql"
	sqlite3 -bail "$T/live.db" < "$T/rest.sql"
	dphp-project -d "$S" follow -e -m "$T/map" -o sqlite > "$T/full.sql"
	sqlite3 -bail "$T/full.db" < "$T/full.sql"
	run rows "$T/live.db"
	assert_output "$(rows "$T/full.db")"
	assert_line --index 0 "c|dphp|$(jq -s 'map(.seq // 0) | max' "$J"/*.ndjson)"
}

@test "follow waits for commits, across new segments, and forgets a batch its writer took back" {
	export DPHP_JOURNAL_SEGMENT_MAX=200
	dphp-project -d "$S" follow > "$T/out" 2> "$T/err" &
	follower=$!
	for i in 1 2 3; do
		put "entity:counter:c$i" "{\"state\":{\"n\":$i}}"
	done
	seg=$(cd "$J" && ls -- *.ndjson | tail -n 1)
	size=$(wc -c < "$J/$seg")
	# a batch written ahead, then taken back (a failed commit)
	printf '{"seq":4,"b":4,"at":"2026-01-01T00:00:00Z","id":"entity:counter:ghost","etag":"9","state":{"state":{"n":0}},"cause":null}\n' > "$T/line"
	seal "$T/line" >> "$J/$seg"
	sleep 0.3
	truncate -s "$size" "$J/$seg"
	sleep 0.3
	put entity:counter:c4 '{"state":{"n":4}}'
	for _ in $(seq 1 50); do
		[ "$(grep -c . "$T/out")" -ge 4 ] && break
		sleep 0.1
	done
	kill "$follower"
	wait "$follower" || true
	run jq -r '"\(.seq) \(.id)"' "$T/out"
	assert_output - <<'OUT'
1 entity:counter:c1
2 entity:counter:c2
3 entity:counter:c3
4 entity:counter:c4
OUT
	assert_file_empty "$T/err"
	run ls "$J"
	assert_output - <<'OUT'
00000000000000000001.ndjson
00000000000000000002.ndjson
00000000000000000003.ndjson
00000000000000000004.ndjson
checkpoint
OUT
}

@test "follow onto a full disk fails, exit 4, in every format" {
	put entity:counter:c '{"state":{"n":1}}'
	for o in feed ndjson sqlite postgres typesense; do
		run --separate-stderr sh -c 'dphp-project -d "$1" -o "$2" follow -e > /dev/full' sh "$S" "$o"
		assert_failure 4
		assert_output ""
		[[ $stderr == "dphp-project: error: write error on <stdout>"* ]]
	done
}

@test "follow: usage (2), mappings (5) and checkpoints (3) refused with their reasons; a corrupt journal located" {
	put entity:counter:c '{"state":{"n":1}}'
	printf 'entity account accounts balance=.state.balance:money\n' > "$T/bad"
	run --separate-stderr dphp-project -d "$S" follow -e -m "$T/bad" -o sqlite
	assert_failure 5
	assert_output ""
	assert_stderr "dphp-project: $T/bad:1: the type must be text, integer, real, boolean or json"
	for line in 'entity account' 'planet x t' 'entity a dphp_checkpoint' 'entity a t id=.x' \
	    'entity a t b=x' 'entity a t b=.x b=.y' 'entity a "t"'; do
		printf '# one\n%s\n' "$line" > "$T/bad"
		run --separate-stderr dphp-project -d "$S" follow -e -m "$T/bad" -o ndjson
		assert_failure 5
		assert_output ""
		[[ $stderr == "dphp-project: $T/bad:2: "* ]]
	done
	printf 'entity a t x=.x\nentity b t y=.y\n' > "$T/bad"
	run --separate-stderr dphp-project -d "$S" follow -e -m "$T/bad" -o ndjson
	assert_failure 5
	assert_stderr "dphp-project: $T/bad:2: a table mapped before with other columns"
	run --separate-stderr dphp-project -d "$S" follow -e -c "$T/cp" -o sqlite
	assert_failure 2
	assert_output ""
	assert_stderr "dphp-project: error: the checkpoint of SQL is kept in the database, updated with the changes: resume with -S"
	run --separate-stderr dphp-project -d "$S" follow -e -m "$T/map"
	assert_failure 2
	assert_stderr "dphp-project: error: the feed is the journal's lines as they are: -m goes with -o"
	run --separate-stderr dphp-project -d "$S" follow -e -o csv
	assert_failure 2
	assert_stderr "dphp-project: error: invalid format 'csv' (feed, ndjson, sqlite, postgres or typesense)"
	run --separate-stderr dphp-project -d "$S" follow -e -S -1
	assert_failure 2
	assert_stderr "dphp-project: error: invalid seq '-1'"
	run --separate-stderr dphp-project -d "$S" -S 1 ls
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "usage: dphp-project [-u] [-b user | -K keys -T token] [-d store] [-P policy] get id ..."
	echo 'twelve' > "$T/cp"
	run --separate-stderr dphp-project -d "$S" follow -e -c "$T/cp"
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-project: $T/cp: not a checkpoint (a seq of the journal)"
	run --separate-stderr dphp-project -d "$S" follow -e planets
	assert_failure 2
	assert_stderr "dphp-project: error: invalid pattern 'planets': a pattern begins with a kind: entity, orchestration or activity"
	put entity:counter:d '{"state":{"n":2}}'
	seg=$(cd "$J" && ls -- *.ndjson | head -n 1)
	sed -i '1s/.*/{"seq":1,/' "$J/$seg"
	run --separate-stderr dphp-project -d "$S" follow -e
	assert_failure 3
	assert_output ""
	assert_stderr "dphp-project: $J/$seg:1: corrupt journal line: string or '}' expected near end of file"
}
