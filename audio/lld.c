/* Per-frame descriptors and YIN pitch; definitions in lld.h. */
#include "audio/lld.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/spectral_internal.h"
#include "tensor/error.h"

static const char *const SCALAR_NAMES[LLD_N_SCALAR] = {
    "rms", "log_energy", "zcr", "centroid", "rolloff", "flux", "flatness", "f0", "voicing",
};
_Static_assert(sizeof SCALAR_NAMES / sizeof SCALAR_NAMES[0] == LLD_N_SCALAR, "one name per scalar LLD");

int lld_name(int c, char *buf, size_t cap)
{
    if (c < 0 || c >= LLD_COUNT) return meld_errorf("lld: column %d outside [0, %d)", c, LLD_COUNT);
    int len = c < LLD_N_SCALAR ? snprintf(buf, cap, "%s", SCALAR_NAMES[c])
              : c < LLD_LOGMEL0 ? snprintf(buf, cap, "mfcc%02d", c - LLD_MFCC0)
                                : snprintf(buf, cap, "logmel%02d", c - LLD_LOGMEL0);
    if (len < 0 || (size_t)len >= cap) return meld_errorf("lld: name buffer of %zu bytes too small", cap);
    return MELD_OK;
}

/* ---- pitch ------------------------------------------------------------- */

PitchConfig pitch_config_default(void)
{
    PitchConfig c = {LLD_SAMPLE_RATE, LLD_HOP, 50.0f, 500.0f, 0.15f, 0.20f, 1e-3f};
    return c;
}

/* Smallest even n >= want whose only prime factors are 2, 3 and 5 (a fast
 * FFT whose half length is an FFT size too). */
static int smooth_at_least(int want)
{
    for (int n = want + want % 2;; n += 2) {
        int r = n;
        while (r % 2 == 0) r /= 2;
        while (r % 3 == 0) r /= 3;
        while (r % 5 == 0) r /= 5;
        if (r == 1) return n;
    }
}

/* YIN's decision for one frame, from its lane l of d and d'. */
static void yin_pick(const float *d, const float *dn, int l, int tau_min, int T, int sr, float rms,
                     const PitchConfig *c, float *f0, float *prob)
{
#define D(t) d[(size_t)(t) * LANES + l]
#define DN(t) dn[(size_t)(t) * LANES + l]
    int best = -1;
    for (int t = tau_min; t <= T; t++)
        if (DN(t) < c->threshold) {
            while (t + 1 <= T && DN(t + 1) < DN(t)) t++;
            best = t;
            break;
        }
    if (best < 0) {
        best = tau_min;
        for (int t = tau_min + 1; t <= T; t++)
            if (DN(t) < DN(best)) best = t;
    }
    /* Parabola through (tau-1, tau, tau+1) on d: vertex offset
     * (d[-1] - d[+1]) / (2 (d[-1] - 2 d[0] + d[+1])). */
    double period = best;
    if (best > 1 && best < T) {
        double a = D(best - 1), b = D(best), e = D(best + 1), den = a - 2 * b + e;
        if (den > 0) {
            double off = 0.5 * (a - e) / den;
            if (off > -1 && off < 1) period += off;
        }
    }
    float ap = DN(best);
    *prob = ap < 0 ? 1.0f : ap > 1 ? 0.0f : 1.0f - ap;
    int voiced = ap <= c->voiced_max && rms >= c->silence_rms;
    *f0 = voiced ? (float)(sr / period) : 0.0f;
#undef D
#undef DN
}

