# sm: small Unix commands that sample, ship, split, store and show host
# metrics.  `make` builds bin/; `make check` runs every test; `make demo`
# runs the main job.  Both install what they need first, and only that
# (scripts/deps.sh demo, scripts/deps.sh check).

VERSION = 0.2.0

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
WEBDIR ?= $(PREFIX)/share/sm/web
PKG_CONFIG ?= pkg-config
INSTALL ?= install
CFLAGS ?= -O2 -g

# Where objects and binaries go; the sanitizer build uses its own.
BUILD ?= build
OUT ?= bin

# pkg-config packages each command links (and its main compiles with).
PKGS_sm-alert = json-c
PKGS_sm-read = json-c
PKGS_sm-store = json-c libmariadb libmicrohttpd gnutls
PKGS_sm-post = json-c libcurl
PKGS_sm-split = json-c libcurl
PKGS_sm-tail = json-c libmariadb libmicrohttpd gnutls libcrypt ncursesw
PKGS_sm-keep = libmariadb
CMD_PKGS = json-c libcurl libmariadb libmicrohttpd gnutls libcrypt \
	ncursesw
TEST_PKGS = cmocka $(CMD_PKGS)

# The packages whose headers each library module includes, itself or
# through lib/'s headers.  A module compiles with these packages' flags
# alone: one not listed (a pure one) cannot pull <mysql.h> unnoticed.
PKGS_lib/alert.c = json-c
PKGS_lib/alertrun.c = json-c
PKGS_lib/batch.c = json-c
PKGS_lib/binlog.c = json-c libmariadb
PKGS_lib/body.c = json-c libmariadb
PKGS_lib/dash.c = json-c
PKGS_lib/dashview.c = json-c libmariadb ncursesw
PKGS_lib/db.c = libmariadb
PKGS_lib/deliver.c = json-c libcurl
PKGS_lib/deliver_answer.c = json-c libcurl
PKGS_lib/deliver_journal.c = json-c libcurl
PKGS_lib/deliver_opts.c = json-c libcurl
PKGS_lib/deliver_xfer.c = json-c libcurl
PKGS_lib/feed.c = json-c
PKGS_lib/history.c = json-c libmariadb
PKGS_lib/httpd.c = json-c libmariadb libmicrohttpd
PKGS_lib/httpd_loop.c = libmicrohttpd
PKGS_lib/ingest.c = json-c libmariadb
PKGS_lib/keep.c = json-c libmariadb
PKGS_lib/keeprun.c = json-c libmariadb
PKGS_lib/tier.c = json-c libmariadb
PKGS_lib/tls.c = gnutls libmicrohttpd
PKGS_lib/jsonutil.c = json-c
PKGS_lib/kmod.c = json-c
PKGS_lib/postmain.c = json-c libcurl
PKGS_lib/record.c = json-c
PKGS_lib/rowfmt.c = json-c libmariadb
PKGS_lib/sample.c = json-c
PKGS_lib/schema.c = json-c libmariadb
PKGS_lib/spool.c = json-c
PKGS_lib/store.c = json-c libmariadb
PKGS_lib/store_sql.c = json-c libmariadb
PKGS_lib/storemain.c = json-c libmariadb
PKGS_lib/tail.c = json-c libmariadb
PKGS_lib/web.c = json-c libmariadb libmicrohttpd
PKGS_lib/webauth.c = gnutls libcrypt libmicrohttpd
PKGS_lib/webhist.c = json-c libmariadb libmicrohttpd

# Each package's flags, asked once; $(call pkg_cflags,PACKAGES).  The
# commands build without cmocka (a container's build stage has none).
$(foreach p,$(CMD_PKGS),$(eval PKG_CFLAGS_$(p) := \
	$$(shell $$(PKG_CONFIG) --cflags $(p) 2>/dev/null)))
pkg_cflags = $(foreach p,$(1),$(PKG_CFLAGS_$(p)))
# Unit tests and fuzz targets see every header.
PKG_CFLAGS := $(call pkg_cflags,$(CMD_PKGS))

# Project flags wrap the user's CFLAGS: the user may tune, not disarm them.
SM_CPPFLAGS = -D_GNU_SOURCE -DSM_VERSION='"$(VERSION)"' \
	-DWEB_ROOT_DEFAULT='"$(WEBDIR)"' -Ilib
ALL_CFLAGS = -std=c11 $(SM_CPPFLAGS) $(CPPFLAGS) $(CFLAGS) -pthread \
	-Wall -Wextra -Werror
ALL_LDFLAGS = $(LDFLAGS) -pthread -Wl,--as-needed

