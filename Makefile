# turnpike — one non-recursive GNU Makefile for the server, its tools and every test.
#
#   make            build/turnserver
#   make run        build and start the server on etc/turnserver.conf's defaults
#   make check      build and run every test, plainly and under ASan+UBSan, plus a short fuzz run
#   make e2e        the browser tests only: headless Chromium relaying WebRTC through turnpike
#   make fuzz       build the libFuzzer targets (clang) into build/fuzz/
#   make bench      build the load generator into build/bench/ and compare coturn, a bare
#                   forwarder and turnpike (tests/bench/compare; minutes, never part of check)
#   make install    the binaries, man pages, systemd unit and (unless there is one already)
#                   /etc/turnpike/turnserver.conf; PREFIX=/usr/local, DESTDIR= for packaging
#   make uninstall  removes what make install put under PREFIX (the config file stays)
#   make clean
#
# Sources are found by folder: proto/*.c, auth/*.c, relay/*.c and server/*.c (except the files
# holding main()) form libturnpike.a; every tests/unit/*/test_*.c and tests/integration/test_*.c
# is one test program.  Adding a file needs no edit here.

B        ?= build
V        ?= 0
SAN      ?= 0
CC       ?= cc

WARN     := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wvla -Werror
CPPFLAGS := -I. -D_GNU_SOURCE -MMD -MP
CFLAGS   := -std=c11 -O2 -g $(WARN)
LDFLAGS  :=
PKGS     := libevent libevent_pthreads libevent_openssl libssl libcrypto hiredis
# Deferred (=) so that pkg-config runs after the deps step has installed it.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -levent -levent_pthreads -levent_openssl -lssl -lcrypto -lhiredis)
LIBS       = $(PKG_LIBS) -lpthread

ifeq ($(SAN),1)
CFLAGS   += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif

ifeq ($(V),0)
Q  := @
say = @printf '  %-6s %s\n' $(1) $(2);
else
Q  :=
say =
endif

# ---- Debian packages -----------------------------------------------------------------------
# Installed with apt-get when missing and running as root; otherwise we stop with the command.
BUILD_PKGS := gcc make pkg-config libevent-dev libssl-dev libhiredis-dev
TEST_PKGS  := clang libclang-rt-dev coturn procps iproute2 redis-server
# The browser tests (tests/e2e).  NodeSource's nodejs carries npm and conflicts with Debian's
# npm package, so npm is asked for only when there is no npm command.
E2E_PKGS    = chromium libnss3-tools openssl nodejs $(if $(shell command -v npm),,npm)

define need_pkgs
	$(Q)missing=; \
	if command -v dpkg-query >/dev/null 2>&1; then \
	  for p in $(1); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' \
	      || missing="$$missing $$p"; \
	  done; \
	fi; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "  APT    installing:$$missing"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends $$missing >/dev/null; } || exit 1; \
	  else \
	    echo "missing Debian packages; run: sudo apt-get install$$missing" >&2; exit 1; \
	  fi; \
	fi
endef

# ---- sources -------------------------------------------------------------------------------
MAINS      := server/main.c server/turnadmin.c
LIB_SRC    := $(wildcard proto/*.c auth/*.c relay/*.c) \
              $(filter-out $(MAINS),$(wildcard server/*.c))
LIB_OBJ    := $(LIB_SRC:%.c=$(B)/obj/%.o)
TLIB_SRC   := $(wildcard tests/lib/*.c)
TLIB_OBJ   := $(TLIB_SRC:%.c=$(B)/obj/%.o)
UNIT_SRC   := $(wildcard tests/unit/*/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/%.c=$(B)/tests/%)
INTEG_SRC  := $(wildcard tests/integration/test_*.c)
INTEG_BIN  := $(INTEG_SRC:tests/%.c=$(B)/tests/%)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/%.c=%)

.PHONY: all run check test-bins unit integration e2e fuzz fuzz-run clean deps-build deps-test \
        deps-e2e bench bench-bins install uninstall
.DEFAULT_GOAL := all

all: $(B)/turnserver $(B)/turnadmin

deps-build: | $(B)/.deps-build
$(B)/.deps-build:
	$(call need_pkgs,$(BUILD_PKGS))
	$(Q)mkdir -p $(B) && touch $@

deps-test: | $(B)/.deps-test
$(B)/.deps-test: | $(B)/.deps-build
	$(call need_pkgs,$(TEST_PKGS))
	$(Q)touch $@

