/* Utterance functionals: one fixed-length vector per recording, the input
 * of the dialogue models (the MELD baseline used 1,611 openSMILE features;
 * this set is built the same way from our own descriptors).
 *
 * Layout (FUNCTIONALS_DIM = 1771 values, names from functional_name()):
 *   1. For each of the 62 LLD columns of lld.h, first the LLD itself then
 *      its delta (spectral.h compute_deltas, window 5), 14 statistics each
 *      (62 x 2 x 14 = 1736), named "<lld>_<stat>" / "<lld>_delta_<stat>":
 *        mean, std, min, max, range, p01, p25, p50, p75, p99,
 *        skewness, kurtosis, slope, intercept
 *      std is the population standard deviation; percentiles interpolate
 *      linearly between order statistics (numpy's default); skewness =
 *      m3 / m2^1.5 and kurtosis = m4 / m2^2 - 3 (excess, both 0 when the
 *      series is constant); slope (per second) and intercept come from the
 *      least-squares line v ~ a + b t over frame times t = 0.01 s * index.
 *   2. Voiced-only pitch: the same 14 statistics over the voiced frames'
 *      f0 in Hz ("f0voiced_hz_<stat>") and in semitones above 27.5 Hz,
 *      12 log2(f0 / 27.5) ("f0voiced_st_<stat>"), t = each frame's own time
 *      (28 values; all 0 when nothing is voiced).
 *   3. Rhythm and speaking-rate proxies (7 values):
 *        duration_sec              n / 16000
 *        voiced_fraction           voiced frames / frames
 *        voiced_segments_per_sec   runs of voiced frames per second
 *        voiced_segment_mean_sec   mean length of those runs (0 if none)
 *        unvoiced_segment_mean_sec mean length of unvoiced runs (0 if none)
 *        energy_peaks_per_sec      syllable-nucleus proxy: frames whose
 *                                  5-frame smoothed log energy is the
 *                                  maximum of the 11 frames around it and
 *                                  within 25 dB of the utterance peak, per s
 *        pause_fraction            frames more than 30 dB below the peak
 *                                  frame energy
 * Every value is finite for any input, including silence and 0 samples.
 *
 * Z-normalisation: fit the per-feature mean and standard deviation on the
 * training vectors, then x' = (x - mean) / std. A feature whose std is
 * below 1e-6 (constant in training) gets std = 1, so it maps to ~0 instead
 * of exploding. Stored as a .npy of shape (2, dim): row 0 mean, row 1 std.
 */
#ifndef MELD_AUDIO_FUNCTIONALS_H
#define MELD_AUDIO_FUNCTIONALS_H

#include <stddef.h>

#include "audio/lld.h"

enum {
    FUNC_N_STATS = 14,
    FUNC_N_LLD_PART = LLD_COUNT * 2 * FUNC_N_STATS, /* 1736 */
    FUNC_N_PITCH_PART = 2 * FUNC_N_STATS,           /* 28 */
    FUNC_N_RATE_PART = 7,
    FUNCTIONALS_DIM = FUNC_N_LLD_PART + FUNC_N_PITCH_PART + FUNC_N_RATE_PART /* 1771 */
};

int functionals_dim(void);
/* Name of feature i ("rms_mean", "mfcc03_delta_p99", "f0voiced_st_slope",
 * "pause_fraction", ...) into buf (64 bytes is plenty). */
int functional_name(int i, char *buf, size_t cap);

/* The vector for 16 kHz mono audio: out[FUNCTIONALS_DIM]. */
int audio_functionals(const float *x, size_t n, float *out);
/* The same from an LLD matrix already computed by lld_compute (frames x
 * LLD_COUNT) for n_samples samples. */
int functionals_from_lld(const float *lld, size_t frames, size_t n_samples, float *out);

/* The 14 statistics of one series v[0..n) sampled every dt seconds
 * (out[FUNC_N_STATS], order as above). scratch: 2n floats. times may be NULL
 * (then t_i = i dt). */
void series_stats(const float *v, const float *times, size_t n, float dt, float *scratch, float *out);

typedef struct {
    int dim;
    float *mean;
    float *std;
} ZNorm;

/* Fits mean / std over rows x dim (row-major); non-finite input is an error. */
int znorm_fit(ZNorm *z, const float *rows, size_t n_rows, int dim);
/* In place: rows x z->dim. */
void znorm_apply(const ZNorm *z, float *rows, size_t n_rows);
int znorm_save(const ZNorm *z, const char *path);
int znorm_load(ZNorm *z, const char *path);
void znorm_free(ZNorm *z);

#endif
