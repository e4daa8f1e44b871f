/* The vector vocabulary (tensor/cpu.h) on AVX-512: 16 floats per vf.
 * Include only from a *_avx512.c file (compiled with -mavx512f ...), before
 * the body it instantiates.
 *
 * AVX-512 specialities hidden here: tails are mask registers (lanes outside
 * the mask are neither read nor written, so no access past the end), and
 * vf_ldexp is one vscalefps. */
#ifndef MELD_VEC_H
#define MELD_VEC_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "tensor/cpu.h"

#define VEC_FN(name) name##_avx512
#define VEC_NAME "avx512"
#define VEC_ISA CPU_ISA_AVX512
#define VEC_INLINE static inline __attribute__((always_inline))
enum { VL = 16 };
enum { VEC_REGS = 32 };   /* vector registers */

typedef __m512 vf;
typedef __m512i vi;          /* VL int32 */
typedef __mmask16 vmask;     /* a comparison's result, one bit per lane */
typedef __mmask16 vtail;     /* lanes [0, n) of a partial vector */

VEC_INLINE vf vf_zero(void) { return _mm512_setzero_ps(); }
VEC_INLINE vf vf_set1(float a) { return _mm512_set1_ps(a); }
VEC_INLINE vf vf_load(const float *p) { return _mm512_loadu_ps(p); }
VEC_INLINE void vf_store(float *p, vf v) { _mm512_storeu_ps(p, v); }
/* Lanes [0, n) of p; the others read as 0 and are not touched. */
VEC_INLINE vtail vf_tail(long n)
{
    return n >= VL ? (__mmask16)0xffff : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}
VEC_INLINE vf vf_load_tail(const float *p, vtail t) { return _mm512_maskz_loadu_ps(t, p); }
VEC_INLINE void vf_store_tail(float *p, vtail t, vf v) { _mm512_mask_storeu_ps(p, t, v); }

