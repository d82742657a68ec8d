# phaselab: `make` builds bin/phaselab, `make test` runs the unit tests,
# `make integration` the tests against a real engine, `make images` prepares
# the base images, `make check-sanitizers` runs the unit tests under ASan and
# UBSan and the fuzzers, `make check` all of them (what CI runs), `make
# install` installs the program and its data under PREFIX (`make uninstall`
# removes them).  Quiet unless V=1.

CC      ?= cc
PKGS    := libgit2 jansson libcurl libcrypto md4c libarchive
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Wshadow -Wmissing-prototypes -Wwrite-strings \
           -Wstrict-prototypes -Wformat=2 -Wno-format-nonliteral \
           -Werror=implicit-function-declaration
# WERROR=1 (make check and CI) turns every warning into an error.
ifeq ($(WERROR),1)
WARN    += -Werror
endif
CPPFLAGS += -D_GNU_SOURCE -Irunner -MMD -MP
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
TEST_CFLAGS := $(shell pkg-config --cflags cmocka)
TEST_LIBS   := $(shell pkg-config --libs cmocka)

# Installation, after the GNU conventions: DESTDIR is prefixed at install time
# only (a staging folder for packagers), never compiled in; the program looks
# for its data in $(pkgdatadir), which is.
PREFIX     ?= /usr/local
bindir     ?= $(PREFIX)/bin
datadir    ?= $(PREFIX)/share
pkgdatadir := $(datadir)/phaselab
INSTALL    ?= install

ifeq ($(V),1)
Q :=
else
Q := @
endif

