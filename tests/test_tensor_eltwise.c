/* Element-wise kernels: vector exp/tanh/sigmoid against double-precision
 * libm (the error bounds stated in tensor/eltwise.h), special values, ragged
 * lengths without writes past the end, and the fused LSTM/GRU cells: every
 * ISA path against the scalar reference, in-place aliasing, and the scalar
 * backward against finite differences of the forward. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tensor/cpu.h"
#include "tensor/eltwise.h"
#include "tensor/rng.h"
#include "tensor/rnn_cell.h"

/* Runs the body once per ISA this CPU supports, with that ISA active. */
#define FOR_EACH_ISA(isa)                                                   \
    for (CpuIsa isa = CPU_ISA_SCALAR; isa < CPU_ISA_COUNT; isa = (CpuIsa)(isa + 1)) \
        if (cpu_isa_supported(isa) && cpu_set_isa(isa) == isa)

typedef void (*ArrayFn)(const float *, float *, size_t);

static double ref_exp(double x) { return exp(x); }
static double ref_tanh(double x) { return tanh(x); }
static double ref_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Max relative error (exact result normal) and max absolute error (exact
 * result subnormal) of fn over a strided sweep of all float bit patterns. */
static void sweep(ArrayFn fn, double (*ref)(double), double *max_rel, double *max_sub)
{
    enum { CHUNK = 4096 };
    static float x[CHUNK], y[CHUNK];
    const uint32_t stride = 65521;   /* prime: hits every exponent and many mantissas */
    *max_rel = *max_sub = 0;
    uint64_t u = 0;
    while (u <= 0xffffffffu) {
        int n = 0;
        for (; n < CHUNK && u <= 0xffffffffu; u += stride) {
            float v = from_bits((uint32_t)u);
            if (isfinite(v)) x[n++] = v;
        }
        fn(x, y, (size_t)n);
        for (int i = 0; i < n; i++) {
            double r = ref((double)x[i]);
            if (fabs(r) > FLT_MAX) {      /* exact result overflows: must be inf */
                assert_true(isinf(y[i]) && (y[i] > 0) == (r > 0));
                continue;
            }
            double err = fabs((double)y[i] - r);
            if (fabs(r) >= FLT_MIN) {
                if (err / fabs(r) > *max_rel) *max_rel = err / fabs(r);
            } else if (err > *max_sub) {
                *max_sub = err;
            }
        }
    }
}

static void check_bounds(ArrayFn fn, double (*ref)(double), double rel_bound)
{
    double rel, sub;
    sweep(fn, ref, &rel, &sub);
    assert_true(rel <= rel_bound);
    assert_true(sub <= ELTWISE_MAX_ABS_ERR_SUBNORMAL);
}

static void functions_meet_stated_error_bounds(void **state)
{
    (void)state;
    FOR_EACH_ISA(isa) {
        check_bounds(eltwise_exp, ref_exp, ELTWISE_EXP_MAX_REL_ERR);
        check_bounds(eltwise_tanh, ref_tanh, ELTWISE_TANH_MAX_REL_ERR);
        check_bounds(eltwise_sigmoid, ref_sigmoid, ELTWISE_SIGMOID_MAX_REL_ERR);
    }
    cpu_set_isa(cpu_isa_detected());
}

/* The bound must be meaningful: a sloppier function (exp via 2^(x log2 e)
 * computed in float, error ~ 1e-6) fails it. */
static void sloppy_exp(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = exp2f(x[i] * 1.44269504f);
}

static void error_bound_catches_a_sloppy_exp(void **state)
{
    (void)state;
    double rel, sub;
    sweep(sloppy_exp, ref_exp, &rel, &sub);
    assert_true(rel > ELTWISE_EXP_MAX_REL_ERR);
}