VEC_INLINE vf vf_add(vf a, vf b) { return _mm512_add_ps(a, b); }
VEC_INLINE vf vf_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
VEC_INLINE vf vf_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
VEC_INLINE vf vf_div(vf a, vf b) { return _mm512_div_ps(a, b); }
/* a * b + c and c - a * b, one rounding. */
VEC_INLINE vf vf_fmadd(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
VEC_INLINE vf vf_fnmadd(vf a, vf b, vf c) { return _mm512_fnmadd_ps(a, b, c); }
/* min / max keep a NaN of b (x86 returns the second operand when either is NaN). */
VEC_INLINE vf vf_min(vf a, vf b) { return _mm512_min_ps(a, b); }
VEC_INLINE vf vf_max(vf a, vf b) { return _mm512_max_ps(a, b); }
VEC_INLINE vf vf_abs(vf a) { return _mm512_abs_ps(a); }
/* |mag| with the sign bit of s set into it (mag >= 0: copysign). */
VEC_INLINE vf vf_or_sign(vf mag, vf s)
{
    return _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_castps_si512(mag),
        _mm512_and_si512(_mm512_castps_si512(s), _mm512_set1_epi32((int)0x80000000u))));
}
/* Round to the nearest integer, ties to even. */
VEC_INLINE vf vf_round(vf a)
{
    return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
/* p * 2^n for integral n in [-150, 128], correctly rounded (one rounding,
 * also into the subnormals and to inf). */
VEC_INLINE vf vf_ldexp(vf p, vf n) { return _mm512_scalef_ps(p, n); }

VEC_INLINE vmask vf_gt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
VEC_INLINE vmask vf_lt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
/* m ? a : b, lane by lane. */
VEC_INLINE vf vf_select(vmask m, vf a, vf b) { return _mm512_mask_blend_ps(m, b, a); }

/* One float broadcast to every lane; its first lane stored. */
VEC_INLINE vf vf_bcast(const float *p) { return _mm512_set1_ps(*p); }
VEC_INLINE void vf_store_first(float *p, vf v) { _mm_store_ss(p, _mm512_castps512_ps128(v)); }

/* GEMM's A values, AG at a time: one broadcast each (AG = 1); the FMA by
 * "lane" l is a plain FMA, and the compiler folds the broadcast into it as
 * a {1to16} memory operand. */
enum { AG = 1 };
typedef vf va;
VEC_INLINE va va_load(const float *p) { return _mm512_set1_ps(*p); }
#define vf_fmadd_lane(a, l, b, c) _mm512_fmadd_ps((a), (b), (c))

/* In-register transpose of r[0..15] (row i = r[i]) into r[c] = column c.
 * Stage 1 interleaves row pairs (unpack ps), stage 2 row quads (unpack pd):
 * then 128-bit lane L of r[4g + j] holds rows 4g..4g+3 of column 4L + j.
 * Stages 3-4 gather, for each column, its four lanes from the four row
 * groups (shuffle_f32x4 picks 128-bit lanes: 0x88 = lanes 0,2 of each
 * source, 0xdd = lanes 1,3). */
VEC_INLINE void vf_transpose(vf r[VL])
{
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int j = 0; j < 4; j++) {
        t[j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);
        t[4 + j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xdd);
        t[8 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
        t[12 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xdd);
    }
    for (int j = 0; j < 4; j++) {
        r[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);
        r[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xdd);
        r[4 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0x88);
        r[12 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0xdd);
    }
}

/* ---- masks, int32 lanes and shuffles (pooling, im2col) ---- */
VEC_INLINE vmask vf_unord(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q); }
VEC_INLINE vmask vmask_or(vmask a, vmask b) { return (vmask)(a | b); }
VEC_INLINE vmask vmask_andnot(vmask a, vmask b) { return (vmask)(a & ~b); }   /* a and not b */
VEC_INLINE unsigned vmask_bits(vmask m) { return m; }                         /* bit l: lane l */
VEC_INLINE vmask vf_tail_mask(vtail t) { return t; }
VEC_INLINE vi vi_set1(int a) { return _mm512_set1_epi32(a); }
VEC_INLINE vi vi_iota(void) { return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); }
VEC_INLINE vi vi_add(vi a, vi b) { return _mm512_add_epi32(a, b); }
VEC_INLINE vmask vi_eq(vi a, vi b) { return _mm512_cmpeq_epi32_mask(a, b); }
VEC_INLINE vi vi_select(vmask m, vi a, vi b) { return _mm512_mask_blend_epi32(m, b, a); }
VEC_INLINE vi vi_load_tail(const int32_t *p, vtail t) { return _mm512_maskz_loadu_epi32(t, p); }
VEC_INLINE void vi_store_tail(int32_t *p, vtail t, vi v) { _mm512_mask_storeu_epi32(p, t, v); }
/* Even and odd lanes of the 2 VL floats (a, b): even = a0 a2 ... b0 b2 ... */
VEC_INLINE void vf_deinterleave(vf a, vf b, vf *even, vf *odd)
{
    const __m512i e = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    *even = _mm512_permutex2var_ps(a, e, b);
    *odd = _mm512_permutex2var_ps(a, _mm512_add_epi32(e, _mm512_set1_epi32(1)), b);
}
/* The inverse: (first, second) = l0 r0 l1 r1 ... */
VEC_INLINE void vf_interleave(vf l, vf r, vf *first, vf *second)
{
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    *first = _mm512_permutex2var_ps(l, lo, r);
    *second = _mm512_permutex2var_ps(l, _mm512_add_epi32(lo, _mm512_set1_epi32(8)), r);
}
/* Lane l of the result is v[l - n] (l >= n), 0 below. */
VEC_INLINE vf vf_slide_up(vf v, int n)
{
    __m512i idx = _mm512_sub_epi32(vi_iota(), _mm512_set1_epi32(n));
    return _mm512_maskz_permutexvar_ps((__mmask16)(0xffffu << n), idx, v);
}

/* Fetch the line of p into L1 or into L2; never faults. */
#define VEC_PREFETCH(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
#define VEC_PREFETCH_L2(p) _mm_prefetch((const char *)(p), _MM_HINT_T1)

#endif