B := build
# runner/ is one folder per layer (tests/tools/check-layers lists them).
LIB_SRC  := $(sort $(wildcard runner/*/*.c) $(wildcard checks/*.c))
LAYERED  := runner/main.c $(LIB_SRC) $(wildcard runner/*/*.h checks/*.h)
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
MAIN_OBJ := $(B)/runner/main.o
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(B)/tests/%)
TOOL_BIN := $(patsubst tests/tools/%.c,$(B)/tools/%,$(wildcard tests/tools/*.c))

all: bin/phaselab

bin/phaselab: $(MAIN_OBJ) $(LIB_OBJ) $(B)/layers.ok
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(MAIN_OBJ) $(LIB_OBJ) $(PKG_LIBS) $(LDLIBS)

# The layer rule: no file includes from a layer above its own, no header cycle.
$(B)/layers.ok: $(LAYERED) tests/tools/check-layers
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LAYERS  runner checks")
	$(Q)tests/tools/check-layers $(LAYERED)
	$(Q)touch $@

# Where the program looks for its data is compiled into fsutil.o alone; the
# stamp holds the folders, rewritten only when they change (make PREFIX=...).
$(B)/runner/lib/fsutil.o: CPPFLAGS += -DPHASELAB_DATADIR='"$(pkgdatadir)"' -DPHASELAB_BINDIR='"$(bindir)"'
$(B)/runner/lib/fsutil.o: $(B)/install-dirs
$(B)/install-dirs: FORCE
	@mkdir -p $(@D)
	$(Q)echo '$(pkgdatadir) $(bindir)' | cmp -s - $@ || echo '$(pkgdatadir) $(bindir)' >$@

$(B)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(PKG_CFLAGS) $(TEST_CFLAGS) -c -o $@ $<

$(B)/tests/%: $(B)/tests/unit/%.o $(LIB_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS) $(LDLIBS)

# The check kinds' tests run on a fake engine that replays recorded answers.
$(B)/tests/test_checks: $(B)/tests/unit/fake_engine.o
$(B)/tests/test_layer_cache: $(B)/tests/unit/fake_engine.o
$(B)/tests/test_backend_image: $(B)/tests/unit/fake_engine.o
$(B)/tests/test_engine_podman: $(B)/tests/unit/fake_engine.o
$(B)/tests/test_engine_remote: $(B)/tests/unit/fake_engine.o
# The deploy kinds' tests run a fake registry in a thread.
$(B)/tests/test_backend_deploy: LDLIBS += -lpthread

# Helpers for the integration tests (they use libgit2 like the program does).
$(B)/tools/%: tests/tools/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS)

# Unit tests: no engine needed, but for test_engine_args, which proves on the
# real engine that no argument is dropped (PHASELAB_NO_ENGINE_TESTS=1 skips
# it where none runs).  Each binary prints cmocka's summary;
# tests/run-unit prints the closing "N passed, N failed" line.  `unit` runs
# them without building the program (what `asan` uses).
test: bin/phaselab unit

unit: $(TEST_BIN)
	$(Q)tests/tools/timed $(or $(SUITE),unit) tests/run-unit $(TEST_BIN)

# Integration tests: a real engine, both builders, the bundled lab,
# interruptions at many moments of a run, hostile submissions and engine
# faults, and a learner's walk through the phases under a terminal.
integration: bin/phaselab $(TOOL_BIN)
	$(Q)tests/tools/timed run tests/integration/run
	$(Q)tests/tools/timed backend tests/integration/backend
	$(Q)tests/tools/timed interrupts tests/integration/interrupts
	$(Q)tests/tools/timed environment tests/integration/environment
	$(Q)tests/tools/timed grade tests/integration/grade
	$(Q)tests/tools/timed walk tests/integration/walk
	$(Q)tests/tools/timed tracks tests/integration/tracks
	$(Q)tests/tools/timed system tests/integration/system
	$(Q)tests/tools/timed python tests/integration/python
	$(Q)tests/tools/timed hints tests/integration/hints
	$(Q)tests/tools/timed steps tests/integration/steps
	$(Q)tests/tools/timed hostile tests/integration/hostile
	$(Q)tests/tools/timed images tests/integration/images
	$(Q)tests/tools/timed publish tests/integration/publish
	$(Q)tests/tools/timed install tests/integration/install
	$(Q)tests/tools/timed podman tests/integration/podman
	$(Q)tests/tools/timed ignorefiles tests/integration/ignorefiles
	$(Q)tests/tools/timed remote tests/integration/remote/run
	$(Q)tests/tools/timed engines tests/integration/engines/run
	$(Q)PHASELAB_ENGINE=podman tests/tools/timed podman-environment tests/integration/environment
	$(Q)PHASELAB_ENGINE=podman PHASELAB_ONLY='*root*' tests/tools/timed podman-run tests/integration/run
	$(Q)PHASELAB_ROOTLESS_SUITES=environment tests/tools/timed rootless tests/integration/rootless

# The engine matrix: the suites the engines must agree on (run, hostile,
# interrupts, environment, walk) on docker, rootful podman, rootless podman
# and a remote dockerd, and a table of the counts (tests/tools/matrix;
# MATRIX_SUITES and MATRIX_ENGINES narrow it).  About 90 minutes here; CI
# runs a part of it on each engine that is not the default (.ci/run).
matrix: bin/phaselab $(TOOL_BIN)
	$(Q)tests/tools/matrix

# Phase 3 on rootful podman (PHASELAB_ENGINE=podman): the reference and a
# few fixtures against their docker verdicts; the last suite of
# `integration`, skipped where podman is not installed (labs/setup
# --packages installs it; make images loads the base images into it).
podman-check: bin/phaselab
	$(Q)tests/tools/timed podman tests/integration/podman

# The main job on the bundled lab: the reference solution of phase 3, the
# whole system (labs/services, each service with its overlay from
# labs/solutions/03-containerization), checked for real; then the backend track's, built, pushed to the local registry under
# its commit's tag and checked through phases 10 to 12 (labs/demo-backend).
demo: bin/phaselab
	$(Q)rm -rf $(B)/lab/03-containerization
	$(Q)labs/assemble --system --solution 3 $(B)/lab/03-containerization >/dev/null
	$(Q)bin/phaselab check --phase 3 --dir $(B)/lab/03-containerization
	$(Q)labs/demo-backend $(B)/lab/backend

# Everything CI runs: the unit tests, the same under the sanitizers with the
# fuzzers for a bounded time, then the engine tests.
check:
	$(Q)$(MAKE) --no-print-directory WERROR=1 test check-sanitizers integration

# Base images: pulled where a registry answers, else built as local stand-ins.
images:
	$(Q)labs/images/make-images

# The local registry the backend track publishes to, on loopback (labs/setup
# starts it too); `labs/setup --stop-registry` stops it.
.PHONY: registry
registry:
	$(Q)labs/registry/registry start

# The unit tests under AddressSanitizer (leaks included) and
# UndefinedBehaviorSanitizer, built apart in build-asan: bin/phaselab is left
# alone.  Any report fails the run (halt_on_error, and no recovery compiled in).
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
asan:
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(MAKE) --no-print-directory B=build-asan CFLAGS="-O1 -g $(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" SUITE=asan unit

# libFuzzer harnesses (clang) for the readers of untrusted input: each
# tests/fuzz/fuzz_*.c is linked with the library (runner/ and checks/ but
# main.c) into build-fuzz/bin/, built apart like build-asan: the library with
# -fsanitize=fuzzer-no-link, ASan and UBSan, the harness with -fsanitize=fuzzer.
# A harness that includes a library file names it on a line "fuzz-replaces:
# checks/x.c", and that object stays out of its link.  `make fuzz-build`
# builds them (FUZZ_TARGETS="phase tar" some only); `make fuzz` builds and
# fuzzes each for PHASELAB_FUZZ_SECONDS (default 20), then replays every saved
# regression input and seed: tests/fuzz/run says how.
CLANG       ?= clang
FB          := build-fuzz
FUZZ_SRC    := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_ALL    := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_CFLAGS := -O1 -g $(SAN_FLAGS)
FUZZ_LIB    := $(LIB_SRC:%.c=$(FB)/%.o)
FUZZ_BIN    := $(addprefix $(FB)/bin/fuzz_,$(or $(FUZZ_TARGETS),$(FUZZ_ALL)))
fuzz_replaced = $(patsubst %.c,$(FB)/%.o,$(shell sed -n 's/.*fuzz-replaces: *//p' tests/fuzz/fuzz_$(1).c))

fuzz-build: $(FUZZ_BIN)

# (built in parallel even when make was not asked to: one job per CPU)
fuzz:
	$(Q)$(MAKE) --no-print-directory $(if $(findstring -j,$(MAKEFLAGS)),,-j$$(nproc)) fuzz-build
	$(Q)PHASELAB_FUZZ_BUILT=1 tests/tools/timed fuzz tests/fuzz/run

$(FB)/bin/fuzz_%: $(FB)/tests/fuzz/fuzz_%.o $(FUZZ_LIB) $(B)/layers.ok
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CLANG) $(LDFLAGS) -fsanitize=fuzzer $(SAN_FLAGS) -o $@ $< \
		$(filter-out $(call fuzz_replaced,$*),$(FUZZ_LIB)) $(PKG_LIBS) $(LDLIBS)

# Harnesses include "checks/x.c" from the top of the tree, hence -I.
$(FB)/%.o: %.c $(FB)/flags | $(FB)/clang.ok
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (fuzzer)")
	$(Q)$(CLANG) $(CPPFLAGS) -I. $(WARN) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) -c -o $@ $<