static void special_values(void **state)
{
    (void)state;
    const float in[6] = {-INFINITY, INFINITY, NAN, 0.0f, 100.0f, -200.0f};
    float e[6], t[6], s[6];
    FOR_EACH_ISA(isa) {
        eltwise_exp(in, e, 6);
        eltwise_tanh(in, t, 6);
        eltwise_sigmoid(in, s, 6);
        assert_true(e[0] == 0.0f && isinf(e[1]) && e[1] > 0 && isnan(e[2]) && e[3] == 1.0f);
        assert_true(isinf(e[4]) && e[5] == 0.0f);
        assert_true(t[0] == -1.0f && t[1] == 1.0f && isnan(t[2]) && t[3] == 0.0f);
        assert_true(t[4] == 1.0f && t[5] == -1.0f);
        assert_true(s[0] == 0.0f && s[1] == 1.0f && isnan(s[2]) && s[3] == 0.5f);
        assert_true(s[4] == 1.0f && s[5] == 0.0f);
    }
    cpu_set_isa(cpu_isa_detected());
}

/* Lengths 0..40 at every offset mod 16: matches the scalar reference within
 * the bounds and writes nothing outside y[0..n). */
static void ragged_lengths_and_offsets(void **state)
{
    (void)state;
    enum { CAP = 80 };
    float x[CAP], y[CAP], r[CAP];
    Rng g;
    rng_seed(&g, 11, 2);
    for (int i = 0; i < CAP; i++) x[i] = rng_uniform_range(&g, -12.0f, 12.0f);
    ArrayFn vec[3] = {eltwise_exp, eltwise_tanh, eltwise_sigmoid};
    ArrayFn ref[3] = {eltwise_exp_scalar, eltwise_tanh_scalar, eltwise_sigmoid_scalar};
    FOR_EACH_ISA(isa) {
        for (int f = 0; f < 3; f++)
            for (int off = 0; off < 16; off++)
                for (size_t n = 0; n <= 40; n++) {
                    for (int i = 0; i < CAP; i++) y[i] = -7.0f;
                    vec[f](x + off, y + off, n);
                    ref[f](x + off, r, n);
                    for (int i = 0; i < CAP; i++) {
                        if (i < off || i >= off + (int)n) {
                            assert_true(y[i] == -7.0f);
                        } else {
                            float want = r[i - off];
                            assert_true(fabsf(y[i] - want) <= 1e-6f * fabsf(want));
                        }
                    }
                }
    }
    cpu_set_isa(cpu_isa_detected());
}

/* eltwise_add and eltwise_add_const: exact sums, lengths 0..40 at every offset, nothing written
 * outside y[0..n). */
static void add_ragged(void **state)
{
    (void)state;
    enum { CAP = 80 };
    float x[CAP], y[CAP], y0[CAP];
    Rng g;
    rng_seed(&g, 12, 2);
    for (int i = 0; i < CAP; i++) x[i] = rng_normal(&g), y0[i] = rng_normal(&g);
    FOR_EACH_ISA(isa) {
        for (int off = 0; off < 16; off++)
            for (size_t n = 0; n <= 40; n++) {
                memcpy(y, y0, sizeof y);
                eltwise_add(y + off, x + off, n);
                for (int i = 0; i < CAP; i++) {
                    int inside = i >= off && i < off + (int)n;
                    assert_true(y[i] == (inside ? y0[i] + x[i] : y0[i]));
                }
                memcpy(y, y0, sizeof y);
                eltwise_add_const(y + off, x[3], n);
                for (int i = 0; i < CAP; i++) {
                    int inside = i >= off && i < off + (int)n;
                    assert_true(y[i] == (inside ? y0[i] + x[3] : y0[i]));
                }
            }
    }
    cpu_set_isa(cpu_isa_detected());
}

/* eltwise_sum / _dot: the same bits on every path (16 fixed lanes), close to
 * a double-precision sum, for lengths 0..100 at every offset. scale_shift and
 * axpy: exactly a*x + b and y + a*x, in place too, nothing written outside. */
