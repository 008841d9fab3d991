#!/usr/bin/env bats
# make install and uninstall, into a DESTDIR.

load helper

@test "install puts programs, pages, completions, dphp.sh, the Python helper, the licence and the units in place; uninstall removes them" {
	local d=$BATS_TEST_TMPDIR/root
	run make -s -C "$TOP" install DESTDIR="$d" PREFIX=/usr
	assert_success
	run sh -c "cd '$d' && find . -type f | sort"
	assert_output - <<'OUT'
./usr/bin/dphp-commit
./usr/bin/dphp-emit
./usr/bin/dphp-lock
./usr/bin/dphp-project
./usr/bin/dphp-replay
./usr/bin/dphp-route
./usr/lib/systemd/system/dphp-delays.service
./usr/lib/systemd/system/dphp-delays.timer
./usr/lib/systemd/system/dphp-worker@.service
./usr/lib/sysusers.d/dphp.conf
./usr/share/bash-completion/completions/dphp-commit
./usr/share/bash-completion/completions/dphp-emit
./usr/share/bash-completion/completions/dphp-lock
./usr/share/bash-completion/completions/dphp-project
./usr/share/bash-completion/completions/dphp-replay
./usr/share/bash-completion/completions/dphp-route
./usr/share/doc/dphp/LICENSE
./usr/share/dphp/dphp.sh
./usr/share/dphp/python/dphp.py
./usr/share/man/man1/dphp-commit.1
./usr/share/man/man1/dphp-emit.1
./usr/share/man/man1/dphp-lock.1
./usr/share/man/man1/dphp-project.1
./usr/share/man/man1/dphp-replay.1
./usr/share/man/man1/dphp-route.1
./usr/share/man/man5/dphp-event.5
./usr/share/man/man5/dphp-handler.5
./usr/share/man/man5/dphp-policy.5
./usr/share/man/man5/dphp-store.5
./usr/share/man/man7/dphp.7
./usr/share/zsh/site-functions/_dphp
OUT
	run make -s -C "$TOP" uninstall DESTDIR="$d" PREFIX=/usr
	assert_success
	run sh -c "cd '$d' && find . -type f"
	assert_output ""
}

@test "a tree installed under a prefix it was not built for runs sh and Python handlers with no DPHP_SH or PYTHONPATH" {
	local p=$BATS_TEST_TMPDIR/opt h=$BATS_TEST_TMPDIR/handlers
	run make -s -C "$TOP" install PREFIX="$p"
	assert_success
	mkdir -p "$h/entity"
	# a Python handler that only imports dphp, as an installed one would
	printf '#!/usr/bin/env python3\nimport dphp\ndphp.entity(lambda r: {"state": (r["state"] or 0) + r["input"]})\n' > "$h/entity/py"
	# an sh handler on the sh library
	printf '#!/bin/sh\n. "$DPHP_SH"\nf() { dphp_set_state "$(dphp_input)"; }\ndphp_entity f\n' > "$h/entity/sh"
	chmod +x "$h/entity/py" "$h/entity/sh"
	mkstore
	ev a signal entity:py:k add 2 > "$BATS_TEST_TMPDIR/in"
	ev b signal entity:sh:k set '"x"' >> "$BATS_TEST_TMPDIR/in"
	run --separate-stderr env -u DPHP_SH -u PYTHONPATH PATH=/usr/bin:/bin \
	    "$p/bin/dphp-replay" -d "$S" -x "$h" "$BATS_TEST_TMPDIR/in"
	assert_success
	assert_stderr ""
	run jq -c '[.target, .state.state]' <<< "$output"
	assert_output - <<'OUT'
["entity:py:k",2]
["entity:sh:k","x"]
OUT
}
