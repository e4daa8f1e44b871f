/* STFT, Mel, log-Mel, MFCC and deltas (see spectral.h for the maths).
 *
 * Data flow of one block of eight frames (the lane kernels of
 * stft_lanes.h): gather + window -> real FFT -> |X|^2 -> sparse Mel
 * product -> log, all on lane arrays (element i of frame b at [i*8 + b]),
 * then one transpose into the frames x features output. */
#include "audio/spectral.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audio/spectral_internal.h"
#include "tensor/error.h"

SpectralConfig spectral_config_default(int n_mels)
{
    SpectralConfig c = {16000, 400, 160, n_mels, 0.0f, 0.0f, MEL_SCALE_HTK, MEL_NORM_NONE};
    return c;
}

/* ---- Mel scale --------------------------------------------------------- */

/* Slaney (Auditory Toolbox): 3 Mels per 200 Hz up to 1 kHz, then 27 Mels
 * per factor 6.4 in frequency. */
static const double SLANEY_F_SP = 200.0 / 3.0, SLANEY_MIN_LOG_HZ = 1000.0;
#define SLANEY_LOGSTEP (log(6.4) / 27.0)

double hz_to_mel(double hz, MelScale scale)
{
    if (scale == MEL_SCALE_HTK) return 2595.0 * log10(1.0 + hz / 700.0);
    if (hz < SLANEY_MIN_LOG_HZ) return hz / SLANEY_F_SP;
    return SLANEY_MIN_LOG_HZ / SLANEY_F_SP + log(hz / SLANEY_MIN_LOG_HZ) / SLANEY_LOGSTEP;
}

double mel_to_hz(double mel, MelScale scale)
{
    if (scale == MEL_SCALE_HTK) return 700.0 * (pow(10.0, mel / 2595.0) - 1.0);
    double min_log_mel = SLANEY_MIN_LOG_HZ / SLANEY_F_SP;
    if (mel < min_log_mel) return mel * SLANEY_F_SP;
    return SLANEY_MIN_LOG_HZ * exp(SLANEY_LOGSTEP * (mel - min_log_mel));
}

static double config_f_max(const SpectralConfig *c)
{
    return c->f_max > 0 ? c->f_max : (double)(c->sample_rate / 2);
}

static int check_config(const SpectralConfig *c)
{
    if (c->sample_rate < 1) return meld_errorf("spectral: sample rate %d must be positive", c->sample_rate);
    if (c->n_fft < 2 || c->n_fft > (1 << 20)) return meld_errorf("spectral: n_fft %d outside [2, 2^20]", c->n_fft);
    if (c->hop < 1) return meld_errorf("spectral: hop %d must be positive", c->hop);
    if (c->n_mels < 1 || c->n_mels > 4096) return meld_errorf("spectral: n_mels %d outside [1, 4096]", c->n_mels);
    double fmax = config_f_max(c);
    if (!(c->f_min >= 0) || !(fmax > c->f_min) || fmax > c->sample_rate / 2.0 + 1e-3)
        return meld_errorf("spectral: Mel range %g..%g Hz invalid for %d Hz audio", c->f_min, fmax,
                           c->sample_rate);
    return MELD_OK;
}

int mel_filterbank(const SpectralConfig *c, float *fb)
{
    if (check_config(c)) return MELD_ERR;
    int n_freqs = c->n_fft / 2 + 1, M = c->n_mels;
    double *f_pts = meld_malloc((size_t)(M + 2) * sizeof(double), "Mel points");
    if (!f_pts) return MELD_ERR;
    double m_min = hz_to_mel(c->f_min, c->scale), m_max = hz_to_mel(config_f_max(c), c->scale);
    for (int i = 0; i < M + 2; i++) f_pts[i] = mel_to_hz(m_min + (m_max - m_min) * i / (M + 1), c->scale);
    double nyq = (double)(c->sample_rate / 2); /* torchaudio: linspace(0, sr // 2, n_freqs) */
    int empty = 0;
    for (int m = 0; m < M; m++) {
        double lo = f_pts[m], mid = f_pts[m + 1], hi = f_pts[m + 2];
        double enorm = c->norm == MEL_NORM_SLANEY ? 2.0 / (hi - lo) : 1.0;
        int any = 0;
        for (int k = 0; k < n_freqs; k++) {
            double f = n_freqs > 1 ? nyq * k / (n_freqs - 1) : 0.0;
            double down = (f - lo) / (mid - lo), up = (hi - f) / (hi - mid);
            double w = fmax(0.0, fmin(down, up)) * enorm;
            fb[(size_t)k * M + m] = (float)w;
            any |= w > 0;
        }
        empty += !any;
    }
    free(f_pts);
    if (empty)
        meld_warnf("Mel filterbank: %d of %d bands have no FFT bin (too many Mel bands for n_fft %d)",
                   empty, M, c->n_fft);
    return MELD_OK;
}

