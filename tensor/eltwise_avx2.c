/* AVX2+FMA element-wise kernels: exp / tanh / sigmoid on 8 floats at a time
 * and the fused LSTM / GRU cells built on them. Compiled with -mavx2 -mfma
 * (file name); called only when cpu_isa() >= CPU_ISA_AVX2.
 *
 * Ragged ends use masked loads/stores (vmaskmovps), which never touch the
 * lanes outside the mask, so no element past the end is read or written. */
#include <immintrin.h>
#include <stddef.h>

#include "tensor/eltwise_impl.h"

/* ---- the three functions on one vector ----------------------------------
 *
 * exp(x) = 2^n * e^r with n = round(x / ln2), r = x - n ln2 in
 * [-ln2/2, ln2/2]. ln2 is split in a high part with few mantissa bits (n*C1
 * is exact) and a low correction, so r keeps full precision (Cody-Waite).
 * e^r is a degree-7 minimax polynomial (Cephes expf coefficients). 2^n is
 * built in the exponent field; it is applied as two halves 2^(n/2) *
 * 2^(n - n/2) so that results in the subnormal range (x down to -104) and the
 * overflow to +inf (x > 88.72) come out right without special cases. The
 * clamp keeps NaN: _mm256_max_ps returns its second operand when either is
 * NaN. */
static inline __m256 exp8(__m256 x)
{
    x = _mm256_min_ps(_mm256_set1_ps(88.8f), _mm256_max_ps(_mm256_set1_ps(-104.0f), x));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r);
    p = _mm256_add_ps(p, _mm256_set1_ps(1.0f));
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    __m256i bias = _mm256_set1_epi32(127);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

/* tanh: for |x| <= 0.625 an odd polynomial x + x^3 P(x^2) (Cephes tanhf),
 * which keeps full relative precision near 0; above, 1 - 2/(e^{2|x|} + 1)
 * with the sign put back (no cancellation there since tanh >= 0.55;
 * e^{2|x|} = inf gives exactly 1). */
static inline __m256 tanh8(__m256 x)
{
    const __m256 sign_bit = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f);
    __m256 ax = _mm256_andnot_ps(sign_bit, x);
    __m256 e = exp8(_mm256_add_ps(ax, ax));
    __m256 big = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
    big = _mm256_or_ps(big, _mm256_and_ps(sign_bit, x));
    __m256 z = _mm256_mul_ps(x, x);
    __m256 p = _mm256_set1_ps(-5.70498872745e-3f);
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.06390887954e-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531e-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036e-1f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422e-1f));
    __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
    __m256 use_big = _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_GT_OQ);
    return _mm256_blendv_ps(small, big, use_big);
}

/* sigmoid: with e = e^{-|x|} in (0, 1], s(x) = 1/(1+e) for x >= 0 and
 * e/(1+e) for x < 0. Never forms e^{+large}, so tiny results for very
 * negative x keep their relative precision. */
static inline __m256 sigmoid8(__m256 x)
{
    const __m256 sign_bit = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f);
    __m256 e = exp8(_mm256_or_ps(x, sign_bit));
    __m256 q = _mm256_div_ps(one, _mm256_add_ps(one, e));
    __m256 neg = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
    return _mm256_blendv_ps(q, _mm256_mul_ps(e, q), neg);
}

/* Lanes [0, rem) on (rem >= 8: all). */
static inline __m256i lanes(size_t rem)
{
    int k = rem >= 8 ? 8 : (int)rem;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#define LD(p, m) _mm256_maskload_ps((p), (m))
#define ST(p, m, v) _mm256_maskstore_ps((p), (m), (v))

/* ---- arrays ------------------------------------------------------------- */

void eltwise_exp_avx2(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        __m256i m = lanes(n - i);
        ST(y + i, m, exp8(LD(x + i, m)));
    }
}

void eltwise_tanh_avx2(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        __m256i m = lanes(n - i);
        ST(y + i, m, tanh8(LD(x + i, m)));
    }
}

void eltwise_sigmoid_avx2(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        __m256i m = lanes(n - i);
        ST(y + i, m, sigmoid8(LD(x + i, m)));
    }
}

void eltwise_add_avx2(float *y, const float *x, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_loadu_ps(x + i)));
    if (i < n) {
        __m256i m = lanes(n - i);
        ST(y + i, m, _mm256_add_ps(LD(y + i, m), LD(x + i, m)));
    }
}

void eltwise_add_const_avx2(float *y, float v, size_t n)
{
    const __m256 vv = _mm256_set1_ps(v);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), vv));
    if (i < n) {
        __m256i m = lanes(n - i);
        ST(y + i, m, _mm256_add_ps(LD(y + i, m), vv));
    }
}

