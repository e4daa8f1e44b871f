/* audio/wav.h: every supported layout, the writers, malformed files, and
 * fuzz-style random / truncated / corrupted bytes (meant to run under
 * ASan + UBSan: every parse gets an exact-size heap copy, so one byte of
 * over-read is caught). */
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

#include "audio/wav.h"
#include "tensor/error.h"
#include "tensor/rng.h"

#define FIX "tests/fixtures/audio/"

static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *size = (size_t)n;
    return b;
}

/* Parses an exact-size heap copy of data[0, size) (so ASan sees any
 * over-read) and returns the status. */
static int parse_copy(const uint8_t *data, size_t size, Audio *a, WavInfo *info)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (size) memcpy(copy, data, size);
    int rc = wav_parse(copy, size, "fuzz.wav", a, info);
    free(copy);
    return rc;
}

static void tmp_path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "/tmp/meld-test-wav-%ld-%s", (long)getpid(), name);
}

/* ---- layouts ----------------------------------------------------------- */

static void every_layout_decodes_to_the_same_signal(void **state)
{
    (void)state;
    Audio ref, a;
    WavInfo info;
    assert_int_equal(wav_read_info(FIX "fmt_s16.wav", &ref, &info), MELD_OK);
    assert_int_equal(ref.n_samples, 200);
    assert_int_equal(ref.sample_rate, 16000);
    assert_int_equal(info.format, 1);
    assert_int_equal(info.bits_per_sample, 16);
    static const struct {
        const char *file;
        int format, channels, bits;
        double tol;
    } cases[] = {
        /* 8-bit keeps 8 of the 16 bits: within one step of 2^-7. */
        {FIX "fmt_u8.wav", 1, 1, 8, 1.0 / 128},
        {FIX "fmt_s24_ext.wav", 1, 1, 24, 0},
        {FIX "fmt_s32_ext.wav", 1, 1, 32, 0},
        {FIX "fmt_f32.wav", 3, 1, 32, 0},
        {FIX "fmt_f64.wav", 3, 1, 64, 0},
        {FIX "fmt_6ch_ext.wav", 1, 6, 16, 0},
        {FIX "fmt_chunks_s16.wav", 1, 1, 16, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        assert_int_equal(wav_read_info(cases[c].file, &a, &info), MELD_OK);
        assert_int_equal(a.n_samples, 200);
        assert_int_equal(a.sample_rate, 16000);
        assert_int_equal(info.format, cases[c].format);
        assert_int_equal(info.channels, cases[c].channels);
        assert_int_equal(info.bits_per_sample, cases[c].bits);
        assert_int_equal(info.truncated, 0);
        for (size_t i = 0; i < 200; i++) {
            if (fabs(a.samples[i] - ref.samples[i]) > cases[c].tol)
                print_error("%s sample %zu: %g vs %g\n", cases[c].file, i, a.samples[i], ref.samples[i]);
            assert_true(fabs(a.samples[i] - ref.samples[i]) <= cases[c].tol);
        }
        audio_free(&a);
    }
    /* Stereo: left = x, right = x reversed; mono is their average. */
    assert_int_equal(wav_read_info(FIX "fmt_stereo_s16.wav", &a, &info), MELD_OK);
    assert_int_equal(info.channels, 2);
    for (size_t i = 0; i < 200; i++)
        assert_float_equal(a.samples[i], 0.5f * (ref.samples[i] + ref.samples[199 - i]), 1e-7);
    audio_free(&a);
    audio_free(&ref);
    assert_null(meld_take_warning());
}

/* Integer scaling by hand-built bytes: full-scale values of each width. */
static void integer_scaling_is_exact(void **state)
{
    (void)state;
    /* header for 1 channel, rate 8000, given bits; then 2 samples */
    static const struct {
        int bits;
        uint8_t s[8];
        float v0, v1;
    } cases[] = {
        {8, {0x00, 0xFF}, -1.0f, 127.0f / 128},
        {16, {0x00, 0x80, 0xFF, 0x7F}, -1.0f, 32767.0f / 32768},
        {24, {0x00, 0x00, 0x80, 0x01, 0x00, 0x00}, -1.0f, 1.0f / 8388608},
        {32, {0x00, 0x00, 0x00, 0x80, 0xFF, 0xFF, 0xFF, 0xFF}, -1.0f, -1.0f / 2147483648.0f},
    };
    for (int c = 0; c < 4; c++) {
        int bps = cases[c].bits / 8;
        uint8_t f[44 + 8] = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' ', 16, 0, 0, 0,
                             1, 0, 1, 0, 0x40, 0x1F, 0, 0, 0, 0, 0, 0, (uint8_t)bps, 0, (uint8_t)cases[c].bits, 0,
                             'd', 'a', 't', 'a', (uint8_t)(2 * bps), 0, 0, 0};
        memcpy(f + 44, cases[c].s, (size_t)(2 * bps));
        Audio a;
        assert_int_equal(parse_copy(f, 44 + (size_t)(2 * bps), &a, NULL), MELD_OK);
        assert_int_equal(a.n_samples, 2);
        assert_int_equal(a.sample_rate, 8000);
        assert_true(a.samples[0] == cases[c].v0);
        assert_true(a.samples[1] == cases[c].v1);
        audio_free(&a);
    }
}

