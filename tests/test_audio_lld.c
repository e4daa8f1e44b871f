/* audio/lld.h: YIN pitch on harmonic tones and monotone espeak-ng speech,
 * unvoiced detection, and the per-frame descriptors on signals whose
 * values are known in closed form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "audio/lld.h"
#include "audio/spectral.h"
#include "audio/wav.h"
#include "tensor/error.h"
#include "tensor/rng.h"

#define FIX "tests/fixtures/audio/"
#define SR 16000

/* Harmonic tone: sum over h <= 6 of sin(2 pi f h t + h) / h. */
static float *harmonic(double f0, size_t n, double amp)
{
    float *x = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (int h = 1; h <= 6; h++) s += sin(2 * M_PI * f0 * h * (double)i / SR + h) / h;
        x[i] = (float)(amp * s);
    }
    return x;
}

static size_t frames_of(size_t n) { return 1 + n / LLD_HOP; }

/* Every interior frame of tones from 80 to 400 Hz is voiced and within 1%
 * (the bound); the worst error is reported. */
static void pitch_of_harmonic_tones_within_one_percent(void **state)
{
    (void)state;
    PitchConfig pc = pitch_config_default();
    const size_t n = SR / 2;
    size_t nf = frames_of(n);
    float *f0 = malloc(nf * sizeof(float)), *pr = malloc(nf * sizeof(float));
    double worst = 0;
    for (double f = 80; f <= 400; f += 10) {
        float *x = harmonic(f, n, 0.2);
        assert_int_equal(pitch_track(&pc, x, n, nf, f0, pr), MELD_OK);
        for (size_t t = 4; t < nf - 4; t++) {
            assert_true(f0[t] > 0);
            assert_true(pr[t] > 0.9f);
            worst = fmax(worst, fabs(f0[t] - f) / f);
        }
        free(x);
    }
    print_message("harmonic tones 80-400 Hz: worst f0 error %.4f%%\n", 100 * worst);
    assert_true(worst < 0.01);
    free(f0);
    free(pr);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* espeak-ng monotone voices (see make_audio_fixtures.py: F0 = BASE - 9 Hz).
 * The median voiced f0 is within 1%, and so is the bulk of the frames
 * (YIN still makes the odd octave error at phoneme transitions). */
static void pitch_of_monotone_espeak_speech(void **state)
{
    (void)state;
    static const int hz[] = {91, 141, 211};
    for (int i = 0; i < 3; i++) {
        char path[128];
        snprintf(path, sizeof path, FIX "espeak_pitch_%03dhz.wav", hz[i]);
        Audio a;
        assert_int_equal(wav_read(path, &a), MELD_OK);
        float *m;
        size_t nf;
        assert_int_equal(lld_compute(a.samples, a.n_samples, &m, &nf), MELD_OK);
        float *v = malloc(nf * sizeof(float));
        size_t nv = 0, within = 0;
        for (size_t t = 0; t < nf; t++) {
            float f = m[t * LLD_COUNT + LLD_F0];
            if (f <= 0) continue;
            v[nv++] = f;
            within += fabs(f - hz[i]) <= 0.01 * hz[i];
        }
        qsort(v, nv, sizeof(float), cmp_float);
        double med = nv ? v[nv / 2] : 0;
        print_message("espeak at %d Hz: %zu/%zu frames voiced, median f0 %.2f Hz (error %.3f%%), %.1f%% of voiced frames within 1%%\n",
                      hz[i], nv, nf, med, 100 * fabs(med - hz[i]) / hz[i], 100.0 * within / (nv ? nv : 1));
        assert_true(nv > nf / 3);
        assert_true(fabs(med - hz[i]) < 0.01 * hz[i]);
        assert_true(within >= 0.9 * nv);
        free(v);
        free(m);
        audio_free(&a);
    }
}

static void noise_and_silence_are_unvoiced(void **state)
{
    (void)state;
    const size_t n = SR;
    size_t nf = frames_of(n);
    float *x = calloc(n, sizeof(float)), *f0 = malloc(nf * sizeof(float)), *pr = malloc(nf * sizeof(float));
    PitchConfig pc = pitch_config_default();
    assert_int_equal(pitch_track(&pc, x, n, nf, f0, pr), MELD_OK);
    for (size_t t = 0; t < nf; t++) assert_true(f0[t] == 0);
    Rng r;
    rng_seed(&r, 1, 1);
    for (size_t i = 0; i < n; i++) x[i] = 0.3f * rng_normal(&r);
    assert_int_equal(pitch_track(&pc, x, n, nf, f0, pr), MELD_OK);
    size_t voiced = 0;
    for (size_t t = 0; t < nf; t++) voiced += f0[t] > 0;
    print_message("white noise: %zu of %zu frames voiced\n", voiced, nf);
    assert_true(voiced <= nf / 50);
    /* A tone too quiet to matter (-80 dBFS) is unvoiced too. */
    float *q = harmonic(150, n, 1e-4);
    assert_int_equal(pitch_track(&pc, q, n, nf, f0, pr), MELD_OK);
    for (size_t t = 0; t < nf; t++) assert_true(f0[t] == 0);
    free(q);
    free(x);
    free(f0);
    free(pr);
}

/* A 1 kHz sine of amplitude 0.5 (period 16 samples): rms = 0.5 / sqrt 2,
 * zcr = 50 crossings in 400 samples / 399 gaps, centroid 1 kHz (bin 25;
 * the Hann main lobe is symmetric), roll-off at bin 26 = 1040 Hz (the
 * lobe's power is 1/4, 1, 1/4 on bins 24..26, so bins <= 25 hold only
 * 1.25 / 1.5 = 83% < 85%), flux 0 in steady state, flatness ~ 0. White noise: flatness near exp(-gamma) = 0.56 (the
 * geometric / arithmetic mean of exponential variables), centroid near 4 kHz. */
static void descriptors_of_known_signals(void **state)
{
    (void)state;
    const size_t n = SR / 2;
    float *x = malloc(n * sizeof(float)), *m;
    for (size_t i = 0; i < n; i++) x[i] = (float)(0.5 * sin(2 * M_PI * 1000 * (double)i / SR + 0.1));
    size_t nf;
    assert_int_equal(lld_compute(x, n, &m, &nf), MELD_OK);
    assert_int_equal(nf, frames_of(n));
    for (size_t t = 3; t < nf - 3; t++) {
        const float *row = m + t * LLD_COUNT;
        assert_float_equal(row[LLD_RMS], 0.5 / sqrt(2.0), 1e-4);
        assert_float_equal(row[LLD_LOG_ENERGY], log(0.125), 1e-3);
        assert_float_equal(row[LLD_ZCR], 50.0 / 399, 1.01 / 399); /* 400 samples = 25 periods */
        assert_float_equal(row[LLD_CENTROID], 1000, 5);
        assert_float_equal(row[LLD_ROLLOFF], 1040, 1e-3);
        assert_true(row[LLD_FLUX] < 1e-6);
        assert_true(row[LLD_FLATNESS] < 1e-3);
    }
    free(m);
    Rng r;
    rng_seed(&r, 3, 3);
    for (size_t i = 0; i < n; i++) x[i] = 0.1f * rng_normal(&r);
    assert_int_equal(lld_compute(x, n, &m, &nf), MELD_OK);
    double flat = 0, cen = 0, flux = 0;
    for (size_t t = 3; t < nf - 3; t++) {
        flat += m[t * LLD_COUNT + LLD_FLATNESS];
        cen += m[t * LLD_COUNT + LLD_CENTROID];
        flux += m[t * LLD_COUNT + LLD_FLUX];
    }
    flat /= (double)(nf - 6);
    cen /= (double)(nf - 6);
    flux /= (double)(nf - 6);
    print_message("white noise: flatness %.3f, centroid %.0f Hz, flux %.3f\n", flat, cen, flux);
    assert_true(flat > 0.45 && flat < 0.65);
    assert_true(fabs(cen - 4000) < 200);
    assert_true(flux > 0.3); /* independent spectra differ */
    free(m);
    free(x);
}

/* The log-Mel and MFCC columns are the spectral.h outputs (40 bands). */
static void mel_columns_match_spectral(void **state)
{
    (void)state;
    Audio a;
    assert_int_equal(wav_read(FIX "espeak_16k.wav", &a), MELD_OK);
    float *m, *lm, *mf;
    size_t nf, n2, n3;
    assert_int_equal(lld_compute(a.samples, a.n_samples, &m, &nf), MELD_OK);
    assert_int_equal(audio_log_mel_16k(a.samples, a.n_samples, 40, &lm, &n2), MELD_OK);
    SpectralConfig cfg = spectral_config_default(40);
    SpectralPlan *p = spectral_plan_create(&cfg);
    assert_int_equal(spectral_mfcc(p, a.samples, a.n_samples, 13, &mf, &n3), MELD_OK);
    assert_int_equal(nf, n2);
    assert_int_equal(nf, n3);
    for (size_t t = 0; t < nf; t++) {
        for (int k = 0; k < 40; k++) assert_true(m[t * LLD_COUNT + LLD_LOGMEL0 + k] == lm[t * 40 + k]);
        for (int k = 0; k < 13; k++) assert_float_equal(m[t * LLD_COUNT + LLD_MFCC0 + k], mf[t * 13 + k], 1e-3);
    }
    free(m);
    free(lm);
    free(mf);
    spectral_plan_free(p);
    audio_free(&a);
}

static void names_and_short_inputs(void **state)
{
    (void)state;
    char b[32];
    assert_int_equal(lld_name(0, b, sizeof b), MELD_OK);
    assert_string_equal(b, "rms");
    assert_int_equal(lld_name(LLD_F0, b, sizeof b), MELD_OK);
    assert_string_equal(b, "f0");
    assert_int_equal(lld_name(9, b, sizeof b), MELD_OK);
    assert_string_equal(b, "mfcc00");
    assert_int_equal(lld_name(61, b, sizeof b), MELD_OK);
    assert_string_equal(b, "logmel39");
    assert_int_equal(lld_name(62, b, sizeof b), MELD_ERR);
    assert_int_equal(lld_name(5, b, 3), MELD_ERR);
    float x[399];
    for (int i = 0; i < 399; i++) x[i] = (i % 7) * 0.1f - 0.3f;
    static const size_t lens[] = {0, 1, 2, 399};
    for (int t = 0; t < 4; t++) {
        float *m;
        size_t nf;
        assert_int_equal(lld_compute(x, lens[t], &m, &nf), MELD_OK);
        assert_int_equal(nf, frames_of(lens[t]));
        for (size_t i = 0; i < nf * LLD_COUNT; i++) assert_true(isfinite(m[i]));
        free(m);
    }
    PitchConfig bad = pitch_config_default();
    bad.f_min = 0;
    float f0[1], pr[1];
    assert_int_equal(pitch_track(&bad, x, 399, 1, f0, pr), MELD_ERR);
    assert_non_null(strstr(meld_error(), "pitch"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pitch_of_harmonic_tones_within_one_percent),
        cmocka_unit_test(pitch_of_monotone_espeak_speech),
        cmocka_unit_test(noise_and_silence_are_unvoiced),
        cmocka_unit_test(descriptors_of_known_signals),
        cmocka_unit_test(mel_columns_match_spectral),
        cmocka_unit_test(names_and_short_inputs),
    };
    return cmocka_run_group_tests_name("audio: lld", tests, NULL, NULL);
}
