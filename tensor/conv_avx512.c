/* AVX-512 max pooling for the common 2x2 window with stride 2 and no
 * padding (the frame CNN's pools). Compiled with -mavx512f (file name);
 * tensor/conv.c calls it only when cpu_isa() == CPU_ISA_AVX512.
 *
 * 16 outputs of a row at a time: the 32 input floats under them in each of
 * the two input rows are split into even and odd columns (vpermt2ps), which
 * gives the four window positions as four vectors. They are folded in the
 * scalar code's order, (top,left) (top,right) (bottom,left) (bottom,right),
 * with its rule (take v if v > best or v is NaN), so values and argmax
 * indices are identical to it. Ragged ends use masks: no lane outside the
 * plane is read or written. */
#include <immintrin.h>
#include <stdint.h>

#include "tensor/conv_impl.h"

/* Folds candidate (v, index) into (best, arg). */
static inline void take_max(__m512 *best, __m512i *arg, __m512 v, __m512i idx)
{
    __mmask16 take = _mm512_cmp_ps_mask(v, *best, _CMP_GT_OQ) |
                     _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    *best = _mm512_mask_mov_ps(*best, take, v);
    *arg = _mm512_mask_mov_epi32(*arg, take, idx);
}

void maxpool2x2s2_plane_avx512(const float *x, int H, int W, float *y, int32_t *arg)
{
    const int OH = H / 2, OW = W / 2;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                           28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    for (int i = 0; i < OH; i++) {
        const float *r0 = x + (size_t)(2 * i) * W, *r1 = r0 + W;
        for (int j = 0; j < OW; j += 16) {
            int n = OW - j < 16 ? OW - j : 16;            /* outputs in this step */
            __mmask16 mo = (__mmask16)((1u << n) - 1);
            /* input columns 2j .. 2j+2n-1, as two masked 16-float halves */
            int lo = 2 * n < 16 ? 2 * n : 16, hi = 2 * n - lo;
            __mmask16 ml = (__mmask16)((1u << lo) - 1), mh = (__mmask16)((1u << hi) - 1);
            const float *p0 = r0 + 2 * j, *p1 = r1 + 2 * j;
            __m512 a0 = _mm512_maskz_loadu_ps(ml, p0), a1 = _mm512_maskz_loadu_ps(mh, p0 + 16);
            __m512 b0 = _mm512_maskz_loadu_ps(ml, p1), b1 = _mm512_maskz_loadu_ps(mh, p1 + 16);
            /* index of (top, left) for each output: 2i*W + 2(j + lane) */
            __m512i base = _mm512_add_epi32(_mm512_set1_epi32(2 * i * W + 2 * j),
                                            _mm512_slli_epi32(_mm512_setr_epi32(
                                                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                                14, 15), 1));
            __m512 best = _mm512_permutex2var_ps(a0, even, a1);
            __m512i idx = base;
            take_max(&best, &idx, _mm512_permutex2var_ps(a0, odd, a1),
                     _mm512_add_epi32(base, _mm512_set1_epi32(1)));
            take_max(&best, &idx, _mm512_permutex2var_ps(b0, even, b1),
                     _mm512_add_epi32(base, _mm512_set1_epi32(W)));
            take_max(&best, &idx, _mm512_permutex2var_ps(b0, odd, b1),
                     _mm512_add_epi32(base, _mm512_set1_epi32(W + 1)));
            _mm512_mask_storeu_ps(y + (size_t)i * OW + j, mo, best);
            _mm512_mask_storeu_epi32(arg + (size_t)i * OW + j, mo, idx);
        }
    }
}

/* Backward of the same pool: dx[arg[o]] += dy[o]. Each window is 2x2 and
 * windows do not overlap, so for 16 outputs the gradient of each of the
 * four window positions is dy where arg points there, else 0; the (left,
 * right) pairs are interleaved back into the input row order (the inverse
 * of the forward's even/odd split) and added to the two input rows. An
 * index outside its window (not produced by the forward) is added on its
 * own, so any argmax gives the scatter's result.
 *
 * assign: dx is uninitialised and is written (=) instead. The windows then
 * must tile the plane (H, W even) and every index be inside its window;
 * otherwise the plane is zeroed first and accumulated as above. */

/* The four window positions of 16 outputs starting at output (i, j). */
typedef struct {
    __mmask16 tl, tr, bl, br;
} WindowHits;

static inline WindowHits window_hits(__m512i a, int i, int j, int W)
{
    const __m512i lane2 = _mm512_slli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), 1);
    __m512i base = _mm512_add_epi32(_mm512_set1_epi32(2 * i * W + 2 * j), lane2);
    WindowHits h;
    h.tl = _mm512_cmpeq_epi32_mask(a, base);
    h.tr = _mm512_cmpeq_epi32_mask(a, _mm512_add_epi32(base, _mm512_set1_epi32(1)));
    h.bl = _mm512_cmpeq_epi32_mask(a, _mm512_add_epi32(base, _mm512_set1_epi32(W)));
    h.br = _mm512_cmpeq_epi32_mask(a, _mm512_add_epi32(base, _mm512_set1_epi32(W + 1)));
    return h;
}

static inline __mmask16 out_mask(int n) { return (__mmask16)((1u << n) - 1); }

/* True when some output's index is outside its own window. */
static int has_stray(const int32_t *arg, int OH, int OW, int W)
{
    for (int i = 0; i < OH; i++)
        for (int j = 0; j < OW; j += 16) {
            int n = OW - j < 16 ? OW - j : 16;
            __mmask16 mo = out_mask(n);
            WindowHits h = window_hits(_mm512_maskz_loadu_epi32(mo, arg + (size_t)i * OW + j), i, j, W);
            if ((__mmask16)(mo & ~(h.tl | h.tr | h.bl | h.br))) return 1;
        }
    return 0;
}

