/* The GEMM kernel in effect against the plain triple loop.
 *
 *     C[M x N] = op(A)[M x K] op(B)[K x N],   op(X) = X or X^T
 *
 * gemm() runs the blocked, packed micro-kernel of the best instruction set
 * this CPU has (AVX-512, AVX2+FMA or plain C: cpu_isa(); MELD_ISA=avx2 or
 * MELD_ISA=scalar picks a lower one) on every core. gemm_reference() is
 * the textbook loop. For each shape this program checks that they agree
 * and prints the speed of both (printed only: a timing is not a test).
 *
 * How close is close enough? Both add K products in float, one rounding
 * (u = 2^-24) per step, so each is within (K + 2) u sum_k |a_ik b_kj| of
 * the exact value (the recursive-summation bound, tensor/gemm.h), and the
 * two within twice that. Dividing by sum_k |a_ik b_kj| (not by |c_ij|,
 * which cancellation can make arbitrarily small) gives a relative error
 * that must stay below 2 (K + 2) u. It stays far below: that bound is the
 * worst case, while random rounding errors mostly cancel (~sqrt(K) u). A
 * wrong kernel is far above: alpha off by 1e-4 already gives 5e-5.
 *
 * Read next: tensor/gemm.h (the contract), tensor/gemm.c (blocking and
 * packing), tensor/gemm_kernel_scalar.c then gemm_kernel_avx2.c and
 * gemm_kernel_avx512.c (the micro-kernels), tests/test_tensor_gemm.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "examples/check.h"
#include "tensor/gemm.h"
#include "tensor/rng.h"
#include "tensor/threadpool.h"

typedef struct {
    int M, N, K;
    GemmTrans ta, tb;
} Shape;

/* Square, ragged (no size a multiple of any tile), transposed operands. */
static const Shape SHAPES[] = {
    {96, 96, 96, GEMM_N, GEMM_N},
    {127, 253, 129, GEMM_N, GEMM_N},
    {256, 256, 256, GEMM_N, GEMM_N},
    {300, 64, 200, GEMM_T, GEMM_T},
};

typedef void (*GemmFn)(GemmTrans, GemmTrans, int, int, int, float, const float *, int,
                       const float *, int, float, float *, int);

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* The best of at least 3 runs and 20 ms (the run least disturbed by other
 * work), in GFLOP/s: one multiply and one add per (i, j, k). */
static double gflops(GemmFn f, const Shape *s, const float *A, const float *B, float *C)
{
    int lda = s->ta == GEMM_N ? s->K : s->M, ldb = s->tb == GEMM_N ? s->N : s->K;
    double best = INFINITY, start = now();
    for (int rep = 0; rep < 3 || now() - start < 0.02; rep++) {
        double t0 = now();
        f(s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, 0.0f, C, s->N);
        best = fmin(best, now() - t0);
    }
    return 2.0 * s->M * s->N * s->K / best * 1e-9;
}

static float *new_matrix(size_t n)
{
    float *x = meld_malloc(n * sizeof *x, "matrix");
    need(x, "matrix");
    return x;
}

static float *random_matrix(Rng *r, size_t n)
{
    float *x = new_matrix(n);
    for (size_t i = 0; i < n; i++) x[i] = rng_uniform_range(r, -1, 1);
    return x;
}

static float *absolute(const float *x, size_t n)
{
    float *y = new_matrix(n);
    for (size_t i = 0; i < n; i++) y[i] = fabsf(x[i]);
    return y;
}

/* max_ij |C - R| / (|A| |B|)_ij: the error relative to the bound's scale. */
static void check_shape(const Shape *s, Rng *r)
{
    const int M = s->M, N = s->N, K = s->K;
    int lda = s->ta == GEMM_N ? K : M, ldb = s->tb == GEMM_N ? N : K;
    float *A = random_matrix(r, (size_t)M * K), *B = random_matrix(r, (size_t)K * N);
    float *C = random_matrix(r, (size_t)M * N), *R = random_matrix(r, (size_t)M * N);
    float *absA = absolute(A, (size_t)M * K), *absB = absolute(B, (size_t)K * N);
    float *scale = new_matrix((size_t)M * N);
    /* beta = 0: C is write-only, the random values in it must not show. */
    gemm(s->ta, s->tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, N);
    gemm_reference(s->ta, s->tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, R, N);
    gemm_reference(s->ta, s->tb, M, N, K, 1.0f, absA, lda, absB, ldb, 0.0f, scale, N);
    double worst = 0;
    for (size_t i = 0; i < (size_t)M * N; i++)
        worst = fmax(worst, fabs((double)C[i] - R[i]) / fmax(scale[i], 1e-30));

    double fast = gflops(gemm, s, A, B, C), ref = gflops(gemm_reference, s, A, B, R);
    double bound = 2.0 * (K + 2) * 0x1p-24;
    printf("%4d x %4d x %4d  %c%c   %8.2e  %8.2e  %8.1f  %9.2f\n", M, N, K,
           s->ta == GEMM_N ? 'N' : 'T', s->tb == GEMM_N ? 'N' : 'T', worst, bound, fast, ref);
    check(worst <= bound, "%dx%dx%d: error %.2e above the bound %.2e", M, N, K, worst, bound);
    free(A), free(B), free(C), free(R), free(absA), free(absB), free(scale);
}

int main(void)
{
    printf("gemm on %s (detected: %s), %d threads\n", cpu_isa_name(cpu_isa()),
           cpu_isa_name(cpu_isa_detected()), threadpool_threads());
    printf("   M x    N x    K  op  rel.error     bound  GFLOP/s  reference\n");
    Rng r;
    rng_seed(&r, 1, 1);
    for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++) check_shape(&SHAPES[i], &r);
    return 0;
}
