# meld-c build.
#
#   make             library (build/libmeld.a) + ./meld + ./bench + the
#                    example programs (build/examples/)
#   make test        build and run every example, then the CMocka suite
#   make sanitize    the same examples and suite under AddressSanitizer + UBSan
#   make fuzz        libFuzzer targets of the parsers (clang; tests/fuzz/)
#   make OPENMP=1    optional OpenMP variant (own build folder)
#   make MPI=1       the MPI variant, with mpicc, in build-mpi/: build-mpi/meld
#                    runs prepare, train and eval over the processes mpirun
#                    or srun starts (docs/CLUSTER.md)
#   make deps        install the test dependencies that are missing (Debian/Ubuntu;
#                    as root, or through sudo when it is there)
#   make deps-html   also chromium, for the test that renders the HTML report
#   make clean       remove everything the build made; says what it keeps: data/
#                    (corpora, caches) and runs/ (trained models) are the user's
#
# Layout note: the programs ./meld and ./bench live at the repository root, so
# their sources cannot sit in folders of the same names: the MELD pipeline is
# in pipeline/ and the benchmark program in benchmarks/.
#
# Every .c file in the part folders belongs to the library, pipeline/'s
# folders by role (data/, features/, eda/, synth/, models/, train/, ...)
# included, except the CLI (pipeline/cli/) and the programs' own folders
# (benchmarks/, tests/). The CLI's commands are a second library,
# build/libmeld-cli.a, linked into ./meld and the tests. New files and new
# pipeline folders are picked up without editing this file.
#
# Layer order (tests/test_include_graph.c checks it in make test; nothing
# includes upward or sideways, no two files include each other):
#   tensor < layers, optim, audio, video (each on tensor only)
#     < pipeline/data < features < eda < models < train (each on any before it);
#       pipeline/synth alone, on the parts below pipeline/ only
#     < pipeline/cli and benchmarks (the programs) < tests.
# A new pipeline folder gets its place in that test's LEVELS table.
#
# SIMD: no -march=native. The target architecture is the one $(CC) builds
# for ($(CC) -dumpmachine). On x86-64 a file named *_avx2.c is compiled with
# AVX2+FMA, *_avx512.c with AVX-512F (+VL/BW/DQ); on aarch64 *_neon.c needs
# no flag (Advanced SIMD is part of ARMv8-A). Files of the other
# architecture are left out. The code that calls them checks the CPU at run
# time first (tensor/cpu.h, which also describes how such files are
# written), so the binary runs on any CPU of its architecture.
#
# Cross build and test (Debian: gcc-aarch64-linux-gnu, qemu-user and
# libcmocka-dev:arm64 from multiarch; .ci/run installs them):
#   make CROSS=aarch64-linux-gnu- test    build in build-aarch64/, run the
#                                         suite under qemu-aarch64
#   make test-arm64                       the same

CROSS   ?=
ifneq ($(CROSS),)
CC      := $(CROSS)gcc
endif
OPENMP  ?= 0
MPI     ?= 0
SAN     ?= 0

# Fuzzing: the library compiled by clang with coverage, ASan and UBSan.
FUZZ_CC ?= clang
ifeq ($(FUZZ),1)
CC      := $(FUZZ_CC)
BUILD   := build-fuzz
CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
endif

WARN    := -Wall -Wextra -Werror
STD     := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
# No fusing of a*b+c into one FMA behind our back: gcc already does not
# under -std=c11, clang does by default; the same source must give the same
# bits with either (the synthetic corpus is pinned by hash). The kernels'
# FMAs are explicit intrinsics and unaffected.
# -fno-trapping-math: we never read the FP exception flags, so the compiler
# may compute both sides of `x > 0 ? x : p * x` and select (vectorisable,
# no mispredicted branch); it changes no value.
FP      := -ffp-contract=off -fno-trapping-math
CFLAGS  ?= -O2 -g
# gcc 12's -O2 vectorises a loop only when no scalar remainder is needed;
# the dynamic cost model lets it vectorise the plain element-wise loops of
# the ops (clang does at -O2 already). Same bits: float reductions are not
# reordered without -ffast-math. Probed, so compilers without it still build.
VECT    := $(shell $(CC) -fvect-cost-model=dynamic -Werror -x c -c /dev/null -o /dev/null 2>/dev/null && echo -fvect-cost-model=dynamic)
ALL_CFLAGS = $(STD) $(FP) $(WARN) $(CFLAGS) $(VECT) -I. -pthread
LDLIBS  := -lm -pthread
ARCH    := $(firstword $(subst -, ,$(shell $(CC) -dumpmachine)))
HOST_ARCH := $(shell uname -m)
# A foreign target builds in its own folder and its programs run under
# qemu-user (qemu-aarch64).
ifeq ($(ARCH),$(HOST_ARCH))
ARCH_DIR :=
RUN     :=
else
ARCH_DIR := -$(ARCH)
RUN     := qemu-$(ARCH)
endif
BUILD   ?= build$(ARCH_DIR)