/* row[0 .. 2n) = v (assign) or += v, as two masked 16-float halves */
static inline void put_pair(float *row, __m512 lo_v, __m512 hi_v, __mmask16 ml, __mmask16 mh, int assign)
{
    if (!assign) {
        lo_v = _mm512_add_ps(_mm512_maskz_loadu_ps(ml, row), lo_v);
        hi_v = _mm512_add_ps(_mm512_maskz_loadu_ps(mh, row + 16), hi_v);
    }
    _mm512_mask_storeu_ps(row, ml, lo_v);
    _mm512_mask_storeu_ps(row + 16, mh, hi_v);
}

void maxpool2x2s2_backward_plane_avx512(const float *dy, const int32_t *arg, int H, int W, float *dx,
                                        int assign)
{
    const int OH = H / 2, OW = W / 2;
    if (assign && (H % 2 || W % 2 || has_stray(arg, OH, OW, W))) {
        for (size_t t = 0; t < (size_t)H * W; t++) dx[t] = 0.0f;
        assign = 0;
    }
    /* lane l of the low half takes element l/2 of left (even l) or right (odd l) */
    const __m512i lo_mix = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi_mix = _mm512_add_epi32(lo_mix, _mm512_set1_epi32(8));
    for (int i = 0; i < OH; i++) {
        float *r0 = dx + (size_t)(2 * i) * W, *r1 = r0 + W;
        for (int j = 0; j < OW; j += 16) {
            int n = OW - j < 16 ? OW - j : 16;
            __mmask16 mo = out_mask(n);
            int lo = 2 * n < 16 ? 2 * n : 16, hi = 2 * n - lo;
            __mmask16 ml = (__mmask16)((1u << lo) - 1), mh = (__mmask16)((1u << hi) - 1);
            __m512 g = _mm512_maskz_loadu_ps(mo, dy + (size_t)i * OW + j);
            WindowHits h = window_hits(_mm512_maskz_loadu_epi32(mo, arg + (size_t)i * OW + j), i, j, W);
            __m512 top_l = _mm512_maskz_mov_ps(h.tl, g), top_r = _mm512_maskz_mov_ps(h.tr, g);
            __m512 bot_l = _mm512_maskz_mov_ps(h.bl, g), bot_r = _mm512_maskz_mov_ps(h.br, g);
            put_pair(r0 + 2 * j, _mm512_permutex2var_ps(top_l, lo_mix, top_r),
                     _mm512_permutex2var_ps(top_l, hi_mix, top_r), ml, mh, assign);
            put_pair(r1 + 2 * j, _mm512_permutex2var_ps(bot_l, lo_mix, bot_r),
                     _mm512_permutex2var_ps(bot_l, hi_mix, bot_r), ml, mh, assign);
            __mmask16 stray = (__mmask16)(mo & ~(h.tl | h.tr | h.bl | h.br));   /* never when assigning */
            for (int l = 0; l < n; l++)
                if (stray >> l & 1) dx[arg[(size_t)i * OW + j + l]] += dy[(size_t)i * OW + j + l];
        }
    }
}

/* ---- im2col, stride 1 ------------------------------------------------------ */

/* Lanes [a, b) of a 16-lane vector (a, b clamped to [0, 16]). */
static inline __mmask16 lane_range(int a, int b)
{
    a = a < 0 ? 0 : a > 16 ? 16 : a;
    b = b < 0 ? 0 : b > 16 ? 16 : b;
    unsigned hi = b >= 16 ? 0xffffu : (1u << b) - 1, lo = (1u << a) - 1;
    return (__mmask16)(hi & ~lo);
}

void im2col_plane_s1_avx512(float *dst, const float *plane, int H, int W, int OH, int OW,
                            int row_shift, int col_shift, int lo, int hi)
{
    /* Lane masks of the (at most two) vectors of a row: the lanes inside
     * the row, and the valid ones (not padding); the same for every row. */
    __mmask16 out[2] = {lane_range(0, OW), lane_range(0, OW - 16)};
    __mmask16 valid[2] = {lane_range(lo, hi), lane_range(lo - 16, hi - 16)};
    /* The first vector of a row with left padding (lo > 0, col_shift = -lo):
     * its valid lanes need row[0 ..], which a load at row + col_shift would
     * start before. Load from row[0] and move lane l up to lane l + lo. */
    const __m512i up = _mm512_sub_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                        _mm512_set1_epi32(lo));
    const __mmask16 first_load = (__mmask16)(valid[0] >> lo);
    const int vectors = OW > 16 ? 2 : 1;
    for (int i = 0; i < OH; i++, dst += OW) {
        int ih = i + row_shift;
        if (ih < 0 || ih >= H || hi <= lo) {
            for (int v = 0; v < vectors; v++) _mm512_mask_storeu_ps(dst + 16 * v, out[v], _mm512_setzero_ps());
            continue;
        }
        const float *row = plane + (size_t)ih * (size_t)W;
        __m512 v0 = lo > 0 ? _mm512_maskz_permutexvar_ps(valid[0], up, _mm512_maskz_loadu_ps(first_load, row))
                           : _mm512_maskz_loadu_ps(valid[0], row + col_shift);
        _mm512_mask_storeu_ps(dst, out[0], v0);
        if (vectors == 2)
            _mm512_mask_storeu_ps(dst + 16, out[1], _mm512_maskz_loadu_ps(valid[1], row + (16 + col_shift)));
    }
}