static void reductions_and_affine_agree_on_every_path(void **state)
{
    (void)state;
    enum { CAP = 120 };
    float x[CAP], y0[CAP], y[CAP], out[CAP];
    float sums[101][16], dots[101][16];
    Rng g;
    rng_seed(&g, 13, 4);
    for (int i = 0; i < CAP; i++) x[i] = rng_normal(&g) * 3.0f, y0[i] = rng_normal(&g);
    int first = 1;
    FOR_EACH_ISA(isa) {
        for (int off = 0; off < 16; off++)
            for (size_t n = 0; n <= 100; n++) {
                float s = eltwise_sum(x + off, n), d = eltwise_dot(x + off, y0 + off, n);
                double rs = 0, rd = 0, mag = 0;
                for (size_t i = 0; i < n; i++) {
                    rs += x[off + i];
                    rd += (double)x[off + i] * y0[off + i];
                    mag += fabs((double)x[off + i]) * (1.0 + fabs((double)y0[off + i]));
                }
                assert_true(fabs(s - rs) <= 1e-6 * mag + 1e-30);
                assert_true(fabs(d - rd) <= 1e-6 * mag + 1e-30);
                if (first) sums[n][off] = s, dots[n][off] = d;
                assert_memory_equal(&s, &sums[n][off], sizeof s);   /* bitwise, every ISA */
                assert_memory_equal(&d, &dots[n][off], sizeof d);
                const float a = -0.75f, b = 0.125f;
                memcpy(out, y0, sizeof out);
                eltwise_scale_shift(x + off, a, b, out + off, n);
                memcpy(y, y0, sizeof y);
                eltwise_axpy(y + off, a, x + off, n);
                for (int i = 0; i < CAP; i++) {
                    int inside = i >= off && i < off + (int)n;
                    float ax = a * x[i], want_ss = ax + b, want_axpy = y0[i] + ax;
                    assert_true(out[i] == (inside ? want_ss : y0[i]));
                    assert_true(y[i] == (inside ? want_axpy : y0[i]));
                }
                memcpy(y, x, sizeof y);   /* in place */
                eltwise_scale_shift(y + off, a, b, y + off, n);
                for (size_t i = 0; i < n; i++) {
                    float ax = a * x[off + i];
                    assert_true(y[off + i] == ax + b);
                }
            }
        first = 0;
    }
    cpu_set_isa(cpu_isa_detected());
}

/* ---- RNN cells ---------------------------------------------------------- */

static float *randv(Rng *g, size_t n, float scale)
{
    float *v = malloc(n * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) v[i] = scale * rng_normal(g);
    return v;
}

static void assert_close(const float *a, const float *b, size_t n, float tol)
{
    for (size_t i = 0; i < n; i++)
        assert_true(fabsf(a[i] - b[i]) <= tol * (1.0f + fabsf(b[i])));
}

static const int SHAPES[][2] = {{1, 1}, {3, 7}, {2, 16}, {5, 17}, {4, 33}, {2, 64}, {3, 100}};
enum { N_SHAPES = sizeof SHAPES / sizeof SHAPES[0] };

/* Cell outputs are compositions of a few functions each within ~4 ulp, so
 * the ISA paths agree with the libm reference to ~1e-6 relative. */
#define CELL_TOL 2e-6f