/* ---- fused cells (equations in tensor/rnn_cell.h) ------------------------ */

void lstm_cell_forward_avx2(int B, int H, const float *G, const float *c_prev,
                            float *c, float *h, float *acts, float *tc)
{
    for (int b = 0; b < B; b++) {
        const float *g = G + (size_t)b * 4 * H;
        float *a = acts + (size_t)b * 4 * H;
        size_t r = (size_t)b * H;
        for (int j = 0; j < H; j += 8) {
            __m256i m = lanes((size_t)(H - j));
            __m256 i_ = sigmoid8(LD(g + j, m)), f_ = sigmoid8(LD(g + H + j, m));
            __m256 g_ = tanh8(LD(g + 2 * H + j, m)), o_ = sigmoid8(LD(g + 3 * H + j, m));
            __m256 cp = c_prev ? LD(c_prev + r + j, m) : _mm256_setzero_ps();
            __m256 cn = _mm256_fmadd_ps(f_, cp, _mm256_mul_ps(i_, g_));
            __m256 t = tanh8(cn);
            ST(a + j, m, i_), ST(a + H + j, m, f_);
            ST(a + 2 * H + j, m, g_), ST(a + 3 * H + j, m, o_);
            ST(c + r + j, m, cn), ST(tc + r + j, m, t);
            ST(h + r + j, m, _mm256_mul_ps(o_, t));
        }
    }
}

/* x (1 - x): the derivative of the sigmoid written in terms of its output. */
static inline __m256 dsig(__m256 s) { return _mm256_fnmadd_ps(s, s, s); }
/* 1 - t^2: the derivative of tanh written in terms of its output. */
static inline __m256 dtanh(__m256 t) { return _mm256_fnmadd_ps(t, t, _mm256_set1_ps(1.0f)); }

void lstm_cell_backward_avx2(int B, int H, const float *dh, const float *dc,
                             const float *acts, const float *tc,
                             const float *c_prev, float *dG, float *dc_prev)
{
    const __m256 zero = _mm256_setzero_ps();
    for (int b = 0; b < B; b++) {
        const float *a = acts + (size_t)b * 4 * H;
        float *d = dG + (size_t)b * 4 * H;
        size_t r = (size_t)b * H;
        for (int j = 0; j < H; j += 8) {
            __m256i m = lanes((size_t)(H - j));
            __m256 i_ = LD(a + j, m), f_ = LD(a + H + j, m);
            __m256 g_ = LD(a + 2 * H + j, m), o_ = LD(a + 3 * H + j, m);
            __m256 t = LD(tc + r + j, m), dhj = LD(dh + r + j, m);
            __m256 cp = c_prev ? LD(c_prev + r + j, m) : zero;
            __m256 dcj = dc ? LD(dc + r + j, m) : zero;
            __m256 dct = _mm256_fmadd_ps(_mm256_mul_ps(dhj, o_), dtanh(t), dcj);
            ST(d + j, m, _mm256_mul_ps(_mm256_mul_ps(dct, g_), dsig(i_)));
            ST(d + H + j, m, _mm256_mul_ps(_mm256_mul_ps(dct, cp), dsig(f_)));
            ST(d + 2 * H + j, m, _mm256_mul_ps(_mm256_mul_ps(dct, i_), dtanh(g_)));
            ST(d + 3 * H + j, m, _mm256_mul_ps(_mm256_mul_ps(dhj, t), dsig(o_)));
            if (dc_prev) ST(dc_prev + r + j, m, _mm256_mul_ps(dct, f_));
        }
    }
}

void gru_cell_forward_avx2(int B, int H, const float *gx, const float *gh,
                           const float *h_prev, float *h, float *save)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    for (int b = 0; b < B; b++) {
        const float *x = gx + (size_t)b * 3 * H, *y = gh + (size_t)b * 3 * H;
        float *s = save + (size_t)b * 4 * H;
        size_t r = (size_t)b * H;
        for (int j = 0; j < H; j += 8) {
            __m256i m = lanes((size_t)(H - j));
            __m256 r_ = sigmoid8(_mm256_add_ps(LD(x + j, m), LD(y + j, m)));
            __m256 z_ = sigmoid8(_mm256_add_ps(LD(x + H + j, m), LD(y + H + j, m)));
            __m256 ghn = LD(y + 2 * H + j, m);
            __m256 n_ = tanh8(_mm256_fmadd_ps(r_, ghn, LD(x + 2 * H + j, m)));
            __m256 hp = h_prev ? LD(h_prev + r + j, m) : _mm256_setzero_ps();
            ST(s + j, m, r_), ST(s + H + j, m, z_);
            ST(s + 2 * H + j, m, n_), ST(s + 3 * H + j, m, ghn);
            /* (1 - z) n + z h_prev */
            ST(h + r + j, m, _mm256_fmadd_ps(_mm256_sub_ps(one, z_), n_, _mm256_mul_ps(z_, hp)));
        }
    }
}

