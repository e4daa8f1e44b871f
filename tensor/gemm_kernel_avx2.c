/* AVX2+FMA GEMM micro-kernel: a 6 x 16 tile of C in 12 ymm registers.
 * Contract in tensor/gemm_impl.h. Compiled with -mavx2 -mfma (file name);
 * gemm.c calls it only when cpu_isa() >= CPU_ISA_AVX2.
 *
 * Same structure as the AVX-512 kernel with 8-float vectors. Full-width
 * tiles (nr == 16) use plain loads; ragged ones use vmaskmovps, which reads
 * and writes only the lanes [0, nr), so no access goes past the matrix. The
 * two cases are separate instances because masked loads are slower on
 * some CPUs. */
#include <immintrin.h>

#include "tensor/gemm_impl.h"

#define MR GEMM_AVX2_MR
#define NR GEMM_AVX2_NR
#define PF_DIST 8

static inline __attribute__((always_inline)) __m256 ld(const float *p, int full, __m256i m)
{
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m);
}

static inline __attribute__((always_inline)) void st(float *p, int full, __m256i m, __m256 v)
{
    if (full) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, m, v);
}

static inline __attribute__((always_inline)) void
tile(const int mr, const int full, const int packed, int kc, const float *a, size_t a_rs,
     size_t a_cs, const float *b, size_t ldb_k, __m256i m0, __m256i m1, float *c, size_t ldc,
     float alpha, float beta)
{
    __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
    for (int i = 0; i < mr; i++) c0[i] = c1[i] = _mm256_setzero_ps();
    for (int k = 0; k < kc; k++) {
        /* as in the AVX-512 kernel: fetch B PF_DIST rows ahead (never faults) */
        _mm_prefetch((const char *)(b + PF_DIST * ldb_k), _MM_HINT_T0);
        __m256 b0 = ld(b, full, m0), b1 = ld(b + 8, full, m1);
#pragma GCC unroll 6
        for (int i = 0; i < mr; i++) {
            __m256 ai = _mm256_broadcast_ss(packed ? a + i : a + i * a_rs);
            c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
            c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
        }
        a += packed ? MR : a_cs;
        b += ldb_k;
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
    for (int i = 0; i < mr; i++) {
        float *ci = c + (size_t)i * ldc;
        __m256 r0 = _mm256_mul_ps(va, c0[i]), r1 = _mm256_mul_ps(va, c1[i]);
        if (beta != 0.0f) {
            r0 = _mm256_fmadd_ps(vb, ld(ci, full, m0), r0);
            r1 = _mm256_fmadd_ps(vb, ld(ci + 8, full, m1), r1);
        }
        st(ci, full, m0, r0);
        st(ci + 8, full, m1, r1);
    }
}

void gemm_kernel_avx2(int mr, int nr, int kc, const float *a, size_t a_rs, size_t a_cs,
                      const float *b, size_t ldb_k, float *c, size_t ldc, float alpha,
                      float beta)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), lane);
    __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr - 8), lane);
    const int packed = a_rs == 1 && a_cs == MR;
    /* instances: full-width or ragged columns x packed or strided A */
#define T(n, full)                                                                        \
    case n:                                                                               \
        if (packed) tile(n, full, 1, kc, a, 1, MR, b, ldb_k, m0, m1, c, ldc, alpha, beta); \
        else tile(n, full, 0, kc, a, a_rs, a_cs, b, ldb_k, m0, m1, c, ldc, alpha, beta);   \
        break
    if (nr == NR) {
        switch (mr) { T(1, 1); T(2, 1); T(3, 1); T(4, 1); T(5, 1); T(6, 1); default: break; }
    } else {
        switch (mr) { T(1, 0); T(2, 0); T(3, 0); T(4, 0); T(5, 0); T(6, 0); default: break; }
    }
#undef T
}
