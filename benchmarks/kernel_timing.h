/* Timing helpers shared by the kernel benchmarks (gemm, conv, eltwise). */
#ifndef MELD_BENCH_KERNEL_TIMING_H
#define MELD_BENCH_KERNEL_TIMING_H

#include "tensor/cpu.h"

/* Monotonic wall clock in seconds. */
double bench_now(void);

/* Median over n_samples of the seconds one call of fn(ctx) takes. A sample
 * times `inner` back-to-back calls, with inner chosen (after one warm-up
 * call) so that a sample lasts at least min_sample seconds: short kernels
 * are then not dominated by the clock's resolution. */
double bench_median_seconds(void (*fn)(void *ctx), void *ctx, int n_samples,
                            double min_sample);

/* The pieces of bench_median_seconds, for benchmarks that interleave the
 * samples of several contenders (so that a change of machine load hits all
 * of them alike): one warm-up call, then the number of calls a sample needs
 * to last min_sample; one sample (seconds per call); the median of n
 * (sorts the samples in place). */
long bench_calibrate(void (*fn)(void *ctx), void *ctx, double min_sample);
double bench_sample(void (*fn)(void *ctx), void *ctx, long inner);
double bench_median(double *samples, int n);

/* The FMA peak in GFLOP/s of `threads` threads running the register-only
 * FMA loop of benchmarks/peak_body.inc at once on the SIMD path isa (how it
 * is measured is written there): after a 0.1 s warm-up, the best of 5
 * attempts of 60 ms, each the sum over the threads of their median round.
 * 0 on the scalar path. */
double bench_fma_peak_gflops(CpuIsa isa, int threads);
/* One thread's rate (flops/s) on one path, the median round over `seconds`. */
double bench_fma_peak_avx2(double seconds);
double bench_fma_peak_avx512(double seconds);
double bench_fma_peak_neon(double seconds);

#endif
