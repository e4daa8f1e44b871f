/* AVX-512 lane kernels (see haar_lanes.h): the 16 windows in one zmm of
 * int32 sums or float values, and in two zmm of doubles where the
 * reference computes in double. Compiled with -mavx512f... (file name);
 * called only when cpu_isa() == CPU_ISA_AVX512. Multiplies and adds stay
 * separate instructions (no FMA), so every lane rounds as the scalar
 * reference does. */
#include <immintrin.h>

#include "video/haar_lanes.h"

/* Rect sums of the 16 windows: four loads, one lane per window. */
static inline __m512i rect_sums(const uint32_t *p, const int o[4])
{
    __m512i a = _mm512_loadu_si512(p + o[0]), b = _mm512_loadu_si512(p + o[1]);
    __m512i c = _mm512_loadu_si512(p + o[2]), d = _mm512_loadu_si512(p + o[3]);
    return _mm512_add_epi32(_mm512_sub_epi32(_mm512_sub_epi32(a, b), c), d);
}

uint32_t haar_norms_avx512(const HaarLanes *t, const uint32_t *s, const uint32_t *q, float inv[HAAR_LANES])
{
    const __m512i sum = rect_sums(s, t->norm), sq = rect_sums(q, t->norm);
    const __m512d area = _mm512_set1_pd(t->area), one = _mm512_set1_pd(1.0), tenth = _mm512_set1_pd(0.1);
    __m256 half[2];
    __mmask8 keep[2];
    for (int h = 0; h < 2; h++) {
        __m256i s8 = h ? _mm512_extracti64x4_epi64(sum, 1) : _mm512_castsi512_si256(sum);
        __m256i q8 = h ? _mm512_extracti64x4_epi64(sq, 1) : _mm512_castsi512_si256(sq);
        __m512d sd = _mm512_cvtepi32_pd(s8), qd = _mm512_cvtepu32_pd(q8);
        __m512d nf = _mm512_sub_pd(_mm512_mul_pd(area, qd), _mm512_mul_pd(sd, sd));
        __mmask8 pos = _mm512_cmp_pd_mask(nf, _mm512_setzero_pd(), _CMP_GT_OQ);
        __m256 r = _mm512_cvtpd_ps(_mm512_div_pd(one, _mm512_sqrt_pd(nf)));
        __mmask8 gate = _mm512_cmp_pd_mask(_mm512_mul_pd(area, _mm512_cvtps_pd(r)), tenth, _CMP_LT_OQ);
        keep[h] = pos & gate;
        half[h] = r;
    }
    __m512 r = _mm512_insertf32x8(_mm512_castps256_ps512(half[0]), half[1], 1);
    __mmask16 k = (__mmask16)(keep[0] | (uint32_t)keep[1] << 8);
    _mm512_storeu_ps(inv, _mm512_maskz_mov_ps(k, r));
    return k;
}

/* w0 * s0 + w1 * s1 (+ w2 * s2), float, in the reference's order. */
static inline __m512 feature_values(const HaarFeat *f, const uint32_t *s)
{
    __m512 v = _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(f->w[0]), _mm512_cvtepi32_ps(rect_sums(s, f->o[0]))),
                             _mm512_mul_ps(_mm512_set1_ps(f->w[1]), _mm512_cvtepi32_ps(rect_sums(s, f->o[1]))));
    if (f->w[2] != 0.0f)
        v = _mm512_add_ps(v, _mm512_mul_ps(_mm512_set1_ps(f->w[2]), _mm512_cvtepi32_ps(rect_sums(s, f->o[2]))));
    return v;
}

uint32_t haar_stages_avx512(const HaarLanes *t, const uint32_t *s, const float inv[HAAR_LANES], uint32_t alive,
                            int first, int last)
{
    const __m512 vinv = _mm512_loadu_ps(inv);
    for (int si = first; si < last && alive; si++) {
        const HaarStage *st = &t->c->stages[si];
        const HaarStump *p = t->stumps + st->first_weak, *end = p + st->n_weak;
        __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
        for (; p < end; p++) {
            __m512 v = _mm512_mul_ps(feature_values(&p->f, s), vinv);
            __mmask16 below = _mm512_cmp_ps_mask(v, _mm512_set1_ps(p->threshold), _CMP_LT_OQ);
            __m512 leaf = _mm512_mask_blend_ps(below, _mm512_set1_ps(p->right), _mm512_set1_ps(p->left));
            lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(leaf)));
            hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(leaf), 1))));
        }
        const __m512d thr = _mm512_set1_pd(st->threshold);
        /* a lane fails when its sum < threshold; NaN never fails, as in C */
        uint32_t fail = _mm512_cmp_pd_mask(lo, thr, _CMP_LT_OQ) | (uint32_t)_mm512_cmp_pd_mask(hi, thr, _CMP_LT_OQ) << 8;
        alive &= ~fail;
    }
    return alive;
}