$(FB)/runner/lib/fsutil.o: CPPFLAGS += -DPHASELAB_DATADIR='"$(pkgdatadir)"' -DPHASELAB_BINDIR='"$(bindir)"'

# The compiler and its flags: new ones, new objects (-Werror changes no object).
FUZZ_STAMP := $(CLANG) $(CPPFLAGS) $(filter-out -Werror,$(WARN)) $(FUZZ_CFLAGS) $(PKG_CFLAGS) $(pkgdatadir) $(bindir)
$(FB)/flags: FORCE
	@mkdir -p $(@D)
	$(Q)echo '$(FUZZ_STAMP)' | cmp -s - $@ || echo '$(FUZZ_STAMP)' >$@

# Can clang build a libFuzzer program at all?  Say what to install if not.
$(FB)/clang.ok: $(FB)/flags
	$(Q)printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' >$(FB)/probe.c
	$(Q)$(CLANG) -fsanitize=fuzzer $(SAN_FLAGS) -o $(FB)/probe $(FB)/probe.c 2>$(FB)/probe.err || { \
		sed 's/^/  /' $(FB)/probe.err | head -n 5 >&2; \
		echo "'$(CLANG)' cannot build a libFuzzer program: apt-get install clang libclang-rt-dev (labs/setup --packages does)" >&2; \
		exit 2; }
	$(Q)touch $@

