/* Deterministic elementary functions for the synthetic corpus.
 *
 * libm's sin/exp/log may differ in the last bit between versions and
 * platforms, and one flipped bit in a filter coefficient changes every later
 * sample of a clip. These versions use only + - * /, floorf, sqrtf, frexpf
 * and ldexpf, all exact in IEEE arithmetic, so their results are the same
 * bits everywhere (as long as nothing is fused into an FMA: see the pragma).
 */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif
#include <math.h>

#include "pipeline/synth/synth.h"

/* sin(2 pi x). Reduce x to r in [-1/2, 1/2) (one period), fold into
 * [-1/4, 1/4] with sin(pi - a) = sin(a), then the Taylor series of sin a,
 * a = 2 pi r in [-pi/2, pi/2], to a^11: the first omitted term is
 * (pi/2)^13 / 13! = 5.7e-8. */
float synth_sin2pi(float x)
{
    float r = x - floorf(x + 0.5f);
    if (r > 0.25f) r = 0.5f - r;
    else if (r < -0.25f) r = -0.5f - r;
    float a = 6.28318530717958648f * r, t = a * a;
    float p = -1.0f / 39916800.0f;
    p = p * t + 1.0f / 362880.0f;
    p = p * t - 1.0f / 5040.0f;
    p = p * t + 1.0f / 120.0f;
    p = p * t - 1.0f / 6.0f;
    p = p * t + 1.0f;
    return a * p;
}

float synth_cos2pi(float x) { return synth_sin2pi(x + 0.25f); }

/* 2^x = 2^n * e^(f ln 2), n = round(x), f in [-1/2, 1/2]: the Taylor series
 * of e^y, |y| <= 0.347, to y^7 (first omitted term 5.2e-9). */
float synth_exp2(float x)
{
    if (x < -126.0f) x = -126.0f;
    if (x > 127.0f) x = 127.0f;
    float n = floorf(x + 0.5f);
    float y = (x - n) * 0.69314718055994531f;
    float p = 1.0f / 5040.0f;
    p = p * y + 1.0f / 720.0f;
    p = p * y + 1.0f / 120.0f;
    p = p * y + 1.0f / 24.0f;
    p = p * y + 1.0f / 6.0f;
    p = p * y + 0.5f;
    p = p * y + 1.0f;
    p = p * y + 1.0f;
    return ldexpf(p, (int)n);
}

/* log2 x = e + ln(m) / ln 2 with x = m 2^e, m in [1/sqrt2, sqrt2).
 * ln m = 2 atanh(s), s = (m - 1)/(m + 1), |s| <= 0.172:
 * 2 (s + s^3/3 + ... + s^11/11), first omitted term 2 s^13/13 = 1.8e-11. */
float synth_log2(float x)
{
    int e;
    float m = frexpf(x, &e); /* m in [1/2, 1) */
    if (m < 0.70710678f) {
        m *= 2.0f;
        e -= 1;
    }
    float s = (m - 1.0f) / (m + 1.0f), z = s * s;
    float p = 1.0f / 11.0f;
    p = p * z + 1.0f / 9.0f;
    p = p * z + 1.0f / 7.0f;
    p = p * z + 1.0f / 5.0f;
    p = p * z + 1.0f / 3.0f;
    p = p * z + 1.0f;
    float ln_m = 2.0f * s * p;
    return (float)e + ln_m * 1.44269504088896341f;
}

/* lo + (hi - lo) u, as rng_uniform_range computes it, but in this file,
 * where no compiler may fuse the multiply-add (tensor/rng.c is compiled
 * with the compiler's default, which for clang is to fuse when FMA exists). */
float synth_uniform(Rng *r, float lo, float hi)
{
    float u = rng_uniform(r);
    return lo + (hi - lo) * u;
}

/* Box-Muller: for u1 in (0, 1], u2 in [0, 1),
 * sqrt(-2 ln u1) cos(2 pi u2) is standard normal. */
float synth_normal(Rng *r)
{
    float u1 = ((float)(rng_u32(r) >> 8) + 1.0f) * (1.0f / 16777216.0f);
    float u2 = (float)(rng_u32(r) >> 8) * (1.0f / 16777216.0f);
    float ln_u1 = synth_log2(u1) * 0.69314718055994531f;
    return sqrtf(-2.0f * ln_u1) * synth_cos2pi(u2);
}
