/* audio/spectral.h against torchaudio 0.13 (fixtures made by
 * tests/fixtures/make_audio_fixtures.py, computed in float64) and against
 * first principles (a naive DFT of a reflect-padded frame).
 *
 * Tolerance on spectra: |ours - ref| <= 1e-4 |ref| + 1e-6 max(frame), i.e.
 * 1e-4 relative wherever a value is within 60 dB of its frame's peak; below
 * that, float32 FFT rounding (~1e-7 of the frame's energy) dominates any
 * relative comparison and the absolute term takes over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "audio/npy.h"
#include "audio/spectral.h"
#include "audio/wav.h"
#include "tensor/cpu.h"
#include "tensor/error.h"
#include "tensor/rng.h"

#define FIX "tests/fixtures/audio/"

static float *load_ref(const char *name, size_t *rows, size_t *cols)
{
    char path[256];
    snprintf(path, sizeof path, FIX "%s", name);
    float *m;
    if (npy_read_f32(path, &m, rows, cols)) fail_msg("%s", meld_error());
    return m;
}

static Audio load_wav(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, FIX "%s", name);
    Audio a;
    if (wav_read(path, &a)) fail_msg("%s", meld_error());
    assert_int_equal(a.sample_rate, 16000);
    return a;
}

/* Worst |ours - ref| / (rel |ref| + abs_frac max|frame|) over a frames x dims
 * matrix: <= 1 passes. */
