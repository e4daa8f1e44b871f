/* Utterance functionals and z-normalisation; layout in functionals.h. */
#include "audio/functionals.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/npy.h"
#include "audio/spectral.h"
#include "tensor/error.h"

static const char *const STAT_NAMES[FUNC_N_STATS] = {
    "mean", "std", "min", "max", "range", "p01", "p25", "p50", "p75", "p99",
    "skewness", "kurtosis", "slope", "intercept",
};
_Static_assert(sizeof STAT_NAMES / sizeof STAT_NAMES[0] == FUNC_N_STATS, "one name per statistic");

static const char *const RATE_NAMES[FUNC_N_RATE_PART] = {
    "duration_sec", "voiced_fraction", "voiced_segments_per_sec", "voiced_segment_mean_sec",
    "unvoiced_segment_mean_sec", "energy_peaks_per_sec", "pause_fraction",
};
_Static_assert(sizeof RATE_NAMES / sizeof RATE_NAMES[0] == FUNC_N_RATE_PART, "one name per rate feature");

static const double FRAME_SEC = (double)LLD_HOP / LLD_SAMPLE_RATE; /* 0.01 s */

int functionals_dim(void) { return FUNCTIONALS_DIM; }

int functional_name(int i, char *buf, size_t cap)
{
    if (i < 0 || i >= FUNCTIONALS_DIM)
        return meld_errorf("functionals: index %d outside [0, %d)", i, FUNCTIONALS_DIM);
    int len;
    if (i < FUNC_N_LLD_PART) {
        char lld[32];
        int col = i / (2 * FUNC_N_STATS), delta = (i / FUNC_N_STATS) % 2;
        if (lld_name(col, lld, sizeof lld)) return MELD_ERR;
        len = snprintf(buf, cap, "%s%s_%s", lld, delta ? "_delta" : "", STAT_NAMES[i % FUNC_N_STATS]);
    } else if (i < FUNC_N_LLD_PART + FUNC_N_PITCH_PART) {
        int j = i - FUNC_N_LLD_PART;
        len = snprintf(buf, cap, "f0voiced_%s_%s", j < FUNC_N_STATS ? "hz" : "st", STAT_NAMES[j % FUNC_N_STATS]);
    } else {
        len = snprintf(buf, cap, "%s", RATE_NAMES[i - FUNC_N_LLD_PART - FUNC_N_PITCH_PART]);
    }
    if (len < 0 || (size_t)len >= cap) return meld_errorf("functionals: name buffer of %zu bytes too small", cap);
    return MELD_OK;
}

/* ---- order statistics -------------------------------------------------- */

/* Percentiles need the sorted series. An LSD radix sort on the float bits
 * is linear and branch-free, which beats comparison sorts (and
 * quickselect) here: 124 series of a few thousand values per utterance.
 *
 * Order-preserving key: for x >= 0 set the sign bit (positives above all
 * negatives, IEEE bits already increase with x); for x < 0 flip every bit
 * (larger magnitude -> smaller key). Unsigned key order = float order. */
static uint32_t sort_key(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return (u & 0x80000000u) ? ~u : u | 0x80000000u;
}

static float key_value(uint32_t k)
{
    uint32_t u = (k & 0x80000000u) ? k & 0x7FFFFFFFu : ~k;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* Sorts n keys with three stable counting passes of 11, 11 and 10 bits;
 * tmp holds n keys. The result ends in a. */
static void radix_sort(uint32_t *a, uint32_t *tmp, size_t n)
{
    static const int shift[3] = {0, 11, 22};
    size_t count[3][2048];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++)
        for (int p = 0; p < 3; p++) count[p][(a[i] >> shift[p]) & 2047u]++;
    uint32_t *src = a, *dst = tmp;
    for (int p = 0; p < 3; p++) {
        if (count[p][(a[0] >> shift[p]) & 2047u] == n) continue; /* every key shares this digit */
        size_t start = 0; /* bucket counts -> first output index of each bucket */
        for (int d = 0; d < 2048; d++) {
            size_t c = count[p][d];
            count[p][d] = start;
            start += c;
        }
        for (size_t i = 0; i < n; i++) dst[count[p][(src[i] >> shift[p]) & 2047u]++] = src[i];
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, n * sizeof *a);
}

