/* The vector vocabulary (tensor/cpu.h) on aarch64 Advanced SIMD: 4 floats
 * per vf. Include only from a *_neon.c file, before the body it
 * instantiates.
 *
 * NEON has no masked load or store: a tail is a lane count, and a partial
 * vector goes through a small zeroed buffer (only the last, ragged vector of
 * a row pays for it). vminq/vmaxq return NaN when either input is NaN, a
 * superset of what the bodies rely on (a NaN input stays NaN). */
#ifndef MELD_VEC_H
#define MELD_VEC_H

#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>

#include "tensor/cpu.h"

#define VEC_FN(name) name##_neon
#define VEC_NAME "neon"
#define VEC_ISA CPU_ISA_NEON
#define VEC_INLINE static inline __attribute__((always_inline))
enum { VL = 4 };
enum { VEC_REGS = 32 };   /* vector registers */

typedef float32x4_t vf;
typedef int32x4_t vi;
typedef uint32x4_t vmask;
typedef int vtail;

VEC_INLINE vf vf_zero(void) { return vdupq_n_f32(0.0f); }
VEC_INLINE vf vf_set1(float a) { return vdupq_n_f32(a); }
VEC_INLINE vf vf_load(const float *p) { return vld1q_f32(p); }
VEC_INLINE void vf_store(float *p, vf v) { vst1q_f32(p, v); }
VEC_INLINE vtail vf_tail(long n) { return n >= VL ? VL : n <= 0 ? 0 : (int)n; }
VEC_INLINE vf vf_load_tail(const float *p, vtail t)
{
    if (t == VL) return vld1q_f32(p);
    float buf[VL] = {0};
    for (int i = 0; i < t; i++) buf[i] = p[i];
    return vld1q_f32(buf);
}
VEC_INLINE void vf_store_tail(float *p, vtail t, vf v)
{
    if (t == VL) {
        vst1q_f32(p, v);
        return;
    }
    float buf[VL];
    vst1q_f32(buf, v);
    for (int i = 0; i < t; i++) p[i] = buf[i];
}

VEC_INLINE vf vf_add(vf a, vf b) { return vaddq_f32(a, b); }
VEC_INLINE vf vf_sub(vf a, vf b) { return vsubq_f32(a, b); }
VEC_INLINE vf vf_mul(vf a, vf b) { return vmulq_f32(a, b); }
VEC_INLINE vf vf_div(vf a, vf b) { return vdivq_f32(a, b); }
VEC_INLINE vf vf_fmadd(vf a, vf b, vf c) { return vfmaq_f32(c, a, b); }
VEC_INLINE vf vf_fnmadd(vf a, vf b, vf c) { return vfmsq_f32(c, a, b); }
VEC_INLINE vf vf_min(vf a, vf b) { return vminq_f32(a, b); }
VEC_INLINE vf vf_max(vf a, vf b) { return vmaxq_f32(a, b); }
VEC_INLINE vf vf_abs(vf a) { return vabsq_f32(a); }
VEC_INLINE vf vf_or_sign(vf mag, vf s)
{
    uint32x4_t sign = vandq_u32(vreinterpretq_u32_f32(s), vdupq_n_u32(0x80000000u));
    return vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(mag), sign));
}
VEC_INLINE vf vf_round(vf a) { return vrndnq_f32(a); }
/* p * 2^n for integral n in [-150, 128], in two halves as in vec_avx2.h. */
VEC_INLINE vf vf_ldexp(vf p, vf n)
{
    int32x4_t ni = vcvtq_s32_f32(n);
    int32x4_t n1 = vshrq_n_s32(ni, 1), n2 = vsubq_s32(ni, n1);
    int32x4_t bias = vdupq_n_s32(127);
    vf s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n1, bias), 23));
    vf s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n2, bias), 23));
    return vmulq_f32(vmulq_f32(p, s1), s2);
}

VEC_INLINE vmask vf_gt(vf a, vf b) { return vcgtq_f32(a, b); }
VEC_INLINE vmask vf_lt(vf a, vf b) { return vcltq_f32(a, b); }
VEC_INLINE vf vf_select(vmask m, vf a, vf b) { return vbslq_f32(m, a, b); }

/* One float broadcast to every lane (ld1r); its first lane stored. */
VEC_INLINE vf vf_bcast(const float *p) { return vld1q_dup_f32(p); }
VEC_INLINE void vf_store_first(float *p, vf v) { vst1q_lane_f32(p, v, 0); }

