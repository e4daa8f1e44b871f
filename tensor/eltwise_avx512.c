/* AVX-512 element-wise kernels: exp / tanh / sigmoid on 16 floats at a time
 * and the fused LSTM / GRU cells built on them. Compiled with -mavx512f...
 * (file name); called only when cpu_isa() == CPU_ISA_AVX512.
 *
 * Same algorithms as eltwise_avx2.c (see the comments there), with two
 * AVX-512 conveniences: vscalefps computes p * 2^n with correct overflow and
 * subnormal rounding in one instruction, and ragged ends use mask registers
 * (masked-off lanes are neither read nor written, so no fault past the end). */
#include <immintrin.h>
#include <stddef.h>

#include "tensor/eltwise_impl.h"

static inline __m512 exp16(__m512 x)
{
    /* max/min keep NaN when it is the second operand. */
    x = _mm512_min_ps(_mm512_set1_ps(88.8f), _mm512_max_ps(_mm512_set1_ps(-104.0f), x));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r);
    p = _mm512_add_ps(p, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

static inline __m512 tanh16(__m512 x)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 ax = _mm512_abs_ps(x);
    __m512 e = exp16(_mm512_add_ps(ax, ax));
    __m512 big = _mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, one)));
    big = _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_castps_si512(big),
        _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u))));
    __m512 z = _mm512_mul_ps(x, x);
    __m512 p = _mm512_set1_ps(-5.70498872745e-3f);
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(2.06390887954e-2f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-5.37397155531e-2f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.33314422036e-1f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-3.33332819422e-1f));
    __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), x, x);
    __mmask16 use_big = _mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.625f), _CMP_GT_OQ);
    return _mm512_mask_blend_ps(use_big, small, big);
}

static inline __m512 sigmoid16(__m512 x)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(x)));
    __m512 q = _mm512_div_ps(one, _mm512_add_ps(one, e));
    __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
    return _mm512_mask_mul_ps(q, neg, e, q);
}

/* Lanes [0, rem) on (rem >= 16: all). */
static inline __mmask16 lanes(size_t rem)
{
    return rem >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rem) - 1);
}
#define LD(p, m) _mm512_maskz_loadu_ps((m), (p))
#define ST(p, m, v) _mm512_mask_storeu_ps((p), (m), (v))

void eltwise_exp_avx512(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = lanes(n - i);
        ST(y + i, m, exp16(LD(x + i, m)));
    }
}

void eltwise_tanh_avx512(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = lanes(n - i);
        ST(y + i, m, tanh16(LD(x + i, m)));
    }
}

void eltwise_sigmoid_avx512(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = lanes(n - i);
        ST(y + i, m, sigmoid16(LD(x + i, m)));
    }
}

void eltwise_add_avx512(float *y, const float *x, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_add_ps(_mm512_loadu_ps(y + i), _mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 m = lanes(n - i);
        ST(y + i, m, _mm512_add_ps(LD(y + i, m), LD(x + i, m)));
    }
}

void eltwise_add_const_avx512(float *y, float v, size_t n)
{
    const __m512 vv = _mm512_set1_ps(v);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_add_ps(_mm512_loadu_ps(y + i), vv));
    if (i < n) {
        __mmask16 m = lanes(n - i);
        ST(y + i, m, _mm512_add_ps(LD(y + i, m), vv));
    }
}

/* ---- fused cells (equations in tensor/rnn_cell.h) ------------------------ */

static inline __m512 dsig(__m512 s) { return _mm512_fnmadd_ps(s, s, s); }
static inline __m512 dtanh(__m512 t) { return _mm512_fnmadd_ps(t, t, _mm512_set1_ps(1.0f)); }

