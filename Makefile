# phaselab: `make` builds bin/phaselab, `make test` runs the unit tests,
# `make integration` the tests against a real engine, `make images` prepares
# the base images, `make check-sanitizers` runs the unit tests under ASan and
# UBSan and the fuzzers, `make check` all of them (what CI runs).  Quiet
# unless V=1.

CC      ?= cc
PKGS    := libgit2 jansson libcurl md4c libarchive
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

# Helpers for the integration tests (they use libgit2 like the program does).
$(B)/tools/%: tests/tools/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS)

# Unit tests: no engine needed.  Each binary prints cmocka's summary;
# tests/run-unit prints the closing "N passed, N failed" line.  `unit` runs
# them without building the program (what `asan` uses).
test: bin/phaselab unit

unit: $(TEST_BIN)
	$(Q)tests/run-unit $(TEST_BIN)

# Integration tests: a real engine, both builders, the bundled lab,
# interruptions at many moments of a run, hostile submissions and engine
# faults, and a learner's walk through the phases under a terminal.
integration: bin/phaselab $(TOOL_BIN)
	$(Q)tests/integration/run
	$(Q)tests/integration/interrupts
	$(Q)tests/integration/environment
	$(Q)tests/integration/grade
	$(Q)tests/integration/walk
	$(Q)tests/integration/hostile

# The main job on the bundled lab: the reference solution of phase 3,
# assembled from labs/service and its overlay, checked for real.
demo: bin/phaselab
	$(Q)rm -rf $(B)/lab/03-containerization
	$(Q)labs/assemble --solution 3 $(B)/lab/03-containerization >/dev/null
	$(Q)bin/phaselab check --phase 3 --dir $(B)/lab/03-containerization

# Everything CI runs: the unit tests, the same under the sanitizers with the
# fuzzers for a bounded time, then the engine tests.
check:
	$(Q)$(MAKE) --no-print-directory WERROR=1 test check-sanitizers integration

# Base images: pulled where a registry answers, else built as local stand-ins.
images:
	$(Q)labs/images/make-images

# The unit tests under AddressSanitizer (leaks included) and
# UndefinedBehaviorSanitizer, built apart in build-asan: bin/phaselab is left
# alone.  Any report fails the run (halt_on_error, and no recovery compiled in).
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
asan:
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(MAKE) --no-print-directory B=build-asan CFLAGS="-O1 -g $(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" unit

# libFuzzer harnesses (clang) for the readers of untrusted input, each fuzzed
# for PHASELAB_FUZZ_SECONDS (default 20), then every saved regression input
# and seed replayed: tests/fuzz/run says how.
fuzz:
	$(Q)tests/fuzz/run

check-sanitizers: asan fuzz

# phaselab against the naive way (the lesson's steps, waiting at the image's
# own timings) and the floor (only the unavoidable engine work): medians of
# warm runs, a cold run apart, ratios, engine calls, phaselab's peak memory.
bench: bin/phaselab
	$(Q)bench/run

clean:
	rm -rf build build-asan bin

.PHONY: all test unit integration demo check images asan fuzz check-sanitizers bench clean
.SECONDARY:

-include $(shell find $(B) -name '*.d' 2>/dev/null)
