/* Plan layouts shared by fft.c and the batched STFT kernels (stft_lanes*.c).
 * Not part of the public API: include audio/fft.h instead. */
#ifndef MELD_AUDIO_FFT_INTERNAL_H
#define MELD_AUDIO_FFT_INTERNAL_H

#include "audio/fft.h"

enum { FFT_MAX_STAGES = 32, FFT_MAX_DIRECT_PRIME = 31 };

/* Stockham stage st works on sub-transforms of length len = radix * m at
 * stride s = product of the earlier radices. Its twiddles are
 * w_len^(p k) = exp(-2 pi i p k / len) for p < m, 1 <= k < radix, stored at
 * [p * (radix - 1) + k - 1]. A radix outside {2, 3, 4, 5} also keeps the
 * radix-th roots of unity (rot_re/rot_im[t] = exp(-2 pi i t / radix)). */
struct FftPlan {
    int n;
    int n_stages;
    int radix[FFT_MAX_STAGES];
    int m[FFT_MAX_STAGES];
    float *tw_re[FFT_MAX_STAGES], *tw_im[FFT_MAX_STAGES];
    float *rot_re[FFT_MAX_STAGES], *rot_im[FFT_MAX_STAGES];
    /* Bluestein (n has a prime factor > FFT_MAX_DIRECT_PRIME; n_stages = 0):
     * X[k] = c_k sum_j (x_j c_j) conj(c_{k-j}),  c_j = exp(-i pi j^2 / n),
     * a linear convolution evaluated with the smooth plan `conv`. */
    struct FftPlan *conv;
    float *chirp_re, *chirp_im;   /* c_j, j < n */
    float *bk_re, *bk_im;         /* FFT of b_j = conj(c_|j|), wrapped to conv->n */
};

/* Even n: z[j] = x[2j] + i x[2j+1] goes through the complex plan of n/2 and
 * is untangled with w[k] = exp(-2 pi i k / n), k <= n/2. Odd n: the complex
 * plan of n on (x, 0). */
struct RfftPlan {
    int n, half;
    FftPlan *c;
    float *w_re, *w_im;
};

#endif