void lstm_cell_forward_avx512(int B, int H, const float *G, const float *c_prev,
                              float *c, float *h, float *acts, float *tc)
{
    for (int b = 0; b < B; b++) {
        const float *g = G + (size_t)b * 4 * H;
        float *a = acts + (size_t)b * 4 * H;
        size_t r = (size_t)b * H;
        for (int j = 0; j < H; j += 16) {
            __mmask16 m = lanes((size_t)(H - j));
            __m512 i_ = sigmoid16(LD(g + j, m)), f_ = sigmoid16(LD(g + H + j, m));
            __m512 g_ = tanh16(LD(g + 2 * H + j, m)), o_ = sigmoid16(LD(g + 3 * H + j, m));
            __m512 cp = c_prev ? LD(c_prev + r + j, m) : _mm512_setzero_ps();
            __m512 cn = _mm512_fmadd_ps(f_, cp, _mm512_mul_ps(i_, g_));
            __m512 t = tanh16(cn);
            ST(a + j, m, i_), ST(a + H + j, m, f_);
            ST(a + 2 * H + j, m, g_), ST(a + 3 * H + j, m, o_);
            ST(c + r + j, m, cn), ST(tc + r + j, m, t);
            ST(h + r + j, m, _mm512_mul_ps(o_, t));
        }
    }
}

void lstm_cell_backward_avx512(int B, int H, const float *dh, const float *dc,
                               const float *acts, const float *tc,
                               const float *c_prev, float *dG, float *dc_prev)
{
    const __m512 zero = _mm512_setzero_ps();
    for (int b = 0; b < B; b++) {
        const float *a = acts + (size_t)b * 4 * H;
        float *d = dG + (size_t)b * 4 * H;
        size_t r = (size_t)b * H;
        for (int j = 0; j < H; j += 16) {
            __mmask16 m = lanes((size_t)(H - j));
            __m512 i_ = LD(a + j, m), f_ = LD(a + H + j, m);
            __m512 g_ = LD(a + 2 * H + j, m), o_ = LD(a + 3 * H + j, m);
            __m512 t = LD(tc + r + j, m), dhj = LD(dh + r + j, m);
            __m512 cp = c_prev ? LD(c_prev + r + j, m) : zero;
            __m512 dcj = dc ? LD(dc + r + j, m) : zero;
            __m512 dct = _mm512_fmadd_ps(_mm512_mul_ps(dhj, o_), dtanh(t), dcj);
            ST(d + j, m, _mm512_mul_ps(_mm512_mul_ps(dct, g_), dsig(i_)));
            ST(d + H + j, m, _mm512_mul_ps(_mm512_mul_ps(dct, cp), dsig(f_)));
            ST(d + 2 * H + j, m, _mm512_mul_ps(_mm512_mul_ps(dct, i_), dtanh(g_)));
            ST(d + 3 * H + j, m, _mm512_mul_ps(_mm512_mul_ps(dhj, t), dsig(o_)));
            if (dc_prev) ST(dc_prev + r + j, m, _mm512_mul_ps(dct, f_));
        }
    }
}

void gru_cell_forward_avx512(int B, int H, const float *gx, const float *gh,
                             const float *h_prev, float *h, float *save)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int b = 0; b < B; b++) {
        const float *x = gx + (size_t)b * 3 * H, *y = gh + (size_t)b * 3 * H;
        float *s = save + (size_t)b * 4 * H;
        size_t r = (size_t)b * H;
        for (int j = 0; j < H; j += 16) {
            __mmask16 m = lanes((size_t)(H - j));
            __m512 r_ = sigmoid16(_mm512_add_ps(LD(x + j, m), LD(y + j, m)));
            __m512 z_ = sigmoid16(_mm512_add_ps(LD(x + H + j, m), LD(y + H + j, m)));
            __m512 ghn = LD(y + 2 * H + j, m);
            __m512 n_ = tanh16(_mm512_fmadd_ps(r_, ghn, LD(x + 2 * H + j, m)));
            __m512 hp = h_prev ? LD(h_prev + r + j, m) : _mm512_setzero_ps();
            ST(s + j, m, r_), ST(s + H + j, m, z_);
            ST(s + 2 * H + j, m, n_), ST(s + 3 * H + j, m, ghn);
            ST(h + r + j, m, _mm512_fmadd_ps(_mm512_sub_ps(one, z_), n_, _mm512_mul_ps(z_, hp)));
        }
    }
}