/* ---- writers ----------------------------------------------------------- */

static void writers_round_trip(void **state)
{
    (void)state;
    char p16[256], pf[256];
    tmp_path(p16, sizeof p16, "w16.wav");
    tmp_path(pf, sizeof pf, "wf.wav");
    const float x[8] = {0.0f, 0.5f, -0.5f, 1.0f, -1.0f, 1.5f, -2.0f, 0.25f + 1.0f / 65536};
    assert_int_equal(wav_write_pcm16(p16, x, 8, 22050), MELD_OK);
    assert_int_equal(wav_write_float(pf, x, 8, 22050), MELD_OK);
    Audio a;
    WavInfo info;
    assert_int_equal(wav_read_info(p16, &a, &info), MELD_OK);
    assert_int_equal(a.sample_rate, 22050);
    assert_int_equal(info.bits_per_sample, 16);
    /* Clipped to [-1, 1], scaled by 32768, rounded; +1 saturates at 32767. */
    const float expect16[8] = {0.0f, 0.5f, -0.5f, 32767.0f / 32768, -1.0f, 32767.0f / 32768, -1.0f, 0.25f};
    for (int i = 0; i < 8; i++) assert_true(a.samples[i] == expect16[i]);
    audio_free(&a);
    assert_int_equal(wav_read_info(pf, &a, &info), MELD_OK);
    assert_int_equal(info.format, 3);
    for (int i = 0; i < 8; i++) assert_true(a.samples[i] == x[i]);
    audio_free(&a);
    /* Sizes: 44-byte PCM header; float has fmt(18) + fact chunks: 58. */
    size_t n16, nf;
    free(slurp(p16, &n16));
    free(slurp(pf, &nf));
    assert_int_equal(n16, 44 + 16);
    assert_int_equal(nf, 58 + 32);
    /* An empty recording is a valid WAV with no samples. */
    assert_int_equal(wav_write_pcm16(p16, NULL, 0, 16000), MELD_OK);
    assert_int_equal(wav_read(p16, &a), MELD_OK);
    assert_int_equal(a.n_samples, 0);
    audio_free(&a);
    assert_int_equal(wav_write_pcm16(p16, x, 8, 0), MELD_ERR);
    assert_non_null(strstr(meld_error(), "sample rate"));
    assert_int_equal(wav_write_float("/nonexistent-dir/x.wav", x, 8, 16000), MELD_ERR);
    assert_non_null(strstr(meld_error(), "/nonexistent-dir/x.wav"));
    remove(p16);
    remove(pf);
}

/* ---- malformed input --------------------------------------------------- */

/* Expects wav_parse to fail with a message containing `what`. */
static void expect_error(const uint8_t *data, size_t size, const char *what)
{
    Audio a;
    assert_int_equal(parse_copy(data, size, &a, NULL), MELD_ERR);
    assert_null(a.samples);
    if (!strstr(meld_error(), what)) print_error("expected '%s' in '%s'\n", what, meld_error());
    assert_non_null(strstr(meld_error(), what));
    assert_non_null(strstr(meld_error(), "fuzz.wav"));
}