int pitch_track(const PitchConfig *c, const float *x, size_t n, size_t n_frames, float *f0, float *prob)
{
    if (c->sample_rate < 1000 || c->hop < 1 || !(c->f_min > 0) || !(c->f_max > c->f_min) ||
        c->f_max > c->sample_rate / 4.0f || c->sample_rate / c->f_min > 1e5f)
        return meld_errorf("pitch: invalid configuration (%d Hz, hop %d, %g..%g Hz)", c->sample_rate, c->hop,
                           c->f_min, c->f_max);
    int sr = c->sample_rate;
    int T = (int)ceil(sr / c->f_min), W = T, S = W + T;
    int tau_min = (int)floor(sr / c->f_max);
    if (tau_min < 2) tau_min = 2;
    YinShape shape = {W, T, smooth_at_least(S), NULL, NULL, NULL, NULL};
    if (n_frames > (SIZE_MAX / 4 - (size_t)S) / (size_t)c->hop)
        return meld_errorf("pitch: %zu frames is too many", n_frames);
    /* Zero-padded copy of x starting at zp + offset (set below): frame t's
     * segment is zp[t hop, t hop + S), i.e. input samples from t hop - offset. */
    size_t span = n_frames ? (n_frames - 1) * (size_t)c->hop : 0;
    size_t zlen = (span > n ? span : n) + (size_t)S + 1;
    int half = shape.fft_n / 2;
    FftPlan *plan = fft_plan_create(shape.fft_n), *half_plan = fft_plan_create(half);
    float *tw = meld_malloc(2 * (size_t)half * sizeof(float), "YIN twiddles");
    float *zp = meld_calloc(zlen, sizeof(float), "pitch signal");
    float *work = meld_aligned_alloc(lanes_yin_work_floats(&shape) * sizeof(float), "YIN work");
    float *d = meld_aligned_alloc((size_t)(T + 1) * LANES * sizeof(float), "YIN d");
    float *dn = meld_aligned_alloc((size_t)(T + 1) * LANES * sizeof(float), "YIN d'");
    int rc = MELD_ERR;
    if (!plan || !half_plan || !tw || !zp || !work || !d || !dn) goto done;
    for (int k = 0; k < half; k++) {
        tw[k] = (float)cos(-2.0 * M_PI * k / shape.fft_n);
        tw[half + k] = (float)sin(-2.0 * M_PI * k / shape.fft_n);
    }
    shape.plan = plan;
    shape.half = half_plan;
    shape.tw_re = tw;
    shape.tw_im = tw + half;
    /* Frame t compares x[s, s + W) with x[s + tau, s + tau + W), centred on
     * s + (W + tau) / 2; s = t hop - (W + tau_mid) / 2 centres that on the
     * frame for the geometric middle of the lag range. */
    int tau_mid = (int)lround(sqrt((double)tau_min * T));
    size_t offset = (size_t)(W + tau_mid) / 2;
    if (n) memcpy(zp + offset, x, n * sizeof(float));
    const LaneKernels *k = lane_kernels();
    for (size_t t0 = 0; t0 < n_frames; t0 += LANES) {
        int count = n_frames - t0 < LANES ? (int)(n_frames - t0) : LANES;
        const float *seg[LANES];
        for (int l = 0; l < LANES; l++) seg[l] = zp + (t0 + (size_t)(l < count ? l : count - 1)) * (size_t)c->hop;
        k->yin(&shape, seg, d, dn, work);
        for (int l = 0; l < count; l++) {
            double e = 0; /* energy of the un-lagged window */
            for (int j = 0; j < W; j++) e += (double)seg[l][j] * seg[l][j];
            yin_pick(d, dn, l, tau_min, T, sr, (float)sqrt(e / W), c, &f0[t0 + (size_t)l],
                     &prob[t0 + (size_t)l]);
        }
    }
    rc = MELD_OK;
done:
    fft_plan_free(plan);
    fft_plan_free(half_plan);
    free(tw);
    free(zp);
    free(work);
    free(d);
    free(dn);
    return rc;
}

/* ---- per-frame spectral and temporal descriptors ------------------------ */

typedef struct {
    int K;          /* power bins */
    float bin_hz;   /* sr / n_fft */
    float *u_prev;  /* unit-norm magnitude spectrum of the previous frame */
    int have_prev;
} SpecState;

/* rms, log energy and zero-crossing rate of one n-sample frame. */
static void temporal(const float *fr, int n, float *row)
{
    double e = 0;
    int zc = 0;
    for (int j = 0; j < n; j++) {
        e += (double)fr[j] * fr[j];
        if (j > 0) zc += (fr[j] < 0) != (fr[j - 1] < 0);
    }
    e /= n;
    row[LLD_RMS] = (float)sqrt(e);
    row[LLD_LOG_ENERGY] = (float)log(e > 1e-10 ? e : 1e-10);
    row[LLD_ZCR] = (float)zc / (float)(n - 1);
}

/* Centroid, roll-off, flux and flatness from lane l of the power lane array
 * P and of lnP = ln(max(P, 1e-10)). */
static void spectral_shape(const float *P, const float *lnP, int l, SpecState *s, float *row)
{
    int K = s->K;
    double tot = 0, wsum = 0, lsum = 0, tot_floor = 0;
    for (int k = 0; k < K; k++) {
        double p = P[(size_t)k * LANES + l];
        tot += p;
        wsum += p * k;
        lsum += lnP[(size_t)k * LANES + l];
        tot_floor += p > 1e-10 ? p : 1e-10;
    }
    row[LLD_CENTROID] = tot > 0 ? (float)(s->bin_hz * wsum / tot) : 0.0f;
    int roll = K - 1;
    double acc = 0;
    for (int k = 0; k < K && tot > 0; k++) {
        acc += P[(size_t)k * LANES + l];
        if (acc >= 0.85 * tot) {
            roll = k;
            break;
        }
    }
    row[LLD_ROLLOFF] = tot > 0 ? s->bin_hz * roll : 0.0f;
    row[LLD_FLATNESS] = (float)(exp(lsum / K) / (tot_floor / K));
    /* u = sqrt(P / sum P): unit L2 norm since sum u^2 = 1. */
    double flux = 0, inv = tot > 0 ? 1.0 / tot : 0.0;
    for (int k = 0; k < K; k++) {
        float u = (float)sqrt(P[(size_t)k * LANES + l] * inv);
        if (s->have_prev) flux += (u - s->u_prev[k]) * (double)(u - s->u_prev[k]);
        s->u_prev[k] = u;
    }
    row[LLD_FLUX] = s->have_prev ? (float)flux : 0.0f;
    s->have_prev = 1;
}

