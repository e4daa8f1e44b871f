/* The vector vocabulary (tensor/cpu.h) on AVX2 + FMA: 8 floats per vf.
 * Include only from a *_avx2.c file (compiled with -mavx2 -mfma), before
 * the body it instantiates.
 *
 * Tails use vmaskmovps, which reads and writes only the lanes whose mask
 * element is negative, so no access goes past the end; masks are all-ones
 * or all-zeros lanes, as the comparisons produce them. */
#ifndef MELD_VEC_H
#define MELD_VEC_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "tensor/cpu.h"

#define VEC_FN(name) name##_avx2
#define VEC_NAME "avx2"
#define VEC_ISA CPU_ISA_AVX2
#define VEC_INLINE static inline __attribute__((always_inline))
enum { VL = 8 };
enum { VEC_REGS = 16 };   /* vector registers */

typedef __m256 vf;
typedef __m256i vi;
typedef __m256 vmask;
typedef __m256i vtail;

VEC_INLINE vf vf_zero(void) { return _mm256_setzero_ps(); }
VEC_INLINE vf vf_set1(float a) { return _mm256_set1_ps(a); }
VEC_INLINE vf vf_load(const float *p) { return _mm256_loadu_ps(p); }
VEC_INLINE void vf_store(float *p, vf v) { _mm256_storeu_ps(p, v); }
/* Lanes [0, n) of p; the others read as 0 and are not touched. */
VEC_INLINE vtail vf_tail(long n)
{
    int k = n >= VL ? VL : n <= 0 ? 0 : (int)n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
VEC_INLINE vf vf_load_tail(const float *p, vtail t) { return _mm256_maskload_ps(p, t); }
VEC_INLINE void vf_store_tail(float *p, vtail t, vf v) { _mm256_maskstore_ps(p, t, v); }

VEC_INLINE vf vf_add(vf a, vf b) { return _mm256_add_ps(a, b); }
VEC_INLINE vf vf_sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
VEC_INLINE vf vf_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
VEC_INLINE vf vf_div(vf a, vf b) { return _mm256_div_ps(a, b); }
VEC_INLINE vf vf_fmadd(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
VEC_INLINE vf vf_fnmadd(vf a, vf b, vf c) { return _mm256_fnmadd_ps(a, b, c); }
VEC_INLINE vf vf_min(vf a, vf b) { return _mm256_min_ps(a, b); }
VEC_INLINE vf vf_max(vf a, vf b) { return _mm256_max_ps(a, b); }
VEC_INLINE vf vf_abs(vf a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
VEC_INLINE vf vf_or_sign(vf mag, vf s) { return _mm256_or_ps(mag, _mm256_and_ps(_mm256_set1_ps(-0.0f), s)); }
VEC_INLINE vf vf_round(vf a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
/* p * 2^n for integral n in [-150, 128]: 2^n is built in the exponent
 * field, in two halves 2^(n/2) * 2^(n - n/2), each a normal float, so the
 * product rounds once, as vscalefps does, and overflows to inf. */
VEC_INLINE vf vf_ldexp(vf p, vf n)
{
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    __m256i bias = _mm256_set1_epi32(127);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

VEC_INLINE vmask vf_gt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
VEC_INLINE vmask vf_lt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
VEC_INLINE vf vf_select(vmask m, vf a, vf b) { return _mm256_blendv_ps(b, a, m); }

/* One float broadcast to every lane; its first lane stored. */
VEC_INLINE vf vf_bcast(const float *p) { return _mm256_broadcast_ss(p); }
VEC_INLINE void vf_store_first(float *p, vf v) { _mm_store_ss(p, _mm256_castps256_ps128(v)); }

/* GEMM's A values, AG at a time: one vbroadcastss each (AG = 1). */
enum { AG = 1 };
typedef vf va;
VEC_INLINE va va_load(const float *p) { return _mm256_broadcast_ss(p); }
#define vf_fmadd_lane(a, l, b, c) _mm256_fmadd_ps((a), (b), (c))

/* In-register transpose of r[0..7] (row i = r[i]) into r[c] = column c:
 * unpacklo/hi interleave row pairs, shuffle_ps(0x44 / 0xee) joins two
 * pairs into quads (column j of rows 0-3 in the low 128 bits, column j + 4
 * in the high ones), and permute2f128 pairs the quads of rows 0-3 and 4-7. */
VEC_INLINE void vf_transpose(vf r[VL])
{
    __m256 t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int h = 0; h < 8; h += 4) {
        u[h] = _mm256_shuffle_ps(t[h], t[h + 2], 0x44);
        u[h + 1] = _mm256_shuffle_ps(t[h], t[h + 2], 0xee);
        u[h + 2] = _mm256_shuffle_ps(t[h + 1], t[h + 3], 0x44);
        u[h + 3] = _mm256_shuffle_ps(t[h + 1], t[h + 3], 0xee);
    }
    for (int j = 0; j < 4; j++) {
        r[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
        r[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
    }
}

/* ---- masks, int32 lanes and shuffles (pooling, im2col) ---- */
VEC_INLINE vmask vf_unord(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_UNORD_Q); }
VEC_INLINE vmask vmask_or(vmask a, vmask b) { return _mm256_or_ps(a, b); }
VEC_INLINE vmask vmask_andnot(vmask a, vmask b) { return _mm256_andnot_ps(b, a); }   /* a and not b */
VEC_INLINE unsigned vmask_bits(vmask m) { return (unsigned)_mm256_movemask_ps(m); }
VEC_INLINE vmask vf_tail_mask(vtail t) { return _mm256_castsi256_ps(t); }
VEC_INLINE vi vi_set1(int a) { return _mm256_set1_epi32(a); }
VEC_INLINE vi vi_iota(void) { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }
VEC_INLINE vi vi_add(vi a, vi b) { return _mm256_add_epi32(a, b); }
VEC_INLINE vmask vi_eq(vi a, vi b) { return _mm256_castsi256_ps(_mm256_cmpeq_epi32(a, b)); }
VEC_INLINE vi vi_select(vmask m, vi a, vi b) { return _mm256_blendv_epi8(b, a, _mm256_castps_si256(m)); }
VEC_INLINE vi vi_load_tail(const int32_t *p, vtail t) { return _mm256_maskload_epi32((const int *)p, t); }
VEC_INLINE void vi_store_tail(int32_t *p, vtail t, vi v) { _mm256_maskstore_epi32((int *)p, t, v); }
/* Even and odd lanes of the 2 VL floats (a, b): shufps picks them within
 * each 128-bit half, vpermpd puts the halves in order. */
VEC_INLINE void vf_deinterleave(vf a, vf b, vf *even, vf *odd)
{
    *even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xd8));
    *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xdd)), 0xd8));
}
/* The inverse: (first, second) = l0 r0 l1 r1 ... */
VEC_INLINE void vf_interleave(vf l, vf r, vf *first, vf *second)
{
    __m256 lo = _mm256_unpacklo_ps(l, r), hi = _mm256_unpackhi_ps(l, r);
    *first = _mm256_permute2f128_ps(lo, hi, 0x20);
    *second = _mm256_permute2f128_ps(lo, hi, 0x31);
}
/* Lane l of the result is v[l - n] (l >= n), 0 below. */
VEC_INLINE vf vf_slide_up(vf v, int n)
{
    __m256i idx = _mm256_sub_epi32(vi_iota(), _mm256_set1_epi32(n));
    __m256 moved = _mm256_permutevar8x32_ps(v, idx);
    return _mm256_and_ps(moved, _mm256_castsi256_ps(_mm256_cmpgt_epi32(vi_iota(), _mm256_set1_epi32(n - 1))));
}

#define VEC_PREFETCH(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
#define VEC_PREFETCH_L2(p) _mm_prefetch((const char *)(p), _MM_HINT_T1)

#endif
