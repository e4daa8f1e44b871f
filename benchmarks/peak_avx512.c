/* Register-only AVX-512 FMA loop: 16 independent chains of 16-lane FMAs,
 * enough to cover the FMA latency on two ports, no memory traffic. */
#include <immintrin.h>

#include "benchmarks/kernel_timing.h"

double bench_fma_peak_avx512(double seconds)
{
    enum { CHAINS = 16, ITERS = 1 << 16 };
    __m512 acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps((float)i);
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    double t0 = bench_now(), t = t0;
    long rounds = 0;
    do {
        for (int r = 0; r < ITERS; r++) {
#pragma GCC unroll 16
            for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
        }
        rounds++;
        t = bench_now();
    } while (t - t0 < seconds);
    __m512 s = acc[0];
    for (int i = 1; i < CHAINS; i++) s = _mm512_add_ps(s, acc[i]);
    volatile float sink = _mm512_reduce_add_ps(s);
    (void)sink;
    return (double)rounds * ITERS * CHAINS * 16 * 2 / (t - t0);
}
