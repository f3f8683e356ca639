# mpnet: build, test and run.  See README.md.
#
#   make            build everything into build/
#   make run        install missing Debian packages, build, run the default scenario
#   make test       install what the tests need, build, run the whole suite
#   make test-quick unit tests + ASan/UBSan unit tests + bats cases not tagged slow
#   make test-unit  unit tests only;  make test-asan  unit tests under ASan+UBSan
#   make format     clang-format every C file;  make format-check  fail on a diff
#   make fuzz       the libFuzzer targets (tests/fuzz), FUZZ_TIME s each;  make fuzz-smoke
#   make soak       the 30-min live soak, then 1000 seeded adversarial transfers (make integrity: 100)
#   make cc-bottleneck  coupled congestion control: do no harm, balance congestion (virtual time)
#   make stress     every Bats file with a Linux MPTCP peer, STRESS_RUNS (20) times (root)
#   make stress-faults  FAULT_RUNS (100) libmpt <-> Linux transfers with early packet drops (root)
#   make bench      the side-by-side benchmark suite (bench/suite.sh, < 20 min, root)
#   make bench-quick  a few cases, one run each (< 3 min)
#   make bench-sched  libmpt's schedulers x bulk / rr / stream x large / small receive buffers
#                     on heterogeneous paths (< 20 min)
#   make bench-cc     coupled congestion control: RFC 6356's experiments, libmpt and Linux (< 20 min)
#
# Convention: every directory of C code is a library, except that a file named
# main.c is the entry point of one program.  Unit tests (tests/unit/*.c) link all
# libraries; they register themselves, so adding a test file needs no edit here.

CC      ?= cc
BUILD   ?= build
PKGS    := libnl-3.0 libnl-route-3.0 libnl-genl-3.0 libmnl yaml-0.1 jansson libpcap openssl

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wformat=2 -Wvla -Wundef -Wwrite-strings -Wnull-dereference \
           -Wimplicit-fallthrough -Wno-unused-parameter
CSTD    := -std=c11 -D_GNU_SOURCE
OPT     ?= -O2 -g
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
INCS    := -Icommon -Inetns -Inetns/emu -Istack/include -Istack/src -Istack/sim -Istack/rt -Istack/socket -Istack/preload -Istack/packetdrill -Istack/tools/mpt-perf -Itests/unit
CFLAGS_ALL = $(CSTD) $(OPT) $(WARN) $(INCS) $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lm -lpthread