ifeq ($(SAN),1)
BUILD   := build-san$(ARCH_DIR)
CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(OPENMP),1)
BUILD   := build-omp$(ARCH_DIR)
ALL_CFLAGS += -fopenmp -DMELD_OPENMP=1
LDFLAGS += -fopenmp
endif
# MPI: every MPI call is in pipeline/dist/comm_mpi.c; without MPI its
# single-process stand-in pipeline/dist/comm_single.c takes its place.
ifeq ($(MPI),1)
BUILD   := build-mpi
CC      := mpicc
COMM_UNUSED := pipeline/dist/comm_single.c
else
COMM_UNUSED := pipeline/dist/comm_mpi.c
endif

# Per-ISA files of the other architectures are not compiled.
SIMD_x86_64  := avx2 avx512
SIMD_aarch64 := neon
OTHER_SIMD   := $(filter-out $(SIMD_$(ARCH)),avx2 avx512 neon)
not_other_simd = $(filter-out $(foreach s,$(OTHER_SIMD),%_$(s).c),$(1))

PARTS    ?= tensor layers optim audio video
CLI_SRC  := $(wildcard pipeline/cli/*.c)
CLI_MAIN := pipeline/cli/main.c
LIB_SRC  := $(call not_other_simd,$(foreach p,$(PARTS),$(wildcard $(p)/*.c)) \
            $(filter-out $(CLI_SRC) $(COMM_UNUSED),$(wildcard pipeline/*/*.c)))
