# phaselab: `make` builds bin/phaselab, `make test` runs the unit tests,
# `make integration` the tests against a real engine, `make images` prepares
# the base images.  Quiet unless V=1.

CC      ?= cc
PKGS    := libgit2 jansson libcurl
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Wshadow -Wmissing-prototypes -Wwrite-strings \
           -Wstrict-prototypes -Wformat=2 -Wno-format-nonliteral
CPPFLAGS += -D_GNU_SOURCE -Irunner -Ichecks -MMD -MP
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
LIB_SRC  := $(sort $(filter-out runner/main.c,$(wildcard runner/*.c)) $(wildcard checks/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
MAIN_OBJ := $(B)/runner/main.o
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(B)/tests/%)
TOOL_BIN := $(patsubst tests/tools/%.c,$(B)/tools/%,$(wildcard tests/tools/*.c))

all: bin/phaselab

bin/phaselab: $(MAIN_OBJ) $(LIB_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(PKG_CFLAGS) $(TEST_CFLAGS) -c -o $@ $<

$(B)/tests/%: $(B)/tests/unit/%.o $(LIB_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS) $(LDLIBS)

# Helpers for the integration tests (they use libgit2 like the program does).
$(B)/tools/%: tests/tools/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS)

# Unit tests: no engine needed.  Each binary prints cmocka's summary;
# tests/run-unit prints the closing "N passed, N failed" line.
test: bin/phaselab $(TEST_BIN)
	$(Q)tests/run-unit $(TEST_BIN)

# Integration tests: a real engine, both builders, the bundled lab, and
# interruptions at many moments of a run.
integration: bin/phaselab $(TOOL_BIN)
	$(Q)tests/integration/run
	$(Q)tests/integration/interrupts
	$(Q)tests/integration/environment
	$(Q)tests/integration/grade

# The main job on the bundled lab: the reference solution of phase 3,
# assembled from labs/service and its overlay, checked for real.
demo: bin/phaselab
	$(Q)rm -rf $(B)/lab/03-containerization
	$(Q)labs/assemble --solution 3 $(B)/lab/03-containerization >/dev/null
	$(Q)bin/phaselab check --phase 3 --dir $(B)/lab/03-containerization

# Everything CI runs.
check: test integration

# Base images: pulled where a registry answers, else built as local stand-ins.
images:
	$(Q)labs/images/make-images

asan:
	$(MAKE) B=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
		LDFLAGS="-fsanitize=address,undefined" test

clean:
	rm -rf build build-asan bin

.PHONY: all test integration demo check images asan clean
.SECONDARY:

-include $(shell find $(B) -name '*.d' 2>/dev/null)