static void lstm_paths_match_reference(void **state)
{
    (void)state;
    Rng g;
    rng_seed(&g, 5, 5);
    for (int s = 0; s < N_SHAPES; s++) {
        int B = SHAPES[s][0], H = SHAPES[s][1];
        size_t n = (size_t)B * H, n4 = 4 * n;
        float *G = randv(&g, n4, 2.0f), *cp = randv(&g, n, 1.0f);
        float *dh = randv(&g, n, 1.0f), *dc = randv(&g, n, 1.0f);
        float *c0 = malloc(n * 4), *h0 = malloc(n * 4), *a0 = malloc(n4 * 4), *t0 = malloc(n * 4);
        float *dG0 = malloc(n4 * 4), *dcp0 = malloc(n * 4);
        float *c1 = malloc(n * 4), *h1 = malloc(n * 4), *a1 = malloc(n4 * 4), *t1 = malloc(n * 4);
        float *dcp1 = malloc(n * 4);
        lstm_cell_forward_scalar(B, H, G, cp, c0, h0, a0, t0);
        lstm_cell_backward_scalar(B, H, dh, dc, a0, t0, cp, dG0, dcp0);
        FOR_EACH_ISA(isa) {
            /* in place: acts overwrite G, then dG overwrites acts, dc_prev overwrites dc */
            memcpy(a1, G, n4 * 4);
            lstm_cell_forward(B, H, a1, cp, c1, h1, a1, t1);
            assert_close(c1, c0, n, CELL_TOL);
            assert_close(h1, h0, n, CELL_TOL);
            assert_close(a1, a0, n4, CELL_TOL);
            assert_close(t1, t0, n, CELL_TOL);
            memcpy(dcp1, dc, n * 4);
            lstm_cell_backward(B, H, dh, dcp1, a1, t1, cp, a1, dcp1);
            assert_close(a1, dG0, n4, 1e-5f);
            assert_close(dcp1, dcp0, n, 1e-5f);
            /* NULL c_prev / dc mean zeros */
            lstm_cell_forward(B, H, G, NULL, c1, h1, a1, t1);
            lstm_cell_backward(B, H, dh, NULL, a1, t1, NULL, a1, NULL);
            float *z = calloc(n, 4), *dz = malloc(n4 * 4), *d2 = malloc(n * 4);
            lstm_cell_forward_scalar(B, H, G, z, c0, h0, dz, t0);
            lstm_cell_backward_scalar(B, H, dh, z, dz, t0, z, dz, d2);
            assert_close(a1, dz, n4, 1e-5f);
            free(z), free(dz), free(d2);
            lstm_cell_forward_scalar(B, H, G, cp, c0, h0, a0, t0);   /* restore */
        }
        cpu_set_isa(cpu_isa_detected());
        free(G), free(cp), free(dh), free(dc), free(c0), free(h0), free(a0), free(t0);
        free(dG0), free(dcp0), free(c1), free(h1), free(a1), free(t1), free(dcp1);
    }
}

static void gru_paths_match_reference(void **state)
{
    (void)state;
    Rng g;
    rng_seed(&g, 6, 6);
    for (int s = 0; s < N_SHAPES; s++) {
        int B = SHAPES[s][0], H = SHAPES[s][1];
        size_t n = (size_t)B * H, n3 = 3 * n, n4 = 4 * n;
        float *gx = randv(&g, n3, 2.0f), *gh = randv(&g, n3, 2.0f), *hp = randv(&g, n, 1.0f);
        float *dh = randv(&g, n, 1.0f);
        float *h0 = malloc(n * 4), *s0 = malloc(n4 * 4), *dx0 = malloc(n3 * 4);
        float *dy0 = malloc(n3 * 4), *dp0 = malloc(n * 4);
        float *h1 = malloc(n * 4), *s1 = malloc(n4 * 4), *dx1 = malloc(n3 * 4);
        float *dy1 = malloc(n3 * 4), *dp1 = malloc(n * 4);
        gru_cell_forward_scalar(B, H, gx, gh, hp, h0, s0);
        gru_cell_backward_scalar(B, H, dh, s0, hp, dx0, dy0, dp0);
        FOR_EACH_ISA(isa) {
            memcpy(h1, hp, n * 4);                       /* h aliases h_prev */
            gru_cell_forward(B, H, gx, gh, h1, h1, s1);
            assert_close(h1, h0, n, CELL_TOL);
            assert_close(s1, s0, n4, CELL_TOL);
            memcpy(dp1, dh, n * 4);                      /* dh_prev aliases dh */
            gru_cell_backward(B, H, dp1, s1, hp, dx1, dy1, dp1);
            assert_close(dx1, dx0, n3, 1e-5f);
            assert_close(dy1, dy0, n3, 1e-5f);
            assert_close(dp1, dp0, n, 1e-5f);
        }
        cpu_set_isa(cpu_isa_detected());
        free(gx), free(gh), free(hp), free(dh), free(h0), free(s0), free(dx0), free(dy0);
        free(dp0), free(h1), free(s1), free(dx1), free(dy1), free(dp1);
    }
}

