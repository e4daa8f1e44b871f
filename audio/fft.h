/* Fast Fourier transforms of any length (single precision).
 *
 * Complex DFT, forward sign convention (numpy, torch):
 *     X[k] = sum_{j<n} x[j] exp(-2 pi i j k / n)
 * inverse: x[j] = (1/n) sum_k X[k] exp(+2 pi i j k / n)   (scaled by 1/n).
 *
 * Algorithm: mixed-radix Stockham autosort (radix 4, 2, 3, 5 butterflies
 * and a direct butterfly for other primes up to 31; no bit-reversal pass).
 * A length with a larger prime factor uses Bluestein's chirp-z algorithm,
 * which rewrites the DFT as a convolution computed with a smooth-length
 * FFT, so every n costs O(n log n). Twiddles are computed in double and
 * rounded once; the error grows like eps * log n.
 *
 * Complex data is split: re[] and im[] arrays (what the batched STFT
 * kernels use too). Plans are read-only after creation, so threads may
 * share one; each call needs its own `work` buffer of fft_work_floats().
 */
#ifndef MELD_AUDIO_FFT_H
#define MELD_AUDIO_FFT_H

#include <stddef.h>

typedef struct FftPlan FftPlan;
typedef struct RfftPlan RfftPlan;

/* Complex FFT of length n >= 1 (n <= 2^26). NULL + error on failure. */
FftPlan *fft_plan_create(int n);
void fft_plan_free(FftPlan *p);
int fft_plan_size(const FftPlan *p);
/* 1 when n has a prime factor > 31 and goes through Bluestein. */
int fft_plan_uses_bluestein(const FftPlan *p);
size_t fft_work_floats(const FftPlan *p);
/* In-place transform of (re, im), n values each. inverse != 0: the inverse
 * DFT including the 1/n factor. */
void fft_execute(const FftPlan *p, float *re, float *im, float *work, int inverse);

/* Real-input FFT of length n >= 1: the n/2 + 1 non-negative-frequency bins
 * (the rest follow from X[n-k] = conj(X[k])). Even n costs one complex FFT
 * of length n/2 plus an O(n) untangling pass. */
RfftPlan *rfft_plan_create(int n);
void rfft_plan_free(RfftPlan *p);
int rfft_plan_size(const RfftPlan *p);
size_t rfft_work_floats(const RfftPlan *p);
/* x: n reals. re, im: n/2 + 1 values each. */
void rfft_forward(const RfftPlan *p, const float *x, float *re, float *im, float *work);

#endif
