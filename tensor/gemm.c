#include "tensor/gemm.h"

#include <stddef.h>

void gemm_reference(GemmTrans ta, GemmTrans tb, int M, int N, int K, float alpha,
                    const float *A, int lda, const float *B, int ldb, float beta,
                    float *C, int ldc)
{
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            float acc = 0.0f;
            for (int k = 0; k < K; k++) {
                float a = ta == GEMM_N ? A[(size_t)i * lda + k] : A[(size_t)k * lda + i];
                float b = tb == GEMM_N ? B[(size_t)k * ldb + j] : B[(size_t)j * ldb + k];
                acc += a * b;
            }
            float *c = &C[(size_t)i * ldc + j];
            *c = alpha * acc + (beta == 0.0f ? 0.0f : beta * *c);
        }
    }
}

/* Placeholder dispatch until the blocked kernels land (issue 3). */
void gemm(GemmTrans ta, GemmTrans tb, int M, int N, int K, float alpha,
          const float *A, int lda, const float *B, int ldb, float beta,
          float *C, int ldc)
{
    gemm_reference(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
