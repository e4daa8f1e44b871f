/* Convolution and max pooling: im2col + GEMM paths against direct loops
 * (forward, input gradient, weight and bias gradient) on every ISA, over
 * strides, 'same' / 'valid' / asymmetric padding and 1x1 kernels; im2col
 * and col2im are adjoint; results do not depend on the thread count; bad
 * shapes are rejected with a message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tensor/conv.h"
#include "tensor/cpu.h"
#include "tensor/error.h"
#include "tensor/rng.h"
#include "tensor/threadpool.h"

static float *randn(Rng *g, size_t n)
{
    float *v = malloc((n ? n : 1) * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) v[i] = rng_normal(g);
    return v;
}

static float *copy(const float *src, size_t n)
{
    float *v = malloc((n ? n : 1) * sizeof *v);
    assert_non_null(v);
    memcpy(v, src, n * sizeof *v);
    return v;
}

/* Float GEMM sums of up to a few hundred N(0,1) products against double
 * references: 1e-4 relative to (1 + |ref|) is ~100x the expected error and
 * far below any indexing mistake (errors of order 1). */
static void assert_close(const float *got, const float *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(got[i] - want[i]) <= 1e-4f * (1.0f + fabsf(want[i]))))
            fail_msg("element %zu: got %.7g want %.7g", i, got[i], want[i]);
}

typedef struct {
    int N, C, H, W, OC, KH, KW, sh, sw;
    int pad;   /* -1 valid, -2 same, >= 0: explicit (top/left = pad, bottom/right = pad+1 when odd) */
} Case;

static const Case CASES[] = {
    {2, 3, 9, 11, 4, 3, 3, 1, 1, -2},  /* same, odd kernel */
    {3, 2, 8, 8, 5, 3, 3, 2, 2, -2},   /* same, stride 2 */
    {1, 4, 7, 6, 3, 2, 2, 1, 1, -2},   /* same, even kernel: extra pad bottom/right */
    {2, 3, 10, 9, 6, 5, 3, 1, 2, -1},  /* valid, mixed kernel and stride */
    {2, 5, 6, 7, 3, 1, 1, 1, 1, -1},   /* 1x1 pointwise (no im2col) */
    {3, 2, 6, 6, 2, 3, 3, 3, 1, 1},    /* explicit asymmetric padding */
    {1, 1, 1, 1, 1, 1, 1, 1, 1, -2},   /* 1x1 image */
    {4, 3, 16, 16, 16, 3, 3, 1, 1, -2}, /* the frame CNN's first layer, small */
    {2, 2, 5, 5, 3, 3, 3, 1, 1, 3},    /* padding as big as the kernel: border = bias */
    {3, 9, 7, 19, 20, 3, 3, 1, 1, -2}, /* C*9 > 64, OC <= 64: weight gradient computed transposed;
                                          width 19 > 16: im2col rows of two vectors */
    {9, 8, 5, 5, 40, 3, 3, 1, 1, -2},  /* 9 images: more than one per weight-gradient group */
    {2, 2, 9, 33, 4, 5, 7, 1, 1, -2},  /* pads 2 and 3 on the left: the vector im2col's shifted
                                          first lanes; 33 wide: the row-by-row path */
    {1, 2, 6, 24, 2, 1, 19, 1, 1, -2}, /* left pads up to 9, more than an AVX2 or NEON vector:
                                          the shifted lanes start in a later vector */
};
enum { N_CASES = sizeof CASES / sizeof CASES[0] };

static Conv2dShape shape_of(const Case *c)
{
    Conv2dShape s = {c->N, c->C, c->H, c->W, c->OC, c->KH, c->KW, c->sh, c->sw, 0, 0, 0, 0};
    if (c->pad == -1) assert_int_equal(conv2d_set_padding(&s, CONV_PAD_VALID), MELD_OK);
    else if (c->pad == -2) assert_int_equal(conv2d_set_padding(&s, CONV_PAD_SAME), MELD_OK);
    else s.pad_top = s.pad_left = c->pad, s.pad_bottom = s.pad_right = c->pad + (c->pad & 1);
    assert_int_equal(conv2d_check(&s), MELD_OK);
    return s;
}