/* numpy's default ("linear") percentile of sorted keys: position q (n - 1),
 * interpolated between the order statistics around it. */
static float percentile(const uint32_t *sorted, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t k = (size_t)pos;
    if (k >= n - 1) return key_value(sorted[n - 1]);
    double lo = key_value(sorted[k]), hi = key_value(sorted[k + 1]);
    return (float)(lo + (pos - (double)k) * (hi - lo));
}

void series_stats(const float *v, const float *times, size_t n, float dt, float *scratch, float *out)
{
    memset(out, 0, FUNC_N_STATS * sizeof(float));
    if (n == 0) return;
    /* Two passes in double: the mean, then central moments and the
     * regression sums around the means (no cancellation). */
    double mean = 0, tmean = 0, mn = v[0], mx = v[0];
    for (size_t i = 0; i < n; i++) {
        mean += v[i];
        tmean += times ? times[i] : (double)i * dt;
        mn = v[i] < mn ? v[i] : mn;
        mx = v[i] > mx ? v[i] : mx;
    }
    mean /= (double)n;
    tmean /= (double)n;
    double m2 = 0, m3 = 0, m4 = 0, stt = 0, svt = 0;
    for (size_t i = 0; i < n; i++) {
        double d = v[i] - mean, d2 = d * d, t = (times ? times[i] : (double)i * dt) - tmean;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
        stt += t * t;
        svt += t * d;
    }
    m2 /= (double)n;
    m3 /= (double)n;
    m4 /= (double)n;
    /* "Constant" relative to the values' scale: rounding alone leaves m2 ~
     * (eps mean)^2, which must not produce huge skewness or kurtosis. */
    int constant = m2 <= 1e-12 * (mean * mean) || m2 <= 1e-30;
    double slope = stt > 0 ? svt / stt : 0;
    out[0] = (float)mean;
    out[1] = (float)sqrt(m2);
    out[2] = (float)mn;
    out[3] = (float)mx;
    out[4] = (float)(mx - mn);
    static const double Q[5] = {0.01, 0.25, 0.50, 0.75, 0.99};
    uint32_t *keys = (uint32_t *)(void *)scratch, *tmp = keys + n;
    for (size_t i = 0; i < n; i++) keys[i] = sort_key(v[i]);
    radix_sort(keys, tmp, n);
    for (int i = 0; i < 5; i++) out[5 + i] = percentile(keys, n, Q[i]);
    out[10] = constant ? 0.0f : (float)(m3 / pow(m2, 1.5));
    out[11] = constant ? 0.0f : (float)(m4 / (m2 * m2) - 3.0);
    out[12] = (float)slope;
    out[13] = (float)(mean - slope * tmean);
}

/* ---- the vector -------------------------------------------------------- */

/* Column c of a frames x LLD_COUNT matrix, copied contiguous. */
static void column(const float *m, size_t frames, int c, float *out)
{
    for (size_t f = 0; f < frames; f++) out[f] = m[f * LLD_COUNT + (size_t)c];
}

/* Voiced-only f0 statistics, in Hz and semitones (section 2). */
static void pitch_part(const float *lld, size_t frames, float *buf, float *times, float *scratch, float *out)
{
    size_t nv = 0;
    for (size_t f = 0; f < frames; f++) {
        float f0 = lld[f * LLD_COUNT + LLD_F0];
        if (f0 > 0) {
            buf[nv] = f0;
            times[nv++] = (float)(f * FRAME_SEC);
        }
    }
    series_stats(buf, times, nv, (float)FRAME_SEC, scratch, out);
    for (size_t i = 0; i < nv; i++) buf[i] = (float)(12.0 * log2(buf[i] / 27.5));
    series_stats(buf, times, nv, (float)FRAME_SEC, scratch, out + FUNC_N_STATS);
}