void gru_cell_backward_avx512(int B, int H, const float *dh, const float *save,
                              const float *h_prev, float *dgx, float *dgh,
                              float *dh_prev)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int b = 0; b < B; b++) {
        const float *s = save + (size_t)b * 4 * H;
        float *dx = dgx + (size_t)b * 3 * H, *dy = dgh + (size_t)b * 3 * H;
        size_t r = (size_t)b * H;
        for (int j = 0; j < H; j += 16) {
            __mmask16 m = lanes((size_t)(H - j));
            __m512 r_ = LD(s + j, m), z_ = LD(s + H + j, m);
            __m512 n_ = LD(s + 2 * H + j, m), ghn = LD(s + 3 * H + j, m);
            __m512 hp = h_prev ? LD(h_prev + r + j, m) : _mm512_setzero_ps();
            __m512 d = LD(dh + r + j, m);
            __m512 dan = _mm512_mul_ps(_mm512_mul_ps(d, _mm512_sub_ps(one, z_)), dtanh(n_));
            __m512 dar = _mm512_mul_ps(_mm512_mul_ps(dan, ghn), dsig(r_));
            __m512 daz = _mm512_mul_ps(_mm512_mul_ps(d, _mm512_sub_ps(hp, n_)), dsig(z_));
            ST(dx + j, m, dar), ST(dy + j, m, dar);
            ST(dx + H + j, m, daz), ST(dy + H + j, m, daz);
            ST(dx + 2 * H + j, m, dan), ST(dy + 2 * H + j, m, _mm512_mul_ps(dan, r_));
            ST(dh_prev + r + j, m, _mm512_mul_ps(d, z_));
        }
    }
}

/* ---- reductions and affine maps (contracts in tensor/eltwise.h) ---------- */

float eltwise_sum_avx512(const float *x, size_t n)
{
    __m512 acc = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) acc = _mm512_add_ps(acc, _mm512_loadu_ps(x + i));
    if (i < n) acc = _mm512_add_ps(acc, LD(x + i, lanes(n - i)));
    float lane[16];
    _mm512_storeu_ps(lane, acc);
    return eltwise_reduce16(lane);
}

float eltwise_dot_avx512(const float *x, const float *y, size_t n)
{
    __m512 acc = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    if (i < n) {
        __mmask16 m = lanes(n - i);
        acc = _mm512_add_ps(acc, _mm512_mul_ps(LD(x + i, m), LD(y + i, m)));
    }
    float lane[16];
    _mm512_storeu_ps(lane, acc);
    return eltwise_reduce16(lane);
}

void eltwise_scale_shift_avx512(const float *x, float a, float b, float *y, size_t n)
{
    const __m512 va = _mm512_set1_ps(a), vb = _mm512_set1_ps(b);
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_add_ps(_mm512_mul_ps(va, _mm512_loadu_ps(x + i)), vb));
    if (i < n) {
        __mmask16 m = lanes(n - i);
        ST(y + i, m, _mm512_add_ps(_mm512_mul_ps(va, LD(x + i, m)), vb));
    }
}

void eltwise_axpy_avx512(float *y, float a, const float *x, size_t n)
{
    const __m512 va = _mm512_set1_ps(a);
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_add_ps(_mm512_loadu_ps(y + i), _mm512_mul_ps(va, _mm512_loadu_ps(x + i))));
    if (i < n) {
        __mmask16 m = lanes(n - i);
        ST(y + i, m, _mm512_add_ps(LD(y + i, m), _mm512_mul_ps(va, LD(x + i, m))));
    }
}
