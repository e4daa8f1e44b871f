/* GEMM: every ISA path (AVX-512, AVX2, portable C, as far as this CPU has
 * them) against a double-precision triple loop, on every transpose case,
 * odd sizes (all of 1..67, primes, 0 and 1), padded leading dimensions,
 * unaligned pointers and alpha/beta in {0, 1, -0.5}. The error bound is the
 * one stated in tensor/gemm.h:
 *     |C - exact| <= (K + 2) u (|alpha| sum_k |a_ik b_kj| + |beta c_ij|),  u = 2^-24.
 * Elements of the C buffer outside the M x N result (the ldc padding and
 * guard rows) must be untouched. Also: results identical for any thread
 * count, and the ISA selection helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tensor/cpu.h"
#include "tensor/gemm.h"
#include "tensor/rng.h"
#include "tensor/threadpool.h"

#define GUARD 123.25f   /* value of the C cells gemm must not touch */

/* A logical problem: op(A) M x K, op(B) K x N, C0 M x N, with the exact
 * result and its error scale computed in double. */
typedef struct {
    int M, N, K;
    float *a, *b, *c0;      /* op(A), op(B), initial C: dense row-major */
    double *exact, *scale;  /* per element, for given alpha/beta */
} Problem;

static Problem make_problem(Rng *g, int M, int N, int K)
{
    Problem p = {M, N, K, NULL, NULL, NULL, NULL, NULL};
    /* with K == 0, store() still lays out one column of A / row of B */
    size_t na = (size_t)M * K + M, nb = (size_t)K * N + N, nc = (size_t)M * N;
    p.a = malloc((na + 1) * sizeof(float));
    p.b = malloc((nb + 1) * sizeof(float));
    p.c0 = malloc((nc + 1) * sizeof(float));
    p.exact = malloc((nc + 1) * sizeof(double));
    p.scale = malloc((nc + 1) * sizeof(double));
    assert_true(p.a && p.b && p.c0 && p.exact && p.scale);
    for (size_t i = 0; i < na; i++) p.a[i] = rng_uniform_range(g, -1, 1);
    for (size_t i = 0; i < nb; i++) p.b[i] = rng_uniform_range(g, -1, 1);
    for (size_t i = 0; i < nc; i++) p.c0[i] = rng_uniform_range(g, -1, 1);
    return p;
}

static void free_problem(Problem *p)
{
    free(p->a), free(p->b), free(p->c0), free(p->exact), free(p->scale);
}

static void compute_exact(Problem *p, float alpha, float beta)
{
    for (int i = 0; i < p->M; i++)
        for (int j = 0; j < p->N; j++) {
            double s = 0, sa = 0;
            for (int k = 0; k < p->K; k++) {
                double t = (double)p->a[(size_t)i * p->K + k] * p->b[(size_t)k * p->N + j];
                s += t;
                sa += fabs(t);
            }
            size_t e = (size_t)i * p->N + j;
            double c = beta == 0.0f ? 0.0 : (double)beta * p->c0[e];
            p->exact[e] = alpha * s + c;
            p->scale[e] = fabs(alpha) * sa + fabs(c);
        }
}

/* Stores the logical rows x cols matrix m as op^-1 into a buffer with
 * leading dimension ld (+pad), shifted by `off` floats to break alignment. */
static float *store(const float *m, int rows, int cols, GemmTrans t, int pad, int off, int *ld,
                    float **base)
{
    int srows = t == GEMM_N ? rows : cols, scols = t == GEMM_N ? cols : rows;
    *ld = scols + pad;
    size_t n = (size_t)srows * *ld + (size_t)off + 1;
    *base = malloc(n * sizeof(float));
    assert_non_null(*base);
    float *s = *base + off;
    for (size_t i = 0; i < n - (size_t)off; i++) s[i] = NAN;   /* padding is never read */
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            float v = m[(size_t)i * cols + j];
            if (t == GEMM_N) s[(size_t)i * *ld + j] = v;
            else s[(size_t)j * *ld + i] = v;
        }
    return s;
}

/* Runs one case on one ISA and checks the bound and the guard cells.
 * Returns the worst error / bound ratio. */