void gru_cell_backward_avx2(int B, int H, const float *dh, const float *save,
                            const float *h_prev, float *dgx, float *dgh,
                            float *dh_prev)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    for (int b = 0; b < B; b++) {
        const float *s = save + (size_t)b * 4 * H;
        float *dx = dgx + (size_t)b * 3 * H, *dy = dgh + (size_t)b * 3 * H;
        size_t r = (size_t)b * H;
        for (int j = 0; j < H; j += 8) {
            __m256i m = lanes((size_t)(H - j));
            __m256 r_ = LD(s + j, m), z_ = LD(s + H + j, m);
            __m256 n_ = LD(s + 2 * H + j, m), ghn = LD(s + 3 * H + j, m);
            __m256 hp = h_prev ? LD(h_prev + r + j, m) : _mm256_setzero_ps();
            __m256 d = LD(dh + r + j, m);
            __m256 dan = _mm256_mul_ps(_mm256_mul_ps(d, _mm256_sub_ps(one, z_)), dtanh(n_));
            __m256 dar = _mm256_mul_ps(_mm256_mul_ps(dan, ghn), dsig(r_));
            __m256 daz = _mm256_mul_ps(_mm256_mul_ps(d, _mm256_sub_ps(hp, n_)), dsig(z_));
            ST(dx + j, m, dar), ST(dy + j, m, dar);
            ST(dx + H + j, m, daz), ST(dy + H + j, m, daz);
            ST(dx + 2 * H + j, m, dan), ST(dy + 2 * H + j, m, _mm256_mul_ps(dan, r_));
            ST(dh_prev + r + j, m, _mm256_mul_ps(d, z_));
        }
    }
}

/* ---- reductions and affine maps (contracts in tensor/eltwise.h) ----------
 * The 16 lanes of the sums are two registers: lanes 0-7 and 8-15. */

float eltwise_sum_avx2(const float *x, size_t n)
{
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        lo = _mm256_add_ps(lo, _mm256_loadu_ps(x + i));
        hi = _mm256_add_ps(hi, _mm256_loadu_ps(x + i + 8));
    }
    if (i < n) lo = _mm256_add_ps(lo, LD(x + i, lanes(n - i)));
    if (i + 8 < n) hi = _mm256_add_ps(hi, LD(x + i + 8, lanes(n - i - 8)));
    float lane[16];
    _mm256_storeu_ps(lane, lo);
    _mm256_storeu_ps(lane + 8, hi);
    return eltwise_reduce16(lane);
}

float eltwise_dot_avx2(const float *x, const float *y, size_t n)
{
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        lo = _mm256_add_ps(lo, _mm256_mul_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
        hi = _mm256_add_ps(hi, _mm256_mul_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8)));
    }
    if (i < n) {
        __m256i m = lanes(n - i);
        lo = _mm256_add_ps(lo, _mm256_mul_ps(LD(x + i, m), LD(y + i, m)));
    }
    if (i + 8 < n) {
        __m256i m = lanes(n - i - 8);
        hi = _mm256_add_ps(hi, _mm256_mul_ps(LD(x + i + 8, m), LD(y + i + 8, m)));
    }
    float lane[16];
    _mm256_storeu_ps(lane, lo);
    _mm256_storeu_ps(lane + 8, hi);
    return eltwise_reduce16(lane);
}

void eltwise_scale_shift_avx2(const float *x, float a, float b, float *y, size_t n)
{
    const __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b);
    for (size_t i = 0; i < n; i += 8) {
        __m256i m = lanes(n - i);
        ST(y + i, m, _mm256_add_ps(_mm256_mul_ps(va, LD(x + i, m)), vb));
    }
}

void eltwise_axpy_avx2(float *y, float a, const float *x, size_t n)
{
    const __m256 va = _mm256_set1_ps(a);
    for (size_t i = 0; i < n; i += 8) {
        __m256i m = lanes(n - i);
        ST(y + i, m, _mm256_add_ps(LD(y + i, m), _mm256_mul_ps(va, LD(x + i, m))));
    }
}