/* Rhythm proxies (section 3). energy: frames values of log energy (ln). */
static void rate_part(const float *lld, size_t frames, size_t n_samples, float *smooth, float *out)
{
    double dur = (double)n_samples / LLD_SAMPLE_RATE;
    size_t voiced = 0, v_runs = 0, u_runs = 0, u_frames = 0;
    float peak = -INFINITY;
    for (size_t f = 0; f < frames; f++) {
        int v = lld[f * LLD_COUNT + LLD_F0] > 0;
        int prev = f > 0 && lld[(f - 1) * LLD_COUNT + LLD_F0] > 0;
        voiced += (size_t)v;
        u_frames += (size_t)!v;
        if (v && (f == 0 || !prev)) v_runs++;
        if (!v && (f == 0 || prev)) u_runs++;
        float e = lld[f * LLD_COUNT + LLD_LOG_ENERGY];
        peak = e > peak ? e : peak;
    }
    /* 5-frame moving average of log energy (shorter at the edges). */
    for (size_t f = 0; f < frames; f++) {
        double s = 0;
        int c = 0;
        for (long d = -2; d <= 2; d++) {
            long g = (long)f + d;
            if (g < 0 || g >= (long)frames) continue;
            s += lld[(size_t)g * LLD_COUNT + LLD_LOG_ENERGY];
            c++;
        }
        smooth[f] = (float)(s / c);
    }
    /* 25 dB and 30 dB in natural-log energy units: ln(10^(dB/10)). */
    const float peak_gap = (float)(2.5 * M_LN10), pause_gap = (float)(3.0 * M_LN10);
    size_t peaks = 0, pauses = 0;
    for (size_t f = 0; f < frames; f++) {
        pauses += lld[f * LLD_COUNT + LLD_LOG_ENERGY] < peak - pause_gap;
        if (smooth[f] < peak - peak_gap) continue;
        int is_max = 1;
        for (long d = -5; d <= 5 && is_max; d++) {
            long g = (long)f + d;
            if (d == 0 || g < 0 || g >= (long)frames) continue;
            /* ties: only the first frame of a plateau counts */
            if (smooth[g] > smooth[f] || (d < 0 && smooth[g] == smooth[f])) is_max = 0;
        }
        peaks += (size_t)is_max;
    }
    double nf = frames ? (double)frames : 1.0;
    out[0] = (float)dur;
    out[1] = (float)(voiced / nf);
    out[2] = dur > 0 ? (float)(v_runs / dur) : 0.0f;
    out[3] = v_runs ? (float)(voiced * FRAME_SEC / v_runs) : 0.0f;
    out[4] = u_runs ? (float)(u_frames * FRAME_SEC / u_runs) : 0.0f;
    out[5] = dur > 0 ? (float)(peaks / dur) : 0.0f;
    out[6] = (float)(pauses / nf);
}

int functionals_from_lld(const float *lld, size_t frames, size_t n_samples, float *out)
{
    if (frames == 0) return meld_errorf("functionals: no frames");
    float *delta = meld_malloc(frames * LLD_COUNT * sizeof(float), "LLD deltas");
    float *buf = meld_malloc(frames * 5 * sizeof(float), "functional scratch");
    if (!delta || !buf) {
        free(delta);
        free(buf);
        return MELD_ERR;
    }
    float *series = buf, *times = buf + frames, *aux = buf + 2 * frames, *scratch = buf + 3 * frames; /* 2 frames */
    compute_deltas(lld, frames, LLD_COUNT, 5, delta);
    for (int c = 0; c < LLD_COUNT; c++) {
        float *o = out + (size_t)c * 2 * FUNC_N_STATS;
        column(lld, frames, c, series);
        series_stats(series, NULL, frames, (float)FRAME_SEC, scratch, o);
        column(delta, frames, c, series);
        series_stats(series, NULL, frames, (float)FRAME_SEC, scratch, o + FUNC_N_STATS);
    }
    pitch_part(lld, frames, series, times, scratch, out + FUNC_N_LLD_PART);
    rate_part(lld, frames, n_samples, aux, out + FUNC_N_LLD_PART + FUNC_N_PITCH_PART);
    free(delta);
    free(buf);
    return MELD_OK;
}

int audio_functionals(const float *x, size_t n, float *out)
{
    float *lld;
    size_t frames;
    if (lld_compute(x, n, &lld, &frames)) return MELD_ERR;
    int rc = functionals_from_lld(lld, frames, n, out);
    free(lld);
    return rc;
}