static double run_case(const Problem *p, CpuIsa isa, GemmTrans ta, GemmTrans tb, float alpha,
                       float beta, int pad, int off)
{
    int lda, ldb, ldc = p->N + pad;
    float *abase, *bbase;
    /* with K == 0 the stored A/B are empty: give them one row so pointers exist */
    int Ka = p->K > 0 ? p->K : 1;
    float *A = store(p->a, p->M, Ka, ta, pad, off, &lda, &abase);
    float *B = store(p->b, Ka, p->N, tb, pad, off, &ldb, &bbase);
    const int guard_rows = 2;
    size_t nc = (size_t)(p->M + 2 * guard_rows) * ldc + (size_t)off;
    float *cbase = malloc(nc * sizeof(float));
    assert_non_null(cbase);
    for (size_t i = 0; i < nc; i++) cbase[i] = GUARD;
    float *C = cbase + off + (size_t)guard_rows * ldc;
    for (int i = 0; i < p->M; i++)
        for (int j = 0; j < p->N; j++)
            C[(size_t)i * ldc + j] = beta == 0.0f ? NAN : p->c0[(size_t)i * p->N + j];

    gemm_isa(isa, ta, tb, p->M, p->N, p->K, alpha, A, lda, B, ldb, beta, C, ldc);

    const double u = ldexp(1.0, -24);
    double worst = 0;
    for (size_t x = 0; x < nc; x++) {
        float *cell = cbase + x;
        ptrdiff_t rel = cell - C;
        int i = rel >= 0 ? (int)(rel / ldc) : -1, j = rel >= 0 ? (int)(rel % ldc) : -1;
        if (rel >= 0 && i < p->M && j < p->N) {
            size_t e = (size_t)i * p->N + j;
            double err = fabs((double)*cell - p->exact[e]);
            double bound = (p->K + 2) * u * p->scale[e] + 1e-30;
            assert_false(isnan(*cell));
            if (err / bound > worst) worst = err / bound;
        } else {
            assert_true(*cell == GUARD);
        }
    }
    free(abase), free(bbase), free(cbase);
    return worst;
}

/* Every path this CPU has. */
#define FOR_EACH_ISA(isa)                                                                   \
    for (CpuIsa isa = CPU_ISA_SCALAR; isa < CPU_ISA_COUNT; isa = (CpuIsa)(isa + 1))         \
        if (cpu_isa_supported(isa))

/* All ISAs x 4 transposes x the given alpha/beta on one problem. */
static void check_problem(Problem *p, float alpha, float beta, int pad, int off)
{
    compute_exact(p, alpha, beta);
    FOR_EACH_ISA(isa)
        for (int t = 0; t < 4; t++) {
            double w = run_case(p, isa, (GemmTrans)(t >> 1), (GemmTrans)(t & 1), alpha,
                                beta, pad, off);
            if (w > 1.0)
                fail_msg("%s %c%c M=%d N=%d K=%d alpha=%g beta=%g: error %.2f x bound",
                         cpu_isa_name(isa), "NT"[t >> 1], "NT"[t & 1], p->M, p->N, p->K,
                         alpha, beta, w);
        }
}

static const float ALPHAS[] = {1.0f, -0.5f, 0.0f};
static const float BETAS[] = {0.0f, 1.0f, -0.5f};

/* Every size 1..67 in each of the three dimensions (the other two random
 * in 1..67), cycling through alpha/beta, padding and misalignment. */
static void all_small_sizes(void **state)
{
    (void)state;
    Rng g;
    rng_seed(&g, 2024, 3);
    int n = 0;
    for (int d = 1; d <= 67; d++)
        for (int which = 0; which < 3; which++, n++) {
            int dims[3] = {1 + (int)rng_below(&g, 67), 1 + (int)rng_below(&g, 67),
                           1 + (int)rng_below(&g, 67)};
            dims[which] = d;
            Problem p = make_problem(&g, dims[0], dims[1], dims[2]);
            check_problem(&p, ALPHAS[n % 3], BETAS[(n / 3) % 3], n % 4 == 0 ? 0 : n % 7,
                          n % 3);
            free_problem(&p);
        }
}

/* Degenerate and skinny shapes: K == 0 (C = beta C), M or N == 1, primes. */
static void edge_shapes(void **state)
{
    (void)state;
    static const int shapes[][3] = {
        {5, 7, 0}, {1, 1, 1}, {1, 300, 97}, {300, 1, 97}, {1, 1, 500}, {2, 3, 1},
        {97, 89, 83}, {13, 509, 31}, {509, 13, 31}, {33, 65, 129},
    };
    Rng g;
    rng_seed(&g, 7, 7);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        Problem p = make_problem(&g, shapes[s][0], shapes[s][1], shapes[s][2]);
        for (int ab = 0; ab < 9; ab++)
            check_problem(&p, ALPHAS[ab % 3], BETAS[ab / 3], (int)s % 3, (int)s % 2);
        free_problem(&p);
    }
}

/* M, N, K == 0 leave C alone (M, N) or scale it (K). */
static void empty_dimensions(void **state)
{
    (void)state;
    float a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 3, 4}, c[4] = {1, 2, 3, 4};
    gemm(GEMM_N, GEMM_N, 0, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2);
    gemm(GEMM_N, GEMM_N, 2, 0, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2);
    for (int i = 0; i < 4; i++) assert_true(c[i] == (float)(i + 1));
    gemm(GEMM_N, GEMM_N, 2, 2, 0, 1.0f, a, 2, b, 2, 2.0f, c, 2);
    for (int i = 0; i < 4; i++) assert_true(c[i] == 2.0f * (float)(i + 1));
    c[0] = NAN;
    gemm(GEMM_T, GEMM_T, 2, 2, 0, 1.0f, a, 2, b, 2, 0.0f, c, 2);
    for (int i = 0; i < 4; i++) assert_true(c[i] == 0.0f);
}

