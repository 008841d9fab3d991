#!/usr/bin/env bats
# The sh library (lib/dphp.sh): requests unpacked by one jq, kept
# running from the first request to the last.

load helper

@test "sh library: one jq for every request; what is not a JSON object is a bad request" {
	local bin=$BATS_TEST_TMPDIR/bin
	mkdir -p "$bin"
	# a jq that notes each start, then is jq
	printf '#!/bin/sh\necho "$$" >> "%s/starts"\nexec %s "$@"\n' \
	    "$BATS_TEST_TMPDIR" "$(command -v jq)" > "$bin/jq"
	chmod +x "$bin/jq"
	cat > "$BATS_TEST_TMPDIR/requests" <<'IN'
{"id":"activity:shstep:a","name":"shstep","input":1,"user":null}
not json
[1,2]
{"id":"activity:shstep:b","name":"shstep","input":41,"user":null}
IN
	PATH=$bin:$PATH run --separate-stderr "$TOP/bench/handlers/activity/shstep" \
	    < "$BATS_TEST_TMPDIR/requests"
	assert_success
	assert_stderr ""
	assert_output - <<'OUT'
{"result":2}
{"error":"bad request"}
{"error":"bad request"}
{"result":42}
OUT
	assert_equal "$(wc -l < "$BATS_TEST_TMPDIR/starts")" 1
}
