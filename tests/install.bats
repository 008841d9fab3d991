#!/usr/bin/env bats
# make install and uninstall, into a DESTDIR.

load helper

@test "install puts programs, pages, completions and dphp.sh in place; uninstall removes them" {
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
./usr/share/bash-completion/completions/dphp-commit
./usr/share/bash-completion/completions/dphp-emit
./usr/share/bash-completion/completions/dphp-lock
./usr/share/bash-completion/completions/dphp-project
./usr/share/bash-completion/completions/dphp-replay
./usr/share/bash-completion/completions/dphp-route
./usr/share/dphp/dphp.sh
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