BENCH_SRC:= $(call not_other_simd,$(filter-out benchmarks/compare_%.c,$(wildcard benchmarks/*.c)))
TEST_SRC := $(wildcard tests/test_*.c)
TEST_LIB := $(filter-out $(TEST_SRC),$(wildcard tests/*.c))
# examples/*.c: small programs on the library alone, one binary each.
EXAMPLE_SRC := $(wildcard examples/*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
LIB      := $(BUILD)/libmeld.a
# The commands of ./meld (all of pipeline/cli/ but main.c) as a library of
# their own, so the CLI tests can walk the commands' option tables.
CLI_LIB  := $(BUILD)/libmeld-cli.a
TESTS    := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(EXAMPLE_SRC))

AVX2_FLAGS   := -mavx2 -mfma
AVX512_FLAGS := -mavx512f -mavx512vl -mavx512bw -mavx512dq -mavx2 -mfma

# Programs: ./meld and ./bench in the default build, $(BUILD)/meld and
# $(BUILD)/bench in the sanitizer, OpenMP, MPI and cross builds.
MELD_PROGRAM  := $(if $(filter build,$(BUILD)),meld,$(BUILD)/meld)
BENCH_PROGRAM := $(if $(filter build,$(BUILD)),bench,$(BUILD)/bench)

.PHONY: all test test-arm64 sanitize fuzz fuzz-targets clean deps deps-html bench-compare FORCE
.SECONDARY:
all: $(MELD_PROGRAM) $(BENCH_PROGRAM) $(EXAMPLES)

# The tests and examples need no vectorising cost model (and GCC 12 for
# aarch64 crashes vectorising max-reductions of tests/test_audio_spectral.c
# and examples/gemm.c with it).
$(BUILD)/tests/%.o: VECT :=
$(BUILD)/examples/%.o: VECT :=
$(BUILD)/%_avx2.o: EXTRA := $(AVX2_FLAGS)
$(BUILD)/%_avx512.o: EXTRA := $(AVX512_FLAGS)
$(BUILD)/%_neon.o: EXTRA :=
ifeq ($(FUZZ),1)
# The fuzz targets exercise the parsers, not the SIMD kernels, which
# clang's sanitizers take many minutes to instrument: compiled plain.
$(BUILD)/%_avx2.o: EXTRA += -O0 -fno-sanitize=all
$(BUILD)/%_avx512.o: EXTRA += -O0 -fno-sanitize=all
endif

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(EXTRA) -MMD -MP -c $< -o $@

$(LIB): $(call obj,$(LIB_SRC))
	@rm -f $@
	ar rcs $@ $^

$(CLI_LIB): $(call obj,$(filter-out $(CLI_MAIN),$(CLI_SRC)))
	@rm -f $@
	ar rcs $@ $^

# The version: MELD_VERSION (pipeline/cli/version.h) plus `git describe`
# when this folder is a git checkout's top; a tarball builds without git.
# The header is rewritten only when the description changes.
GIT_DESCRIBE := $(shell [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ] && \
                  git describe --tags --always --dirty 2>/dev/null)
$(BUILD)/gen/git_describe.h: FORCE
	@mkdir -p $(dir $@)
	@echo '#define MELD_GIT_DESCRIBE "$(GIT_DESCRIBE)"' > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi
$(BUILD)/pipeline/cli/version.o: $(BUILD)/gen/git_describe.h
$(BUILD)/pipeline/cli/version.o: EXTRA := -I$(BUILD)/gen

$(MELD_PROGRAM): $(call obj,$(CLI_MAIN)) $(CLI_LIB) $(LIB)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BENCH_PROGRAM): $(call obj,$(BENCH_SRC)) $(LIB)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(call obj,$(TEST_LIB)) $(CLI_LIB) $(LIB)
	$(CC) $(LDFLAGS) $^ -o $@ -lcmocka $(LDLIBS)

$(BUILD)/examples/%: $(BUILD)/examples/%.o $(LIB)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# Each example checks its own claims and exits non-zero when one fails; they
# run first so that the suite's "N passed, N failed" is the last line.
RUN_EXAMPLES = @for e in $(EXAMPLES); do echo "== $$e"; $(RUN) $$e || { echo "$$e: FAILED"; exit 1; }; done; \
	    echo "$(words $(EXAMPLES)) examples passed"

# The suite needs the meld program for the command-line tests. Under
# qemu-user the tests, and the meld they start (through a two-line
# wrapper naming the emulator by its full path, so that tests running meld
# with a PATH of their own still reach it), run emulated; the shell and
# ffmpeg they call run natively.
ifeq ($(RUN),)
test: $(TESTS) $(EXAMPLES) $(MELD_PROGRAM)
	$(RUN_EXAMPLES)
	@MELD_BIN=$(abspath $(MELD_PROGRAM)) sh tests/run.sh $(TESTS)
else
test: $(TESTS) $(EXAMPLES) $(MELD_PROGRAM)
	$(RUN_EXAMPLES)
	@printf '#!/bin/sh\nexec %s %s "$$@"\n' "$$(command -v $(RUN))" $(abspath $(MELD_PROGRAM)) > $(BUILD)/meld-$(RUN)
	@chmod +x $(BUILD)/meld-$(RUN)
	@MELD_BIN=$(abspath $(BUILD)/meld-$(RUN)) TEST_RUNNER=$(RUN) sh tests/run.sh $(TESTS)
endif

test-arm64:
	@$(MAKE) --no-print-directory CROSS=aarch64-linux-gnu- test

sanitize:
	@$(MAKE) --no-print-directory SAN=1 test

# One libFuzzer program per parser, build-fuzz/fuzz/fuzz_NAME from
# tests/fuzz/fuzz_NAME.c (every such file is picked up). Seeds and
# dictionaries: tests/fuzz/corpus/NAME/, tests/fuzz/NAME.dict; how to run a
# campaign: tests/fuzz/README.md.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
fuzz:
	@$(MAKE) --no-print-directory FUZZ=1 fuzz-targets
fuzz-targets: $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer,address,undefined $< $(LIB) -o $@ $(LDLIBS)

# Comparison bench: links OpenBLAS and oneDNN (Debian libopenblas-dev,
# libdnnl-dev). Never a dependency of the engine. The sources that have
# comparison code (MELD_BENCH_COMPARE) are compiled again here with it; the
# other benchmark objects are reused from $(BUILD).
COMPARE_SRC := benchmarks/main.c benchmarks/bench_gemm.c benchmarks/compare_blas.c
bench-compare: $(call obj,$(BENCH_SRC)) $(COMPARE_SRC) benchmarks/compare.h $(LIB)
	$(CC) $(ALL_CFLAGS) -DMELD_BENCH_COMPARE=1 -I/usr/include/x86_64-linux-gnu \
	    $(filter-out $(call obj,$(COMPARE_SRC)),$(call obj,$(BENCH_SRC))) $(COMPARE_SRC) $(LIB) \
	    -o $@ -lopenblas -ldnnl -lgomp $(LDLIBS)

# What the suite needs: CMocka, ffmpeg (MP4 decoding tests), opencv-data
# (the Haar face cascade). chromium is optional: the HTML rendering test
# skips without it.
TEST_DEPS := libcmocka-dev ffmpeg opencv-data
deps:
	@sh tests/deps.sh $(TEST_DEPS)
deps-html:
	@sh tests/deps.sh chromium

# data/ and runs/ hold what ./meld made: the synthetic corpus and feature
# caches (regenerated on demand, but a user's MELD may live in data/ too)
# and trained runs. They are never deleted here; clean says they are kept.
clean:
	rm -rf build build-san build-omp build-mpi build-fuzz build-aarch64 build-san-aarch64 build-omp-aarch64 meld bench bench-compare
	@for d in data runs; do \
	    [ -e $$d ] && echo "make clean: kept $$d/ ($$(du -sh $$d | cut -f1)): $$( [ $$d = data ] && \
	        echo 'corpora and feature caches; rm -rf data/synthetic removes the generated corpus' || \
	        echo 'trained runs; delete them yourself if you no longer need them')"; \
	done; true

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
