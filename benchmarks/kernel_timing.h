/* Timing helpers shared by the kernel benchmarks (gemm, conv, eltwise). */
#ifndef MELD_BENCH_KERNEL_TIMING_H
#define MELD_BENCH_KERNEL_TIMING_H

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

/* Register-only FMA loops: flops per second of one thread on the given
 * vector ISA (1 = AVX2 ymm, 2 = AVX-512 zmm): the fastest of the ~15 us
 * rounds run during `seconds` (a round that was not preempted shows the
 * hardware's rate even when other processes share the core).
 * Implemented in peak_avx2.c / peak_avx512.c; call only after cpu_isa_detected()
 * says the instructions exist. */
double bench_fma_peak_avx2(double seconds);
double bench_fma_peak_avx512(double seconds);

/* Peak of one thread and of `threads` threads running the loop at once
 * (through the thread pool), GFLOP/s, on the best of the ISAs up to `isa`.
 * Returns 0 for the scalar ISA (no meaningful FMA peak). */
double bench_fma_peak_gflops(int isa, int threads);

#endif