/* Forward and both gradients against the direct loops, on one shape. */
static void check_conv_case(const Case *c)
{
    Conv2dShape s = shape_of(c);
    const int OH = conv2d_out_h(&s), OW = conv2d_out_w(&s);
    size_t nx = (size_t)s.N * s.C * s.H * s.W, ny = (size_t)s.N * s.OC * OH * OW;
    size_t nw = (size_t)s.OC * s.C * s.KH * s.KW;
    Rng g;
    rng_seed(&g, (uint64_t)c->H * 131 + c->OC, 9);
    float *x = randn(&g, nx), *w = randn(&g, nw), *b = randn(&g, (size_t)s.OC);
    float *dy = randn(&g, ny), *dx0 = randn(&g, nx), *dw0 = randn(&g, nw);
    float *db0 = randn(&g, (size_t)s.OC);
    float *y_ref = malloc(ny * 4), *y = malloc(ny * 4);
    float *dx_ref = copy(dx0, nx), *dw_ref = copy(dw0, nw), *db_ref = copy(db0, (size_t)s.OC);
    assert_int_equal(conv2d_forward_naive(&s, x, w, b, y_ref), MELD_OK);
    assert_int_equal(conv2d_backward_input_naive(&s, dy, w, dx_ref), MELD_OK);
    assert_int_equal(conv2d_backward_weight_naive(&s, x, dy, dw_ref, db_ref), MELD_OK);
    for (CpuIsa isa = CPU_ISA_SCALAR; isa < CPU_ISA_COUNT; isa = (CpuIsa)(isa + 1)) {
        if (!cpu_isa_supported(isa)) continue;
        cpu_set_isa(isa);
        float *dx = copy(dx0, nx), *dw = copy(dw0, nw), *db = copy(db0, (size_t)s.OC);
        assert_int_equal(conv2d_forward(&s, x, w, b, y), MELD_OK);
        assert_close(y, y_ref, ny);
        assert_int_equal(conv2d_backward_input(&s, dy, w, dx), MELD_OK);
        assert_close(dx, dx_ref, nx);
        assert_int_equal(conv2d_backward_weight(&s, x, dy, dw, db), MELD_OK);
        assert_close(dw, dw_ref, nw);
        assert_close(db, db_ref, (size_t)s.OC);
        free(dx), free(dw), free(db);
    }
    cpu_set_isa(cpu_isa_detected());
    free(x), free(w), free(b), free(dy), free(dx0), free(dw0), free(db0);
    free(y_ref), free(y), free(dx_ref), free(dw_ref), free(db_ref);
}

static void conv_matches_direct_loops(void **state)
{
    (void)state;
    for (int i = 0; i < N_CASES; i++) check_conv_case(&CASES[i]);
}

/* Bias-free forward and db == NULL are accepted. */
static void conv_optional_bias(void **state)
{
    (void)state;
    Conv2dShape s = shape_of(&CASES[0]);
    size_t nx = (size_t)s.N * s.C * s.H * s.W, nw = (size_t)s.OC * s.C * 9;
    size_t ny = (size_t)s.N * s.OC * conv2d_out_h(&s) * conv2d_out_w(&s);
    Rng g;
    rng_seed(&g, 1, 2);
    float *x = randn(&g, nx), *w = randn(&g, nw), *dy = randn(&g, ny);
    float *y = malloc(ny * 4), *y_ref = malloc(ny * 4), *dw = calloc(nw, 4), *dw_ref = calloc(nw, 4);
    assert_int_equal(conv2d_forward(&s, x, w, NULL, y), MELD_OK);
    assert_int_equal(conv2d_forward_naive(&s, x, w, NULL, y_ref), MELD_OK);
    assert_close(y, y_ref, ny);
    assert_int_equal(conv2d_backward_weight(&s, x, dy, dw, NULL), MELD_OK);
    assert_int_equal(conv2d_backward_weight_naive(&s, x, dy, dw_ref, NULL), MELD_OK);
    assert_close(dw, dw_ref, nw);
    free(x), free(w), free(dy), free(y), free(y_ref), free(dw), free(dw_ref);
}