CMDS = $(notdir $(wildcard cmd/sm-*))
BINS = $(addprefix $(OUT)/,$(CMDS))
LIB_SRC = $(wildcard lib/*.c)
LIB_OBJ = $(LIB_SRC:lib/%.c=$(BUILD)/lib/%.o)
LIBSM = $(BUILD)/libsm.a
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
MANS = $(wildcard man/*.[1-8])
# sm-tail --listen's page (sm-tail(1), LISTEN), served from $(WEBDIR)
WEB_FILES = web/index.html web/app.js web/app.css

all: $(BINS)

# A missing library is named, with what installs it, before any compiler
# error about its header.
have-libs:
	@m=; for p in $(CMD_PKGS); do \
		$(PKG_CONFIG) --exists $$p 2>/dev/null || m="$$m $$p"; \
	done; [ -z "$$m" ] || { echo "make: missing the libraries$$m" \
	    "(pkg-config): scripts/deps.sh build installs them" >&2; exit 2; }

# -MMD: each object depends on the headers it includes (its .d file).
$(BUILD)/lib/%.o: lib/%.c Makefile | have-libs
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(call pkg_cflags,$(PKGS_$<)) -MMD -MP -c -o $@ $<

$(LIBSM): $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/cmd/%.o: cmd/%.c Makefile | have-libs
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(call pkg_cflags,$(PKGS_$(notdir $*))) -MMD -MP \
		-c -o $@ $<

-include $(LIB_OBJ:.o=.d) $(CMDS:%=$(BUILD)/cmd/%/%.d)

.SECONDEXPANSION:
$(OUT)/%: $(BUILD)/cmd/$$*/$$*.o $(LIBSM)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBSM) \
		$$($(PKG_CONFIG) --libs $(PKGS_$*)) -lm

$(BUILD)/tests/%: tests/unit/%.c tests/unit/fixture.h $(LIBSM)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) $$($(PKG_CONFIG) --cflags cmocka) \
		$(ALL_LDFLAGS) -o $@ $< $(LIBSM) \
		$$($(PKG_CONFIG) --libs $(TEST_PKGS)) -lm

unit: $(UNIT_BINS)

SAN_BUILD = $(BUILD)/san

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer.
SAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all

# libFuzzer targets (tests/fuzz/fuzz_*.c) with clang, over the library
# built again for coverage and ASan+UBSan in a directory of its own.
# `make fuzz` runs each FUZZ_SECONDS; `check` replays the committed
# inputs and fuzzes each FUZZ_CHECK_SECONDS (tests/fuzz/run.sh).
FUZZ_CC = clang
FUZZ_BUILD = $(BUILD)/fuzz
FUZZ_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
FUZZ_PKGS = $(filter-out cmocka,$(TEST_PKGS))
FUZZ_BINS = $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%, \
	$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS = 60
FUZZ_CHECK_SECONDS = 15

# $(call with_db,RUNNER,TESTS): the tests, if any, against the private
# MariaDB (scripts/mariadb.sh), started before and stopped after.
with_db = @if ls $(2) >/dev/null 2>&1; then \
		scripts/mariadb.sh start || exit 3; \
		$(1) $(2); rc=$$?; \
		scripts/mariadb.sh stop; exit $$rc; \
	fi

check: deps-check
	@$(MAKE) --no-print-directory check-run

san:
	@$(MAKE) --no-print-directory BUILD=$(SAN_BUILD) OUT=$(SAN_BUILD)/bin \
		CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" \
		all unit