/* ---- plan -------------------------------------------------------------- */

static int make_bank(SpectralPlan *p)
{
    MelBank *b = &p->bank;
    int M = p->cfg.n_mels, K = p->n_freqs;
    b->n_mels = M;
    b->n_freqs = K;
    b->lo = meld_calloc((size_t)M, sizeof(int), "Mel bank");
    b->len = meld_calloc((size_t)M, sizeof(int), "Mel bank");
    b->off = meld_calloc((size_t)M, sizeof(int), "Mel bank");
    if (!b->lo || !b->len || !b->off) return MELD_ERR;
    size_t total = 0;
    for (int m = 0; m < M; m++) {
        int first = -1, last = -1;
        for (int k = 0; k < K; k++)
            if (p->fb[(size_t)k * M + m] != 0.0f) {
                if (first < 0) first = k;
                last = k;
            }
        b->lo[m] = first < 0 ? 0 : first;
        b->len[m] = first < 0 ? 0 : last - first + 1;
        b->off[m] = (int)total;
        total += (size_t)b->len[m];
    }
    b->w = meld_malloc((total ? total : 1) * sizeof(float), "Mel bank");
    if (!b->w) return MELD_ERR;
    for (int m = 0; m < M; m++)
        for (int i = 0; i < b->len[m]; i++) b->w[b->off[m] + i] = p->fb[(size_t)(b->lo[m] + i) * M + m];
    return MELD_OK;
}

SpectralPlan *spectral_plan_create(const SpectralConfig *cfg)
{
    if (check_config(cfg)) return NULL;
    SpectralPlan *p = meld_calloc(1, sizeof *p, "spectral plan");
    if (!p) return NULL;
    p->cfg = *cfg;
    int N = cfg->n_fft;
    p->n_freqs = N / 2 + 1;
    p->rfft = rfft_plan_create(N);
    p->window = meld_malloc((size_t)N * sizeof(float), "Hann window");
    p->fb = meld_malloc((size_t)p->n_freqs * cfg->n_mels * sizeof(float), "Mel filterbank");
    if (!p->rfft || !p->window || !p->fb || mel_filterbank(cfg, p->fb) || make_bank(p)) {
        spectral_plan_free(p);
        return NULL;
    }
    /* Periodic Hann: one period of the raised cosine over N + 1 points with
     * the last dropped, so overlapping windows at hop N/2 sum to 1. */
    for (int j = 0; j < N; j++) p->window[j] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * j / N));
    p->k = lane_kernels();
    p->lanes_fft = !fft_plan_uses_bluestein(p->rfft->c);
    return p;
}

void spectral_plan_free(SpectralPlan *p)
{
    if (!p) return;
    rfft_plan_free(p->rfft);
    free(p->window);
    free(p->fb);
    free(p->bank.lo);
    free(p->bank.len);
    free(p->bank.off);
    free(p->bank.w);
    free(p);
}

const SpectralConfig *spectral_plan_config(const SpectralPlan *p) { return &p->cfg; }

/* ---- framing ----------------------------------------------------------- */

size_t stft_frame_count(size_t n_samples, int n_fft, int hop)
{
    size_t total = n_samples + 2 * (size_t)(n_fft / 2);
    if (total < (size_t)n_fft) return 0;
    return 1 + (total - (size_t)n_fft) / (size_t)hop;
}

/* Reflect index j (may be negative or >= n) into [0, n), n >= 2: the
 * signal mirrored about its end samples repeats with period 2 (n - 1). */
