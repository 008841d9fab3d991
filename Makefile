# dphp - the event-sourcing core of Durable PHP as Unix tools.
# Works with GNU make and other makes that know nested $(VAR_$(X)).

VERSION = 0.1.0

PREFIX = /usr/local
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man
SHAREDIR = $(PREFIX)/share/dphp
BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR = $(PREFIX)/share/zsh/site-functions
DOCDIR = $(PREFIX)/share/doc/dphp
SYSTEMDDIR = $(PREFIX)/lib/systemd/system
SYSUSERSDIR = $(PREFIX)/lib/sysusers.d
DESTDIR =

CC = cc
CFLAGS = -O2 -g -fstack-protector-strong
CPPFLAGS = -D_FORTIFY_SOURCE=2
LDFLAGS =
LDLIBS = -ljansson -ldl -pthread

# Not meant to be overridden: the language level and the warnings.
WERROR_true = -Werror
WERROR_1 = -Werror
DPHP_CFLAGS = -std=c99 -Wall -Wextra -Wwrite-strings -Wno-sign-compare \
	$(WERROR_$(CI))
DPHP_CPPFLAGS = -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
	-DDPHP_VERSION=\"$(VERSION)\" -DDPHP_SHAREDIR=\"$(SHAREDIR)\" -Ilib

PROGS = cmd/dphp-emit cmd/dphp-route cmd/dphp-replay cmd/dphp-commit \
	cmd/dphp-lock cmd/dphp-project
LIBOBJ = lib/util.o lib/opt.o lib/ndjson.o lib/id.o lib/clock.o \
	lib/envelope.o lib/store.o lib/store_dir.o lib/handler.o \
	lib/entity.o lib/proposal.o lib/dedupe.o lib/emit.o lib/activity.o \
	lib/orchestration.o lib/queue_dir.o lib/lock.o lib/lockstage.o \
	lib/locked.o lib/jwt.o lib/policy.o lib/acl.o lib/authz.o \
	lib/journal_dir.o lib/journal.o lib/follow.o lib/mapping.o \
	lib/sink.o lib/tarball.o lib/snapshot.o lib/conf.o \
	lib/rebuild.o lib/trace.o lib/determinism.o lib/etcd.o \
	lib/store_etcd.o lib/queue_etcd.o lib/jsonout.o lib/beneath.o \
	lib/stop.o lib/qname.o lib/file.o lib/etcd_kv.o lib/seenidx.o lib/dynlib.o \
	lib/base64.o lib/jqhandler.o lib/remover.o lib/session.o lib/retry.o \
	lib/progress.o lib/shape.o lib/jline.o
MAN1 = man/dphp-emit.1 man/dphp-route.1 man/dphp-replay.1 \
	man/dphp-commit.1 man/dphp-lock.1 man/dphp-project.1
MAN5 = man/dphp-event.5 man/dphp-store.5 man/dphp-handler.5 man/dphp-policy.5
MAN7 = man/dphp.7

all: $(PROGS)

.c.o:
	$(CC) $(DPHP_CFLAGS) $(CFLAGS) $(DPHP_CPPFLAGS) $(CPPFLAGS) -c -o $@ $<

