/* audio/resample.h: pass-band gain, stop-band attenuation (a sine sweep and
 * single tones), 44.1 and 48 kHz to 16 kHz, lengths and pass-through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "audio/resample.h"
#include "tensor/error.h"

static float *tone(size_t n, int rate, double hz, double amp)
{
    float *x = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) x[i] = (float)(amp * sin(2 * M_PI * hz * (double)i / rate));
    return x;
}

/* RMS of y[a, b) in dB relative to a sine of amplitude amp. */
static double rms_db(const float *y, size_t a, size_t b, double amp)
{
    double s = 0;
    for (size_t i = a; i < b; i++) s += (double)y[i] * y[i];
    return 10 * log10(s / (double)(b - a) / (amp * amp / 2) + 1e-300);
}

/* Steady-state level of a resampled tone (edges skipped). */
static double tone_gain_db(int rate_in, int rate_out, double hz)
{
    size_t n = (size_t)rate_in / 4; /* 0.25 s */
    float *x = tone(n, rate_in, hz, 0.5), *y;
    size_t m;
    assert_int_equal(audio_resample(x, n, rate_in, rate_out, &y, &m), MELD_OK);
    double db = rms_db(y, m / 5, m - m / 5, 0.5);
    free(x);
    free(y);
    return db;
}

static void tones_pass_or_stop_as_designed(void **state)
{
    (void)state;
    static const int rates[] = {44100, 48000, 22050, 32000};
    for (int r = 0; r < 4; r++) {
        /* Pass band (<= 0.9 * 8 kHz): within 0.01 dB (Kaiser ripple at 80 dB
         * is 1e-4, i.e. 0.001 dB). */
        static const double pass[] = {50, 440, 1000, 3000, 5500, 7000};
        for (int i = 0; i < 6; i++) {
            double g = tone_gain_db(rates[r], 16000, pass[i]);
            if (fabs(g) > 0.01) print_error("%d Hz: %.0f Hz tone at %.4f dB\n", rates[r], pass[i], g);
            assert_true(fabs(g) < 0.01);
        }
        /* Stop band (>= 8 kHz, below the input's Nyquist): >= 79 dB down
         * (design 80 dB; 1 dB allowance for Kaiser's approximate length formula). */
        static const double stop[] = {8050, 8500, 9000, 10000, 11000, 15000, 20000};
        for (int i = 0; i < 7; i++) {
            if (stop[i] >= rates[r] / 2.0) continue;
            double g = tone_gain_db(rates[r], 16000, stop[i]);
            if (g > -79) print_error("%d Hz: %.0f Hz tone only %.1f dB down\n", rates[r], stop[i], g);
            assert_true(g < -79);
        }
    }
}

/* A linear sweep 20 Hz -> 22 kHz over 2 s, at 44.1 and at 48 kHz: the
 * 16 kHz output keeps the sweep's level while it is in the pass band and
 * drops >= 79 dB while it is in the stop band. */
static void sweep_keeps_pass_band_and_kills_stop_band(void **state)
{
    (void)state;
    static const int rates[] = {44100, 48000};
    for (int ri = 0; ri < 2; ri++) {
        const int rate = rates[ri];
        const double T = 2.0, f0 = 20, f1 = 22000, amp = 0.5;
        size_t n = (size_t)(T * rate);
        float *x = malloc(n * sizeof(float)), *y;
        for (size_t i = 0; i < n; i++) {
            double t = (double)i / rate; /* phase = 2 pi (f0 t + (f1 - f0) t^2 / (2T)) */
            x[i] = (float)(amp * sin(2 * M_PI * (f0 * t + (f1 - f0) * t * t / (2 * T))));
        }
        size_t m;
        assert_int_equal(audio_resample(x, n, rate, 16000, &y, &m), MELD_OK);
        /* 20 ms windows; instantaneous frequency f0 + (f1 - f0) t / T. */
        double worst_pass = 0, worst_stop = -300;
        for (double t = 0.05; t + 0.02 < T - 0.02; t += 0.02) {
            double fa = f0 + (f1 - f0) * t / T, fb = f0 + (f1 - f0) * (t + 0.02) / T;
            double db = rms_db(y, (size_t)(t * 16000), (size_t)((t + 0.02) * 16000), amp);
            if (fb < 7000) worst_pass = fmax(worst_pass, fabs(db));
            if (fa > 8300) worst_stop = fmax(worst_stop, db);
        }
        print_message("sweep %d -> 16000 Hz: pass band within %.3f dB, stop band <= %.1f dB\n", rate, worst_pass,
                      worst_stop);
        assert_true(worst_pass < 0.05);
        assert_true(worst_stop < -79);
        free(x);
        free(y);
    }
}