check-sanitizers: asan fuzz

# phaselab against the naive way (the lesson's steps, waiting at the image's
# own timings) and the floor (only the unavoidable engine work): medians of
# warm runs, a cold run apart, ratios, engine calls, phaselab's peak memory.
bench: bin/phaselab $(TOOL_BIN)
	$(Q)bench/run
	$(Q)bench/class --runs 2

# The same for the backend track's image phase (phases/10-orchestrator-image).
bench-backend: bin/phaselab
	$(Q)BENCH_PHASE=10 bench/run

# The whole system of six services (issue 14): phaselab's suite check against
# bench/floor-system, the ratio and phaselab's peak memory.
bench-system: bin/phaselab
	$(Q)bench/run-system

# What one learner costs on each engine kind (phaselab's CPU and the engine's),
# the predicted time of a class on E engines of C cores, and grade's own cost
# per learner (BENCH_CLASS_ARGS, e.g. --learners 200 --engines 3 --cores 2).
bench-class: bin/phaselab $(TOOL_BIN)
	$(Q)bench/class $(BENCH_CLASS_ARGS)

# What the program reads at run time: the program, the phases (lessons and
# checklists), and from labs/ what `phaselab init` copies into a workspace
# (the starting services without their build outputs, the workspace README).
# Not the tests, the solutions, the base-image recipes or the setup scripts.
DATA = $(sort $(shell find phases labs/workspace -type f) \
	$(shell find labs/services labs/backend \( -name node_modules -o -name dist -o -name __pycache__ \
		-o -name .venv \) -prune -o -type f ! -name '*.pyc' -print))

install: bin/phaselab
	@$(if $(Q),echo "  INSTALL $(DESTDIR)$(bindir)/phaselab")
	$(Q)$(INSTALL) -d -m 755 '$(DESTDIR)$(bindir)'
	$(Q)$(INSTALL) -m 755 bin/phaselab '$(DESTDIR)$(bindir)/phaselab'
	@$(if $(Q),echo "  INSTALL $(DESTDIR)$(pkgdatadir)/ (phases, labs)")
	$(Q)set -e; for f in $(DATA); do \
		d='$(DESTDIR)$(pkgdatadir)'/$${f%/*}; \
		$(INSTALL) -d -m 755 "$$d"; \
		$(INSTALL) -m 644 "$$f" "$$d/"; \
	done

# The files install put there, then the folders left empty: phaselab's own,
# and bindir, datadir and PREFIX when nothing else is in them.
uninstall:
	@$(if $(Q),echo "  RM      $(DESTDIR)$(bindir)/phaselab $(DESTDIR)$(pkgdatadir)/")
	$(Q)rm -f '$(DESTDIR)$(bindir)/phaselab'
	$(Q)if [ -d '$(DESTDIR)$(pkgdatadir)' ]; then \
		(cd '$(DESTDIR)$(pkgdatadir)' && rm -f $(DATA)) && \
		find '$(DESTDIR)$(pkgdatadir)' -depth -type d -empty -delete; \
	fi
	$(Q)for d in '$(DESTDIR)$(bindir)' '$(DESTDIR)$(datadir)' '$(DESTDIR)$(PREFIX)'; do \
		[ ! -d "$$d" ] || rmdir "$$d" 2>/dev/null || :; \
	done

clean:
	rm -rf build build-asan build-fuzz bin

FORCE:

.PHONY: all test unit integration matrix podman-check demo check images asan fuzz fuzz-build check-sanitizers bench bench-backend bench-system bench-class install uninstall clean FORCE
.SECONDARY:

-include $(shell find $(B) $(FB) -name '*.d' 2>/dev/null)
