/* Register-only AVX2 FMA loop: 12 independent chains of 8-lane FMAs. */
#include <immintrin.h>
#include <stdlib.h>

#include "benchmarks/kernel_timing.h"

double bench_fma_peak_avx2(double seconds)
{
    enum { CHAINS = 12, ITERS = 1 << 13 };
    __m256 acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_set1_ps((float)i);
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    /* The median round (12-18 us each) over `seconds`: a round during
     * which another process ran takes milliseconds and falls out of the
     * median, so the figure is the core's sustained rate even on a busy
     * machine (the fastest round would show brief turbo clocks instead). */
    enum { MAX_ROUNDS = 1 << 15 };
    double *times = malloc(MAX_ROUNDS * sizeof *times);   /* per call: threads run this at once */
    if (!times) return 0;
    int n = 0;
    double t0 = bench_now(), t = t0;
    do {
        double r0 = t;
        for (int r = 0; r < ITERS; r++) {
#pragma GCC unroll 12
            for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
        }
        t = bench_now();
        times[n++] = t - r0;
    } while (t - t0 < seconds && n < MAX_ROUNDS);
    __m256 s = acc[0];
    for (int i = 1; i < CHAINS; i++) s = _mm256_add_ps(s, acc[i]);
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    volatile float sink = lanes[0];
    (void)sink;
    double rate = (double)ITERS * CHAINS * 8 * 2 / bench_median(times, n);
    free(times);
    return rate;
}