static double spectral_error(const float *ours, const float *ref, size_t frames, size_t dims, double rel,
                             double abs_frac)
{
    double worst = 0;
    for (size_t f = 0; f < frames; f++) {
        double mx = 0;
        for (size_t d = 0; d < dims; d++) mx = fmax(mx, fabs(ref[f * dims + d]));
        for (size_t d = 0; d < dims; d++) {
            double e = fabs((double)ours[f * dims + d] - ref[f * dims + d]);
            double tol = rel * fabs(ref[f * dims + d]) + abs_frac * mx + 1e-30;
            worst = fmax(worst, e / tol);
        }
    }
    return worst;
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

static void filterbanks_match_torchaudio(void **state)
{
    (void)state;
    size_t r, c;
    float fb[129 * 40];
    SpectralConfig cfg = spectral_config_default(40);
    cfg.n_fft = 256;
    float *ref = load_ref("fb_htk_256_40.npy", &r, &c);
    assert_int_equal(r, 129);
    assert_int_equal(c, 40);
    assert_int_equal(mel_filterbank(&cfg, fb), MELD_OK);
    /* Weights are <= 1. torchaudio computes the triangle corners in float32
     * (Hz values up to 8000 with ~1e-7 relative error, i.e. ~1e-3 Hz), which
     * moves weights by a few 1e-6; ours are computed in double. */
    print_message("HTK filterbank max |diff| %.2e\n", max_abs_diff(fb, ref, r * c));
    assert_true(max_abs_diff(fb, ref, r * c) < 1e-5);
    free(ref);
    cfg.f_min = 30;
    cfg.f_max = 7000;
    cfg.scale = MEL_SCALE_SLANEY;
    cfg.norm = MEL_NORM_SLANEY;
    ref = load_ref("fb_slaney_256_40.npy", &r, &c);
    assert_int_equal(mel_filterbank(&cfg, fb), MELD_OK);
    print_message("Slaney filterbank max |diff| %.2e\n", max_abs_diff(fb, ref, r * c));
    assert_true(max_abs_diff(fb, ref, r * c) < 1e-7); /* Slaney weights are ~2 / bandwidth ~ 1e-2 */
    free(ref);
}

static void mel_scales_invert(void **state)
{
    (void)state;
    for (double hz = 0; hz <= 8000; hz += 250) {
        assert_float_equal(mel_to_hz(hz_to_mel(hz, MEL_SCALE_HTK), MEL_SCALE_HTK), hz, 1e-9);
        assert_float_equal(mel_to_hz(hz_to_mel(hz, MEL_SCALE_SLANEY), MEL_SCALE_SLANEY), hz, 1e-9);
    }
    assert_float_equal(hz_to_mel(1000, MEL_SCALE_SLANEY), 15.0, 1e-12); /* 1 kHz = 15 Slaney Mels */
    assert_float_equal(hz_to_mel(700, MEL_SCALE_HTK), 2595 * log10(2.0), 1e-9);
}

/* Power spectrogram of the synthetic clip: n_fft 400 (lane kernels), 202
 * (2 x 101: Bluestein, scalar path) and 255 (odd). */
static void power_spectrogram_matches_torchaudio(void **state)
{
    (void)state;
    Audio a = load_wav("synth_16k_f32.wav");
    static const struct {
        const char *ref;
        int n_fft, hop;
    } cases[] = {{"synth.power.npy", 400, 160}, {"synth.power_nfft202.npy", 202, 100}, {"synth.power_nfft255.npy", 255, 100}};
    for (int i = 0; i < 3; i++) {
        size_t r, c, frames;
        float *ref = load_ref(cases[i].ref, &r, &c), *ours;
        SpectralConfig cfg = spectral_config_default(40);
        cfg.n_fft = cases[i].n_fft;
        cfg.hop = cases[i].hop;
        SpectralPlan *p = spectral_plan_create(&cfg);
        assert_non_null(p);
        assert_int_equal(spectral_power(p, a.samples, a.n_samples, &ours, &frames), MELD_OK);
        assert_int_equal(frames, r);
        assert_int_equal(c, (size_t)(cases[i].n_fft / 2 + 1));
        double e = spectral_error(ours, ref, r, c, 1e-4, 1e-6);
        print_message("power n_fft %d: worst error %.3f of tolerance\n", cases[i].n_fft, e);
        assert_true(e <= 1.0);
        free(ours);
        free(ref);
        spectral_plan_free(p);
    }
    audio_free(&a);
}

static void mel_and_mfcc_match_torchaudio_on_recordings(void **state)
{
    (void)state;
    static const char *stems[] = {"alsa_front_center", "espeak", "synth"};
    static const char *wavs[] = {"alsa_front_center_16k.wav", "espeak_16k.wav", "synth_16k_f32.wav"};
    SpectralConfig c80 = spectral_config_default(80), c40 = spectral_config_default(40);
    SpectralPlan *p80 = spectral_plan_create(&c80), *p40 = spectral_plan_create(&c40);
    for (int s = 0; s < 3; s++) {
        Audio a = load_wav(wavs[s]);
        char name[128];
        size_t r, c, frames;
        float *ours;
        snprintf(name, sizeof name, "%s.mel80.npy", stems[s]);
        float *ref = load_ref(name, &r, &c);
        assert_int_equal(spectral_mel(p80, a.samples, a.n_samples, &ours, &frames), MELD_OK);
        assert_int_equal(frames, r);
        double e = spectral_error(ours, ref, r, c, 1e-4, 1e-6);
        print_message("%s: Mel (80) worst error %.3f of tolerance\n", stems[s], e);
        assert_true(e <= 1.0);
        free(ours);
        /* log-Mel: ln(max(mel, 1e-10)) of the same reference. */
        assert_int_equal(spectral_log_mel(p80, a.samples, a.n_samples, 1e-10f, &ours, &frames), MELD_OK);
        /* The Mel tolerance in the log domain: |d ln v| = |dv| / v
         * <= 1e-4 + 1e-6 max(frame) / v (the floor clamps both sides). */
        double worst = 0, worst20 = 0;
        for (size_t i = 0; i < r * c; i++) {
            double v = fmax(ref[i], 1e-10), want = log(v), mx = 0;
            for (size_t d = 0; d < c; d++) mx = fmax(mx, ref[(i / c) * c + d]);
            double e = fabs(ours[i] - want);
            worst = fmax(worst, e / (1e-4 + 1e-6 * mx / v));
            if (v > 1e-2 * mx) worst20 = fmax(worst20, e);
        }
        print_message("%s: log-Mel worst error %.3f of tolerance; max |diff| %.2e within 20 dB of the frame peak\n",
                      stems[s], worst, worst20);
        assert_true(worst <= 1.0);
        free(ours);
        free(ref);
        /* MFCC: dB values (about -100..+20) through an orthonormal DCT. */
        snprintf(name, sizeof name, "%s.mfcc13.npy", stems[s]);
        ref = load_ref(name, &r, &c);
        assert_int_equal(spectral_mfcc(p40, a.samples, a.n_samples, 13, &ours, &frames), MELD_OK);
        assert_int_equal(frames, r);
        assert_int_equal(c, 13);
        double d = max_abs_diff(ours, ref, r * c);
        print_message("%s: MFCC max |diff| %.2e\n", stems[s], d);
        assert_true(d < 1e-3);
        free(ours);
        free(ref);
        audio_free(&a);
    }
    spectral_plan_free(p80);
    spectral_plan_free(p40);
}

/* Slaney scale + norm with a limited range, dB with top_db, and deltas. */
static void slaney_db_and_deltas_match_torchaudio(void **state)
{
    (void)state;
    Audio a = load_wav("synth_16k_f32.wav");
    size_t r, c, frames;
    float *ours, *ref = load_ref("synth.logmel40_slaney.npy", &r, &c);
    SpectralConfig cfg = spectral_config_default(40);
    cfg.f_min = 30;
    cfg.f_max = 7000;
    cfg.scale = MEL_SCALE_SLANEY;
    cfg.norm = MEL_NORM_SLANEY;
    SpectralPlan *p = spectral_plan_create(&cfg);
    assert_int_equal(spectral_log_mel(p, a.samples, a.n_samples, 1e-10f, &ours, &frames), MELD_OK);
    assert_int_equal(frames, r);
    double d = max_abs_diff(ours, ref, r * c);
    print_message("Slaney log-Mel max |diff| %.2e\n", d);
    assert_true(d < 2e-4);
    free(ours);
    free(ref);
    spectral_plan_free(p);

    SpectralConfig c80 = spectral_config_default(80);
    p = spectral_plan_create(&c80);
    ref = load_ref("synth.mel80_db_top40.npy", &r, &c);
    assert_int_equal(spectral_mel_db(p, a.samples, a.n_samples, 40.0f, &ours, &frames), MELD_OK);
    d = max_abs_diff(ours, ref, r * c);
    print_message("dB (top_db 40) max |diff| %.2e\n", d);
    assert_true(d < 1e-3);
    free(ours);
    free(ref);
    spectral_plan_free(p);

    SpectralConfig c40 = spectral_config_default(40);
    p = spectral_plan_create(&c40);
    float *mfcc;
    assert_int_equal(spectral_mfcc(p, a.samples, a.n_samples, 13, &mfcc, &frames), MELD_OK);
    ref = load_ref("synth.mfcc13_deltas.npy", &r, &c);
    float *delta = malloc(frames * 13 * sizeof(float));
    assert_int_equal(compute_deltas(mfcc, frames, 13, 5, delta), MELD_OK);
    d = max_abs_diff(delta, ref, r * c);
    print_message("MFCC deltas max |diff| %.2e\n", d);
    assert_true(d < 2e-4);
    free(delta);
    free(mfcc);
    free(ref);
    spectral_plan_free(p);
    audio_free(&a);
}

/* First principles: frame 0 of a 500-sample signal is centred on sample 0,
 * so its first 200 samples are the reflection x[200..1]. */
static void first_frame_is_reflect_padded_and_hann_windowed(void **state)
{
    (void)state;
    float x[500];
    Rng r;
    rng_seed(&r, 5, 5);
    for (int i = 0; i < 500; i++) x[i] = rng_uniform_range(&r, -1, 1);
    SpectralConfig cfg = spectral_config_default(40);
    SpectralPlan *p = spectral_plan_create(&cfg);
    float *P;
    size_t frames;
    assert_int_equal(spectral_power(p, x, 500, &P, &frames), MELD_OK);
    assert_int_equal(frames, 1 + 500 / 160);
    for (int f = 0; f < 4; f++) {
        double fr[400];
        for (int j = 0; j < 400; j++) {
            int i = f * 160 + j - 200;
            if (i < 0) i = -i;
            if (i > 499) i = 2 * 499 - i;
            fr[j] = x[i] * (0.5 - 0.5 * cos(2 * M_PI * j / 400));
        }
        for (int k = 0; k <= 200; k += 7) {
            double re = 0, im = 0;
            for (int j = 0; j < 400; j++) {
                re += fr[j] * cos(2 * M_PI * j * k / 400);
                im -= fr[j] * sin(2 * M_PI * j * k / 400);
            }
            double want = re * re + im * im, got = P[f * 201 + k];
            assert_true(fabs(got - want) <= 1e-4 * want + 1e-5);
        }
    }
    free(P);
    spectral_plan_free(p);
}

/* torch refuses these; we define them (repeated reflection, replicate for
 * one sample, zeros for none) and every value stays finite. */
static void short_signals_are_defined(void **state)
{
    (void)state;
    SpectralConfig cfg = spectral_config_default(40);
    SpectralPlan *p = spectral_plan_create(&cfg);
    float x[150], *m;
    for (int i = 0; i < 150; i++) x[i] = sinf(0.3f * i);
    size_t frames;
    static const size_t lens[] = {0, 1, 2, 150};
    for (int t = 0; t < 4; t++) {
        assert_int_equal(spectral_log_mel(p, x, lens[t], 1e-10f, &m, &frames), MELD_OK);
        assert_int_equal(frames, 1 + lens[t] / 160);
        for (size_t i = 0; i < frames * 40; i++) assert_true(isfinite(m[i]));
        if (lens[t] == 0)
            for (size_t i = 0; i < 40; i++) assert_float_equal(m[i], logf(1e-10f), 1e-5);
        free(m);
    }
    spectral_plan_free(p);
}

/* Every ISA's lane kernels give the scalar build's output bit for bit. */
static void lane_kernels_agree_bit_for_bit(void **state)
{
    (void)state;
    Audio a = load_wav("espeak_16k.wav");
    SpectralConfig cfg = spectral_config_default(80);
    CpuIsa was = cpu_isa();
    float *m[CPU_ISA_COUNT] = {NULL};
    size_t frames[CPU_ISA_COUNT];
    for (CpuIsa isa = CPU_ISA_SCALAR; isa < CPU_ISA_COUNT; isa = (CpuIsa)(isa + 1)) {
        if (!cpu_isa_supported(isa)) continue;
        cpu_set_isa(isa);
        SpectralPlan *p = spectral_plan_create(&cfg);
        assert_int_equal(spectral_log_mel(p, a.samples, a.n_samples, 1e-10f, &m[isa], &frames[isa]), MELD_OK);
        spectral_plan_free(p);
        assert_int_equal(frames[isa], frames[CPU_ISA_SCALAR]);
        assert_memory_equal(m[isa], m[CPU_ISA_SCALAR], frames[isa] * 80 * sizeof(float));
    }
    cpu_set_isa(was);
    for (int i = 0; i < CPU_ISA_COUNT; i++) free(m[i]);
    audio_free(&a);
}

/* The vectorised logarithm (stft_lanes_body.inc) against libm's, on the Mel
 * energies of speech (a single broad band, so values span many decades
 * across frames), for both the ln and the dB outputs. */
static void vector_log_is_accurate(void **state)
{
    (void)state;
    SpectralConfig cfg = spectral_config_default(1);
    SpectralPlan *p = spectral_plan_create(&cfg);
    Audio a = load_wav("espeak_16k.wav");
    float *ln, *db;
    size_t f1, f2;
    assert_int_equal(spectral_log_mel(p, a.samples, a.n_samples, 1e-10f, &ln, &f1), MELD_OK);
    assert_int_equal(spectral_mel_db(p, a.samples, a.n_samples, 0, &db, &f2), MELD_OK);
    float *mel;
    assert_int_equal(spectral_mel(p, a.samples, a.n_samples, &mel, &f2), MELD_OK);
    double worst = 0;
    for (size_t i = 0; i < f1; i++) {
        double want = log(fmax(mel[i], 1e-10));
        worst = fmax(worst, fabs(ln[i] - want) / fmax(1.0, fabs(want)));
        assert_float_equal(db[i], want * 10 / M_LN10, 1e-4 * fmax(1.0, fabs(want * 10 / M_LN10)));
    }
    print_message("vector log: worst relative error %.2e\n", worst);
    assert_true(worst < 4e-7);
    free(ln);
    free(db);
    free(mel);
    audio_free(&a);
    spectral_plan_free(p);
}

static void bad_configurations_are_errors(void **state)
{
    (void)state;
    SpectralConfig c = spectral_config_default(40);
    c.n_fft = 1;
    assert_null(spectral_plan_create(&c));
    assert_non_null(strstr(meld_error(), "n_fft"));
    c = spectral_config_default(40);
    c.hop = 0;
    assert_null(spectral_plan_create(&c));
    c = spectral_config_default(0);
    assert_null(spectral_plan_create(&c));
    c = spectral_config_default(40);
    c.f_max = 9000;
    assert_null(spectral_plan_create(&c));
    assert_non_null(strstr(meld_error(), "Mel range"));
    c = spectral_config_default(40);
    SpectralPlan *p = spectral_plan_create(&c);
    float x[1000] = {0}, *m;
    size_t frames;
    assert_int_equal(spectral_mfcc(p, x, 1000, 41, &m, &frames), MELD_ERR);
    assert_null(m);
    assert_int_equal(spectral_log_mel(p, x, 1000, 0.0f, &m, &frames), MELD_ERR);
    spectral_plan_free(p);
    /* Too many bands for the FFT: a warning, not an error. */
    meld_take_warning();
    c = spectral_config_default(128);
    c.n_fft = 64;
    p = spectral_plan_create(&c);
    assert_non_null(p);
    const char *w = meld_take_warning();
    assert_non_null(w);
    assert_non_null(strstr(w, "no FFT bin"));
    spectral_plan_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(filterbanks_match_torchaudio),
        cmocka_unit_test(mel_scales_invert),
        cmocka_unit_test(power_spectrogram_matches_torchaudio),
        cmocka_unit_test(mel_and_mfcc_match_torchaudio_on_recordings),
        cmocka_unit_test(slaney_db_and_deltas_match_torchaudio),
        cmocka_unit_test(first_frame_is_reflect_padded_and_hann_windowed),
        cmocka_unit_test(short_signals_are_defined),
        cmocka_unit_test(lane_kernels_agree_bit_for_bit),
        cmocka_unit_test(vector_log_is_accurate),
        cmocka_unit_test(bad_configurations_are_errors),
    };
    return cmocka_run_group_tests_name("audio: spectral", tests, NULL, NULL);
}