static size_t reflect(long long j, size_t n)
{
    long long period = 2 * ((long long)n - 1);
    j %= period;
    if (j < 0) j += period;
    if (j >= (long long)n) j = period - j;
    return (size_t)j;
}

float *spectral_pad(const SpectralPlan *p, const float *x, size_t n, size_t *n_frames)
{
    size_t pad = (size_t)(p->cfg.n_fft / 2), total = n + 2 * pad;
    if (n > SIZE_MAX / 8 - 2 * pad - LANES) {
        meld_errorf("spectral: signal of %zu samples is too long", n);
        return NULL;
    }
    float *y = meld_calloc(total + LANES, sizeof(float), "padded signal");
    if (!y) return NULL;
    if (n > 0) memcpy(y + pad, x, n * sizeof(float));
    for (size_t i = 0; i < pad && n > 0; i++) {
        y[pad - 1 - i] = n == 1 ? x[0] : x[reflect(-(long long)i - 1, n)];
        y[pad + n + i] = n == 1 ? x[0] : x[reflect((long long)(n + i), n)];
    }
    *n_frames = stft_frame_count(n, p->cfg.n_fft, p->cfg.hop);
    return y;
}

size_t spectral_block_work_floats(const SpectralPlan *p)
{
    /* Lane path, or the scalar fallback: one frame, its spectrum, rfft work. */
    size_t lanes = lanes_power_work_floats(p->rfft);
    size_t scalar = (size_t)p->cfg.n_fft + 2 * (size_t)p->n_freqs + rfft_work_floats(p->rfft);
    return lanes > scalar ? lanes : scalar;
}

void spectral_block_power(const SpectralPlan *p, const float *padded, size_t f0, int count, float *P,
                          float *work)
{
    const float *frames[LANES];
    for (int l = 0; l < LANES; l++)
        frames[l] = padded + (f0 + (size_t)(l < count ? l : count - 1)) * (size_t)p->cfg.hop;
    if (p->lanes_fft) {
        p->k->power(p->rfft, frames, p->window, P, work);
        return;
    }
    /* Bluestein lengths: one frame at a time through the scalar FFT. */
    int N = p->cfg.n_fft, K = p->n_freqs;
    float *xw = work, *re = xw + N, *im = re + K, *sub = im + K;
    for (int l = 0; l < LANES; l++) {
        for (int j = 0; j < N; j++) xw[j] = frames[l][j] * p->window[j];
        rfft_forward(p->rfft, xw, re, im, sub);
        for (int k = 0; k < K; k++) P[(size_t)k * LANES + l] = re[k] * re[k] + im[k] * im[k];
    }
}

/* ---- spectrogram drivers ----------------------------------------------- */

/* What to do with each block's Mel (or power) lane array: transpose it into
 * a frames x features matrix (after a log, for LOG and DB), or keep the dB
 * lane blocks as they are (DB_BLOCKS, for the MFCC's DCT on lanes). */
typedef enum { OUT_POWER, OUT_MEL, OUT_LOG, OUT_DB, OUT_DB_BLOCKS } OutKind;

