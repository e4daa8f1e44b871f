/* Reference libraries for `make bench-compare` only (OpenBLAS, oneDNN).
 * Implemented in compare_blas.c, which only the bench-compare program
 * links; the engine and ./bench never depend on them. */
#ifndef MELD_BENCH_COMPARE_H
#define MELD_BENCH_COMPARE_H

#include "tensor/gemm.h"

enum { COMPARE_OPENBLAS = 0, COMPARE_ONEDNN = 1, COMPARE_N_LIBS = 2 };

/* Both libraries on the kernels of the ISA path we run on (cpu_isa()), so
 * that MELD_ISA=avx2 compares AVX2 code with AVX2 code: OpenBLAS's Haswell
 * kernels (SkylakeX for avx512; OpenBLAS 0.3.21 does not recognise every
 * CPU and falls back to its SSE3 "Prescott" kernels on an unknown model,
 * at a fifth of its speed) and oneDNN capped at AVX2 (AVX512_CORE). Both
 * read their variables (OPENBLAS_CORETYPE, ONEDNN_MAX_CPU_ISA) when they
 * load, so when the environment says otherwise this sets them and
 * re-executes the program, with argv = {"bench-compare", sub_argv...}.
 * Returns only if nothing had to be done or the re-exec failed. */
void compare_match_isa(int sub_argc, char **sub_argv);

/* OpenBLAS's kernel family ("SkylakeX", ...). */
const char *compare_openblas_core(void);

/* "OpenBLAS 0.3.21", "oneDNN 2.7.3" (versions read from the libraries). */
const char *compare_lib_name(int lib);
/* Threads the library uses from now on. */
void compare_set_threads(int lib, int threads);
/* Same contract as gemm() (row-major). */
void compare_sgemm(int lib, GemmTrans ta, GemmTrans tb, int M, int N, int K, float alpha,
                   const float *A, int lda, const float *B, int ldb, float beta, float *C,
                   int ldc);

#endif
