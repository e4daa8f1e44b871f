/* AVX2 lane kernels (see haar_lanes.h): the 16 windows as two ymm of 8,
 * and four ymm of doubles where the reference computes in double.
 * Compiled with -mavx2 -mfma (file name); called only when cpu_isa() >=
 * CPU_ISA_AVX2. No FMA is used: every lane rounds as the scalar reference. */
#include <immintrin.h>

#include "video/haar_lanes.h"

/* Rect sums of 8 windows. */
static inline __m256i rect_sums(const uint32_t *p, const int o[4])
{
    __m256i a = _mm256_loadu_si256((const __m256i *)(p + o[0])), b = _mm256_loadu_si256((const __m256i *)(p + o[1]));
    __m256i c = _mm256_loadu_si256((const __m256i *)(p + o[2])), d = _mm256_loadu_si256((const __m256i *)(p + o[3]));
    return _mm256_add_epi32(_mm256_sub_epi32(_mm256_sub_epi32(a, b), c), d);
}

/* uint32 -> double, exactly: AVX2 converts only signed ints, so flip the
 * top bit (x - 2^31 as int32) and add 2^31 back in double. */
static inline __m256d u32_to_pd(__m128i x)
{
    __m128i biased = _mm_xor_si128(x, _mm_set1_epi32((int)0x80000000u));
    return _mm256_add_pd(_mm256_cvtepi32_pd(biased), _mm256_set1_pd(2147483648.0));
}

/* Four windows' 1 / N, and the 4-bit mask of those that pass the gate. */
static inline int norms4(__m128i sum, __m128i sq, double area, __m128 *inv)
{
    const __m256d a = _mm256_set1_pd(area);
    __m256d sd = _mm256_cvtepi32_pd(sum), qd = u32_to_pd(sq);
    __m256d nf = _mm256_sub_pd(_mm256_mul_pd(a, qd), _mm256_mul_pd(sd, sd));
    __m256d pos = _mm256_cmp_pd(nf, _mm256_setzero_pd(), _CMP_GT_OQ);
    __m128 r = _mm256_cvtpd_ps(_mm256_div_pd(_mm256_set1_pd(1.0), _mm256_sqrt_pd(nf)));
    __m256d gate = _mm256_cmp_pd(_mm256_mul_pd(a, _mm256_cvtps_pd(r)), _mm256_set1_pd(0.1), _CMP_LT_OQ);
    *inv = r;
    return _mm256_movemask_pd(_mm256_and_pd(pos, gate));
}

uint32_t haar_norms_avx2(const HaarLanes *t, const uint32_t *s, const uint32_t *q, float inv[HAAR_LANES])
{
    uint32_t keep = 0;
    for (int h = 0; h < 2; h++) {
        __m256i sum = rect_sums(s + 8 * h, t->norm), sq = rect_sums(q + 8 * h, t->norm);
        for (int k = 0; k < 2; k++) {
            __m128i s4 = k ? _mm256_extracti128_si256(sum, 1) : _mm256_castsi256_si128(sum);
            __m128i q4 = k ? _mm256_extracti128_si256(sq, 1) : _mm256_castsi256_si128(sq);
            __m128 r;
            int m = norms4(s4, q4, t->area, &r);
            float lane[4];
            _mm_storeu_ps(lane, r);
            for (int j = 0; j < 4; j++) inv[8 * h + 4 * k + j] = (m >> j & 1) ? lane[j] : 0.0f;
            keep |= (uint32_t)m << (8 * h + 4 * k);
        }
    }
    return keep;
}

static inline __m256 feature_values(const HaarFeat *f, const uint32_t *s)
{
    __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(f->w[0]), _mm256_cvtepi32_ps(rect_sums(s, f->o[0]))),
                             _mm256_mul_ps(_mm256_set1_ps(f->w[1]), _mm256_cvtepi32_ps(rect_sums(s, f->o[1]))));
    if (f->w[2] != 0.0f)
        v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_set1_ps(f->w[2]), _mm256_cvtepi32_ps(rect_sums(s, f->o[2]))));
    return v;
}

/* Stages [first, last) on 8 windows; returns the 8-bit mask still alive. */
static uint32_t stages8(const HaarLanes *t, const uint32_t *s, __m256 vinv, uint32_t alive, int first, int last)
{
    for (int si = first; si < last && alive; si++) {
        const HaarStage *st = &t->c->stages[si];
        const HaarStump *p = t->stumps + st->first_weak, *end = p + st->n_weak;
        __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
        for (; p < end; p++) {
            __m256 v = _mm256_mul_ps(feature_values(&p->f, s), vinv);
            __m256 below = _mm256_cmp_ps(v, _mm256_set1_ps(p->threshold), _CMP_LT_OQ);
            __m256 leaf = _mm256_blendv_ps(_mm256_set1_ps(p->right), _mm256_set1_ps(p->left), below);
            lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(leaf)));
            hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(leaf, 1)));
        }
        const __m256d thr = _mm256_set1_pd(st->threshold);
        uint32_t fail = (uint32_t)_mm256_movemask_pd(_mm256_cmp_pd(lo, thr, _CMP_LT_OQ)) |
                        (uint32_t)_mm256_movemask_pd(_mm256_cmp_pd(hi, thr, _CMP_LT_OQ)) << 4;
        alive &= ~fail;
    }
    return alive;
}

uint32_t haar_stages_avx2(const HaarLanes *t, const uint32_t *s, const float inv[HAAR_LANES], uint32_t alive, int first,
                          int last)
{
    uint32_t lo = stages8(t, s, _mm256_loadu_ps(inv), alive & 0xff, first, last);
    uint32_t hi = stages8(t, s + 8, _mm256_loadu_ps(inv + 8), alive >> 8 & 0xff, first, last);
    return lo | hi << 8;
}
