/* Short-time spectra with torchaudio 0.13's conventions: STFT power
 * spectrogram, Mel filterbank, Mel spectrogram, log-Mel (natural log with a
 * floor, or dB), MFCC and deltas.
 *
 * STFT (torchaudio.transforms.Spectrogram, power = 2):
 *   - window = FFT length n_fft, periodic Hann w[j] = 1/2 - 1/2 cos(2 pi j / n_fft);
 *   - center = True: the signal is padded by n_fft/2 on both sides with
 *     reflect padding (x[-i] = x[i], x[n-1+i] = x[n-1-i]), frame f covers
 *     padded samples [f hop, f hop + n_fft), so frame f is centred on input
 *     sample f hop and there are 1 + n / hop frames (even n_fft);
 *   - P[f][k] = |sum_j w[j] x_f[j] exp(-2 pi i j k / n_fft)|^2, k <= n_fft/2,
 *     no normalisation.
 * torch refuses signals no longer than n_fft/2 (reflect padding needs
 * n > pad); here the reflection repeats as often as needed, a 1-sample
 * signal is replicated and an empty one is all zeros, so any n >= 0 works.
 *
 * Mel filterbank (torchaudio.functional.melscale_fbanks): n_mels + 2
 * points equally spaced on the Mel scale from f_min to f_max, triangles
 * between neighbours evaluated at bin frequencies k (sr // 2) / (n_freqs - 1):
 *   fb[k][m] = max(0, min((f_k - f_m) / (f_{m+1} - f_m), (f_{m+2} - f_k) / (f_{m+2} - f_{m+1})))
 * HTK scale: mel = 2595 log10(1 + f / 700). Slaney scale: linear below
 * 1 kHz (f / (200/3)), logarithmic above (step ln(6.4) / 27 per Mel).
 * Slaney normalisation scales each triangle by 2 / (f_{m+2} - f_m) (equal
 * area). The matrix is computed in double.
 *
 * Defaults (spectral_config_default): 16 kHz, n_fft 400 (25 ms), hop 160
 * (10 ms), f_min 0, f_max 8 kHz, HTK scale, no normalisation.
 *
 * Output matrices are frames x features, row-major float32, allocated with
 * meld_malloc (free with free()). Plans are read-only after creation and
 * may be shared between threads.
 */
#ifndef MELD_AUDIO_SPECTRAL_H
#define MELD_AUDIO_SPECTRAL_H

#include <stddef.h>

typedef enum { MEL_SCALE_HTK = 0, MEL_SCALE_SLANEY = 1 } MelScale;
typedef enum { MEL_NORM_NONE = 0, MEL_NORM_SLANEY = 1 } MelNorm;

typedef struct {
    int sample_rate;  /* Hz */
    int n_fft;        /* FFT length = window length, >= 2 */
    int hop;          /* samples between frames, >= 1 */
    int n_mels;       /* Mel bands, >= 1 */
    float f_min;      /* Hz */
    float f_max;      /* Hz; <= 0 means sample_rate / 2 */
    MelScale scale;
    MelNorm norm;
} SpectralConfig;

/* 16 kHz, n_fft 400, hop 160, n_mels bands, 0..8000 Hz, HTK, no norm. */
SpectralConfig spectral_config_default(int n_mels);

typedef struct SpectralPlan SpectralPlan;
SpectralPlan *spectral_plan_create(const SpectralConfig *cfg);
void spectral_plan_free(SpectralPlan *p);
const SpectralConfig *spectral_plan_config(const SpectralPlan *p);

/* Frames of a centred STFT: 1 + (n + 2 (n_fft/2) - n_fft) / hop. */
size_t stft_frame_count(size_t n_samples, int n_fft, int hop);

/* Power spectrogram: frames x (n_fft/2 + 1). */
int spectral_power(const SpectralPlan *p, const float *x, size_t n, float **out, size_t *n_frames);
/* Mel spectrogram (power): frames x n_mels, = power spectrogram @ fb. */
int spectral_mel(const SpectralPlan *p, const float *x, size_t n, float **out, size_t *n_frames);
/* ln(max(mel, floor)): the log-Mel the models read (floor 1e-10, as
 * torch.log(mel.clamp(min=1e-10))). */
int spectral_log_mel(const SpectralPlan *p, const float *x, size_t n, float floor, float **out,
                     size_t *n_frames);
/* 10 log10(max(mel, 1e-10)) (AmplitudeToDB("power")); with top_db > 0,
 * values are raised to at least (max over the whole matrix) - top_db. */
int spectral_mel_db(const SpectralPlan *p, const float *x, size_t n, float top_db, float **out,
                    size_t *n_frames);
/* torchaudio.transforms.MFCC(n_mfcc, dct_type=2, norm="ortho",
 * log_mels=False): the dB Mel spectrogram with top_db = 80, times the
 * orthonormal DCT-II matrix: frames x n_mfcc (n_mfcc <= n_mels). */
int spectral_mfcc(const SpectralPlan *p, const float *x, size_t n, int n_mfcc, float **out,
                  size_t *n_frames);

/* The dense filterbank, (n_fft/2 + 1) x n_mels like melscale_fbanks. */
int mel_filterbank(const SpectralConfig *cfg, float *fb);
double hz_to_mel(double hz, MelScale scale);
double mel_to_hz(double mel, MelScale scale);

/* torchaudio.functional.create_dct(n_mfcc, n_mels, "ortho"): n_mels x n_mfcc,
 *   dct[n][k] = sqrt(2 / n_mels) cos(pi / n_mels (n + 1/2) k), column 0 / sqrt 2. */
void dct2_ortho_matrix(int n_mfcc, int n_mels, float *dct);
/* In place over a frames x dims matrix: x <- max(x, max(x) - top_db). */
void db_clamp_top(float *x, size_t count, float top_db);

/* torchaudio.functional.compute_deltas along time for a frames x dims
 * matrix (replicate padding at both ends), win_length odd >= 3, n = (win-1)/2:
 *   delta[t] = sum_{k=1..n} k (x[t+k] - x[t-k]) / (2 sum_{k=1..n} k^2).
 * out must not alias x. */
int compute_deltas(const float *x, size_t frames, int dims, int win_length, float *out);

/* For the feature cache: log-Mel (ln with floor 1e-10) of mono 16 kHz audio
 * with the defaults above: frames x n_mels float32. */
int audio_log_mel_16k(const float *x, size_t n, int n_mels, float **out, size_t *n_frames);

#endif
