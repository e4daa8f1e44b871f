/* The SpectralPlan layout and the frame-block helpers, shared by
 * spectral.c and lld.c. Not public: include audio/spectral.h. */
#ifndef MELD_AUDIO_SPECTRAL_INTERNAL_H
#define MELD_AUDIO_SPECTRAL_INTERNAL_H

#include "audio/spectral.h"
#include "audio/stft_lanes.h"

struct SpectralPlan {
    SpectralConfig cfg;
    int n_freqs;            /* n_fft / 2 + 1 */
    RfftPlan *rfft;
    float *window;          /* periodic Hann, n_fft */
    float *fb;              /* dense filterbank, n_freqs x n_mels */
    MelBank bank;           /* the same, sparse, for the lane kernels */
    const LaneKernels *k;
    int lanes_fft;          /* 0: the FFT needs Bluestein, use the scalar path */
};

/* The centred, reflect-padded signal: n + 2 (n_fft / 2) samples (+ LANES
 * spare zeros), and the frame count. Free with free(). */
float *spectral_pad(const SpectralPlan *p, const float *x, size_t n, size_t *n_frames);
/* Floats of work for spectral_block_power. */
size_t spectral_block_work_floats(const SpectralPlan *p);
/* Power spectra of frames f0 .. f0 + count - 1 (count <= LANES) of the
 * padded signal into the lane array P (n_freqs x LANES); lanes past count
 * repeat the last frame. */
void spectral_block_power(const SpectralPlan *p, const float *padded, size_t f0, int count, float *P,
                          float *work);

/* MFCC from dB Mel energies kept as lane blocks (ceil(frames / LANES)
 * blocks of n_mels x LANES, as the block loop produces them): clamps them
 * in place to (max - 80 dB), applies the orthonormal DCT-II on lanes and
 * writes n_mfcc values per frame at out + f * stride. */
int mfcc_from_db_blocks(const LaneKernels *k, float *db, size_t frames, int n_mels, int n_mfcc, float *out,
                        size_t stride);

#endif
