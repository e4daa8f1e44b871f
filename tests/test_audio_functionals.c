/* audio/functionals.h: the statistics in closed form, the quickselect
 * percentiles against a sort, the vector's layout and names, the rhythm
 * proxies on a signal with a known rate, and z-normalisation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "audio/functionals.h"
#include "audio/wav.h"
#include "tensor/error.h"
#include "tensor/rng.h"

#define SR 16000
enum { MEAN, STD, MIN, MAX, RANGE, P01, P25, P50, P75, P99, SKEW, KURT, SLOPE, ICPT };

/* 1..10 sampled every 0.5 s: mean 5.5, population std sqrt(8.25), numpy
 * percentiles at positions q * 9, skewness 0, excess kurtosis of a discrete
 * uniform -6 (n^2 + 1) / (5 (n^2 - 1)) = -606 / 495, slope 2 per second
 * (1 per step), intercept 1. */
static void statistics_in_closed_form(void **state)
{
    (void)state;
    float v[10], s[FUNC_N_STATS], scratch[2 * 11];
    for (int i = 0; i < 10; i++) v[i] = (float)(i + 1);
    series_stats(v, NULL, 10, 0.5f, scratch, s);
    assert_float_equal(s[MEAN], 5.5, 1e-6);
    assert_float_equal(s[STD], sqrt(8.25), 1e-6);
    assert_float_equal(s[MIN], 1, 0);
    assert_float_equal(s[MAX], 10, 0);
    assert_float_equal(s[RANGE], 9, 0);
    assert_float_equal(s[P01], 1.09, 1e-6);
    assert_float_equal(s[P25], 3.25, 1e-6);
    assert_float_equal(s[P50], 5.5, 1e-6);
    assert_float_equal(s[P75], 7.75, 1e-6);
    assert_float_equal(s[P99], 9.91, 1e-6);
    assert_float_equal(s[SKEW], 0, 1e-6);
    assert_float_equal(s[KURT], -606.0 / 495, 1e-6);
    assert_float_equal(s[SLOPE], 2, 1e-6);
    assert_float_equal(s[ICPT], 1, 1e-6);
    /* {0, 0, 0, 1}: skewness 2/sqrt(3), excess kurtosis 7/3 - 3. */
    float w[4] = {0, 0, 0, 1};
    series_stats(w, NULL, 4, 0.01f, scratch, s);
    assert_float_equal(s[SKEW], 2 / sqrt(3.0), 1e-5);
    assert_float_equal(s[KURT], 7.0 / 3 - 3, 1e-5);
    /* {3,1,4,1,5,9,2,6,5,3,5}: sorted 1 1 2 3 3 4 5 5 5 6 9, positions q * 10. */
    float u[11] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5};
    series_stats(u, NULL, 11, 0.01f, scratch, s);
    assert_float_equal(s[P01], 1.0, 1e-6);
    assert_float_equal(s[P25], 2.5, 1e-6);
    assert_float_equal(s[P50], 4.0, 1e-6);
    assert_float_equal(s[P75], 5.0, 1e-6);
    assert_float_equal(s[P99], 8.7, 1e-5);
    /* Explicit times: the regression uses them. */
    float t[3] = {0, 1, 3}, y[3] = {1, 3, 7};
    series_stats(y, t, 3, 0.01f, scratch, s);
    assert_float_equal(s[SLOPE], 2, 1e-6);
    assert_float_equal(s[ICPT], 1, 1e-6);
}

static void degenerate_series(void **state)
{
    (void)state;
    float s[FUNC_N_STATS], scratch[2 * 8];
    float c[8] = {2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f};
    series_stats(c, NULL, 8, 0.01f, scratch, s);
    for (int i = 0; i < FUNC_N_STATS; i++) {
        double want = (i == STD || i == RANGE || i == SKEW || i == KURT || i == SLOPE) ? 0 : 2.5;
        assert_float_equal(s[i], want, 1e-6);
    }
    series_stats(c, NULL, 1, 0.01f, scratch, s);
    assert_float_equal(s[P99], 2.5, 0);
    assert_float_equal(s[ICPT], 2.5, 0);
    series_stats(c, NULL, 0, 0.01f, scratch, s);
    for (int i = 0; i < FUNC_N_STATS; i++) assert_true(s[i] == 0);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* Radix-sort percentiles equal qsort-based ones on random data: many ties
 * (a handful of levels, like f0 with its zeros), negative values, and
 * values spanning many binades. */
static void percentiles_match_a_sort(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 11, 2);
    float v[700], sorted[700], scratch[2 * 700], s[FUNC_N_STATS];
    static const double q[5] = {0.01, 0.25, 0.5, 0.75, 0.99};
    for (int it = 0; it < 300; it++) {
        size_t n = 1 + rng_below(&r, 700);
        int levels = 1 + (int)rng_below(&r, it % 2 ? 5 : 100000);
        for (size_t i = 0; i < n; i++) {
            v[i] = ((float)rng_below(&r, (uint32_t)levels) - levels / 2) * 0.5f;
            if (it % 3 == 2) v[i] = ldexpf(v[i], (int)rng_below(&r, 60) - 30);
        }
        memcpy(sorted, v, n * sizeof(float));
        qsort(sorted, n, sizeof(float), cmp_float);
        series_stats(v, NULL, n, 0.01f, scratch, s);
        for (int k = 0; k < 5; k++) {
            double pos = q[k] * (double)(n - 1);
            size_t lo = (size_t)pos, hi = lo + 1 < n ? lo + 1 : lo;
            double want = sorted[lo] + (pos - (double)lo) * (sorted[hi] - sorted[lo]);
            assert_float_equal(s[P01 + k], want, 1e-4 * (1 + fabs(want)));
        }
        assert_true(s[MIN] == sorted[0] && s[MAX] == sorted[n - 1]);
    }
}