/* Fills every column except f0 / voicing / MFCC; keeps the dB Mel lane
 * blocks (ceil(frames / 8) x 40 x 8) for the MFCC step. */
static int spectral_columns(const SpectralPlan *sp, const float *x, size_t n, float *out, size_t frames, float *db)
{
    size_t nf = 0;
    float *padded = spectral_pad(sp, x, n, &nf);
    int K = sp->n_freqs, M = LLD_N_MELS, N = sp->cfg.n_fft;
    float *work = meld_aligned_alloc(spectral_block_work_floats(sp) * sizeof(float), "LLD work");
    float *P = meld_aligned_alloc((size_t)K * LANES * sizeof(float), "LLD power");
    float *lnP = meld_aligned_alloc((size_t)K * LANES * sizeof(float), "LLD log power");
    float *mel = meld_aligned_alloc((size_t)M * LANES * sizeof(float), "LLD Mel");
    float *mdb = meld_aligned_alloc((size_t)M * LANES * sizeof(float), "LLD Mel dB");
    SpecState st = {K, (float)sp->cfg.sample_rate / (float)N, meld_calloc((size_t)K, sizeof(float), "LLD flux"), 0};
    int rc = MELD_ERR;
    if (!padded || !work || !P || !lnP || !mel || !mdb || !st.u_prev) goto done;
    const LaneKernels *k = sp->k;
    for (size_t f0 = 0; f0 < frames; f0 += LANES) {
        int count = frames - f0 < LANES ? (int)(frames - f0) : LANES;
        spectral_block_power(sp, padded, f0, count, P, work);
        memcpy(lnP, P, (size_t)K * LANES * sizeof(float));
        k->log_floor(lnP, (size_t)K, 1e-10f, 1.0f);
        k->mel(&sp->bank, P, mel);
        memcpy(mdb, mel, (size_t)M * LANES * sizeof(float));
        k->log_floor(mel, (size_t)M, 1e-10f, 1.0f);
        k->log_floor(mdb, (size_t)M, 1e-10f, (float)(10.0 / M_LN10));
        for (int l = 0; l < count; l++) {
            size_t f = f0 + (size_t)l;
            float *row = out + f * LLD_COUNT;
            temporal(padded + f * (size_t)sp->cfg.hop, N, row);
            spectral_shape(P, lnP, l, &st, row);
            for (int m = 0; m < M; m++) row[LLD_LOGMEL0 + m] = mel[(size_t)m * LANES + l];
        }
        memcpy(db + f0 * (size_t)M, mdb, (size_t)M * LANES * sizeof(float));
    }
    rc = MELD_OK;
done:
    free(padded); free(work); free(P); free(lnP); free(mel); free(mdb); free(st.u_prev);
    return rc;
}

int lld_compute(const float *x, size_t n, float **out, size_t *n_frames)
{
    *out = NULL;
    *n_frames = 0;
    if (n && !x) return meld_errorf("lld: NULL signal");
    SpectralConfig cfg = spectral_config_default(LLD_N_MELS);
    size_t frames = stft_frame_count(n, cfg.n_fft, cfg.hop);
    if (frames > SIZE_MAX / sizeof(float) / LLD_COUNT) return meld_errorf("lld: signal too long");
    SpectralPlan *sp = spectral_plan_create(&cfg);
    float *y = meld_malloc(frames * LLD_COUNT * sizeof(float), "LLD matrix");
    size_t blocks = (frames + LANES - 1) / LANES;
    float *db = meld_aligned_alloc(blocks * LANES * LLD_N_MELS * sizeof(float), "LLD Mel dB");
    float *f0 = meld_malloc(frames * sizeof(float), "LLD f0");
    float *pr = meld_malloc(frames * sizeof(float), "LLD voicing");
    PitchConfig pc = pitch_config_default();
    int rc = MELD_ERR;
    if (!sp || !y || !db || !f0 || !pr || spectral_columns(sp, x, n, y, frames, db) ||
        pitch_track(&pc, x, n, frames, f0, pr))
        goto done;
    /* MFCC columns: torchaudio's MFCC (dB, top_db 80, DCT-II) of the same Mel. */
    if (mfcc_from_db_blocks(sp->k, db, frames, LLD_N_MELS, LLD_N_MFCC, y + LLD_MFCC0, LLD_COUNT)) goto done;
    for (size_t f = 0; f < frames; f++) {
        y[f * LLD_COUNT + LLD_F0] = f0[f];
        y[f * LLD_COUNT + LLD_VOICING] = pr[f];
    }
    /* Only absurd input (float samples near 1e38, whose squares overflow)
     * can produce infinities or NaN; keep every value finite. */
    size_t bad = 0;
    for (size_t i = 0; i < frames * LLD_COUNT; i++)
        if (!isfinite(y[i])) {
            y[i] = 0;
            bad++;
        }
    if (bad) meld_warnf("lld: %zu non-finite descriptor values (overflowing input?) set to 0", bad);
    *out = y;
    *n_frames = frames;
    y = NULL;
    rc = MELD_OK;
done:
    spectral_plan_free(sp);
    free(y); free(db); free(f0); free(pr);
    return rc;
}
