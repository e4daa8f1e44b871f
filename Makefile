# meld-c build.
#
#   make             library (build/libmeld.a) + ./meld + ./bench
#   make test        build and run the CMocka suite
#   make sanitize    the same suite under AddressSanitizer + UBSan
#   make OPENMP=1    optional OpenMP variant (own build folder)
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
# SIMD: no -march=native. A file named *_avx2.c is compiled with AVX2+FMA,
# *_avx512.c with AVX-512F (+VL/BW/DQ); the code that calls them checks cpuid
# at run time first (tensor/cpu.h), so the binary runs on any x86-64.

CC      ?= cc
OPENMP  ?= 0
SAN     ?= 0

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
BUILD   ?= build

ifeq ($(SAN),1)
BUILD   := build-san
CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(OPENMP),1)
BUILD   := build-omp
ALL_CFLAGS += -fopenmp -DMELD_OPENMP=1
LDFLAGS += -fopenmp
endif

PARTS    ?= tensor layers optim audio video
CLI_SRC  := $(wildcard pipeline/cli/*.c)
CLI_MAIN := pipeline/cli/main.c
LIB_SRC  := $(foreach p,$(PARTS),$(wildcard $(p)/*.c)) \
            $(filter-out $(CLI_SRC),$(wildcard pipeline/*/*.c))
BENCH_SRC:= $(filter-out benchmarks/compare_%.c,$(wildcard benchmarks/*.c))
TEST_SRC := $(wildcard tests/test_*.c)
TEST_LIB := $(filter-out $(TEST_SRC),$(wildcard tests/*.c))

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
LIB      := $(BUILD)/libmeld.a
# The commands of ./meld (all of pipeline/cli/ but main.c) as a library of
# their own, so the CLI tests can walk the commands' option tables.
CLI_LIB  := $(BUILD)/libmeld-cli.a
TESTS    := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))

AVX2_FLAGS   := -mavx2 -mfma
AVX512_FLAGS := -mavx512f -mavx512vl -mavx512bw -mavx512dq -mavx2 -mfma

# Programs: ./meld and ./bench in the default build, $(BUILD)/meld and
# $(BUILD)/bench in the sanitizer and OpenMP builds.
MELD_PROGRAM  := $(if $(filter build,$(BUILD)),meld,$(BUILD)/meld)
BENCH_PROGRAM := $(if $(filter build,$(BUILD)),bench,$(BUILD)/bench)

.PHONY: all test sanitize clean deps deps-html bench-compare FORCE
.SECONDARY:
all: $(MELD_PROGRAM) $(BENCH_PROGRAM)

$(BUILD)/%_avx2.o: EXTRA := $(AVX2_FLAGS)
$(BUILD)/%_avx512.o: EXTRA := $(AVX512_FLAGS)

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

# The suite needs the meld program for the command-line tests.
test: $(TESTS) $(MELD_PROGRAM)
	@MELD_BIN=$(abspath $(MELD_PROGRAM)) sh tests/run.sh $(TESTS)

sanitize:
	@$(MAKE) --no-print-directory SAN=1 test

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
	rm -rf build build-san build-omp meld bench bench-compare
	@for d in data runs; do \
	    [ -e $$d ] && echo "make clean: kept $$d/ ($$(du -sh $$d | cut -f1)): $$( [ $$d = data ] && \
	        echo 'corpora and feature caches; rm -rf data/synthetic removes the generated corpus' || \
	        echo 'trained runs; delete them yourself if you no longer need them')"; \
	done; true

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