/* Finite differences. The cells are element-wise, so a change of one
 * pre-activation at (row b, column j of a gate block) moves only h[b,j] and
 * c[b,j]: the check uses the local loss L = wh*h + wc*c at that position,
 * whose central difference (L(x+e) - L(x-e)) / 2e must equal the analytic
 * gradient up to O(e^2) truncation and float rounding of O(1e-7 / e). */
#define FD_EPS 1e-2f
#define FD_TOL 2e-3f

/* LSTM local loss at (b, j) with G's entry `idx` set to v. */
static float lstm_local_loss(int B, int H, float *G, const float *cp, size_t idx, float v,
                             size_t pos, float wh, float wc)
{
    size_t n = (size_t)B * H;
    float *c = malloc(n * 4), *h = malloc(n * 4), *a = malloc(4 * n * 4), *t = malloc(n * 4);
    float old = G[idx];
    G[idx] = v;
    lstm_cell_forward_scalar(B, H, G, cp, c, h, a, t);
    G[idx] = old;
    float L = wh * h[pos] + wc * c[pos];
    free(c), free(h), free(a), free(t);
    return L;
}

/* Largest |analytic - numeric| / (1 + |numeric|) over all of dG and dc_prev
 * (using dG_scale to corrupt the analytic gradient on purpose). */
static float lstm_fd_error(float dG_scale)
{
    Rng g;
    rng_seed(&g, 8, 1);
    const int B = 2, H = 5;
    size_t n = (size_t)B * H;
    float *G = randv(&g, 4 * n, 1.5f), *cp = randv(&g, n, 1.0f);
    float *wh = randv(&g, n, 1.0f), *wc = randv(&g, n, 1.0f);
    float *c = malloc(n * 4), *h = malloc(n * 4), *a = malloc(4 * n * 4), *t = malloc(n * 4);
    float *dG = malloc(4 * n * 4), *dcp = malloc(n * 4);
    lstm_cell_forward_scalar(B, H, G, cp, c, h, a, t);
    /* dL/dh = wh, dL/dc (from "the next step") = wc */
    lstm_cell_backward_scalar(B, H, wh, wc, a, t, cp, dG, dcp);
    float worst = 0;
    for (int b = 0; b < B; b++)
        for (int q = 0; q < 4; q++)
            for (int j = 0; j < H; j++) {
                size_t idx = (size_t)b * 4 * H + (size_t)q * H + j, pos = (size_t)b * H + j;
                float lp = lstm_local_loss(B, H, G, cp, idx, G[idx] + FD_EPS, pos, wh[pos], wc[pos]);
                float lm = lstm_local_loss(B, H, G, cp, idx, G[idx] - FD_EPS, pos, wh[pos], wc[pos]);
                float num = (lp - lm) / (2 * FD_EPS);
                float e = fabsf(dG_scale * dG[idx] - num) / (1 + fabsf(num));
                if (e > worst) worst = e;
            }
    /* dc_prev: perturb c_prev */
    for (size_t pos = 0; pos < n; pos++) {
        float old = cp[pos];
        cp[pos] = old + FD_EPS;
        float lp = lstm_local_loss(B, H, G, cp, 0, G[0], pos, wh[pos], wc[pos]);
        cp[pos] = old - FD_EPS;
        float lm = lstm_local_loss(B, H, G, cp, 0, G[0], pos, wh[pos], wc[pos]);
        cp[pos] = old;
        float num = (lp - lm) / (2 * FD_EPS);
        float e = fabsf(dcp[pos] - num) / (1 + fabsf(num));
        if (e > worst) worst = e;
    }
    free(G), free(cp), free(wh), free(wc), free(c), free(h), free(a), free(t), free(dG), free(dcp);
    return worst;
}

