/* Seeded random numbers, identical on every machine.
 *
 * Generator: PCG32 (O'Neill 2014), "XSH RR" output, 64-bit LCG state
 *   state' = state * 6364136223846793005 + inc      (inc odd, from the stream)
 *   out    = rotr32(((state ^ (state >> 18)) >> 27), state >> 59)
 * seeded as in the reference pcg32_srandom_r(seed, stream). Only integer
 * arithmetic, so the sequence is the same everywhere.
 *
 * Floats: rng_uniform() = (u32 >> 8) * 2^-24, in [0, 1), exact in float.
 * Normals: Box-Muller on two uniforms, computed in double with log/sqrt/cos
 * (glibc's are correctly rounded in practice; the result is then rounded to
 * float). Each rng_normal() call consumes exactly two u32 draws.
 *
 * An Rng is a plain value: copy it to checkpoint it, no hidden state.
 */
#ifndef MELD_RNG_H
#define MELD_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t state;
    uint64_t inc;
} Rng;

void     rng_seed(Rng *r, uint64_t seed, uint64_t stream);
uint32_t rng_u32(Rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint32_t rng_below(Rng *r, uint32_t n);
float    rng_uniform(Rng *r);                 /* [0, 1) */
/* out[i] = the next n rng_uniform(r) draws, in order (the same stream). */
void     rng_fill_uniform(Rng *r, float *out, size_t n);
float    rng_uniform_range(Rng *r, float lo, float hi);
float    rng_normal(Rng *r);                  /* mean 0, std 1 */
/* Fisher-Yates shuffle of idx[0..n). */
void     rng_shuffle(Rng *r, int *idx, int n);

/* A seed derived from two numbers (SplitMix64's finaliser of a + phi * (b + 1),
 * phi = 2^64 / golden ratio): a well-mixed key for an independent stream,
 * e.g. one per utterance of an epoch, with no draw order to keep in step. */
uint64_t rng_mix(uint64_t a, uint64_t b);

#endif