deps-e2e: | $(B)/.deps-e2e
$(B)/.deps-e2e: | $(B)/.deps-build
	$(call need_pkgs,$(E2E_PKGS))
	$(Q)touch $@

$(B)/obj/%.o: %.c | $(B)/.deps-build
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(B)/libturnpike.a: $(LIB_OBJ)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(B)/libtestlib.a: $(TLIB_OBJ)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(B)/turnserver: $(B)/obj/server/main.o $(B)/libturnpike.a
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/turnadmin: $(B)/obj/server/turnadmin.o $(B)/libturnpike.a
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/%: $(B)/obj/tests/%.o $(B)/libtestlib.a $(B)/libturnpike.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

test-bins: $(B)/turnserver $(B)/turnadmin $(UNIT_BIN) $(INTEG_BIN)

# ---- running -------------------------------------------------------------------------------
# A demo user with a fresh random password each run (never a fixed default one).
run: $(B)/turnserver
	@pass=$$(head -c 18 /dev/urandom | base64 | tr -d '/+='); \
	echo "demo user: demo, password: $$pass"; \
	echo "iceServers: [{ urls: ['turn:127.0.0.1:3478?transport=udp'," \
	     "'turn:127.0.0.1:3478?transport=tcp'], username: 'demo', credential: '$$pass' }]"; \
	exec ./$(B)/turnserver -c etc/turnserver.conf --listening-ip 127.0.0.1 --listening-ip ::1 \
	    --user "demo:$$pass"

# `make check`: the plain build and its tests (the browser tests of tests/e2e last), the same
# tests under ASan+UBSan, then each fuzz target for FUZZ_SECONDS when clang is present.  Any
# failure makes the target fail.
FUZZ_SECONDS ?= 20
check: | $(B)/.deps-test $(B)/.deps-e2e
	$(Q)$(MAKE) --no-print-directory test-bins
	$(Q)$(MAKE) --no-print-directory B=$(B)/san SAN=1 test-bins
	$(Q)tests/run --server $(B)/turnserver $(UNIT_BIN) $(INTEG_BIN) tests/e2e/run
	$(Q)tests/run --sanitized --server $(B)/san/turnserver $(UNIT_BIN:$(B)/%=$(B)/san/%) \
	    $(INTEG_BIN:$(B)/%=$(B)/san/%) tests/e2e/run
	$(Q)$(MAKE) --no-print-directory fuzz-run

unit: $(UNIT_BIN)
	$(Q)tests/run $(UNIT_BIN)

integration: $(B)/turnserver $(INTEG_BIN)
	$(Q)tests/run --server $(B)/turnserver $(INTEG_BIN)

# tests/e2e/run installs its npm packages from the lock file (npm ci) when they are missing.
e2e: $(B)/turnserver | $(B)/.deps-e2e
	$(Q)TURNPIKE_SERVER=$(abspath $(B)/turnserver) tests/e2e/run

# ---- installing ----------------------------------------------------------------------------
# Binaries into $(PREFIX)/bin (turnadmin when it was built), man pages into $(PREFIX)/share/man,
# the systemd unit into $(PREFIX)/lib/systemd/system, @PREFIX@ replaced in the unit and the
# pages.  The config file goes to /etc/turnpike, where the server looks for it, and an existing
# one is never overwritten.  Everything lands under $(DESTDIR) when it is set.
PREFIX     ?= /usr/local
DESTDIR    ?=
CONFDIR    := /etc/turnpike
BINDIR      = $(DESTDIR)$(PREFIX)/bin
MANDIR      = $(DESTDIR)$(PREFIX)/share/man
UNITDIR     = $(DESTDIR)$(PREFIX)/lib/systemd/system
# Expanded as the recipe runs, after the prerequisites are built.
INST_BINS   = $(B)/turnserver $(wildcard $(B)/turnadmin)
INST_PAGES  = etc/turnserver.8 $(wildcard etc/turnadmin.1)
SUBST       = sed 's|@PREFIX@|$(PREFIX)|g'