# every object on every header: a change of one rebuilds the lot, which
# takes seconds and cannot go stale as the headers change
$(LIBOBJ) $(PROGS:=.o): lib/*.h Makefile

lib/libdphp.a: $(LIBOBJ)
	rm -f $@
	ar rc $@ $(LIBOBJ)
	ranlib $@

$(PROGS): lib/libdphp.a
.o:
	$(CC) $(LDFLAGS) -o $@ $< lib/libdphp.a $(LDLIBS)

# The two set-up commands of README.md: each installs what is missing.
deps:
	@sh .ci/ensure-deps

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory test

test: $(PROGS) bench/floor
	@sh tests/run

# The suite on a build with AddressSanitizer, LeakSanitizer and UBSan:
# their reports go to files in sanitizer/, named by program (so that no
# test's stderr changes), and any report fails the run.  A leak is a
# report: what a program allocates it frees, or it is reachable at
# exit.  It leaves a normal build behind.  Not in CI: it takes about
# three times as long.
SANITIZE = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
check-asan: deps
	@$(MAKE) --no-print-directory clean
	@$(MAKE) --no-print-directory all bench/floor CFLAGS="$(SANITIZE)" \
		LDFLAGS="-fsanitize=address,undefined"
	@rm -rf sanitizer && mkdir sanitizer
	@ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:log_exe_name=1:log_path=$$PWD/sanitizer/asan \
	UBSAN_OPTIONS=print_stacktrace=1:log_path=$$PWD/sanitizer/ubsan \
		sh tests/run; rc=$$?; \
	$(MAKE) --no-print-directory clean; \
	$(MAKE) --no-print-directory all; \
	if [ -n "$$(ls sanitizer)" ]; then \
		echo "sanitizer reports:"; head -n 40 sanitizer/*; exit 1; \
	fi; \
	echo "no sanitizer report"; exit $$rc

demo:
	@sh .ci/ensure-deps demo
	@$(MAKE) --no-print-directory all
	@sh examples/bank/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all bench/floor
	@sh bench/run.sh

bench/floor: bench/floor.c
	$(CC) $(DPHP_CFLAGS) $(CFLAGS) $(DPHP_CPPFLAGS) $(CPPFLAGS) $(LDFLAGS) \
		-o $@ bench/floor.c

lint: deps
	mandoc -Tlint -Wwarning $(MAN1) $(MAN5) $(MAN7)
	shellcheck -s sh .ci/run .ci/ensure-deps tests/run lib/dphp.sh examples/*/*.sh \
		$(filter-out %.jq tests/fixtures/handlers/%/pysteps \
		tests/fixtures/handlers/%/pyretry, \
		$(wildcard examples/bank/handlers/*/* \
		tests/fixtures/handlers/*/* bench/handlers/*/jq*)) \
		tests/scenarios/handlers/*/* bench/*.sh bench/handlers/*/sh*
	# compile() only: py_compile would leave __pycache__ among the handlers
	python3 -c 'import sys; [compile(open(f).read(), f, "exec") for f in sys.argv[1:]]' \
		examples/python/dphp.py examples/python/handlers/*/[!_]* \
		bench/handlers/*/py* tests/fixtures/handlers/*/py* \
		tests/fixtures/lossy-proxy
	shellcheck -s bash completions/dphp.bash tests/helper.bash bench/*.bash

# The programs find dphp.sh and the Python helper beside themselves
# (BINDIR/../share/dphp) when run, so the tree may be installed or moved
# under any prefix without a rebuild; the units name BINDIR.
UNITS = contrib/systemd/dphp-worker@.service \
	contrib/systemd/dphp-delays.service contrib/systemd/dphp-delays.timer
install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(SHAREDIR)/python $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(SYSUSERSDIR)
	install -m 0755 $(PROGS) $(DESTDIR)$(BINDIR)
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5
	install -m 0644 $(MAN7) $(DESTDIR)$(MANDIR)/man7
	install -m 0644 lib/dphp.sh $(DESTDIR)$(SHAREDIR)
	install -m 0644 examples/python/dphp.py $(DESTDIR)$(SHAREDIR)/python
	for p in $(PROGS); do \
		install -m 0644 completions/dphp.bash \
			$(DESTDIR)$(BASHCOMPDIR)/$${p#cmd/} || exit 1; \
	done
	install -m 0644 completions/_dphp $(DESTDIR)$(ZSHCOMPDIR)
	install -m 0644 LICENSE $(DESTDIR)$(DOCDIR)
	for u in $(UNITS); do \
		sed 's|/usr/local/bin|$(BINDIR)|g' $$u \
			> $(DESTDIR)$(SYSTEMDDIR)/$${u##*/} || exit 1; \
		chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/$${u##*/}; \
	done
	install -m 0644 contrib/sysusers.d/dphp.conf $(DESTDIR)$(SYSUSERSDIR)

uninstall:
	for p in $(PROGS); do \
		n=$${p#cmd/}; \
		rm -f $(DESTDIR)$(BINDIR)/$$n $(DESTDIR)$(MANDIR)/man1/$$n.1 \
			$(DESTDIR)$(BASHCOMPDIR)/$$n; \
	done
	for m in $(MAN5) $(MAN7); do \
		rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m#man/}; \
	done
	for u in $(UNITS); do rm -f $(DESTDIR)$(SYSTEMDDIR)/$${u##*/}; done
	rm -f $(DESTDIR)$(ZSHCOMPDIR)/_dphp $(DESTDIR)$(SHAREDIR)/dphp.sh \
		$(DESTDIR)$(SHAREDIR)/python/dphp.py $(DESTDIR)$(DOCDIR)/LICENSE \
		$(DESTDIR)$(SYSUSERSDIR)/dphp.conf
	-rmdir $(DESTDIR)$(SHAREDIR)/python $(DESTDIR)$(SHAREDIR) \
		$(DESTDIR)$(DOCDIR)

clean:
	rm -f $(PROGS) $(PROGS:=.o) $(LIBOBJ) lib/libdphp.a bench/floor

.PHONY: all deps check check-asan test demo bench lint install uninstall \
	clean
