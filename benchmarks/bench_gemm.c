/* ./bench gemm: GFLOP/s of gemm() on the shapes the models run, against
 * this machine's FMA peak, on 1 thread and on all threads.
 *
 *   ./bench gemm [--shape MxNxK[:TT]]... [--threads N] [--isa avx512|avx2|neon|scalar]
 *                [--reps N]
 *
 * Every figure is the median of --reps samples (default 7); a sample times
 * enough back-to-back calls to last >= 20 ms. In the bench-compare build
 * (MELD_BENCH_COMPARE) the same table also has OpenBLAS and oneDNN, timed
 * the same way in the same run, their samples interleaved with ours round
 * by round, and the ratios ours / theirs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchmarks/bench.h"
#include "benchmarks/kernel_timing.h"
#include "tensor/cpu.h"
#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/rng.h"
#include "tensor/threadpool.h"
#ifdef MELD_BENCH_COMPARE
#include "benchmarks/compare.h"
#endif

typedef struct {
    int M, N, K;
    GemmTrans ta, tb;
} Shape;

/* The products of the models: square sizes, the RNN input/recurrent GEMMs
 * (M = 50 utterances), the stacked-RNN and backward (TN / NT) products, the
 * frame CNN's im2col GEMMs, and a small dense layer. */
static const Shape DEFAULT_SHAPES[] = {
    {256, 256, 256, GEMM_N, GEMM_N},    {512, 512, 512, GEMM_N, GEMM_N},
    {1024, 1024, 1024, GEMM_N, GEMM_N}, {2048, 2048, 2048, GEMM_N, GEMM_N},
    {50, 1200, 1611, GEMM_N, GEMM_N},   {50, 1200, 300, GEMM_N, GEMM_N},
    {50, 2400, 600, GEMM_N, GEMM_N},    {1650, 1200, 1611, GEMM_N, GEMM_N},
    {32, 512, 128, GEMM_N, GEMM_N},     {1611, 1200, 1650, GEMM_T, GEMM_N},
    {1650, 1611, 1200, GEMM_N, GEMM_T}, {4096, 32, 27, GEMM_N, GEMM_N},
    {1024, 64, 288, GEMM_N, GEMM_N},
};
enum { N_DEFAULT = sizeof DEFAULT_SHAPES / sizeof DEFAULT_SHAPES[0], MAX_SHAPES = 64 };

static int parse_shape(const char *s, Shape *out)
{
    char t[3] = "NN";
    int used = 0;
    if (sscanf(s, "%dx%dx%d%n", &out->M, &out->N, &out->K, &used) != 3) return -1;
    if (s[used] == ':') {
        if (strlen(s + used + 1) != 2) return -1;
        memcpy(t, s + used + 1, 2);
    } else if (s[used] != '\0') {
        return -1;
    }
    if (out->M < 1 || out->N < 1 || out->K < 1 || out->M > 20000 || out->N > 20000 ||
        out->K > 20000)
        return -1;
    for (int i = 0; i < 2; i++)
        if (t[i] != 'N' && t[i] != 'T') return -1;
    out->ta = t[0] == 'T' ? GEMM_T : GEMM_N;
    out->tb = t[1] == 'T' ? GEMM_T : GEMM_N;
    return 0;
}

typedef struct {
    Shape s;
    const float *A, *B;
    float *C;
    int lib;        /* -1: ours; else a compare library */
} Call;

static void run_call(void *ctx)
{
    Call *c = ctx;
    const Shape *s = &c->s;
    int lda = s->ta == GEMM_N ? s->K : s->M, ldb = s->tb == GEMM_N ? s->N : s->K;
#ifdef MELD_BENCH_COMPARE
    if (c->lib >= 0) {
        compare_sgemm(c->lib, s->ta, s->tb, s->M, s->N, s->K, 1.0f, c->A, lda, c->B, ldb, 0.0f,
                      c->C, s->N);
        return;
    }
#endif
    gemm(s->ta, s->tb, s->M, s->N, s->K, 1.0f, c->A, lda, c->B, ldb, 0.0f, c->C, s->N);
}