/* ---- z-normalisation --------------------------------------------------- */

void znorm_free(ZNorm *z)
{
    if (!z) return;
    free(z->mean);
    free(z->std);
    memset(z, 0, sizeof *z);
}

static int znorm_alloc(ZNorm *z, int dim)
{
    memset(z, 0, sizeof *z);
    if (dim < 1) return meld_errorf("znorm: dimension %d must be positive", dim);
    z->dim = dim;
    z->mean = meld_malloc((size_t)dim * sizeof(float), "z-norm mean");
    z->std = meld_malloc((size_t)dim * sizeof(float), "z-norm std");
    if (!z->mean || !z->std) {
        znorm_free(z);
        return MELD_ERR;
    }
    return MELD_OK;
}

int znorm_fit(ZNorm *z, const float *rows, size_t n_rows, int dim)
{
    if (znorm_alloc(z, dim)) return MELD_ERR;
    if (n_rows == 0) {
        znorm_free(z);
        return meld_errorf("znorm: no training rows");
    }
    /* Welford's update per feature: stable for any number of rows. */
    double *mean = meld_calloc((size_t)dim, sizeof(double), "z-norm sums");
    double *m2 = meld_calloc((size_t)dim, sizeof(double), "z-norm sums");
    if (!mean || !m2) {
        free(mean);
        free(m2);
        znorm_free(z);
        return MELD_ERR;
    }
    for (size_t r = 0; r < n_rows; r++) {
        const float *row = rows + r * (size_t)dim;
        for (int d = 0; d < dim; d++) {
            if (!isfinite(row[d])) {
                free(mean);
                free(m2);
                znorm_free(z);
                return meld_errorf("znorm: non-finite value at row %zu, feature %d", r, d);
            }
            double delta = row[d] - mean[d];
            mean[d] += delta / (double)(r + 1);
            m2[d] += delta * (row[d] - mean[d]);
        }
    }
    for (int d = 0; d < dim; d++) {
        double sd = sqrt(m2[d] / (double)n_rows);
        z->mean[d] = (float)mean[d];
        z->std[d] = sd < 1e-6 ? 1.0f : (float)sd;
    }
    free(mean);
    free(m2);
    return MELD_OK;
}

void znorm_apply(const ZNorm *z, float *rows, size_t n_rows)
{
    for (size_t r = 0; r < n_rows; r++) {
        float *row = rows + r * (size_t)z->dim;
        for (int d = 0; d < z->dim; d++) row[d] = (row[d] - z->mean[d]) / z->std[d];
    }
}

int znorm_save(const ZNorm *z, const char *path)
{
    float *m = meld_malloc(2 * (size_t)z->dim * sizeof(float), "z-norm file");
    if (!m) return MELD_ERR;
    memcpy(m, z->mean, (size_t)z->dim * sizeof(float));
    memcpy(m + z->dim, z->std, (size_t)z->dim * sizeof(float));
    int rc = npy_write_f32(path, m, 2, (size_t)z->dim);
    free(m);
    return rc;
}

int znorm_load(ZNorm *z, const char *path)
{
    memset(z, 0, sizeof *z);
    float *m;
    size_t rows, cols;
    if (npy_read_f32(path, &m, &rows, &cols)) return MELD_ERR;
    if (rows != 2 || cols < 1 || cols > (size_t)INT32_MAX) {
        free(m);
        return meld_errorf("%s: z-norm statistics must have shape (2, dim), got (%zu, %zu)", path, rows, cols);
    }
    for (size_t d = 0; d < cols; d++)
        if (!isfinite(m[d]) || !(m[cols + d] > 0) || !isfinite(m[cols + d])) {
            free(m);
            return meld_errorf("%s: invalid statistics for feature %zu (std must be finite and > 0)", path, d);
        }
    if (znorm_alloc(z, (int)cols)) {
        free(m);
        return MELD_ERR;
    }
    memcpy(z->mean, m, cols * sizeof(float));
    memcpy(z->std, m + cols, cols * sizeof(float));
    free(m);
    return MELD_OK;
}