/* <im2col(x), c> == <x, col2im(c)>: col2im is the adjoint of im2col, which
 * is what makes the input gradient right. */
static void col2im_is_adjoint_of_im2col(void **state)
{
    (void)state;
    for (int k = 0; k < N_CASES; k++) {
        Case one = CASES[k];
        one.N = 1;
        Conv2dShape s = shape_of(&one);
        size_t nx = (size_t)s.C * s.H * s.W;
        size_t nc = (size_t)s.C * s.KH * s.KW * conv2d_out_h(&s) * conv2d_out_w(&s);
        Rng g;
        rng_seed(&g, (uint64_t)k, 3);
        float *x = randn(&g, nx), *c = randn(&g, nc), *col = malloc(nc * 4), *xt = calloc(nx, 4);
        conv2d_im2col(&s, x, col);
        conv2d_col2im(&s, c, xt);
        double lhs = 0, rhs = 0, mag = 0;
        for (size_t i = 0; i < nc; i++) lhs += (double)col[i] * c[i], mag += fabs(col[i] * c[i]);
        for (size_t i = 0; i < nx; i++) rhs += (double)x[i] * xt[i];
        assert_true(fabs(lhs - rhs) <= 1e-5 * (1 + mag));
        free(x), free(c), free(col), free(xt);
    }
}

static void same_and_valid_sizes(void **state)
{
    (void)state;
    Conv2dShape s = {1, 1, 64, 63, 1, 3, 3, 1, 1, 0, 0, 0, 0};
    conv2d_set_padding(&s, CONV_PAD_SAME);
    assert_int_equal(conv2d_out_h(&s), 64);
    assert_int_equal(conv2d_out_w(&s), 63);
    assert_int_equal(s.pad_top, 1);
    assert_int_equal(s.pad_bottom, 1);
    s.KH = s.KW = 4;   /* even kernel: total 3, 1 before and 2 after, as PyTorch */
    conv2d_set_padding(&s, CONV_PAD_SAME);
    assert_int_equal(s.pad_top, 1);
    assert_int_equal(s.pad_bottom, 2);
    s.stride_h = s.stride_w = 2;
    s.KH = s.KW = 3;
    conv2d_set_padding(&s, CONV_PAD_SAME);
    assert_int_equal(conv2d_out_h(&s), 32);
    assert_int_equal(conv2d_out_w(&s), 32);
    conv2d_set_padding(&s, CONV_PAD_VALID);
    assert_int_equal(conv2d_out_h(&s), 31);
}

/* 1, 2 and 3 threads give bitwise equal results (images per thread and the
 * weight-gradient groups do not change the arithmetic). */
static void conv_independent_of_threads(void **state)
{
    (void)state;
    Conv2dShape s = shape_of(&CASES[7]);
    s.N = 5;
    size_t nx = (size_t)s.N * s.C * s.H * s.W, nw = (size_t)s.OC * s.C * 9;
    size_t ny = (size_t)s.N * s.OC * conv2d_out_h(&s) * conv2d_out_w(&s);
    Rng g;
    rng_seed(&g, 3, 3);
    float *x = randn(&g, nx), *w = randn(&g, nw), *dy = randn(&g, ny);
    float *y[3], *dx[3], *dw[3];
    for (int t = 0; t < 3; t++) {
        threadpool_set_threads(t + 1);
        y[t] = malloc(ny * 4), dx[t] = calloc(nx, 4), dw[t] = calloc(nw, 4);
        assert_int_equal(conv2d_forward(&s, x, w, NULL, y[t]), MELD_OK);
        assert_int_equal(conv2d_backward_input(&s, dy, w, dx[t]), MELD_OK);
        assert_int_equal(conv2d_backward_weight(&s, x, dy, dw[t], NULL), MELD_OK);
        if (t > 0) {
            assert_memory_equal(y[t], y[0], ny * 4);
            assert_memory_equal(dx[t], dx[0], nx * 4);
            assert_memory_equal(dw[t], dw[0], nw * 4);
        }
    }
    threadpool_set_threads(0);
    for (int t = 0; t < 3; t++) free(y[t]), free(dx[t]), free(dw[t]);
    free(x), free(w), free(dy);
}

