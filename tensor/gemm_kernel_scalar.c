/* Portable C GEMM micro-kernel (4 x 16 tile), the path for CPUs without a
 * SIMD path and the fallback of MELD_ISA=scalar. Contract in tensor/gemm_impl.h.
 * The accumulators are a local array the compiler can keep in (SSE)
 * registers; the loops over rows and columns are the same as in the SIMD
 * kernels, so the arithmetic per element (one multiply-add per k, k in
 * order) is the same too, up to FMA contraction. */
#include "tensor/gemm_impl.h"

enum { MR = 4, NR = 16 };

static void gemm_kernel_scalar(int mr, int nr, int kc, const float *a, size_t a_rs, size_t a_cs,
                        const float *b, size_t ldb_k, float *c, size_t ldc, float alpha,
                        float beta)
{
    float acc[MR][NR] = {{0}};
    for (int k = 0; k < kc; k++) {
        const float *bk = b + (size_t)k * ldb_k;
        for (int i = 0; i < mr; i++) {
            float ai = a[(size_t)k * a_cs + (size_t)i * a_rs];
            if (nr == NR) /* constant trip count: the compiler vectorises this one */
                for (int j = 0; j < NR; j++) acc[i][j] += ai * bk[j];
            else
                for (int j = 0; j < nr; j++) acc[i][j] += ai * bk[j];
        }
    }
    for (int i = 0; i < mr; i++) {
        float *ci = c + (size_t)i * ldc;
        for (int j = 0; j < nr; j++)
            ci[j] = alpha * acc[i][j] + (beta == 0.0f ? 0.0f : beta * ci[j]);
    }
}

/* No fused or vector packing: gemm.c packs with plain loops. */
const GemmKernels gemm_kernels_scalar = {"scalar", MR, NR, 1, gemm_kernel_scalar, NULL, NULL, NULL};
