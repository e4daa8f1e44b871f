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