static void bad_conv_shapes_are_rejected(void **state)
{
    (void)state;
    float buf[16] = {0};
    Conv2dShape ok = {1, 1, 4, 4, 1, 3, 3, 1, 1, 0, 0, 0, 0};
    Conv2dShape bad[] = {ok, ok, ok, ok, ok, ok};
    bad[0].N = 0;
    bad[1].KH = 5;                      /* kernel larger than the input */
    bad[2].stride_w = 0;
    bad[3].pad_left = -1;
    bad[4].H = 1 << 21;                 /* absurd */
    bad[5].C = 1 << 20, bad[5].N = 1 << 12;   /* too many elements */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        meld_error_clear();
        assert_int_equal(conv2d_forward(&bad[i], buf, buf, NULL, buf), MELD_ERR);
        assert_true(strstr(meld_error(), "conv2d") != NULL);
        assert_int_equal(conv2d_backward_input(&bad[i], buf, buf, buf), MELD_ERR);
        assert_int_equal(conv2d_backward_weight(&bad[i], buf, buf, buf, NULL), MELD_ERR);
    }
}

/* ---- max pooling --------------------------------------------------------- */

/* Every ISA (the 2x2 stride-2 case has its own SIMD paths), odd sizes,
 * rows wider than one vector, ties, NaN and -inf. */
static void maxpool_matches_direct_loop(void **state)
{
    (void)state;
    static const Pool2dShape shapes[] = {
        {2, 3, 8, 8, 2, 2, 2, 2, 0, 0},   {1, 2, 7, 9, 3, 3, 2, 2, 1, 1},
        {2, 1, 5, 5, 3, 2, 1, 1, 1, 0},   {1, 1, 1, 1, 1, 1, 1, 1, 0, 0},
        {1, 2, 9, 75, 2, 2, 2, 2, 0, 0},  {2, 1, 6, 33, 2, 2, 2, 2, 0, 0},
        {1, 1, 2, 2, 2, 2, 2, 2, 0, 0},
    };
    Rng g;
    rng_seed(&g, 12, 1);
    for (size_t k = 0; k < CPU_ISA_COUNT * sizeof shapes / sizeof shapes[0]; k++) {
        CpuIsa isa = (CpuIsa)(k % CPU_ISA_COUNT);
        if (!cpu_isa_supported(isa)) continue;
        cpu_set_isa(isa);
        const Pool2dShape *s = &shapes[k / CPU_ISA_COUNT];
        size_t nx = (size_t)s->N * s->C * s->H * s->W;
        size_t ny = (size_t)s->N * s->C * pool2d_out_h(s) * pool2d_out_w(s);
        float *x = randn(&g, nx), *y = malloc(ny * 4), *y_ref = malloc(ny * 4);
        /* ties: round to a coarse grid so equal values occur; a few NaN, -inf */
        for (size_t i = 0; i < nx; i++) x[i] = roundf(x[i] * 2) / 2;
        for (size_t i = 7; i < nx; i += 37) x[i] = i % 2 ? NAN : -INFINITY;
        int32_t *a = malloc(ny * 4), *a_ref = malloc(ny * 4);
        assert_int_equal(maxpool2d_forward(s, x, y, a), MELD_OK);
        assert_int_equal(maxpool2d_forward_naive(s, x, y_ref, a_ref), MELD_OK);
        assert_memory_equal(y, y_ref, ny * 4);
        assert_memory_equal(a, a_ref, ny * 4);
        /* backward: each input receives the sum of dy over the windows it won */
        float *dy = randn(&g, ny), *dx = calloc(nx, 4), *dx_ref = calloc(nx, 4);
        assert_int_equal(maxpool2d_backward(s, dy, a, dx), MELD_OK);
        size_t plane_in = (size_t)s->H * s->W, plane_out = ny / ((size_t)s->N * s->C);
        for (size_t t = 0; t < ny; t++) dx_ref[(t / plane_out) * plane_in + (size_t)a[t]] += dy[t];
        assert_memory_equal(dx, dx_ref, nx * 4);
        /* into an uninitialised dx (NaN here): the same values */
        float *dx_as = malloc(nx * 4);
        for (size_t i = 0; i < nx; i++) dx_as[i] = NAN;
        assert_int_equal(maxpool2d_backward_assign(s, dy, a, dx_as), MELD_OK);
        assert_memory_equal(dx_as, dx, nx * 4);
        /* indices outside their own window (not what the forward makes, but
         * legal): the same sums, up to the order of two additions */
        for (size_t t = 0; t < ny; t += 5) a[t] = (int32_t)(((size_t)a[t] + 3) % plane_in);
        memset(dx, 0, nx * 4), memset(dx_ref, 0, nx * 4);
        assert_int_equal(maxpool2d_backward(s, dy, a, dx), MELD_OK);
        for (size_t t = 0; t < ny; t++) dx_ref[(t / plane_out) * plane_in + (size_t)a[t]] += dy[t];
        for (size_t i = 0; i < nx; i++) assert_true(fabsf(dx[i] - dx_ref[i]) <= 1e-5f * (1.0f + fabsf(dx_ref[i])));
        for (size_t i = 0; i < nx; i++) dx_as[i] = NAN;
        assert_int_equal(maxpool2d_backward_assign(s, dy, a, dx_as), MELD_OK);
        for (size_t i = 0; i < nx; i++) assert_true(fabsf(dx_as[i] - dx_ref[i]) <= 1e-5f * (1.0f + fabsf(dx_ref[i])));
        free(dx_as);
        free(x), free(y), free(y_ref), free(a), free(a_ref), free(dy), free(dx), free(dx_ref);
    }
    cpu_set_isa(cpu_isa_detected());
}