/* Sets the thread count of the library `c` is about. */
static void use_threads(const Call *c, int threads)
{
#ifdef MELD_BENCH_COMPARE
    if (c->lib >= 0) compare_set_threads(c->lib, threads);
#else
    (void)c;
#endif
    threadpool_set_threads(threads);
}

static double gflops(const Shape *s, double seconds)
{
    return 2.0 * s->M * s->N * s->K / seconds * 1e-9;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench gemm [--shape MxNxK[:TT]]... [--threads N] "
               "[--isa avx512|avx2|neon|scalar] [--reps N]\n"
               "  TT = NN (default), NT, TN or TT: op(A), op(B) transposed or not\n");
}

/* The highest %peak printed: above 100 the peak measurement was low. */
static double max_pct_peak;

static int bench_shape(const Shape *s, const int *threads, int n_threads, int reps,
                       const double *peak)
{
    Rng g;
    rng_seed(&g, 1, 1);
    size_t na = (size_t)s->M * s->K, nb = (size_t)s->K * s->N, nc = (size_t)s->M * s->N;
    float *A = meld_aligned_alloc(na * 4, "A"), *B = meld_aligned_alloc(nb * 4, "B");
    float *C = meld_aligned_alloc(nc * 4, "C");
    if (!A || !B || !C) {
        free(A), free(B), free(C);
        fprintf(stderr, "bench gemm: %s\n", meld_error());
        return 1;
    }
    for (size_t i = 0; i < na; i++) A[i] = rng_uniform_range(&g, -1, 1);
    for (size_t i = 0; i < nb; i++) B[i] = rng_uniform_range(&g, -1, 1);
    char name[64];
    snprintf(name, sizeof name, "%dx%dx%d %c%c", s->M, s->N, s->K, "NT"[s->ta], "NT"[s->tb]);
    enum { MAX_REPS = 101 };
    for (int t = 0; t < n_threads; t++) {
        /* contenders: ours (lib -1), then the comparison libraries. Their
         * samples are interleaved, round by round, so that a change of load
         * on the machine hits all of them alike. */
        int n_libs = 1;
#ifdef MELD_BENCH_COMPARE
        n_libs += COMPARE_N_LIBS;
#endif
        Call calls[3];
        long inner[3];
        static double samples[3][MAX_REPS];
        for (int l = 0; l < n_libs; l++) {
            calls[l] = (Call){*s, A, B, C, l - 1};
            use_threads(&calls[l], threads[t]);
            inner[l] = bench_calibrate(run_call, &calls[l], 0.02);
        }
        for (int r = 0; r < reps; r++)
            for (int l = 0; l < n_libs; l++) {
                /* other libraries' idle threads spin for up to ~0.1 s
                 * (OpenBLAS) after a call: let them stop first */
                if (n_libs > 1 && threads[t] > 1) usleep(150000);
                use_threads(&calls[l], threads[t]);
                /* ... then run this library for 50 ms untimed: on this VM
                 * a core that went idle runs slowly for milliseconds after
                 * it wakes (a 256^3 product on 2 threads takes 3x longer in
                 * the first few ms), which the sample must not see */
                for (double t0 = bench_now(); bench_now() - t0 < 0.05;) run_call(&calls[l]);
                samples[l][r] = bench_sample(run_call, &calls[l], inner[l]);
            }
        double ours = gflops(s, bench_median(samples[0], reps));
        double ms = 2.0 * s->M * s->N * s->K / ours * 1e-6;
        double pct = peak[t] > 0 ? 100.0 * ours / peak[t] : 0.0;
        if (pct > max_pct_peak) max_pct_peak = pct;
        printf("%-20s %3d %9.3f %8.1f %6.1f%%%s", name, threads[t], ms, ours, pct, pct > 100 ? "!" : "");
        for (int l = 1; l < n_libs; l++) {
            double theirs = gflops(s, bench_median(samples[l], reps));
            printf(" | %8.1f %5.2fx", theirs, ours / theirs);
        }
        printf("\n");
        fflush(stdout);
    }
    free(A), free(B), free(C);
    return 0;
}