lib_srcs = $(filter-out %/main.c,$(wildcard $(1)/*.c))

COMMON_SRC := $(call lib_srcs,common)
STACK_SRC  := $(call lib_srcs,stack/src)
SIM_SRC    := $(call lib_srcs,stack/sim)
RT_SRC     := $(call lib_srcs,stack/rt)
SOCK_SRC   := $(call lib_srcs,stack/socket)
PRELOAD_SRC := $(call lib_srcs,stack/preload)
PD_SRC     := $(call lib_srcs,stack/packetdrill)
PERF_SRC   := $(call lib_srcs,stack/tools/mpt-perf)
EMU_SRC    := $(call lib_srcs,netns/emu)
NETNS_SRC  := $(call lib_srcs,netns)
UNIT_SRC   := $(wildcard tests/unit/*.c)
LIB_SRC    := $(COMMON_SRC) $(STACK_SRC) $(SIM_SRC) $(RT_SRC) $(SOCK_SRC) $(PRELOAD_SRC) $(PD_SRC) $(PERF_SRC) $(EMU_SRC) $(NETNS_SRC)

obj = $(patsubst %.c,$(2)/obj/%.o,$(1))

# Quiet by default: one short line per step ("CC netns/world.c"); make V=1 shows
# the whole command lines.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif

PROGS := $(BUILD)/bin/mpnet $(BUILD)/bin/mpt-perf $(BUILD)/bin/mpt-sockcheck $(BUILD)/bin/mpt-run
ifneq ($(wildcard netns/emu/main.c),)
PROGS += $(BUILD)/bin/mpnet-linkemu
endif

.PHONY: all run test test-quick test-unit test-asan deps deps-test format format-check clean bench bench-quick bench-sched bench-cc
all: $(PROGS) $(BUILD)/tests/unit-tests $(BUILD)/lib/libmpt-core.a $(BUILD)/lib/libmpt-preload.so $(BUILD)/lib/libmpt-packetdrill.so

# --- objects -------------------------------------------------------------------
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC-ASAN,$<)
	$(Q)$(CC) $(CSTD) -O1 -g -DMPT_TCP_PARANOID -fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer $(WARN) $(INCS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/lib/libmpnet.a: $(call obj,$(LIB_SRC),$(BUILD))
	@mkdir -p $(dir $@)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# libmpt's core alone (stack/src): ci/core-symbols.sh checks what it needs from outside
# against stack/core-symbols.allow (make test).
$(BUILD)/lib/libmpt-core.a: $(call obj,$(STACK_SRC),$(BUILD))
	@mkdir -p $(dir $@)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# The preload library (mpt-run): libmpt, its runtime, the socket layer and the shim
# (stack/preload/so, in no other program: it defines socket, close, ...) built as
# position-independent code, everything hidden but the shim's interposed calls.
SO_SRC := $(STACK_SRC) $(SIM_SRC) $(RT_SRC) $(SOCK_SRC) $(PRELOAD_SRC) $(wildcard stack/preload/so/*.c)

$(BUILD)/pic/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC-PIC,$<)
	$(Q)$(CC) $(CFLAGS_ALL) -fPIC -fvisibility=hidden -MMD -MP -c $< -o $@

$(BUILD)/lib/libmpt-preload.so: $(call obj,$(SO_SRC),$(BUILD)/pic)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT) -shared -Wl,-z,defs -o $@ $^ $(LDLIBS_ALL) -ldl

# The packetdrill shim (--so_filename; docs/PACKETDRILL.md): libmpt and the socket
# layer in virtual time, everything hidden but packetdrill_interface_init.
PD_SO_SRC := $(STACK_SRC) $(SIM_SRC) $(RT_SRC) $(SOCK_SRC) $(PD_SRC)

$(BUILD)/lib/libmpt-packetdrill.so: $(call obj,$(PD_SO_SRC),$(BUILD)/pic)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT) -shared -Wl,-z,defs -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/asan/lib/libmpnet.a: $(call obj,$(LIB_SRC),$(BUILD)/asan)
	@mkdir -p $(dir $@)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# --- programs ------------------------------------------------------------------
$(BUILD)/bin/mpnet: $(BUILD)/obj/netns/main.o $(BUILD)/lib/libmpnet.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/bin/mpt-perf: $(BUILD)/obj/stack/tools/mpt-perf/main.o $(BUILD)/lib/libmpnet.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/bin/mpt-sockcheck: $(BUILD)/obj/stack/tools/mpt-sockcheck/main.o $(BUILD)/lib/libmpnet.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/bin/mpt-run: $(BUILD)/obj/stack/tools/mpt-run/main.o $(BUILD)/lib/libmpnet.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/bin/mpnet-linkemu: $(BUILD)/obj/netns/emu/main.o $(BUILD)/lib/libmpnet.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/tests/unit-tests: $(call obj,$(UNIT_SRC),$(BUILD)) $(BUILD)/lib/libmpnet.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/asan/tests/unit-tests: $(call obj,$(UNIT_SRC),$(BUILD)/asan) $(BUILD)/asan/lib/libmpnet.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) -fsanitize=address,undefined -o $@ $^ $(LDLIBS_ALL)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# --- set-up, tests, run --------------------------------------------------------
deps:
	@ci/deps.sh build
deps-test:
	@ci/deps.sh test

# `make run` and `make test` install what they need first (recursive make so the
# pkg-config flags are read after the packages exist).
run:
	@ci/deps.sh run
	@$(MAKE) --no-print-directory $(PROGS)
	@ci/need-root.sh "make run creates network namespaces"
	@./$(BUILD)/bin/mpnet run topologies/handover.yaml

test:
	@ci/deps.sh test
	@$(MAKE) --no-print-directory all $(BUILD)/asan/tests/unit-tests $(BUILD)/tests/integrity \
		fuzz-build
	@ci/run-tests.sh all

test-quick:
	@ci/deps.sh test
	@$(MAKE) --no-print-directory all $(BUILD)/asan/tests/unit-tests
	@ci/run-tests.sh quick

test-unit: $(BUILD)/tests/unit-tests
	@ci/run-tests.sh unit

test-asan: $(BUILD)/asan/tests/unit-tests
	@ci/run-tests.sh asan

bench: all
	@ci/need-root.sh "make bench creates network namespaces"
	@bench/suite.sh

bench-quick: all
	@ci/need-root.sh "make bench-quick creates network namespaces"
	@bench/suite.sh --quick

# libmpt's schedulers x workloads (bulk, rr, stream) x receive buffers (large, small) on
# heterogeneous paths (< 20 min)
bench-sched: all
	@ci/need-root.sh "make bench-sched creates network namespaces"
	@bench/sched.sh

# coupled congestion control: virtual time, then do-no-harm and balance-congestion in
# namespaces, libmpt lia/olia/balia/cubic and Linux's MPTCP (< 20 min; BENCH_ARGS=--quick)
bench-cc: all $(BUILD)/tests/cc-bottleneck
	@ci/need-root.sh "make bench-cc creates network namespaces"
	@bench/cc.sh $(BENCH_ARGS)

# --- fuzzing and integrity at scale (tests/fuzz, tests/integrity) ----------------
# Fuzz targets are built by clang (libFuzzer) with ASan+UBSan into $(BUILD)/fuzz/.
#   make fuzz         run every target for FUZZ_TIME seconds (default 60) each
#   make fuzz-smoke   replay each committed corpus, then a fixed count of runs from a fixed
#                     seed, capped at FUZZ_SMOKE s (TAP; in make test)
#   make soak         soak-live, then 1000 seeded adversarial transfers (make test runs 100)
#   make soak-live    SOAK_TIME s (1800) of libmpt <-> Linux and <-> libmpt over flapping
#                     links: bytes verified, RSS/descriptors/CPU flat (root; not in CI)
#   make stress       each Bats file with a Linux MPTCP peer 20 times (root; not in CI)
#   make stress-faults FAULT_RUNS (100) libmpt <-> Linux transfers, each with packets
#                     dropped early in the connection, seeded by FAULT_SEED (root; not in CI)
FUZZ_CC     ?= clang
FUZZ_TIME   ?= 60
FUZZ_SMOKE  ?= 30
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  = $(CSTD) -O1 -g -DMPT_TCP_PARANOID -DMPNET_FUZZ $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
               $(WARN) $(INCS) -Itests/integrity $(PKG_CFLAGS)
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(addprefix $(BUILD)/fuzz/bin/,$(FUZZ_TARGETS))
INTEG_SRC    := $(filter-out tests/integrity/main.c,$(wildcard tests/integrity/*.c))
STRESS_RUNS  ?= 20
FAULT_RUNS   ?= 100
FAULT_SEED   ?= 1

.PHONY: fuzz fuzz-build fuzz-smoke fuzz-found soak soak-live integrity stress stress-faults cc-bottleneck

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC-FUZZ,$<)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/fuzz/lib/libmpnet.a: $(call obj,$(LIB_SRC) $(INTEG_SRC),$(BUILD)/fuzz)
	@mkdir -p $(dir $@)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/bin/%: $(BUILD)/fuzz/obj/tests/fuzz/%.o $(BUILD)/fuzz/lib/libmpnet.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(LDLIBS_ALL)

fuzz-build: $(FUZZ_BINS)

# the targets' own objects are intermediate to the pattern rule: keep them
.SECONDARY: $(patsubst %,$(BUILD)/fuzz/obj/tests/fuzz/%.o,$(FUZZ_TARGETS))

fuzz: fuzz-build
	@FUZZ_TIME=$(FUZZ_TIME) BUILD=$(BUILD) tests/fuzz/run.sh fuzz $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	@FUZZ_SMOKE=$(FUZZ_SMOKE) BUILD=$(BUILD) ci/run-tests.sh fuzz

fuzz-found: fuzz-build
	@BUILD=$(BUILD) tests/fuzz/run.sh found $(FUZZ_TARGETS)

$(BUILD)/tests/integrity: $(call obj,tests/integrity/main.c $(INTEG_SRC),$(BUILD)) $(BUILD)/lib/libmpnet.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT) -o $@ $^ $(LDLIBS_ALL)

integrity: $(BUILD)/tests/integrity
	@BUILD=$(BUILD) ci/run-tests.sh integrity

# RFC 6356's "do no harm" in virtual time, 120 s per algorithm (~25 s; not in make test)
$(BUILD)/tests/cc-bottleneck: $(BUILD)/obj/tests/cc_bottleneck/main.o $(BUILD)/lib/libmpnet.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(OPT) -o $@ $^ $(LDLIBS_ALL)

cc-bottleneck: $(BUILD)/tests/cc-bottleneck
	@$(BUILD)/tests/cc-bottleneck && $(BUILD)/tests/cc-bottleneck --balance

soak: $(BUILD)/tests/integrity soak-live
	@$(BUILD)/tests/integrity --runs 1000

# libmpt <-> Linux and libmpt <-> libmpt for SOAK_TIME s (default 1800) with flapping
# links and address changes; RSS, descriptors and CPU sampled every 10 s (root)
soak-live: all
	@ci/need-root.sh "make soak-live creates network namespaces"
	@SOAK_TIME=$(SOAK_TIME) tests/soak/live.sh

stress: all
	@ci/need-root.sh "make stress creates network namespaces"
	@STRESS_RUNS=$(STRESS_RUNS) tests/stress.sh tests/bats/libmpt_*.bats

stress-faults: all
	@ci/need-root.sh "make stress-faults creates network namespaces"
	@FAULT_RUNS=$(FAULT_RUNS) FAULT_SEED=$(FAULT_SEED) tests/stress_faults.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