static int run_blocks(const SpectralPlan *p, const float *x, size_t n, OutKind kind, float floor,
                      float **out, size_t *n_frames)
{
    *out = NULL;
    *n_frames = 0;
    if (n && !x) return meld_errorf("spectral: NULL signal");
    size_t frames = 0;
    float *padded = spectral_pad(p, x, n, &frames);
    if (!padded) return MELD_ERR;
    int K = p->n_freqs, M = p->cfg.n_mels, D = kind == OUT_POWER ? K : M;
    /* Output values: frames x D, or whole lane blocks for DB_BLOCKS. */
    size_t rows = kind == OUT_DB_BLOCKS ? (frames + LANES - 1) / LANES * LANES : frames;
    int too_big = rows > SIZE_MAX / sizeof(float) / (size_t)D;
    float *work = meld_aligned_alloc(spectral_block_work_floats(p) * sizeof(float), "STFT work");
    float *P = meld_aligned_alloc((size_t)K * LANES * sizeof(float), "STFT power");
    float *Mb = meld_aligned_alloc((size_t)M * LANES * sizeof(float), "Mel block");
    float *y = too_big ? NULL : meld_aligned_alloc((rows ? rows : 1) * (size_t)D * sizeof(float), "spectrogram");
    if (!work || !P || !Mb || !y) {
        free(padded); free(work); free(P); free(Mb); free(y);
        if (too_big) meld_errorf("spectral: output too large");
        return MELD_ERR;
    }
    for (size_t f0 = 0; f0 < frames; f0 += LANES) {
        int count = frames - f0 < LANES ? (int)(frames - f0) : LANES;
        spectral_block_power(p, padded, f0, count, P, work);
        const float *src = P;
        if (kind != OUT_POWER) {
            p->k->mel(&p->bank, P, Mb);
            if (kind == OUT_LOG) p->k->log_floor(Mb, (size_t)M, floor, 1.0f);
            /* 10 log10(v) = ln(v) * 10 / ln 10 */
            if (kind == OUT_DB || kind == OUT_DB_BLOCKS) p->k->log_floor(Mb, (size_t)M, 1e-10f, (float)(10.0 / M_LN10));
            src = Mb;
        }
        if (kind == OUT_DB_BLOCKS) {
            memcpy(y + f0 * (size_t)M, Mb, (size_t)M * LANES * sizeof(float));
            continue;
        }
        for (int l = 0; l < count; l++) {
            float *row = y + (f0 + (size_t)l) * (size_t)D;
            for (int d = 0; d < D; d++) row[d] = src[(size_t)d * LANES + l];
        }
    }
    free(padded); free(work); free(P); free(Mb);
    *out = y;
    *n_frames = frames;
    return MELD_OK;
}

int spectral_power(const SpectralPlan *p, const float *x, size_t n, float **out, size_t *n_frames)
{
    return run_blocks(p, x, n, OUT_POWER, 0, out, n_frames);
}

int spectral_mel(const SpectralPlan *p, const float *x, size_t n, float **out, size_t *n_frames)
{
    return run_blocks(p, x, n, OUT_MEL, 0, out, n_frames);
}

int spectral_log_mel(const SpectralPlan *p, const float *x, size_t n, float floor, float **out,
                     size_t *n_frames)
{
    if (!(floor > 0) || !isnormal(floor)) return meld_errorf("log-Mel: floor %g must be a positive normal number", floor);
    return run_blocks(p, x, n, OUT_LOG, floor, out, n_frames);
}

void db_clamp_top(float *x, size_t count, float top_db)
{
    if (count == 0) return;
    float mx = x[0];
    for (size_t i = 1; i < count; i++) mx = x[i] > mx ? x[i] : mx;
    float lo = mx - top_db;
    for (size_t i = 0; i < count; i++) x[i] = x[i] < lo ? lo : x[i];
}

int spectral_mel_db(const SpectralPlan *p, const float *x, size_t n, float top_db, float **out,
                    size_t *n_frames)
{
    if (run_blocks(p, x, n, OUT_DB, 0, out, n_frames)) return MELD_ERR;
    if (top_db > 0) db_clamp_top(*out, *n_frames * (size_t)p->cfg.n_mels, top_db);
    return MELD_OK;
}

void dct2_ortho_matrix(int n_mfcc, int n_mels, float *dct)
{
    double scale = sqrt(2.0 / n_mels);
    for (int n = 0; n < n_mels; n++)
        for (int k = 0; k < n_mfcc; k++) {
            double v = cos(M_PI / n_mels * (n + 0.5) * k) * scale;
            dct[(size_t)n * n_mfcc + k] = (float)(k == 0 ? v / sqrt(2.0) : v);
        }
}

