/* Polyphase windowed-sinc resampler; the design is described in resample.h. */
#include "audio/resample.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"

enum { MAX_PHASES = 4096, MAX_RATE = 100000000 };

static long long gcd_ll(long long a, long long b)
{
    while (b) {
        long long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Modified Bessel function of the first kind, order 0, by its power series
 * sum_k ((x/2)^k / k!)^2 (converges fast for the beta values used here). */
static double bessel_i0(double x)
{
    double sum = 1, term = 1, q = x * x / 4;
    for (int k = 1; k < 200 && term > 1e-17 * sum; k++) {
        term *= q / ((double)k * k);
        sum += term;
    }
    return sum;
}

typedef struct {
    int half;       /* H: taps run over k = -H+1 .. H */
    int taps;       /* 2H */
    int phases;     /* rows in the table (+1 extra row for phase 1.0) */
    double fc, beta;
    float *table;   /* (phases + 1) x taps, or one row computed per output */
} Filter;

/* Row for phase phi in [0, 1]: h(phi - k) for k = -H+1 .. H, normalised to
 * sum 1. */
static void fill_row(float *row, double phi, int half, double fc, double beta)
{
    double sum = 0, tmp[4096];
    int taps = 2 * half;
    for (int j = 0; j < taps; j++) {
        double t = phi - (j - half + 1);
        double u = t / half;
        double win = fabs(u) >= 1 ? 0 : bessel_i0(beta * sqrt(1 - u * u)) / bessel_i0(beta);
        double a = 2 * M_PI * fc * t;
        double sinc = fabs(a) < 1e-12 ? 1.0 : sin(a) / a;
        tmp[j] = 2 * fc * sinc * win;
        sum += tmp[j];
    }
    for (int j = 0; j < taps; j++) row[j] = (float)(tmp[j] / sum);
}

/* The filter for L output phases; the table of rows only when tabulate
 * (else room for one row). */
static int make_filter(Filter *f, long long L, int rate_in, int rate_out, bool tabulate)
{
    /* Everything in cycles per input sample. */
    double f_ny = 0.5 * (rate_out < rate_in ? (double)rate_out / rate_in : 1.0);
    double f_pass = RESAMPLE_PASSBAND_EDGE * f_ny;
    double A = RESAMPLE_STOPBAND_DB;
    f->fc = 0.5 * (f_pass + f_ny);
    f->beta = 0.1102 * (A - 8.7);
    /* Kaiser: N = (A - 7.95) / (2.285 dw), dw = 2 pi (f_ny - f_pass). */
    double n_taps = (A - 7.95) / (2.285 * 2 * M_PI * (f_ny - f_pass));
    f->half = (int)ceil(n_taps / 2) + 1;
    if (f->half > 2048) return meld_errorf("resample: %d -> %d Hz needs too long a filter", rate_in, rate_out);
    f->taps = 2 * f->half;
    f->phases = L <= MAX_PHASES ? (int)L : MAX_PHASES;
    size_t rows = tabulate ? (size_t)f->phases + 1 : 1;
    f->table = meld_malloc(rows * f->taps * sizeof(float), "resampler taps");
    if (!f->table) return MELD_ERR;
    for (int p = 0; tabulate && p <= f->phases; p++)
        fill_row(f->table + (size_t)p * f->taps, (double)p / f->phases, f->half, f->fc, f->beta);
    return MELD_OK;
}

/* Dot product of one table row with x[i0 - H + 1 ..], zeros outside x. */
static double apply_row(const float *row, const float *x, size_t n, long long i0, int half, int taps)
{
    long long first = i0 - half + 1;
    double s = 0;
    if (first >= 0 && first + taps <= (long long)n) {
        const float *xp = x + first;
        float acc = 0;
        for (int j = 0; j < taps; j++) acc += row[j] * xp[j];
        return acc;
    }
    for (int j = 0; j < taps; j++) {
        long long i = first + j;
        if (i >= 0 && i < (long long)n) s += row[j] * x[i];
    }
    return s;
}

int audio_resample(const float *x, size_t n, int rate_in, int rate_out, float **y, size_t *n_out)
{
    *y = NULL;
    *n_out = 0;
    if (rate_in < 1 || rate_in > MAX_RATE || rate_out < 1 || rate_out > MAX_RATE)
        return meld_errorf("resample: rates %d -> %d Hz outside [1, %d]", rate_in, rate_out, MAX_RATE);
    if ((long long)rate_out > (long long)RESAMPLE_MAX_UPSAMPLING * rate_in)
        return meld_errorf("resample: %d Hz is too low a sample rate to convert to %d Hz (at least %d Hz)", rate_in,
                           rate_out, (rate_out + RESAMPLE_MAX_UPSAMPLING - 1) / RESAMPLE_MAX_UPSAMPLING);
    long long g = gcd_ll(rate_in, rate_out), L = rate_out / g, M = rate_in / g;
    /* n_out = ceil(n L / M), computed without overflow. */
    unsigned long long q = n / (unsigned long long)M, r = n % (unsigned long long)M;
    if (q > (SIZE_MAX / sizeof(float)) / (unsigned long long)L - 1)
        return meld_errorf("resample: output of %zu samples at %d Hz is too large", n, rate_out);
    size_t count = (size_t)(q * L + (r * L + M - 1) / M);
    float *out = meld_malloc((count ? count : 1) * sizeof(float), "resampled audio");
    if (!out) return MELD_ERR;
    if (L == 1 && M == 1) {
        if (n) memcpy(out, x, n * sizeof(float));
        *y = out;
        *n_out = n;
        return MELD_OK;
    }
    /* The table (phases + 1 rows of taps) pays off only with more outputs
     * than rows. A 64-byte WAV declaring 650001 Hz asks for 4096 rows of
     * 4082 taps (over a second of CPU) to make one output sample: with so
     * few outputs, each gets its own row at its exact phase instead, and
     * the work stays proportional to the output, itself bounded by the
     * input. */
    bool tabulate = count > (size_t)MAX_PHASES || count > (size_t)L;
    Filter f = {0};
    if (make_filter(&f, L, rate_in, rate_out, tabulate)) {
        free(out);
        return MELD_ERR;
    }
    /* Walk t_n = i0 + acc / L exactly in integers: each step adds M / L. */
    long long i0 = 0, acc = 0;
    for (size_t k = 0; k < count; k++) {
        double v;
        if (tabulate) {
            /* Row position acc / L * phases, split into row p and fraction w. */
            long long pos = acc * f.phases;
            long long p = pos / L, rem = pos % L;
            const float *row = f.table + (size_t)p * f.taps;
            v = apply_row(row, x, n, i0, f.half, f.taps);
            if (rem) {
                double w = (double)rem / L;
                v += w * (apply_row(row + f.taps, x, n, i0, f.half, f.taps) - v);
            }
        } else {
            fill_row(f.table, (double)acc / L, f.half, f.fc, f.beta);
            v = apply_row(f.table, x, n, i0, f.half, f.taps);
        }
        out[k] = (float)v;
        acc += M;
        i0 += acc / L;
        acc %= L;
    }
    free(f.table);
    *y = out;
    *n_out = count;
    return MELD_OK;
}

int audio_to_16k(Audio *a)
{
    if (a->sample_rate == 16000) return MELD_OK;
    float *y;
    size_t m;
    if (audio_resample(a->samples, a->n_samples, a->sample_rate, 16000, &y, &m)) return MELD_ERR;
    free(a->samples);
    a->samples = y;
    a->n_samples = m;
    a->sample_rate = 16000;
    return MELD_OK;
}
