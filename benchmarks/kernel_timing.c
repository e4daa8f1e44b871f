#include "benchmarks/kernel_timing.h"

#include <stdlib.h>
#include <time.h>

#include "tensor/cpu.h"
#include "tensor/threadpool.h"

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

long bench_calibrate(void (*fn)(void *ctx), void *ctx, double min_sample)
{
    double t0 = bench_now();
    fn(ctx);                                   /* warm-up: caches, page faults, pool */
    double one = bench_now() - t0;
    long inner = one > 0 ? (long)(min_sample / one) + 1 : 1000;
    return inner < 1 ? 1 : inner > 100000 ? 100000 : inner;
}

double bench_sample(void (*fn)(void *ctx), void *ctx, long inner)
{
    double t0 = bench_now();
    for (long r = 0; r < inner; r++) fn(ctx);
    return (bench_now() - t0) / (double)inner;
}

double bench_median(double *s, int n)
{
    qsort(s, (size_t)n, sizeof s[0], cmp_double);
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

double bench_median_seconds(void (*fn)(void *ctx), void *ctx, int n_samples,
                            double min_sample)
{
    enum { MAX_SAMPLES = 101 };
    if (n_samples < 1) n_samples = 1;
    if (n_samples > MAX_SAMPLES) n_samples = MAX_SAMPLES;
    long inner = bench_calibrate(fn, ctx, min_sample);
    double s[MAX_SAMPLES];
    for (int i = 0; i < n_samples; i++) s[i] = bench_sample(fn, ctx, inner);
    return bench_median(s, n_samples);
}

/* The FMA-peak loops (benchmarks/peak_body.inc), one per SIMD path; the
 * scalar path has no meaningful peak (0). */
static double bench_fma_peak_scalar(double seconds)
{
    (void)seconds;
    return 0;
}
static double (*const PEAK[CPU_ISA_COUNT])(double) = CPU_ISA_TABLE(bench_fma_peak);

typedef struct {
    CpuIsa isa;
    double seconds;
    double flops_per_s[256];
} PeakJob;

static void peak_task(void *ctx, int task, int thread)
{
    (void)thread;
    PeakJob *p = ctx;
    p->flops_per_s[task] = PEAK[p->isa](p->seconds);
}

/* One attempt: every thread runs the loop at once; the sum of their rates. */
static double peak_attempt(PeakJob *job, int threads, double seconds)
{
    job->seconds = seconds;
    /* each task is one thread's loop; parallel_for_n runs them at once */
    threadpool_parallel_for_n(threads, threads, peak_task, job);
    double total = 0;
    for (int i = 0; i < threads; i++) total += job->flops_per_s[i];
    return total;
}

double bench_fma_peak_gflops(CpuIsa isa, int threads)
{
    enum { ATTEMPTS = 5 };
    isa = cpu_isa_clamp(isa);
    if (isa == CPU_ISA_SCALAR) return 0;
    if (threads < 1) threads = 1;
    if (threads > 256) threads = 256;
    int was = threadpool_threads();
    threadpool_set_threads(threads);
    static PeakJob job;
    job.isa = isa;
    peak_attempt(&job, threads, 0.1);   /* warm-up: wake the cores, ramp the clocks */
    double best = 0;
    for (int a = 0; a < ATTEMPTS; a++) {
        double r = peak_attempt(&job, threads, 0.06);
        if (r > best) best = r;
    }
    threadpool_set_threads(was);
    return best * 1e-9;
}