int mfcc_from_db_blocks(const LaneKernels *k, float *db, size_t frames, int n_mels, int n_mfcc, float *out,
                        size_t stride)
{
    size_t blocks = (frames + LANES - 1) / LANES;
    /* top_db = 80 over the utterance. Unused lanes of the last block repeat
     * its last frame, so they do not change the maximum. */
    db_clamp_top(db, blocks * (size_t)n_mels * LANES, 80.0f);
    /* The DCT is a dense n_mels -> n_mfcc matrix: run it through the Mel
     * kernel as a "filterbank" whose band j spans every input with weights
     * dct[.][j]. */
    MelBank dct = {n_mfcc, n_mels, meld_calloc((size_t)n_mfcc, sizeof(int), "DCT bank"),
                   meld_malloc((size_t)n_mfcc * sizeof(int), "DCT bank"),
                   meld_malloc((size_t)n_mfcc * sizeof(int), "DCT bank"),
                   meld_malloc((size_t)n_mels * n_mfcc * sizeof(float), "DCT bank")};
    float *mat = meld_malloc((size_t)n_mels * n_mfcc * sizeof(float), "DCT matrix");
    float *C = meld_aligned_alloc((size_t)n_mfcc * LANES * sizeof(float), "MFCC block");
    int rc = MELD_ERR;
    if (!dct.lo || !dct.len || !dct.off || !dct.w || !mat || !C) goto done;
    dct2_ortho_matrix(n_mfcc, n_mels, mat);
    for (int j = 0; j < n_mfcc; j++) {
        dct.len[j] = n_mels;
        dct.off[j] = j * n_mels;
        for (int m = 0; m < n_mels; m++) dct.w[j * n_mels + m] = mat[(size_t)m * n_mfcc + j];
    }
    for (size_t b = 0; b < blocks; b++) {
        k->mel(&dct, db + b * (size_t)n_mels * LANES, C);
        for (size_t l = 0; l < LANES && b * LANES + l < frames; l++)
            for (int j = 0; j < n_mfcc; j++) out[(b * LANES + l) * stride + (size_t)j] = C[(size_t)j * LANES + l];
    }
    rc = MELD_OK;
done:
    free(dct.lo); free(dct.len); free(dct.off); free(dct.w); free(mat); free(C);
    return rc;
}

int spectral_mfcc(const SpectralPlan *p, const float *x, size_t n, int n_mfcc, float **out, size_t *n_frames)
{
    int M = p->cfg.n_mels;
    *out = NULL;
    *n_frames = 0;
    if (n_mfcc < 1 || n_mfcc > M) return meld_errorf("MFCC: n_mfcc %d must be in [1, n_mels = %d]", n_mfcc, M);
    float *blocks;
    size_t frames;
    if (run_blocks(p, x, n, OUT_DB_BLOCKS, 0, &blocks, &frames)) return MELD_ERR;
    float *y = meld_malloc((frames ? frames : 1) * (size_t)n_mfcc * sizeof(float), "MFCC");
    if (!y || mfcc_from_db_blocks(p->k, blocks, frames, M, n_mfcc, y, (size_t)n_mfcc)) {
        free(y);
        free(blocks);
        return MELD_ERR;
    }
    free(blocks);
    *out = y;
    *n_frames = frames;
    return MELD_OK;
}

int compute_deltas(const float *x, size_t frames, int dims, int win_length, float *out)
{
    if (win_length < 3) return meld_errorf("deltas: window length %d must be >= 3", win_length);
    int h = (win_length - 1) / 2;
    double denom = 2.0 * h * (h + 1) * (2 * h + 1) / 6.0; /* 2 sum k^2 */
    for (size_t t = 0; t < frames; t++)
        for (int d = 0; d < dims; d++) {
            double s = 0;
            for (int k = 1; k <= h; k++) {
                /* replicate padding: indices clamp to [0, frames) */
                size_t up = t + (size_t)k < frames ? t + (size_t)k : frames - 1;
                size_t dn = t >= (size_t)k ? t - (size_t)k : 0;
                s += k * ((double)x[up * (size_t)dims + d] - x[dn * (size_t)dims + d]);
            }
            out[t * (size_t)dims + d] = (float)(s / denom);
        }
    return MELD_OK;
}

int audio_log_mel_16k(const float *x, size_t n, int n_mels, float **out, size_t *n_frames)
{
    *out = NULL;
    *n_frames = 0;
    SpectralConfig cfg = spectral_config_default(n_mels);
    SpectralPlan *p = spectral_plan_create(&cfg);
    if (!p) return MELD_ERR;
    int rc = spectral_log_mel(p, x, n, 1e-10f, out, n_frames);
    spectral_plan_free(p);
    return rc;
}
