#!/usr/bin/env bats
# The scripts of make bench, run small: each ends with 0 and prints its
# whole report.  The figures are measured in BENCHMARKS.md, never here;
# these cases show that the benchmarks still drive the programs as they
# are (a change of a record's shape once left bench/cas.sh refusing its
# own proposals, unseen until make bench ran).

load helper

setup() {
	export BENCH_DIR=$BATS_TEST_TMPDIR BENCH_RUNS=1 BENCH_N=20 BENCH_KEYS=5
	export BENCH_LAT=5 BENCH_OPS=20 BENCH_ONESHOT_OPS=2 BENCH_ORCHESTRATIONS=2
	export BENCH_LOCK_N=10 BENCH_LOCK_KEYS=3 BENCH_AUTHZ_N=20
	export BENCH_AUTHZ_KEYS=3 BENCH_REPLAY_N=100 BENCH_REPLAY_KEYS=10
	export BENCH_ORCH_N=2 BENCH_ORCH_NSH=1 BENCH_ORCH_LAT=3 BENCH_ORCH_STEPS=12
	[ -x "$TOP/bench/floor" ] || fail "no bench/floor: make bench/floor"
}

# the report's rows, by name, each with its figures
rows() {
	local row
	for row; do
		assert_line --regexp "^$row +[0-9]"
	done
}

@test "bench/cas.sh: dphp-commit, the disk floor and sqlite3, one at a time and grouped" {
	run --separate-stderr sh "$TOP/bench/cas.sh"
	assert_success
	assert_stderr "$(printf 'run 1 of 1 done\ngroup commit run 1 of 1 done')"
	assert_line "durable compare-and-set: 20 commits per run, median of 1 runs"
	rows 'disk floor: write\+fsync\+rename\+fsync\(dir\)' \
	    'dphp-commit, directory store' 'sqlite3 WAL, synchronous=FULL' \
	    'sqlite3 rollback journal, synchronous=FULL' \
	    'dphp-commit, one commit per flush' \
	    'dphp-commit -b 64 \(group commit\)'
}

@test "bench/queue.sh: admission, the worker one by one and grouped, sqlite3, latency" {
	run --separate-stderr sh "$TOP/bench/queue.sh"
	assert_success
	assert_stderr "run 1 of 1 done"
	rows 'disk floor: write\+fsync\+rename\+fsync\(dir\)' \
	    'sqlite3 WAL FULL, the same updates \(CAS\)' \
	    'admission, dphp-route -q \(one sync per batch\)' \
	    'worker, dphp-commit -b 1, jq in-process' \
	    'worker, -b 64 \(group commit\), jq in-process' \
	    'worker, -b 64, jq as a co-process' \
	    'worker, -b 64, the counters made in the run'
	assert_line --regexp '^  a dphp-route -q per signal: p50 [0-9.]+ ms, p90 [0-9.]+ ms, p99 [0-9.]+ ms, max [0-9.]+ ms$'
	assert_line --regexp '^  a long-lived dphp-route -q reading a pipe: p50 [0-9.]+ ms, p90 [0-9.]+ ms, p99 [0-9.]+ ms, max [0-9.]+ ms$'
}

@test "bench/handlers.sh: one-shot, co-process and in-process handlers, an orchestration of activities" {
	run --separate-stderr sh "$TOP/bench/handlers.sh"
	assert_success
	assert_stderr "run 1 of 1 done"
	assert_line --regexp '^  py handler +[0-9]+ +[0-9]+ +[0-9]+x +-$'
	assert_line --regexp '^  jq handler +[0-9]+ +[0-9]+ +[0-9]+x +[0-9]+$'
	assert_line --regexp '^  Python handlers, co-processes +[0-9]+ activities/s$'
	assert_line --regexp '^  sh \+ jq handlers, co-processes +[0-9]+ activities/s$'
}

@test "bench/orchestrations.bash: chains drained, a workflow's latency, a long chain's steps" {
	run --separate-stderr bash "$TOP/bench/orchestrations.bash"
	assert_success
	assert_stderr "run 1 of 1 done"
	assert_line --regexp '^2 x 5 activities, Python co-processes \(pychain\) +[0-9]+ activities/s$'
	assert_line --regexp '^1 x 5 activities, sh library \(shchain\) +[0-9]+ activities/s$'
	assert_line --regexp '^2 x 5 activities, Python co-processes \(pychain\), warm +[0-9]+ activities/s$'
	assert_line --regexp '^1 x 5 activities, sh library \(shchain\), warm +[0-9]+ activities/s$'
	assert_line --regexp '^a 3-step workflow, admitted to completed +p50 [0-9.]+ ms, p99 [0-9.]+ ms$'
	assert_line --regexp '^a chain of 12 steps: a step at steps 8-12 +[0-9.]+ ms, at the last five [0-9.]+ ms: [0-9.]+$'
}

@test "bench/locks.sh, bench/authz.sh, bench/replay.sh: their reports" {
	run --separate-stderr sh "$TOP/bench/locks.sh"
	assert_success
	assert_stderr "run 1 of 1 done"
	rows 'signals: an ETag commit each' 'orchestrations: lock, call, unlock' \
	    'optimistic: read, compare-and-set, retry' \
	    'pessimistic: dphp-lock, read, write'
	run --separate-stderr sh "$TOP/bench/authz.sh"
	assert_success
	assert_stderr "run 1 of 1 done"
	rows 'no policy' 'policy \(-P\): checked in and out' \
	    'policy and tokens \(-P -K\)'
	run --separate-stderr sh "$TOP/bench/replay.sh"
	assert_success
	assert_stderr "run 1 of 1 done"
	rows 'cat \(reading, the floor\)' 'dphp-replay -J' 'jq fold'
}

@test "bench/hotkey.sh: one counter against many, and what a busy record weighs" {
	BENCH_HOT_N=40 BENCH_HOT_KEYS=4 BENCH_HOT_LONG=30 \
	    run --separate-stderr sh "$TOP/bench/hotkey.sh"
	assert_success
	assert_stderr "run 1 of 1 done"
	rows 'one counter' 'spread over the counters' 'one / spread'
	assert_line --regexp '^  record [0-9]+ bytes, journal [0-9]+ bytes per operation$'
	assert_line --regexp '^  record [0-9]+ bytes, older ids beside it [0-9]+ bytes,$'
}

@test "a benchmark without the floor's program says so and fails" {
	mkdir "$BATS_TEST_TMPDIR/b"
	cp "$TOP/bench/cas.sh" "$TOP/bench/common.sh" "$BATS_TEST_TMPDIR/b/"
	run --separate-stderr sh "$BATS_TEST_TMPDIR/b/cas.sh"
	assert_failure 1
	assert_output ""
	assert_stderr "$BATS_TEST_TMPDIR/b/cas.sh: no $BATS_TEST_TMPDIR/b/floor: run make bench/floor"
}
