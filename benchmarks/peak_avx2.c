/* Register-only AVX2 FMA loop: 12 independent chains of 8-lane FMAs. */
#include <immintrin.h>

#include "benchmarks/kernel_timing.h"

double bench_fma_peak_avx2(double seconds)
{
    enum { CHAINS = 12, ITERS = 1 << 16 };
    __m256 acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_set1_ps((float)i);
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    double t0 = bench_now(), t = t0;
    long rounds = 0;
    do {
        for (int r = 0; r < ITERS; r++) {
#pragma GCC unroll 12
            for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
        }
        rounds++;
        t = bench_now();
    } while (t - t0 < seconds);
    __m256 s = acc[0];
    for (int i = 1; i < CHAINS; i++) s = _mm256_add_ps(s, acc[i]);
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    volatile float sink = lanes[0];
    (void)sink;
    return (double)rounds * ITERS * CHAINS * 8 * 2 / (t - t0);
}