fuzz-build:
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) \
		CFLAGS="$(FUZZ_FLAGS) -fsanitize=fuzzer-no-link" \
		$(FUZZ_BUILD)/libsm.a
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h \
    $(FUZZ_BUILD)/libsm.a
	$(FUZZ_CC) -std=c11 $(SM_CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer \
		-pthread -Wall -Wextra -Werror $(PKG_CFLAGS) -o $@ $< \
		$(FUZZ_BUILD)/libsm.a $$($(PKG_CONFIG) --libs $(FUZZ_PKGS)) -lm

SAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Each layer on its own, so one can be rerun alone.
test-unit: all unit
	tests/run.sh $(OUT) $(UNIT_BINS)

test-san: san
	$(SAN_ENV) tests/run.sh $(SAN_BUILD)/bin $(SAN_BUILD)/tests/test_*
	tests/sanitize.sh $(SAN_BUILD)/bin tests/cmd/*.sh

# The integration tests with the sanitizer binaries; a report from any
# process, a background receiver's too, fails the test (tests/sanitize.sh).
# demo-ctrlc.sh and byhand.sh run `make demo` and a fresh clone's own
# build, never $(SAN_BUILD)/bin: test-it runs them, once is enough.
SAN_IT = $(filter-out tests/it/demo-ctrlc.sh tests/it/byhand.sh, \
	$(wildcard tests/it/*.sh))
test-san-it: san
	$(call with_db,tests/sanitize.sh $(SAN_BUILD)/bin,$(SAN_IT))

# sm-read | sm-split into two sm-store receivers, each under valgrind
# memcheck: any error or definite/indirect leak fails.
test-valgrind: all
	$(call with_db,tests/run.sh $(OUT),tests/valgrind/*.sh)

test-fuzz: fuzz-build
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_CHECK_SECONDS)

fuzz: fuzz-build
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

test-cmd: all
	tests/run.sh $(OUT) tests/cmd/*.sh

# Integration tests share one private MariaDB (scripts/mariadb.sh).
test-it: all
	$(call with_db,tests/run.sh $(OUT),tests/it/*.sh)

# The chaos tests: 100,000 records through sm-split while receivers die
# and the database restarts; 10,000 onto a three-node Galera cluster of
# its own (scripts/galera.sh) while nodes die and rejoin.
test-chaos: all
	$(call with_db,tests/run.sh $(OUT),tests/chaos/*.sh)

test-kmod: all
	@if [ -x tests/kmod/run.sh ]; then tests/kmod/run.sh $(OUT); fi

# The Debian packages (debian/): built in a scratch directory, lintian
# clean, their contents checked (tests/deb/).
test-deb: all
	tests/run.sh $(OUT) tests/deb/*.sh

check-run: test-unit test-san test-cmd test-it test-san-it test-valgrind \
	test-fuzz test-chaos test-kmod test-deb lint-man style
	@echo "check: all tests passed"

demo: deps-demo
	@$(MAKE) -s --no-print-directory all
	@scripts/demo.sh

# The Debian packages a goal needs (scripts/deps.sh GOAL): `make deps`
# installs every test's.
deps: deps-check
deps-build deps-demo deps-deb deps-check:
	@scripts/deps.sh $(@:deps-%=%)

# sm and sm-metrics-dkms .deb files in build/deb/ (scripts/deb.sh), built
# from a copy of the tree with dpkg-buildpackage, then lintian.
deb: deps-deb
	@scripts/deb.sh build/deb

# Line width, trailing blanks, tabs; a report of the longest functions.
style:
	@scripts/style-check.sh

lint-man:
	@[ -z "$(MANS)" ] || mandoc -Tlint -Wwarning $(MANS)
	@echo "man pages: mandoc -Tlint clean"

install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	for m in $(MANS); do \
		s=$${m##*.}; \
		$(INSTALL) -d $(DESTDIR)$(MANDIR)/man$$s; \
		$(INSTALL) -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s; \
	done
	$(INSTALL) -d $(DESTDIR)$(WEBDIR)
	$(INSTALL) -m 644 $(WEB_FILES) $(DESTDIR)$(WEBDIR)

# systemd units, rendered for $(BINDIR); see README "Running it as a service".
install-systemd:
	scripts/units.sh $(BINDIR) $(BUILD)/systemd
	$(INSTALL) -d $(DESTDIR)$(SYSTEMDDIR)
	$(INSTALL) -m 644 $(BUILD)/systemd/* $(DESTDIR)$(SYSTEMDDIR)

uninstall:
	rm -f $(DESTDIR)$(SYSTEMDDIR)/sm-alert.service \
		$(DESTDIR)$(SYSTEMDDIR)/sm-keep.service \
		$(DESTDIR)$(SYSTEMDDIR)/sm-keep.timer \
		$(DESTDIR)$(SYSTEMDDIR)/sm-read-post.service \
		$(DESTDIR)$(SYSTEMDDIR)/sm-read-post-once.service \
		$(DESTDIR)$(SYSTEMDDIR)/sm-read-post.timer \
		$(DESTDIR)$(SYSTEMDDIR)/sm-store@.service \
		$(DESTDIR)$(SYSTEMDDIR)/sm-tail-web.service
	for f in $(WEB_FILES); do rm -f $(DESTDIR)$(WEBDIR)/$${f##*/}; done
	-rmdir $(DESTDIR)$(WEBDIR)
	for c in $(CMDS); do rm -f $(DESTDIR)$(BINDIR)/$$c; done
	for m in $(MANS); do \
		rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}; \
	done

clean:
	rm -rf $(BUILD) $(OUT)

.PHONY: all have-libs unit san test-unit test-san test-cmd test-it test-chaos \
	test-kmod test-deb check check-run demo deb deps deps-build deps-demo \
	deps-deb deps-check lint-man style install install-systemd uninstall \
	clean fuzz fuzz-build test-fuzz test-san-it test-valgrind
.PRECIOUS: $(BUILD)/cmd/%.o