static void malformed_files_are_clear_errors(void **state)
{
    (void)state;
    size_t n;
    uint8_t *good = slurp(FIX "fmt_s16.wav", &n);
    uint8_t *b = malloc(n);
    expect_error(good, 0, "empty file");
    expect_error((const uint8_t *)"hello world, not audio", 22, "not a WAV file");
    memcpy(b, good, n);
    memcpy(b, "RIFX", 4);
    expect_error(b, n, "RIFX");
    memcpy(b, good, n);
    memcpy(b + 12, "abcd", 4); /* the fmt chunk renamed: skipped, then data comes first */
    expect_error(b, n, "before the fmt chunk");
    expect_error(good, 36, "no data chunk");
    memcpy(b, good, n);
    b[16] = 12; /* fmt size 12 < 16 */
    expect_error(b, n, "fmt chunk is 12 bytes");
    memcpy(b, good, n);
    b[20] = 0x55; /* MPEG layer 3 format tag */
    expect_error(b, n, "unsupported WAV format tag 0x0055");
    memcpy(b, good, n);
    b[34] = 12; /* 12-bit samples */
    expect_error(b, n, "unsupported 12-bit PCM");
    memcpy(b, good, n);
    b[32] = 4; /* block align 4 for mono 16-bit */
    expect_error(b, n, "block align 4");
    memcpy(b, good, n);
    b[22] = 0; /* 0 channels */
    expect_error(b, n, "0 channels");
    memcpy(b, good, n);
    memset(b + 24, 0, 4); /* 0 Hz */
    expect_error(b, n, "sample rate 0");
    memcpy(b, good, n);
    /* A chunk before the data whose size runs past the end hides the
     * data: the message says which chunk, not "no data chunk". */
    uint8_t *list = malloc(n + 8);
    memcpy(list, good, 36);
    memcpy(list + 36, "LIST\xf0\xff\xff\x7f", 8);
    memcpy(list + 44, good + 36, n - 36);
    expect_error(list, n + 8, "chunk 'LIST' at byte 36 declares 2147483632 bytes but only");
    free(list);
    memcpy(b, good, n);
    b[16] = 0xF0; /* fmt chunk claims 240 bytes of a 444-byte file: parses, then runs out */
    b[17] = 0x01;
    expect_error(b, 200, "fmt chunk truncated");
    Audio a;
    assert_int_equal(wav_read("/nonexistent/file.wav", &a), MELD_ERR);
    assert_non_null(strstr(meld_error(), "/nonexistent/file.wav: cannot open"));
    assert_int_equal(wav_read("tests", &a), MELD_ERR);
    assert_non_null(strstr(meld_error(), "not a regular file"));
    free(good);
    free(b);
}

static void truncated_data_keeps_the_samples_present(void **state)
{
    (void)state;
    size_t n;
    uint8_t *good = slurp(FIX "fmt_s16.wav", &n);
    Audio ref, a;
    WavInfo info;
    assert_int_equal(parse_copy(good, n, &ref, NULL), MELD_OK);
    assert_null(meld_take_warning());
    /* Cut 101 bytes: 299 data bytes left = 149 whole samples + 1 byte. */
    assert_int_equal(parse_copy(good, n - 101, &a, &info), MELD_OK);
    assert_int_equal(a.n_samples, 149);
    assert_int_equal(info.truncated, 1);
    for (int i = 0; i < 149; i++) assert_true(a.samples[i] == ref.samples[i]);
    const char *w = meld_take_warning();
    assert_non_null(w);
    assert_non_null(strstr(w, "data chunk truncated"));
    audio_free(&a);
    /* A streaming writer's placeholder size 0xFFFFFFFF: every sample, a warning. */
    uint8_t *b = malloc(n);
    memcpy(b, good, n);
    memset(b + 40, 0xFF, 4);
    assert_int_equal(parse_copy(b, n, &a, NULL), MELD_OK);
    assert_int_equal(a.n_samples, 200);
    assert_non_null(meld_take_warning());
    audio_free(&a);
    /* Header only: zero samples, still a warning when the size lies. */
    assert_int_equal(parse_copy(good, 44, &a, &info), MELD_OK);
    assert_int_equal(a.n_samples, 0);
    assert_non_null(meld_take_warning());
    audio_free(&a);
    audio_free(&ref);
    free(good);
    free(b);
}

/* A float file holding NaN and infinity: those samples become 0 + warning. */
static void non_finite_floats_become_zero(void **state)
{
    (void)state;
    char p[256];
    tmp_path(p, sizeof p, "nan.wav");
    float x[4] = {0.25f, NAN, INFINITY, -0.75f};
    assert_int_equal(wav_write_float(p, x, 4, 16000), MELD_OK);
    Audio a;
    assert_int_equal(wav_read(p, &a), MELD_OK);
    assert_true(a.samples[0] == 0.25f && a.samples[1] == 0 && a.samples[2] == 0 && a.samples[3] == -0.75f);
    const char *w = meld_take_warning();
    assert_non_null(w);
    assert_non_null(strstr(w, "2 non-finite"));
    audio_free(&a);
    remove(p);
}