install: all
	$(Q)install -d -m 755 $(BINDIR) $(MANDIR)/man1 $(MANDIR)/man8 $(UNITDIR) $(DESTDIR)$(CONFDIR)
	$(Q)for f in $(INST_BINS); do \
	  echo "  INST   $(BINDIR)/$${f##*/}"; install -m 755 $$f $(BINDIR)/ || exit 1; done
	$(Q)for f in $(INST_PAGES); do \
	  to=$(MANDIR)/man$${f##*.}/$${f##*/}; echo "  INST   $$to"; \
	  $(SUBST) $$f >$$to && chmod 644 $$to || exit 1; done
	$(Q)echo "  INST   $(UNITDIR)/turnpike.service"; \
	  $(SUBST) etc/turnpike.service >$(UNITDIR)/turnpike.service && \
	  chmod 644 $(UNITDIR)/turnpike.service
	$(Q)if [ -e $(DESTDIR)$(CONFDIR)/turnserver.conf ]; then \
	  echo "  KEEP   $(DESTDIR)$(CONFDIR)/turnserver.conf (not overwritten)"; \
	else \
	  echo "  INST   $(DESTDIR)$(CONFDIR)/turnserver.conf"; \
	  install -m 644 etc/turnserver.conf $(DESTDIR)$(CONFDIR)/turnserver.conf; \
	fi

uninstall:
	rm -f $(BINDIR)/turnserver $(BINDIR)/turnadmin $(MANDIR)/man8/turnserver.8 \
	    $(MANDIR)/man1/turnadmin.1 $(UNITDIR)/turnpike.service

# ---- fuzzing -------------------------------------------------------------------------------
FUZZ_CC     := clang
FUZZ_FLAGS  := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_LIBSRC := $(wildcard proto/*.c)

fuzz: $(FUZZ_NAMES:%=$(B)/fuzz/%) $(B)/fuzz/seeds

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_LIBSRC) | $(B)/.deps-test
	@mkdir -p $(dir $@)
	$(call say,FUZZ,$@)$(FUZZ_CC) $(CPPFLAGS:-MMD=) $(WARN) $(FUZZ_FLAGS) -o $@ $(filter %.c,$^) \
	    -lcrypto

# The text parsers' target also needs the modules whose parsers it drives.
$(B)/fuzz/fuzz_text: auth/store.c auth/rest.c auth/err.c auth/redisconf.c auth/schema.c \
                     relay/policy.c server/config.c server/config_opts.c server/config_table.c \
                     server/log.c

$(B)/fuzz/seeds: tests/fuzz/seeds.c $(FUZZ_LIBSRC) | $(B)/.deps-build
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) -I. -D_GNU_SOURCE $(CFLAGS) -o $@ $^ -lcrypto

# Each target runs FUZZ_SECONDS from its generated seed corpus; a crash fails the run.
fuzz-run: fuzz
	$(Q)rm -rf $(B)/fuzz/corpus && $(B)/fuzz/seeds $(B)/fuzz/corpus
	$(Q)for f in $(FUZZ_NAMES); do \
	  mkdir -p $(B)/fuzz/work/$$f; \
	  echo "  FUZZ   $$f for $(FUZZ_SECONDS) s"; \
	  $(B)/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
	    -artifact_prefix=$(B)/fuzz/ $(B)/fuzz/work/$$f $(B)/fuzz/corpus/$${f#fuzz_} \
	    >$(B)/fuzz/$$f.log 2>&1 || { tail -40 $(B)/fuzz/$$f.log; echo "fuzz: $$f failed"; exit 1; }; \
	  grep -E '^#[0-9]+.*DONE' $(B)/fuzz/$$f.log | tail -1; \
	done

# ---- benchmark -----------------------------------------------------------------------------
# The load generator, the echo peer and the bare forwarder link proto/ alone, not the server
# (but for the forwarder's --steer, which takes the server's steering).
# BENCH_ARGS go to tests/bench/compare, e.g. BENCH_ARGS="--only sat,rate --reps 5".
BENCH_PKGS  := coturn gnuplot-nox
BENCH_MAINS := loadgen echo forward
BENCH_OBJ   := $(patsubst %.c,$(B)/obj/%.o,$(filter-out $(BENCH_MAINS:%=tests/bench/%.c), \
                 $(wildcard tests/bench/*.c)) $(wildcard proto/*.c) server/steer.c)

bench-bins: $(BENCH_MAINS:%=$(B)/bench/%)

$(B)/bench/libbench.a: $(BENCH_OBJ)
	@mkdir -p $(dir $@)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(B)/bench/%: $(B)/obj/tests/bench/%.o $(B)/bench/libbench.a
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

bench: $(B)/turnserver bench-bins | $(B)/.deps-bench
	$(Q)tests/bench/compare --build $(B) $(BENCH_ARGS)

$(B)/.deps-bench: | $(B)/.deps-build
	$(call need_pkgs,$(BENCH_PKGS))
	$(Q)touch $@

clean:
	rm -rf build

-include $(shell find $(B) -name '*.d' 2>/dev/null)
