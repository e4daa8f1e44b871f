/* Low-level descriptors (LLDs): one row of numbers per 10 ms frame.
 *
 * Input: mono 16 kHz audio. Frames are the STFT frames of spectral.h
 * (n_fft 400 = 25 ms, hop 160 = 10 ms, centred, reflect padding), so row t
 * describes the audio around sample 160 t and there are 1 + n / 160 rows.
 *
 * Columns (LLD_COUNT = 62), in this order:
 *   rms          sqrt(mean x^2) over the frame's 400 samples (no window)
 *   log_energy   ln(max(mean x^2, 1e-10))
 *   zcr          sign changes between neighbouring samples / 399
 *   centroid     sum_k f_k P_k / sum_k P_k in Hz (0 for a silent frame)
 *   rolloff      lowest f_k with sum_{j<=k} P_j >= 0.85 sum_j P_j, in Hz
 *   flux         sum_k (u_t[k] - u_{t-1}[k])^2 with u = sqrt(P) / ||sqrt(P)||
 *                (unit-norm magnitude spectra, so 0..2 whatever the level;
 *                0 in the first frame)
 *   flatness     exp(mean_k ln P'_k) / mean_k P'_k, P' = max(P, 1e-10):
 *                geometric over arithmetic mean, 1 for white noise (and
 *                for digital silence), -> 0 for a pure tone
 *   f0           YIN pitch in Hz, 0 in unvoiced frames
 *   voicing      1 - d'(tau*) clipped to [0, 1] (YIN's aperiodicity)
 *   mfcc00..12   torchaudio MFCC: 40 HTK Mel bands, dB with top_db 80
 *                over the utterance, orthonormal DCT-II (spectral.h)
 *   logmel00..39 ln(max(Mel energy, 1e-10)), 40 HTK bands 0..8 kHz
 * where P_k is the power spectrum of the Hann-windowed frame (201 bins,
 * f_k = 40 k Hz).
 *
 * Pitch (YIN, de Cheveigne & Kawahara 2002) with T = sr / f_min lags and
 * a window of W = T samples, on the segment x[s, s + W + T) (zeros beyond
 * the signal), s = t hop - (W + tau_mid) / 2, so the compared windows are
 * centred on the frame for the middle lag tau_mid = sqrt(tau_min T):
 *   d(tau)  = sum_{j<W} (x_j - x_{j+tau})^2              difference function
 *   d'(tau) = d(tau) / ((1/tau) sum_{1<=j<=tau} d(j)),  d'(0) = 1
 * tau* = the first lag in [sr/f_max, T] with d' < threshold, followed
 * down to its local minimum (else the global minimum of d'), refined by a
 * parabola through d(tau*-1, tau*, tau*+1); f0 = sr / tau*. A frame is
 * voiced when d'(tau*) <= voiced_max and the RMS of x[s, s + W) is at
 * least silence_rms. Where d is 0 for every lag so far (digital silence)
 * d' is defined as 1.
 * d is computed for all lags at once by FFT (see stft_lanes.h).
 */
#ifndef MELD_AUDIO_LLD_H
#define MELD_AUDIO_LLD_H

#include <stddef.h>

enum {
    LLD_RMS,
    LLD_LOG_ENERGY,
    LLD_ZCR,
    LLD_CENTROID,
    LLD_ROLLOFF,
    LLD_FLUX,
    LLD_FLATNESS,
    LLD_F0,
    LLD_VOICING,
    LLD_N_SCALAR,                 /* 9 scalar descriptors */
    LLD_N_MFCC = 13,
    LLD_N_MELS = 40,
    LLD_MFCC0 = LLD_N_SCALAR,     /* 9 .. 21 */
    LLD_LOGMEL0 = LLD_MFCC0 + LLD_N_MFCC, /* 22 .. 61 */
    LLD_COUNT = LLD_LOGMEL0 + LLD_N_MELS  /* 62 */
};

#define LLD_SAMPLE_RATE 16000
#define LLD_HOP 160

/* Column name ("rms", "mfcc03", "logmel12", ...) into buf (32 bytes is
 * plenty); MELD_ERR outside [0, LLD_COUNT) or if it does not fit. */
int lld_name(int column, char *buf, size_t cap);

/* frames x LLD_COUNT float32 matrix for 16 kHz mono x (any length >= 0). */
int lld_compute(const float *x, size_t n, float **out, size_t *n_frames);

typedef struct {
    int sample_rate;     /* Hz (16000) */
    int hop;             /* frame hop in samples (160): frame t centred on t*hop */
    float f_min, f_max;  /* search range, Hz (50, 500) */
    float threshold;     /* YIN absolute threshold on d' (0.15) */
    float voiced_max;    /* voiced iff d'(tau*) <= this (0.20) ... */
    float silence_rms;   /* ... and window RMS >= this (1e-3, -60 dBFS) */
} PitchConfig;

PitchConfig pitch_config_default(void);

/* f0[t] (Hz, 0 if unvoiced) and prob[t] (voicing) for t < n_frames. */
int pitch_track(const PitchConfig *cfg, const float *x, size_t n, size_t n_frames, float *f0, float *prob);

#endif