/* ---- fuzz -------------------------------------------------------------- */

/* Whatever the bytes, the parser returns OK with at most one sample per
 * byte of input, or an error with a message. */
static void check_outcome(int rc, const Audio *a, size_t size)
{
    if (rc == MELD_OK) {
        assert_true(a->n_samples <= size);
        assert_true(a->sample_rate >= 1);
        for (size_t i = 0; i < a->n_samples; i++) assert_true(isfinite(a->samples[i]));
    } else {
        assert_int_equal(rc, MELD_ERR);
        assert_null(a->samples);
        assert_true(meld_error()[0] != '\0');
    }
}

static void truncated_fixtures_never_crash(void **state)
{
    (void)state;
    static const char *files[] = {FIX "fmt_s16.wav", FIX "fmt_u8.wav", FIX "fmt_s24_ext.wav", FIX "fmt_f64.wav",
                                  FIX "fmt_6ch_ext.wav", FIX "fmt_chunks_s16.wav", FIX "fmt_f32.wav"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t n;
        uint8_t *b = slurp(files[f], &n);
        for (size_t len = 0; len <= n; len++) {
            Audio a;
            check_outcome(parse_copy(b, len, &a, NULL), &a, len);
            audio_free(&a);
        }
        free(b);
    }
    meld_take_warning();
}

static void random_bytes_never_crash(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 12345, 7);
    uint8_t buf[512];
    for (int it = 0; it < 4000; it++) {
        size_t len = rng_below(&r, sizeof buf + 1);
        for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)rng_u32(&r);
        /* Half the time start like a WAV, so the chunk walk is exercised. */
        if (it % 2 && len >= 12) memcpy(buf, it % 4 == 1 ? "RIFF\0\0\0\0WAVE" : "RIFF\xff\xff\xff\xffWAVE", 12);
        if (it % 8 == 3 && len >= 36) memcpy(buf + 12, "fmt \x10\0\0\0\x01\0", 10);
        Audio a;
        check_outcome(parse_copy(buf, len, &a, NULL), &a, len);
        audio_free(&a);
    }
    meld_take_warning();
}

/* Valid files with 1-4 random bytes overwritten (sizes, tags, counts). */
static void corrupted_headers_never_crash(void **state)
{
    (void)state;
    static const char *files[] = {FIX "fmt_s16.wav", FIX "fmt_s24_ext.wav", FIX "fmt_stereo_s16.wav",
                                  FIX "fmt_f32.wav", FIX "fmt_chunks_s16.wav"};
    Rng r;
    rng_seed(&r, 99, 3);
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t n;
        uint8_t *good = slurp(files[f], &n), *b = malloc(n);
        for (int it = 0; it < 1500; it++) {
            memcpy(b, good, n);
            int flips = 1 + (int)rng_below(&r, 4);
            for (int k = 0; k < flips; k++) {
                /* Mostly the first 80 bytes, where the header lives. */
                size_t at = rng_below(&r, 4) ? rng_below(&r, n < 80 ? (uint32_t)n : 80) : rng_below(&r, (uint32_t)n);
                b[at] = (uint8_t)rng_u32(&r);
            }
            size_t len = rng_below(&r, 4) ? n : rng_below(&r, (uint32_t)n + 1);
            Audio a;
            check_outcome(parse_copy(b, len, &a, NULL), &a, len);
            audio_free(&a);
        }
        free(good);
        free(b);
    }
    meld_take_warning();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_layout_decodes_to_the_same_signal),
        cmocka_unit_test(integer_scaling_is_exact),
        cmocka_unit_test(writers_round_trip),
        cmocka_unit_test(malformed_files_are_clear_errors),
        cmocka_unit_test(truncated_data_keeps_the_samples_present),
        cmocka_unit_test(non_finite_floats_become_zero),
        cmocka_unit_test(truncated_fixtures_never_crash),
        cmocka_unit_test(random_bytes_never_crash),
        cmocka_unit_test(corrupted_headers_never_crash),
    };
    return cmocka_run_group_tests_name("audio: wav", tests, NULL, NULL);
}
