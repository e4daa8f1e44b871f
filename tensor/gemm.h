/* General matrix multiply, row-major, single precision:
 *
 *     C[M x N] = alpha * op(A)[M x K] * op(B)[K x N] + beta * C
 *
 * op(X) = X (GEMM_N) or X^T (GEMM_T). Leading dimensions are in elements:
 * A is stored M x K with lda >= K when ta == GEMM_N, K x M with lda >= M when
 * ta == GEMM_T (likewise B: K x N / N x K with ldb; C: M x N with ldc >= N).
 * beta == 0 means C is write-only (NaNs in C are not propagated), as BLAS.
 * K == 0 scales C by beta. M == 0 or N == 0 is a no-op.
 *
 * gemm() runs the blocked, packed kernels of tensor/gemm.c on the ISA that
 * cpu_isa() selects (AVX-512, AVX2+FMA or portable C) and on
 * threadpool_threads() threads. It never fails; the result does not depend
 * on the thread count (bitwise).
 *
 * Accuracy: each C element is a float dot product accumulated with one
 * FMA (or multiply-add) per k, in k order, over K blocks of KC. Its error
 * against the exact value is bounded by the usual recursive-summation bound
 *     |C - C_exact| <= (K + 2) u (|alpha| sum_k |a_ik b_kj| + |beta c_ij|),
 * u = 2^-24; tests/test_tensor_gemm.c checks every path against this bound
 * with a double-precision reference.
 */
#ifndef MELD_GEMM_H
#define MELD_GEMM_H

#include "tensor/cpu.h"

typedef enum { GEMM_N = 0, GEMM_T = 1 } GemmTrans;

/* C at most this wide: gemm reads op(A) in place instead of packing it
 * (each A element meets only one or two B slivers). Callers that can choose
 * which operand plays A (conv2d's weight gradient) use it. */
enum { GEMM_A_IN_PLACE_MAX_N = 64 };

void gemm(GemmTrans ta, GemmTrans tb, int M, int N, int K, float alpha,
          const float *A, int lda, const float *B, int ldb, float beta,
          float *C, int ldc);

/* gemm() on a chosen path (tests and benchmarks): an ISA above what the
 * CPU supports is clamped down to it. */
void gemm_isa(CpuIsa isa, GemmTrans ta, GemmTrans tb, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta,
              float *C, int ldc);

/* Plain triple loop with the same contract: the reference every fast path
 * is tested against. */
void gemm_reference(GemmTrans ta, GemmTrans tb, int M, int N, int K, float alpha,
                    const float *A, int lda, const float *B, int ldb, float beta,
                    float *C, int ldc);

#endif