static void maxpool_ties_and_nan(void **state)
{
    (void)state;
    Pool2dShape s = {1, 1, 2, 2, 2, 2, 2, 2, 0, 0};
    float x[4] = {1, 3, 3, 2}, y;
    int32_t a;
    assert_int_equal(maxpool2d_forward(&s, x, &y, &a), MELD_OK);
    assert_true(y == 3.0f && a == 1);          /* first of the tied maxima */
    x[3] = NAN;
    assert_int_equal(maxpool2d_forward(&s, x, &y, &a), MELD_OK);
    assert_true(isnan(y) && a == 3);           /* NaN propagates */
    x[0] = NAN;
    assert_int_equal(maxpool2d_forward(&s, x, &y, &a), MELD_OK);
    assert_true(isnan(y) && a == 3);           /* the last NaN, as PyTorch */
    float ninf[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    assert_int_equal(maxpool2d_forward(&s, ninf, &y, &a), MELD_OK);
    assert_true(isinf(y) && y < 0 && a == 0);
}

static void bad_pool_input_is_rejected(void **state)
{
    (void)state;
    float x[4] = {0}, dx[4] = {0}, dy[1] = {1};
    Pool2dShape s = {1, 1, 2, 2, 2, 2, 2, 2, 0, 0};
    int32_t bad_arg = 4;                       /* outside the 2x2 plane */
    assert_int_equal(maxpool2d_backward(&s, dy, &bad_arg, dx), MELD_ERR);
    assert_true(strstr(meld_error(), "argmax") != NULL);
    Pool2dShape p = s;
    p.pad_h = 2;                               /* more than kernel / 2 */
    float y;
    int32_t a;
    assert_int_equal(maxpool2d_forward(&p, x, &y, &a), MELD_ERR);
    p = s;
    p.KH = 3;                                  /* window larger than the input */
    assert_int_equal(maxpool2d_forward(&p, x, &y, &a), MELD_ERR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conv_matches_direct_loops),
        cmocka_unit_test(conv_optional_bias),
        cmocka_unit_test(col2im_is_adjoint_of_im2col),
        cmocka_unit_test(same_and_valid_sizes),
        cmocka_unit_test(conv_independent_of_threads),
        cmocka_unit_test(bad_conv_shapes_are_rejected),
        cmocka_unit_test(maxpool_matches_direct_loop),
        cmocka_unit_test(maxpool_ties_and_nan),
        cmocka_unit_test(bad_pool_input_is_rejected),
    };
    return cmocka_run_group_tests_name("tensor: conv", tests, NULL, NULL);
}
