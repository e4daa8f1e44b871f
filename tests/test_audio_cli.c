/* `meld features` end to end: runs $MELD_BIN (skips when unset) and checks
 * its .npy output against the library, its --list, and its errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "audio/functionals.h"
#include "audio/npy.h"
#include "audio/resample.h"
#include "audio/spectral.h"
#include "audio/wav.h"
#include "tensor/error.h"

#define FIX "tests/fixtures/audio/"

static char dir[256];

/* Runs `$MELD_BIN features ARGS` with stdout and stderr captured to files
 * in dir; returns the exit status. */
static int run(const char *args)
{
    const char *bin = getenv("MELD_BIN");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' features %s >'%s/out.txt' 2>'%s/err.txt'", bin, args, dir, dir);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Contents of dir/NAME (static buffer, NUL-terminated). */
static const char *captured(const char *name)
{
    static char buf[65536];
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static int setup(void **state)
{
    (void)state;
    const char *bin = getenv("MELD_BIN");
    if (!bin || access(bin, X_OK) != 0) return 0;
    snprintf(dir, sizeof dir, "/tmp/meld-test-cli-audio-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    if (dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) return -1;
    }
    return 0;
}

static void need_meld(void)
{
    if (!dir[0]) {
        print_message("MELD_BIN not set (or not executable): skipping the CLI tests\n");
        skip();
    }
}

static void logmel_npy_equals_the_library(void **state)
{
    (void)state;
    need_meld();
    char args[600], out[400];
    snprintf(out, sizeof out, "%s/lm.npy", dir);
    snprintf(args, sizeof args, FIX "espeak_16k.wav --kind logmel --mels 40 --out '%s'", out);
    assert_int_equal(run(args), 0);
    assert_non_null(strstr(captured("out.txt"), "logmel"));
    float *m, *ref;
    size_t rows, cols, frames;
    assert_int_equal(npy_read_f32(out, &m, &rows, &cols), MELD_OK);
    Audio a;
    assert_int_equal(wav_read(FIX "espeak_16k.wav", &a), MELD_OK);
    assert_int_equal(audio_log_mel_16k(a.samples, a.n_samples, 40, &ref, &frames), MELD_OK);
    assert_int_equal(rows, frames);
    assert_int_equal(cols, 40);
    assert_memory_equal(m, ref, rows * cols * sizeof(float));
    free(m);
    free(ref);
    audio_free(&a);
}

/* A 48 kHz file is resampled exactly as the library would; the functional
 * vector is one row of 1771 values. */
static void resampled_functionals(void **state)
{
    (void)state;
    need_meld();
    char wav[400], out[400], args[900];
    snprintf(wav, sizeof wav, "%s/tone48k.wav", dir);
    snprintf(out, sizeof out, "%s/f.npy", dir);
    size_t n = 48000 / 2;
    float *x = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) x[i] = (float)(0.3 * sin(2 * M_PI * 150 * (double)i / 48000));
    assert_int_equal(wav_write_pcm16(wav, x, n, 48000), MELD_OK);
    snprintf(args, sizeof args, "'%s' --kind functionals --out '%s'", wav, out);
    assert_int_equal(run(args), 0);
    assert_non_null(strstr(captured("err.txt"), "resampled to 16 kHz"));
    float *m;
    size_t rows, cols;
    assert_int_equal(npy_read_f32(out, &m, &rows, &cols), MELD_OK);
    assert_int_equal(rows, 1);
    assert_int_equal(cols, FUNCTIONALS_DIM);
    Audio a;
    assert_int_equal(wav_read(wav, &a), MELD_OK);
    assert_int_equal(audio_to_16k(&a), MELD_OK);
    float *v = malloc(FUNCTIONALS_DIM * sizeof(float));
    assert_int_equal(audio_functionals(a.samples, a.n_samples, v), MELD_OK);
    assert_memory_equal(m, v, FUNCTIONALS_DIM * sizeof(float));
    assert_float_equal(v[1736 + 7], 150, 1.5); /* voiced median f0 */
    free(v);
    free(m);
    free(x);
    audio_free(&a);
}

static void summary_and_list(void **state)
{
    (void)state;
    need_meld();
    assert_int_equal(run(FIX "espeak_16k.wav --kind lld"), 0);
    const char *o = captured("out.txt");
    assert_non_null(strstr(o, "lld: 81 x 62 float32"));
    assert_non_null(strstr(o, "voicing"));
    assert_int_equal(run("--list"), 0);
    o = captured("out.txt");
    int lines = 0;
    for (const char *p = o; *p; p++) lines += *p == '\n';
    assert_int_equal(lines, FUNCTIONALS_DIM);
    assert_memory_equal(o, "rms_mean\nrms_std\n", 16);
    assert_non_null(strstr(o, "\npause_fraction\n"));
    assert_int_equal(run("--help"), 0);
    assert_non_null(strstr(captured("out.txt"), "usage: meld features"));
}

static void errors_and_usage(void **state)
{
    (void)state;
    need_meld();
    assert_int_equal(run("/nonexistent/x.wav"), 1);
    assert_non_null(strstr(captured("err.txt"), "meld features: /nonexistent/x.wav: cannot open"));
    assert_int_equal(run(FIX "synth.mel80.npy"), 1);
    assert_non_null(strstr(captured("err.txt"), "not a WAV file"));
    assert_int_equal(run(FIX "espeak_16k.wav --kind spectrogram"), 2);
    assert_int_equal(run(FIX "espeak_16k.wav --kind lld --mels 40"), 2);
    assert_int_equal(run(FIX "espeak_16k.wav --kind mfcc --mels 8"), 2);
    assert_int_equal(run(FIX "espeak_16k.wav --mels 0"), 2);
    assert_int_equal(run(""), 2);
    assert_int_equal(run(FIX "espeak_16k.wav --out /nonexistent/dir/x.npy"), 1);
    assert_non_null(strstr(captured("err.txt"), "/nonexistent/dir/x.npy"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(logmel_npy_equals_the_library),
        cmocka_unit_test(resampled_functionals),
        cmocka_unit_test(summary_and_list),
        cmocka_unit_test(errors_and_usage),
    };
    return cmocka_run_group_tests_name("audio: cli", tests, setup, teardown);
}