static void lstm_backward_matches_finite_differences(void **state)
{
    (void)state;
    assert_true(lstm_fd_error(1.0f) < FD_TOL);
    /* the check is sharp: a gradient 5% off is caught */
    assert_true(lstm_fd_error(1.05f) > FD_TOL);
}

/* GRU local loss w*h'[pos] with one input (gx, gh or h_prev entry) set to v. */
static float gru_local_loss(int B, int H, const float *gx, const float *gh, const float *hp,
                            size_t pos, float w)
{
    size_t n = (size_t)B * H;
    float *h = malloc(n * 4), *s = malloc(4 * n * 4);
    gru_cell_forward_scalar(B, H, gx, gh, hp, h, s);
    float L = w * h[pos];
    free(h), free(s);
    return L;
}

static float gru_fd_error(float scale)
{
    Rng g;
    rng_seed(&g, 9, 1);
    const int B = 2, H = 5;
    size_t n = (size_t)B * H;
    float *gx = randv(&g, 3 * n, 1.5f), *gh = randv(&g, 3 * n, 1.5f), *hp = randv(&g, n, 1.0f);
    float *w = randv(&g, n, 1.0f);
    float *h = malloc(n * 4), *s = malloc(4 * n * 4);
    float *dx = malloc(3 * n * 4), *dy = malloc(3 * n * 4), *dp = malloc(n * 4);
    gru_cell_forward_scalar(B, H, gx, gh, hp, h, s);
    gru_cell_backward_scalar(B, H, w, s, hp, dx, dy, dp);
    float worst = 0;
    float *ins[3] = {gx, gh, hp}, *grads[3] = {dx, dy, dp};
    for (int which = 0; which < 3; which++) {
        int blocks = which == 2 ? 1 : 3;
        for (int b = 0; b < B; b++)
            for (int q = 0; q < blocks; q++)
                for (int j = 0; j < H; j++) {
                    size_t idx = (size_t)b * blocks * H + (size_t)q * H + j;
                    size_t pos = (size_t)b * H + j;
                    float old = ins[which][idx];
                    ins[which][idx] = old + FD_EPS;
                    float lp = gru_local_loss(B, H, gx, gh, hp, pos, w[pos]);
                    ins[which][idx] = old - FD_EPS;
                    float lm = gru_local_loss(B, H, gx, gh, hp, pos, w[pos]);
                    ins[which][idx] = old;
                    float num = (lp - lm) / (2 * FD_EPS);
                    float e = fabsf(scale * grads[which][idx] - num) / (1 + fabsf(num));
                    if (e > worst) worst = e;
                }
    }
    free(gx), free(gh), free(hp), free(w), free(h), free(s), free(dx), free(dy), free(dp);
    return worst;
}

static void gru_backward_matches_finite_differences(void **state)
{
    (void)state;
    assert_true(gru_fd_error(1.0f) < FD_TOL);
    assert_true(gru_fd_error(1.05f) > FD_TOL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(functions_meet_stated_error_bounds),
        cmocka_unit_test(error_bound_catches_a_sloppy_exp),
        cmocka_unit_test(special_values),
        cmocka_unit_test(ragged_lengths_and_offsets),
        cmocka_unit_test(add_ragged),
        cmocka_unit_test(reductions_and_affine_agree_on_every_path),
        cmocka_unit_test(lstm_paths_match_reference),
        cmocka_unit_test(gru_paths_match_reference),
        cmocka_unit_test(lstm_backward_matches_finite_differences),
        cmocka_unit_test(gru_backward_matches_finite_differences),
    };
    return cmocka_run_group_tests_name("tensor: eltwise", tests, NULL, NULL);
}