static void lengths_and_pass_through(void **state)
{
    (void)state;
    float x[100], *y;
    for (int i = 0; i < 100; i++) x[i] = (float)i / 100;
    size_t m;
    assert_int_equal(audio_resample(x, 100, 44100, 16000, &y, &m), MELD_OK);
    assert_int_equal(m, 37); /* ceil(100 * 160 / 441) */
    free(y);
    assert_int_equal(audio_resample(x, 100, 8000, 16000, &y, &m), MELD_OK);
    assert_int_equal(m, 200);
    free(y);
    assert_int_equal(audio_resample(x, 0, 48000, 16000, &y, &m), MELD_OK);
    assert_int_equal(m, 0);
    free(y);
    /* 16 kHz passes through bit for bit. */
    Audio a = {malloc(100 * sizeof(float)), 100, 16000};
    for (int i = 0; i < 100; i++) a.samples[i] = x[i];
    float *before = a.samples;
    assert_int_equal(audio_to_16k(&a), MELD_OK);
    assert_ptr_equal(a.samples, before);
    assert_int_equal(a.n_samples, 100);
    audio_free(&a);
    assert_int_equal(audio_resample(x, 100, 0, 16000, &y, &m), MELD_ERR);
}

/* Upsampling 8 kHz -> 16 kHz and an awkward ratio (44101 Hz: 16000 phases,
 * so rows are interpolated) keep a 1 kHz tone at its level and frequency. */
static void upsampling_and_odd_ratios(void **state)
{
    (void)state;
    assert_true(fabs(tone_gain_db(8000, 16000, 1000)) < 0.01);
    assert_true(fabs(tone_gain_db(44101, 16000, 1000)) < 0.01);
    assert_true(tone_gain_db(44101, 16000, 9000) < -78);
    /* The tone's phase: compare with the ideal 16 kHz sine sample by sample. */
    size_t n = 44101 / 5;
    float *x = tone(n, 44101, 1000, 0.5), *y;
    size_t m;
    assert_int_equal(audio_resample(x, n, 44101, 16000, &y, &m), MELD_OK);
    double err = 0;
    for (size_t i = m / 5; i < m - m / 5; i++) err = fmax(err, fabs(y[i] - 0.5 * sin(2 * M_PI * 1000.0 * i / 16000)));
    assert_true(err < 1e-3);
    free(x);
    free(y);
}

/* A 40 KB WAV declaring 2 Hz would become 160 million samples at 16 kHz
 * (1.66 GB of features downstream): refused, at once. 16x is the most. */
static void upsampling_is_bounded_by_the_input(void **state)
{
    (void)state;
    enum { N = 20000 };
    float *x = calloc(N, sizeof(float)), *y = NULL;
    size_t m = 7;
    assert_int_equal(audio_resample(x, N, 2, 16000, &y, &m), MELD_ERR);
    assert_null(y);
    assert_int_equal(m, 0);
    assert_non_null(strstr(meld_error(), "2 Hz is too low a sample rate to convert to 16000 Hz (at least 1000 Hz)"));
    assert_int_equal(audio_resample(x, N, 999, 16000, &y, &m), MELD_ERR);
    assert_int_equal(audio_resample(x, N, 1000, 16000, &y, &m), MELD_OK);
    assert_int_equal(m, 16 * N);
    free(y);
    Audio a = {x, N, 1};
    assert_int_equal(audio_to_16k(&a), MELD_ERR);
    assert_ptr_equal(a.samples, x);   /* untouched */
    free(x);
}

/* Ten samples declaring 650001 Hz: tabulating would fill 4096 rows of
 * 4082 taps (over a second of CPU) for one output sample, so rows are
 * computed per output instead. Ten such calls run in a child under a
 * 3-second CPU limit, far above what the bounded work needs (a hang guard,
 * not a timing): the tabulating code is killed by SIGXCPU. The values
 * match the tabulated path on longer input. */
static void few_samples_at_an_awkward_rate_cost_little(void **state)
{
    (void)state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit lim = {3, 3};
        setrlimit(RLIMIT_CPU, &lim);
        float x[10] = {0, 0.5f, 1, 0.5f, 0, -0.5f, -1, -0.5f, 0, 0.5f}, *y;
        size_t m;
        for (int i = 0; i < 10; i++) {
            if (audio_resample(x, 10, 650001 + i, 16000, &y, &m) != MELD_OK || m != 1) _exit(1);
            free(y);
        }
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* Per-output rows give what the table gives (44101 Hz: 16000 phases,
     * the table interpolates between 4096 rows). */
    size_t n = 44101 / 10;
    float *x = tone(n, 44101, 1000, 0.5), *few, *many;
    size_t m_few, m_many;
    assert_int_equal(audio_resample(x, 200, 44101, 16000, &few, &m_few), MELD_OK);       /* 73 outputs: per row */
    assert_int_equal(audio_resample(x, n, 44101, 16000, &many, &m_many), MELD_OK);        /* 1600: table */
    assert_int_equal(m_few, 73);
    /* Outputs whose 280-tap window lies inside the 200 samples. */
    for (size_t i = 0; i < 20; i++) assert_true(fabsf(few[i] - many[i]) < 1e-5f);
    free(x);
    free(few);
    free(many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tones_pass_or_stop_as_designed),
        cmocka_unit_test(sweep_keeps_pass_band_and_kills_stop_band),
        cmocka_unit_test(lengths_and_pass_through),
        cmocka_unit_test(upsampling_and_odd_ratios),
        cmocka_unit_test(upsampling_is_bounded_by_the_input),
        cmocka_unit_test(few_samples_at_an_awkward_rate_cost_little),
    };
    return cmocka_run_group_tests_name("audio: resample", tests, NULL, NULL);
}