int bench_gemm(int argc, char **argv)
{
    Shape shapes[MAX_SHAPES];
    int n_shapes = 0, want_threads = 0, reps = 7;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--shape") && v) {
            if (n_shapes == MAX_SHAPES || parse_shape(v, &shapes[n_shapes]) != 0) {
                fprintf(stderr, "bench gemm: bad --shape '%s' (want MxNxK or MxNxK:NT, "
                                "each in 1..20000)\n", v);
                return 2;
            }
            n_shapes++, i++;
        } else if (!strcmp(a, "--threads") && v) {
            want_threads = atoi(v), i++;
            if (want_threads < 1 || want_threads > 256) {
                fprintf(stderr, "bench gemm: --threads wants 1..256\n");
                return 2;
            }
        } else if (!strcmp(a, "--isa") && v) {
            CpuIsa isa;
            if (cpu_isa_parse(v, &isa) != MELD_OK) {
                fprintf(stderr, "bench gemm: %s\n", meld_error());
                return 2;
            }
            cpu_set_isa(isa);
            i++;
        } else if (!strcmp(a, "--reps") && v) {
            reps = atoi(v), i++;
            if (reps < 1 || reps > 101) {
                fprintf(stderr, "bench gemm: --reps wants 1..101\n");
                return 2;
            }
        } else {
            fprintf(stderr, "bench gemm: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
#ifdef MELD_BENCH_COMPARE
    compare_match_isa(argc, argv);
#endif
    if (n_shapes == 0) {
        memcpy(shapes, DEFAULT_SHAPES, sizeof DEFAULT_SHAPES);
        n_shapes = N_DEFAULT;
    }
    int all = want_threads ? want_threads : threadpool_threads();
    int threads[2] = {1, all}, n_threads = all > 1 ? 2 : 1;

    CpuIsa isa = cpu_isa();
    double peak[2];
    for (int t = 0; t < n_threads; t++) peak[t] = bench_fma_peak_gflops(isa, threads[t]);
    printf("gemm on %s, %d online cores; FMA peak (%s, measured): %.1f GFLOP/s on 1 thread",
           cpu_isa_name(isa), threadpool_online_cores(), cpu_isa_name(isa), peak[0]);
    if (n_threads > 1) printf(", %.1f on %d", peak[1], all);
    printf("\nmedian of %d samples; %%peak = ours / FMA peak at the same thread count (the peak:\n"
           "register-only FMA chains, best of 5 attempts after a warm-up, benchmarks/peak_body.inc)\n",
           reps);
#ifdef MELD_BENCH_COMPARE
    const char *l2 = getenv("OPENBLAS_L2_SIZE"), *dnn = getenv("ONEDNN_MAX_CPU_ISA");
    printf("OpenBLAS kernels: %s%s%s; oneDNN ISA cap: %s; each library cell: its GFLOP/s and ours / its\n",
           compare_openblas_core(), l2 ? ", OPENBLAS_L2_SIZE=" : "", l2 ? l2 : "", dnn ? dnn : "(none)");
#endif
    printf("%-20s %3s %9s %8s %7s", "shape MxNxK op", "thr", "ms", "GFLOP/s", "%peak");
#ifdef MELD_BENCH_COMPARE
    for (int lib = 0; lib < COMPARE_N_LIBS; lib++)
        printf(" | %-15.15s", compare_lib_name(lib));
#endif
    printf("\n");
    int rc = 0;
    max_pct_peak = 0;
    for (int s = 0; s < n_shapes && rc == 0; s++)
        rc = bench_shape(&shapes[s], threads, n_threads, reps, peak);
    if (max_pct_peak > 100) {
        /* a GEMM cannot beat the FMA units: the peak was measured low */
        printf("WARNING: %%peak up to %.0f %% (rows marked !): the FMA-peak measurement came out below what\n"
               "the GEMM reached, so that column is wrong on this run (a busy machine: another process on the\n"
               "core or its hyperthread during the peak loop). Peak measured again now:", max_pct_peak);
        for (int t = 0; t < n_threads; t++)
            printf(" %.1f GFLOP/s on %d thread%s", bench_fma_peak_gflops(isa, threads[t]), threads[t],
                   threads[t] > 1 ? "s" : "");
        printf("\n");
    }
    threadpool_set_threads(0);
    return rc;
}