/* GEMM's A values, AG = 4 at a time: one 128-bit load, then FMAs by lane
 * (fmla v.4s, v.4s, v.s[l]), a quarter of the loads of a broadcast each. l
 * is a constant once the row loop is unrolled. */
enum { AG = 4 };
typedef float32x4_t va;
VEC_INLINE va va_load(const float *p) { return vld1q_f32(p); }
#define vf_fmadd_lane(a, l, b, c) vfmaq_n_f32((c), (b), (a)[(l)])

/* In-register transpose of r[0..3]: trn1/trn2 interleave row pairs, then
 * the 64-bit halves of the pairs are joined. */
VEC_INLINE void vf_transpose(vf r[VL])
{
    float32x4x2_t p01 = vtrnq_f32(r[0], r[1]), p23 = vtrnq_f32(r[2], r[3]);
    r[0] = vcombine_f32(vget_low_f32(p01.val[0]), vget_low_f32(p23.val[0]));
    r[1] = vcombine_f32(vget_low_f32(p01.val[1]), vget_low_f32(p23.val[1]));
    r[2] = vcombine_f32(vget_high_f32(p01.val[0]), vget_high_f32(p23.val[0]));
    r[3] = vcombine_f32(vget_high_f32(p01.val[1]), vget_high_f32(p23.val[1]));
}

/* ---- masks, int32 lanes and shuffles (pooling, im2col) ---- */
VEC_INLINE vmask vf_unord(vf a, vf b) { return vmvnq_u32(vandq_u32(vceqq_f32(a, a), vceqq_f32(b, b))); }
VEC_INLINE vmask vmask_or(vmask a, vmask b) { return vorrq_u32(a, b); }
VEC_INLINE vmask vmask_andnot(vmask a, vmask b) { return vbicq_u32(a, b); }   /* a and not b */
VEC_INLINE unsigned vmask_bits(vmask m)
{
    const int32_t shift[4] = {0, 1, 2, 3};
    return vaddvq_u32(vshlq_u32(vshrq_n_u32(m, 31), vld1q_s32(shift)));
}
VEC_INLINE vi vi_iota(void)
{
    const int32_t iota[4] = {0, 1, 2, 3};
    return vld1q_s32(iota);
}
VEC_INLINE vmask vf_tail_mask(vtail t) { return vcltq_s32(vi_iota(), vdupq_n_s32(t)); }
VEC_INLINE vi vi_set1(int a) { return vdupq_n_s32(a); }
VEC_INLINE vi vi_add(vi a, vi b) { return vaddq_s32(a, b); }
VEC_INLINE vmask vi_eq(vi a, vi b) { return vceqq_s32(a, b); }
VEC_INLINE vi vi_select(vmask m, vi a, vi b) { return vbslq_s32(m, a, b); }
VEC_INLINE vi vi_load_tail(const int32_t *p, vtail t)
{
    if (t == VL) return vld1q_s32(p);
    int32_t buf[VL] = {0};
    for (int i = 0; i < t; i++) buf[i] = p[i];
    return vld1q_s32(buf);
}
VEC_INLINE void vi_store_tail(int32_t *p, vtail t, vi v)
{
    int32_t buf[VL];
    vst1q_s32(buf, v);
    for (int i = 0; i < t; i++) p[i] = buf[i];
}
/* Even and odd lanes of the 2 VL floats (a, b): uzp1 / uzp2. */
VEC_INLINE void vf_deinterleave(vf a, vf b, vf *even, vf *odd)
{
    *even = vuzp1q_f32(a, b);
    *odd = vuzp2q_f32(a, b);
}
/* The inverse: (first, second) = l0 r0 l1 r1 ...: zip1 / zip2. */
VEC_INLINE void vf_interleave(vf l, vf r, vf *first, vf *second)
{
    *first = vzip1q_f32(l, r);
    *second = vzip2q_f32(l, r);
}
/* Lane l of the result is v[l - n] (l >= n), 0 below. */
VEC_INLINE vf vf_slide_up(vf v, int n)
{
    float buf[2 * VL] = {0};
    vst1q_f32(buf + VL, v);
    return vld1q_f32(buf + VL - n);
}

#define VEC_PREFETCH(p) __builtin_prefetch((p), 0, 3)
#define VEC_PREFETCH_L2(p) __builtin_prefetch((p), 0, 2)

#endif
