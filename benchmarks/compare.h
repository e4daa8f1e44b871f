/* Reference libraries for `make bench-compare` only (OpenBLAS, oneDNN).
 * Implemented in compare_blas.c, which only the bench-compare program
 * links; the engine and ./bench never depend on them. */
#ifndef MELD_BENCH_COMPARE_H
#define MELD_BENCH_COMPARE_H

#include "tensor/gemm.h"

enum { COMPARE_OPENBLAS = 0, COMPARE_ONEDNN = 1, COMPARE_N_LIBS = 2 };

/* OpenBLAS 0.3.21 does not recognise every CPU: on an unknown model (this
 * machine's Xeon, family 6 model 207) its DYNAMIC_ARCH build falls back to
 * the SSE3 "Prescott" kernels and runs at a fifth of its real speed. For a
 * fair comparison, when that happened and OPENBLAS_CORETYPE is not set,
 * this sets OPENBLAS_CORETYPE to SkylakeX (AVX-512 CPUs) or Haswell (AVX2)
 * and re-executes the program (OpenBLAS reads the variable when it loads),
 * with argv = {"bench-compare", sub_argv...}. Returns only if nothing had to
 * be done or the re-exec failed. */
void compare_fix_openblas_core(int sub_argc, char **sub_argv);

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