static void layout_and_names(void **state)
{
    (void)state;
    assert_int_equal(functionals_dim(), 1771);
    char a[64], b[64];
    static const struct {
        int i;
        const char *name;
    } spots[] = {
        {0, "rms_mean"}, {13, "rms_intercept"}, {14, "rms_delta_mean"}, {28, "log_energy_mean"},
        {7 * 28 + 1, "f0_std"}, {9 * 28 + 9, "mfcc00_p99"}, {61 * 28 + 27, "logmel39_delta_intercept"},
        {1736, "f0voiced_hz_mean"}, {1750, "f0voiced_st_mean"}, {1763, "f0voiced_st_intercept"},
        {1764, "duration_sec"}, {1770, "pause_fraction"},
    };
    for (size_t k = 0; k < sizeof spots / sizeof spots[0]; k++) {
        assert_int_equal(functional_name(spots[k].i, a, sizeof a), MELD_OK);
        assert_string_equal(a, spots[k].name);
    }
    /* Every name is distinct (adjacent check after sorting would need all in
     * memory; 1771^2 / 2 comparisons of short strings is quick enough). */
    char (*names)[64] = malloc(1771 * sizeof *names);
    for (int i = 0; i < 1771; i++) assert_int_equal(functional_name(i, names[i], 64), MELD_OK);
    for (int i = 0; i < 1771; i++)
        for (int j = i + 1; j < 1771; j++) assert_true(strcmp(names[i], names[j]) != 0);
    free(names);
    assert_int_equal(functional_name(1771, b, sizeof b), MELD_ERR);
    assert_int_equal(functional_name(-1, b, sizeof b), MELD_ERR);
    assert_int_equal(functional_name(0, b, 4), MELD_ERR);
}

/* The vector is the statistics of the LLD matrix, column by column. */
static void vector_is_built_from_the_lld_matrix(void **state)
{
    (void)state;
    Audio a;
    assert_int_equal(wav_read("tests/fixtures/audio/espeak_pitch_141hz.wav", &a), MELD_OK);
    float *vec = malloc(FUNCTIONALS_DIM * sizeof(float)), *lld, s[FUNC_N_STATS];
    assert_int_equal(audio_functionals(a.samples, a.n_samples, vec), MELD_OK);
    size_t nf;
    assert_int_equal(lld_compute(a.samples, a.n_samples, &lld, &nf), MELD_OK);
    float *col = malloc(nf * sizeof(float)), *scratch = malloc(2 * nf * sizeof(float)), *t = malloc(nf * sizeof(float));
    for (int c = 0; c < LLD_COUNT; c += 7) {
        for (size_t f = 0; f < nf; f++) col[f] = lld[f * LLD_COUNT + (size_t)c];
        series_stats(col, NULL, nf, 0.01f, scratch, s);
        assert_memory_equal(s, vec + c * 28, sizeof s);
    }
    size_t nv = 0;
    for (size_t f = 0; f < nf; f++)
        if (lld[f * LLD_COUNT + LLD_F0] > 0) {
            col[nv] = lld[f * LLD_COUNT + LLD_F0];
            t[nv++] = (float)(f * 0.01);
        }
    series_stats(col, t, nv, 0.01f, scratch, s);
    assert_memory_equal(s, vec + 1736, sizeof s);
    assert_float_equal(vec[1736 + P50], 141, 1.41); /* voiced median f0 within 1% */
    assert_float_equal(vec[1764], a.n_samples / 16000.0, 1e-6);
    assert_float_equal(vec[1765], (double)nv / nf, 1e-6);
    free(col); free(scratch); free(t); free(lld); free(vec);
    audio_free(&a);
}

/* 3 s of a 200 Hz voice switched on for 125 ms and off (silence) for
 * 125 ms: 4 syllables per second, half the time voiced, half paused. */
