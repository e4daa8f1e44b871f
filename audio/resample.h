/* Sample-rate conversion by a polyphase windowed-sinc filter.
 *
 * Output sample n sits at input time t_n = n r_in / r_out (in input
 * samples). With i0 = floor(t_n) and phase phi = t_n - i0,
 *     y[n] = sum_k x[i0 + k] h(phi - k),   k = -H+1 .. H,
 *     h(t) = 2 fc sinc(2 fc t) kaiser(t / H),
 * where fc (cycles per input sample) sits in the middle of the transition
 * band and samples outside the signal are 0. With r_out / r_in = L / M in
 * lowest terms only L phases occur, so the taps are tabulated once per
 * phase (at most 4096 phase rows; rarer ratios interpolate linearly between
 * rows, adding < 1e-6 error). Each row is scaled to sum to 1 (exact DC gain).
 *
 * Design (f_ny = min(r_in, r_out) / 2): pass band up to 0.90 f_ny, stop
 * band from f_ny, Kaiser window for RESAMPLE_STOPBAND_DB of stop-band
 * attenuation (beta = 0.1102 (A - 8.7)), H from Kaiser's length formula.
 * 44.1 kHz -> 16 kHz: pass band 0..7.2 kHz, >= 80 dB down from 8 kHz up,
 * 280 taps per output sample (48 kHz: 304). Measured with tones every 25 Hz:
 * stop band >= 80.1 dB down, pass-band ripple <= 0.001 dB (44.1 and 48 kHz).
 *
 * n_out = ceil(n r_out / r_in), like torchaudio.functional.resample.
 * The filter is capped at 4096 taps, which limits downsampling to 16 kHz
 * to inputs up to about 650 kHz (higher rates are an error).
 *
 * The work and the output grow with r_out / r_in: a 40 KB WAV declaring
 * 2 Hz would become 160 million samples at 16 kHz. No recording needs more
 * than RESAMPLE_MAX_UPSAMPLING times as many samples (16 kHz from 1 kHz),
 * so a larger ratio is an error, and the output stays within a fixed
 * multiple of the input.
 */
#ifndef MELD_AUDIO_RESAMPLE_H
#define MELD_AUDIO_RESAMPLE_H

#include <stddef.h>

#include "audio/wav.h"

#define RESAMPLE_STOPBAND_DB 80.0
#define RESAMPLE_PASSBAND_EDGE 0.90 /* fraction of f_ny */
#define RESAMPLE_MAX_UPSAMPLING 16   /* r_out / r_in at most */

/* *y from meld_malloc (free()). Rates in [1, 10^8], r_out <= 16 r_in. */
int audio_resample(const float *x, size_t n, int rate_in, int rate_out, float **y, size_t *n_out);
/* Converts a to 16 kHz in place; 16 kHz input is left untouched. */
int audio_to_16k(Audio *a);

#endif