/* Shapes that cross every block boundary: K > KC (several K blocks, so
 * beta is applied once and later blocks accumulate), N > NC, M above the
 * direct-B limit (packed B in NN; on AVX-512 both operands' packing fused
 * into the first tiles that read them) and M > MC (several A panels), a
 * short A read in place over several K blocks, and a panel tall enough to
 * be split by rows on 2 threads. Kept moderate so the sanitizer build
 * stays fast. */
static void block_boundaries(void **state)
{
    (void)state;
    static const int shapes[][3] = {{131, 613, 467}, {2600, 3, 450}, {40, 700, 900},
                                    {32, 200, 900}, {300, 200, 467}};
    Rng g;
    rng_seed(&g, 99, 1);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        Problem p = make_problem(&g, shapes[s][0], shapes[s][1], shapes[s][2]);
        check_problem(&p, -0.5f, -0.5f, 3, 1);
        free_problem(&p);
    }
}

/* The same product on 1, 2 and 3 threads (and the default) is bitwise equal.
 * M = 300 is split by rows on 2 threads and by columns on 3 (plan_parts). */
static void results_independent_of_thread_count(void **state)
{
    (void)state;
    const int M = 300, N = 301, K = 517;
    Rng g;
    rng_seed(&g, 4, 4);
    float *A = malloc((size_t)M * K * 4), *B = malloc((size_t)K * N * 4);
    float *C1 = malloc((size_t)M * N * 4), *C2 = malloc((size_t)M * N * 4);
    for (int i = 0; i < M * K; i++) A[i] = rng_normal(&g);
    for (int i = 0; i < K * N; i++) B[i] = rng_normal(&g);
    FOR_EACH_ISA(isa)
        for (int t = 0; t < 4; t++) {
            GemmTrans ta = (GemmTrans)(t >> 1), tb = (GemmTrans)(t & 1);
            int lda = ta == GEMM_N ? K : M, ldb = tb == GEMM_N ? N : K;
            threadpool_set_threads(1);
            gemm_isa(isa, ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C1, N);
            for (int th = 2; th <= 3; th++) {
                threadpool_set_threads(th);
                gemm_isa(isa, ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C2, N);
                assert_memory_equal(C1, C2, (size_t)M * N * 4);
            }
        }
    threadpool_set_threads(0);
    free(A), free(B), free(C1), free(C2);
}

/* A wrong result is caught: the bound is tight enough that dropping one
 * k term (here: the reference loop on K-1) fails it. */
static void bound_catches_a_missing_term(void **state)
{
    (void)state;
    Rng g;
    rng_seed(&g, 5, 5);
    Problem p = make_problem(&g, 9, 10, 11);
    compute_exact(&p, 1.0f, 0.0f);
    float C[90];
    gemm_reference(GEMM_N, GEMM_N, 9, 10, 10, 1.0f, p.a, 11, p.b, 10, 0.0f, C, 10);
    double worst = 0, u = ldexp(1.0, -24);
    for (int e = 0; e < 90; e++) {
        double r = fabs(C[e] - p.exact[e]) / ((11 + 2) * u * p.scale[e]);
        if (r > worst) worst = r;
    }
    assert_true(worst > 1.0);
    free_problem(&p);
}

static void isa_selection(void **state)
{
    (void)state;
    CpuIsa isa;
    assert_int_equal(cpu_isa_parse("avx2", &isa), 0);
    assert_int_equal(isa, CPU_ISA_AVX2);
    assert_int_equal(cpu_isa_parse("sse9", &isa), -1);
    assert_int_equal(cpu_isa_parse("neon", &isa), 0);
    assert_int_equal(isa, CPU_ISA_NEON);
    /* forcing a path never goes above the hardware or the request's level,
     * and a path the CPU has is served as asked */
    assert_true(cpu_isa_supported(cpu_isa_detected()));
    for (CpuIsa want = CPU_ISA_SCALAR; want < CPU_ISA_COUNT; want = (CpuIsa)(want + 1)) {
        CpuIsa got = cpu_isa_clamp(want);
        assert_true(cpu_isa_supported(got));
        assert_true(cpu_isa_level(got) <= cpu_isa_level(want));
        assert_true(cpu_isa_level(got) <= cpu_isa_level(cpu_isa_detected()));
        if (cpu_isa_supported(want)) assert_int_equal(got, want);
    }
    assert_int_equal(cpu_set_isa(CPU_ISA_AVX512), cpu_isa_detected());
    assert_int_equal(cpu_set_isa(CPU_ISA_SCALAR), CPU_ISA_SCALAR);
    assert_int_equal(cpu_isa(), CPU_ISA_SCALAR);
    cpu_set_isa(cpu_isa_detected());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(all_small_sizes),
        cmocka_unit_test(edge_shapes),
        cmocka_unit_test(empty_dimensions),
        cmocka_unit_test(block_boundaries),
        cmocka_unit_test(results_independent_of_thread_count),
        cmocka_unit_test(bound_catches_a_missing_term),
        cmocka_unit_test(isa_selection),
    };
    return cmocka_run_group_tests_name("tensor: gemm", tests, NULL, NULL);
}