static void rhythm_proxies_on_a_known_rate(void **state)
{
    (void)state;
    const size_t n = 3 * SR;
    float *x = calloc(n, sizeof(float)), v[FUNCTIONALS_DIM];
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / SR;
        if (fmod(t, 0.25) >= 0.125) continue;
        double s = 0;
        for (int h = 1; h <= 5; h++) s += sin(2 * M_PI * 200 * h * t) / h;
        x[i] = (float)(0.2 * s);
    }
    assert_int_equal(audio_functionals(x, n, v), MELD_OK);
    const float *r = v + 1764;
    print_message("beeps at 4/s: voiced %.2f, %.2f voiced runs/s of %.3f s, unvoiced runs %.3f s, "
                  "%.2f energy peaks/s, pause fraction %.2f\n", r[1], r[2], r[3], r[4], r[5], r[6]);
    assert_float_equal(r[0], 3.0, 1e-6);
    assert_float_equal(r[1], 0.5, 0.1);
    assert_float_equal(r[2], 4.0, 0.5);
    assert_float_equal(r[3], 0.125, 0.03);
    assert_float_equal(r[4], 0.125, 0.03);
    assert_float_equal(r[5], 4.0, 0.5);
    assert_float_equal(r[6], 0.45, 0.1);
    free(x);
}

static void finite_for_any_input(void **state)
{
    (void)state;
    float *v = malloc(FUNCTIONALS_DIM * sizeof(float));
    float *x = calloc(SR, sizeof(float));
    static const size_t lens[] = {0, 1, 399, SR};
    for (int t = 0; t < 4; t++) {
        assert_int_equal(audio_functionals(x, lens[t], v), MELD_OK);
        for (int i = 0; i < FUNCTIONALS_DIM; i++) assert_true(isfinite(v[i]));
    }
    for (size_t i = 0; i < SR; i++) x[i] = (i / 40) % 2 ? 1.0f : -1.0f; /* full-scale square wave */
    assert_int_equal(audio_functionals(x, SR, v), MELD_OK);
    for (int i = 0; i < FUNCTIONALS_DIM; i++) assert_true(isfinite(v[i]));
    free(x);
    free(v);
}

static void znorm_fits_applies_and_round_trips(void **state)
{
    (void)state;
    /* 4 rows x 3 features: feature 0 = 1,2,3,4 (mean 2.5, std sqrt(1.25)),
     * feature 1 constant 7 (std -> 1), feature 2 = -10, 10, -10, 10. */
    float rows[12] = {1, 7, -10, 2, 7, 10, 3, 7, -10, 4, 7, 10};
    ZNorm z;
    assert_int_equal(znorm_fit(&z, rows, 4, 3), MELD_OK);
    assert_float_equal(z.mean[0], 2.5, 1e-6);
    assert_float_equal(z.std[0], sqrt(1.25), 1e-6);
    assert_float_equal(z.mean[1], 7, 1e-6);
    assert_float_equal(z.std[1], 1, 0);
    assert_float_equal(z.std[2], 10, 1e-5);
    float x[12];
    memcpy(x, rows, sizeof x);
    znorm_apply(&z, x, 4);
    for (int d = 0; d < 3; d++) {
        double m = 0, s2 = 0;
        for (int r = 0; r < 4; r++) m += x[r * 3 + d] / 4;
        for (int r = 0; r < 4; r++) s2 += (x[r * 3 + d] - m) * (x[r * 3 + d] - m) / 4;
        assert_float_equal(m, 0, 1e-6);
        assert_float_equal(s2, d == 1 ? 0 : 1, 1e-5);
    }
    char path[128];
    snprintf(path, sizeof path, "/tmp/meld-test-znorm-%ld.npy", (long)getpid());
    assert_int_equal(znorm_save(&z, path), MELD_OK);
    ZNorm y;
    assert_int_equal(znorm_load(&y, path), MELD_OK);
    assert_int_equal(y.dim, 3);
    assert_memory_equal(y.mean, z.mean, 3 * sizeof(float));
    assert_memory_equal(y.std, z.std, 3 * sizeof(float));
    znorm_free(&y);
    /* A file with a non-positive std is refused. */
    z.std[2] = 0;
    assert_int_equal(znorm_save(&z, path), MELD_OK);
    assert_int_equal(znorm_load(&y, path), MELD_ERR);
    assert_non_null(strstr(meld_error(), "feature 2"));
    remove(path);
    znorm_free(&z);
    rows[4] = NAN;
    assert_int_equal(znorm_fit(&z, rows, 4, 3), MELD_ERR);
    assert_non_null(strstr(meld_error(), "row 1, feature 1"));
    assert_int_equal(znorm_fit(&z, rows, 0, 3), MELD_ERR);
    assert_int_equal(znorm_load(&y, "/nonexistent/z.npy"), MELD_ERR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(statistics_in_closed_form),
        cmocka_unit_test(degenerate_series),
        cmocka_unit_test(percentiles_match_a_sort),
        cmocka_unit_test(layout_and_names),
        cmocka_unit_test(vector_is_built_from_the_lld_matrix),
        cmocka_unit_test(rhythm_proxies_on_a_known_rate),
        cmocka_unit_test(finite_for_any_input),
        cmocka_unit_test(znorm_fits_applies_and_round_trips),
    };
    return cmocka_run_group_tests_name("audio: functionals", tests, NULL, NULL);
}
