/* Clip ingestion: the ffmpeg runner (status, last line, timeout, missing
 * program), MP4s made by ffmpeg's own test sources (skipped without
 * ffmpeg), and the ffmpeg-free inputs (.wav + .y4m, frame folders, images). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio/wav.h"
#include "pipeline/features/clip.h"
#include "pipeline/features/ffmpeg.h"
#include "tensor/error.h"
#include "video/image.h"
#include "video/sample.h"
#include "video/y4m.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/meld_video_clip_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tmp_path(char *buf, const char *name)
{
    snprintf(buf, 512, "%s/%s", tmpdir, name);
    return buf;
}

static int have_ffmpeg(void) { return ffmpeg_available("ffmpeg"); }

/* Runs ffmpeg with the given arguments (after "-v error -y"), output last. */
static void run_ffmpeg(const char *const *args, int n)
{
    const char *argv[32] = {"ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y"};
    for (int i = 0; i < n; i++) argv[6 + i] = args[i];
    argv[6 + n] = NULL;
    FfmpegProc p;
    if (ffmpeg_start(&p, argv, "test", 60, 0) || ffmpeg_finish(&p, 0)) fail_msg("%s", meld_error());
}

/* ---- the runner ----------------------------------------------------------------- */

static void runner_reports_exit_status_and_last_line(void **state)
{
    (void)state;
    const char *argv[] = {"sh", "-c", "echo first >&2; echo 'the real problem' >&2; echo >&2; exit 3", NULL};
    FfmpegProc p;
    assert_int_equal(ffmpeg_start(&p, argv, "clip 7.mp4", 10, 0), MELD_OK);
    uint8_t *out;
    size_t n;
    assert_int_equal(ffmpeg_read_all(&p, &out, &n, 1024), MELD_OK);
    free(out);
    assert_int_equal(ffmpeg_finish(&p, 0), MELD_ERR);
    assert_string_equal(meld_error(), "clip 7.mp4: ffmpeg failed (exit status 3): the real problem");
}

static void runner_collects_a_second_output_on_fd3(void **state)
{
    (void)state;
    const char *argv[] = {"sh", "-c", "printf abc; printf 12345 >&3", NULL};
    FfmpegProc p;
    assert_int_equal(ffmpeg_start(&p, argv, "x", 10, 100), MELD_OK);
    uint8_t *out;
    size_t n;
    assert_int_equal(ffmpeg_read_all(&p, &out, &n, 1024), MELD_OK);
    assert_int_equal(ffmpeg_finish(&p, 0), MELD_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "abc", 3);
    assert_int_equal(p.sinks[0].len, 5);
    assert_memory_equal(p.sinks[0].data, "12345", 5);
    free(out);
    ffmpeg_free_sinks(&p);
}

/* 40 outputs at once, each on its own fd (3 .. 42), none mixed up. */
static void runner_collects_many_sinks(void **state)
{
    (void)state;
    const char *argv[] = {"bash", "-c", "for i in $(seq 3 42); do eval \"printf out$i >&$i\"; done", NULL};
    size_t max[40];
    for (int i = 0; i < 40; i++) max[i] = 16;
    FfmpegProc p;
    assert_int_equal(ffmpeg_start_sinks(&p, argv, "x", 10, max, 40), MELD_OK);
    assert_int_equal(ffmpeg_finish(&p, 0), MELD_OK);
    for (int i = 0; i < 40; i++) {
        char want[16];
        snprintf(want, sizeof want, "out%d", i + 3);
        assert_int_equal(p.sinks[i].len, strlen(want));
        assert_memory_equal(p.sinks[i].data, want, strlen(want));
    }
    ffmpeg_free_sinks(&p);
    /* an output over its limit fails the run, naming it */
    size_t small = 2;
    const char *chatty[] = {"sh", "-c", "printf 12345 >&3", NULL};
    assert_int_equal(ffmpeg_start_sinks(&p, chatty, "y", 10, &small, 1), MELD_OK);
    assert_int_equal(ffmpeg_finish(&p, 0), MELD_ERR);
    assert_non_null(strstr(meld_error(), "y: ffmpeg output 3 is larger than 2 bytes"));
    ffmpeg_free_sinks(&p);
}

static void runner_times_out(void **state)
{
    (void)state;
    const char *argv[] = {"sleep", "30", NULL};
    FfmpegProc p;
    assert_int_equal(ffmpeg_start(&p, argv, "slow.mp4", 0.3, 0), MELD_OK);
    char buf[16];
    assert_int_equal(ffmpeg_read(&p, buf, sizeof buf), -1);
    assert_non_null(strstr(meld_error(), "slow.mp4: ffmpeg timed out after 0.3 s"));
    assert_int_equal(ffmpeg_finish(&p, 1), MELD_OK);
    assert_int_equal(p.pid, 0);
}

static void runner_names_a_missing_program(void **state)
{
    (void)state;
    const char *argv[] = {"no-such-ffmpeg-binary", "-version", NULL};
    FfmpegProc p;
    assert_int_equal(ffmpeg_start(&p, argv, "a.mp4", 10, 0), MELD_ERR);
    assert_string_equal(meld_error(), "a.mp4: no-such-ffmpeg-binary not found: install it with apt-get install ffmpeg");
}

/* ---- MP4 through ffmpeg ------------------------------------------------------------ */

static void mean_rgb(const Image *im, double m[3])
{
    m[0] = m[1] = m[2] = 0;
    size_t n = (size_t)im->width * im->height;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) m[c] += im->pixels[3 * i + c];
    for (int c = 0; c < 3; c++) m[c] /= (double)n;
}

/* Frequency from rising zero crossings (the first and last 0.1 s skipped). */
static double tone_hz(const Audio *a)
{
    size_t lo = (size_t)a->sample_rate / 10, hi = a->n_samples - lo;
    size_t first = 0, last = 0;
    int count = 0;
    for (size_t i = lo; i < hi; i++)
        if (a->samples[i - 1] < 0 && a->samples[i] >= 0) {
            if (!count) first = i;
            last = i;
            count++;
        }
    return count > 1 ? (count - 1) * (double)a->sample_rate / (double)(last - first) : 0;
}

static void mp4_frames_and_audio_match_what_was_encoded(void **state)
{
    (void)state;
    if (!have_ffmpeg()) {
        print_message("skipped: ffmpeg not on PATH (apt-get install ffmpeg)\n");
        skip();
    }
    char path[512];
    /* a name a shell would mangle: spaces, quotes, $ */
    tmp_path(path, "clip with 'quote' \"dq\" $HOME.mp4");
    const char *args[] = {"-f", "lavfi", "-i", "color=c=0x3060C0:s=96x64:r=25:d=2", "-f", "lavfi", "-i",
                          "sine=frequency=440:sample_rate=44100:duration=2", "-c:v", "libx264", "-pix_fmt",
                          "yuv420p", "-c:a", "aac", "-shortest", path};
    run_ffmpeg(args, 16);
    ClipOptions o = clip_default_options();
    Clip c;
    if (clip_load(path, &o, &c)) fail_msg("%s", meld_error());
    assert_int_equal(c.used_ffmpeg, 1);
    assert_int_equal(c.total_frames, 50);
    assert_int_equal(c.n_frames, 4);
    const long want_idx[4] = {6, 18, 31, 43};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(c.frame_index[i], want_idx[i]);
        assert_int_equal(c.frames[i].width, 96);
        assert_int_equal(c.frames[i].height, 64);
        double m[3];
        mean_rgb(&c.frames[i], m);
        if (fabs(m[0] - 0x30) > 8 || fabs(m[1] - 0x60) > 8 || fabs(m[2] - 0xC0) > 8)
            fail_msg("frame %d mean colour %.1f %.1f %.1f, encoded 48 96 192", i, m[0], m[1], m[2]);
    }
    assert_int_equal(c.audio.sample_rate, 16000);
    /* 2 s, give or take the AAC encoder's priming and padding */
    assert_true(labs((long)c.audio.n_samples - 32000) < 1600);
    double f = tone_hz(&c.audio);
    if (fabs(f - 440) > 3) fail_msg("tone at %.1f Hz, encoded 440", f);
    clip_free(&c);
}

/* Every frame of a clip as packed 64x48 RGB, decoded by ffmpeg alone. */
static uint8_t *full_decode_rgb(const char *mp4, const char *raw, long *n)
{
    const char *all[] = {"-i", mp4, "-vsync", "passthrough", "-pix_fmt", "rgb24", "-f", "rawvideo", raw};
    run_ffmpeg(all, 9);
    FILE *f = fopen(raw, "rb");
    assert_non_null(f);
    static uint8_t buf[1 << 22];
    size_t bytes = fread(buf, 1, sizeof buf, f);
    fclose(f);
    *n = (long)(bytes / (64 * 48 * 3));
    return buf;
}

/* The sampled frames are exactly frames 6, 18, 31, 43 of a full decode. */
static void mp4_sampled_frames_are_the_right_ones(void **state)
{
    (void)state;
    if (!have_ffmpeg()) {
        print_message("skipped: ffmpeg not on PATH (apt-get install ffmpeg)\n");
        skip();
    }
    char mp4[512], raw[512];
    tmp_path(mp4, "testsrc.mp4");
    tmp_path(raw, "testsrc_all.rgb");
    const char *make[] = {"-f", "lavfi", "-i", "testsrc=size=64x48:rate=25:duration=2", "-c:v", "libx264",
                          "-pix_fmt", "yuv420p", mp4};
    run_ffmpeg(make, 9);
    long n;
    const uint8_t *all = full_decode_rgb(mp4, raw, &n);
    assert_int_equal(n, 50);
    ClipOptions o = clip_default_options();
    o.want_audio = 0;
    Clip c;
    if (clip_load(mp4, &o, &c)) fail_msg("%s", meld_error());
    const size_t fb = 64 * 48 * 3;
    for (int k = 0; k < 4; k++) {
        assert_memory_equal(all + c.frame_index[k] * fb, c.frames[k].pixels, fb);
        /* neighbours differ: the check can fail */
        assert_true(memcmp(all + (c.frame_index[k] + 1) * fb, c.frames[k].pixels, fb) != 0);
    }
    clip_free(&c);
}

/* What clip_load_many saw, per clip. */
typedef struct {
    ClipProblem problem[8];
    char message[8][600];
    Image frames[8][4];
    int decodes[8], visits[8];
} Seen;

static int record_clip(void *ctx, int i, Clip *c, ClipProblem problem, const char *message)
{
    Seen *s = ctx;
    s->visits[i]++;
    s->problem[i] = problem;
    snprintf(s->message[i], sizeof s->message[i], "%s", message);
    if (c) {
        s->decodes[i] = c->decodes;
        for (int k = 0; k < 4; k++) s->frames[i][k] = c->frames[k], c->frames[k] = (Image){0};
    }
    return MELD_OK;
}

/* Lines of a file holding both needles. */
static int count_lines(const char *path, const char *needle, const char *and_needle)
{
    FILE *f = fopen(path, "r");
    char line[8192];
    int n = 0;
    while (f && fgets(line, sizeof line, f)) n += strstr(line, needle) && strstr(line, and_needle);
    if (f) fclose(f);
    return n;
}

/* Six clips in one call: three good MP4s, one without audio, one damaged,
 * one FIFO. ffmpeg (through a wrapper logging each run) runs once to list
 * the packets and once to decode the three good clips together, and each
 * problem is named. The frames are those clip_load gives for each alone. */
static void many_clips_one_decode_each(void **state)
{
    (void)state;
    if (!have_ffmpeg()) {
        print_message("skipped: ffmpeg not on PATH (apt-get install ffmpeg)\n");
        skip();
    }
    char paths[6][512], wrapper[512], log[512];
    const char *names[6] = {"dia0_utt0.mp4", "dia0_utt1.mp4", "dia0_utt2.mp4", "silent.mp4", "broken.mp4", "fifo.mp4"};
    for (int i = 0; i < 6; i++) tmp_path(paths[i], names[i]);
    for (int i = 0; i < 4; i++) {
        char src[80], dur[8];
        snprintf(src, sizeof src, "testsrc=size=64x48:rate=%d:duration=1", 10 + 5 * i);
        snprintf(dur, sizeof dur, "%d", 1);
        const char *with_audio[] = {"-f", "lavfi", "-i", src, "-f", "lavfi", "-i", "sine=duration=1",
                                    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", paths[i]};
        const char *silent[] = {"-f", "lavfi", "-i", src, "-c:v", "libx264", "-pix_fmt", "yuv420p", paths[i]};
        if (i < 3) run_ffmpeg(with_audio, 16);
        else run_ffmpeg(silent, 9);
    }
    FILE *f = fopen(paths[4], "wb");
    assert_non_null(f);
    fputs("not an mp4 at all", f);
    fclose(f);
    assert_int_equal(mkfifo(paths[5], 0600), 0);
    tmp_path(log, "ffmpeg.log");
    tmp_path(wrapper, "ffmpeg-logged");
    f = fopen(wrapper, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\necho \"$*\" >> '%s'\nexec ffmpeg \"$@\"\n", log);
    fclose(f);
    assert_int_equal(chmod(wrapper, 0755), 0);

    ClipOptions o = clip_default_options();
    o.ffmpeg = wrapper;
    static Seen seen;
    memset(&seen, 0, sizeof seen);
    const char *list[6] = {paths[0], paths[1], paths[2], paths[3], paths[4], paths[5]};
    if (clip_load_many(list, 6, &o, record_clip, &seen)) fail_msg("%s", meld_error());
    for (int i = 0; i < 6; i++) assert_int_equal(seen.visits[i], 1);
    const ClipProblem want[6] = {CLIP_OK, CLIP_OK, CLIP_OK, CLIP_NO_AUDIO, CLIP_DAMAGED, CLIP_UNREADABLE};
    for (int i = 0; i < 6; i++)
        if (seen.problem[i] != want[i]) fail_msg("%s: %s, expected %s (%s)", names[i], clip_problem_name(seen.problem[i]),
                                                 clip_problem_name(want[i]), seen.message[i]);
    assert_non_null(strstr(seen.message[3], "silent.mp4: no audio stream"));
    assert_non_null(strstr(seen.message[4], "broken.mp4: ffmpeg failed: Invalid data"));
    assert_non_null(strstr(seen.message[5], "fifo.mp4: is a FIFO, not a clip"));
    /* runs: packet listings (the broken clip's failure, then the rest), one decode */
    assert_int_equal(count_lines(log, "framecrc", ""), 2);
    assert_int_equal(count_lines(log, "-filter_complex", ""), 1);
    for (int i = 0; i < 6; i++) assert_int_equal(count_lines(log, "-filter_complex", names[i]), i < 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(seen.decodes[i], 1);
        Clip c;
        if (clip_load(paths[i], &o, &c)) fail_msg("%s", meld_error());
        for (int k = 0; k < 4; k++) {
            assert_int_equal(c.frames[k].width, seen.frames[i][k].width);
            assert_memory_equal(c.frames[k].pixels, seen.frames[i][k].pixels, 64 * 48 * 3);
            image_free(&seen.frames[i][k]);
        }
        clip_free(&c);
    }
}

/* A clip cut with stream copy (ffmpeg -ss T -c copy) keeps the packets
 * before the cut, which the decoder drops (an edit list): the container's
 * count (100) is not what decodes (67). The clip is decoded again with the
 * decoded count, and its frames are those of a plain full decode. */
static void wrong_container_count_is_decoded_again(void **state)
{
    (void)state;
    if (!have_ffmpeg()) {
        print_message("skipped: ffmpeg not on PATH (apt-get install ffmpeg)\n");
        skip();
    }
    char whole[512], cut[512], raw[512];
    tmp_path(whole, "gop.mp4");
    tmp_path(cut, "cut.mp4");
    tmp_path(raw, "cut_all.rgb");
    const char *make[] = {"-f", "lavfi", "-i", "testsrc=size=64x48:rate=25:duration=4", "-c:v", "libx264",
                          "-g", "50", "-pix_fmt", "yuv420p", whole};
    run_ffmpeg(make, 11);
    const char *trim[] = {"-ss", "1.3", "-i", whole, "-c", "copy", cut};
    run_ffmpeg(trim, 7);
    long n;
    const uint8_t *all = full_decode_rgb(cut, raw, &n);
    ClipOptions o = clip_default_options();
    o.want_audio = 0;
    Clip c;
    if (clip_load(cut, &o, &c)) fail_msg("%s", meld_error());
    assert_int_equal(c.decodes, 2);
    assert_int_equal(c.total_frames, n);
    long idx[4];
    frame_sample_indices(n, 4, idx);
    for (int k = 0; k < 4; k++) assert_memory_equal(all + idx[k] * 64 * 48 * 3, c.frames[k].pixels, 64 * 48 * 3);
    clip_free(&c);
}

static void truncated_mp4_and_appledouble_are_reported(void **state)
{
    (void)state;
    if (!have_ffmpeg()) {
        print_message("skipped: ffmpeg not on PATH (apt-get install ffmpeg)\n");
        skip();
    }
    char full[512], cut[512], apple[512];
    tmp_path(full, "whole.mp4");
    tmp_path(cut, "dia125_utt3.mp4");
    tmp_path(apple, "._dia1_utt0.mp4");
    const char *make[] = {"-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=1", "-f", "lavfi", "-i",
                          "sine=frequency=300:duration=1", "-c:v", "libx264", "-c:a", "aac", "-shortest", full};
    run_ffmpeg(make, 14);
    /* the first 2 KB: ftyp and the start of mdat, no moov atom */
    FILE *in = fopen(full, "rb"), *out = fopen(cut, "wb");
    assert_non_null(in);
    assert_non_null(out);
    uint8_t buf[2048];
    assert_int_equal(fread(buf, 1, sizeof buf, in), sizeof buf);
    assert_int_equal(fwrite(buf, 1, sizeof buf, out), sizeof buf);
    fclose(in);
    fclose(out);
    ClipOptions o = clip_default_options();
    Clip c;
    assert_int_equal(clip_load(cut, &o, &c), MELD_ERR);
    assert_non_null(strstr(meld_error(), "dia125_utt3.mp4: ffmpeg failed"));
    assert_non_null(strstr(meld_error(), "Invalid data found when processing input"));
    /* macOS's AppleDouble companion: magic 00 05 16 07, version 2 */
    out = fopen(apple, "wb");
    assert_non_null(out);
    const uint8_t head[26] = {0x00, 0x05, 0x16, 0x07, 0x00, 0x02, 0x00, 0x00, 'M', 'a', 'c', ' ', 'O', 'S', ' ', 'X'};
    assert_int_equal(fwrite(head, 1, sizeof head, out), sizeof head);
    fclose(out);
    assert_int_equal(clip_is_appledouble(apple), 1);
    assert_int_equal(clip_is_appledouble(full), 0);
    assert_int_equal(clip_load(apple, &o, &c), MELD_ERR);
    assert_non_null(strstr(meld_error(), "AppleDouble"));
    /* the good clip still loads after the failures */
    assert_int_equal(clip_load(full, &o, &c), MELD_OK);
    assert_int_equal(c.total_frames, 25);
    clip_free(&c);
}

/* ---- without ffmpeg ----------------------------------------------------------------------- */

/* 10 frames, frame i a flat grey 20 i + 20, written through the Y4M writer. */
static void write_counting_y4m(const char *path)
{
    Y4mWriter w;
    Image im;
    assert_int_equal(image_alloc(&im, 24, 16, 3), MELD_OK);
    assert_int_equal(y4m_writer_open(&w, path, 24, 16, 10, 1), MELD_OK);
    for (int i = 0; i < 10; i++) {
        memset(im.pixels, 20 * i + 20, 24 * 16 * 3);
        assert_int_equal(y4m_writer_write_rgb(&w, &im), MELD_OK);
    }
    assert_int_equal(y4m_writer_close(&w), MELD_OK);
    image_free(&im);
}

static void write_tone(const char *path, int rate)
{
    float *x = malloc(sizeof(float) * (size_t)rate);
    assert_non_null(x);
    for (int i = 0; i < rate; i++) x[i] = 0.5f * (float)sin(2 * M_PI * 440.0 * i / rate);
    assert_int_equal(wav_write_pcm16(path, x, (size_t)rate, rate), MELD_OK);
    free(x);
}

/* K = 4 of 10 frames: floor((k + 0.5) 10 / 4) = 1, 3, 6, 8 */
static void check_counting_frames(const Clip *c)
{
    const long want[4] = {1, 3, 6, 8};
    assert_int_equal(c->total_frames, 10);
    assert_int_equal(c->n_frames, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(c->frame_index[i], want[i]);
        int v = c->frames[i].pixels[0];
        if (abs(v - (int)(20 * want[i] + 20)) > 2) fail_msg("frame %d has grey %d, want %ld", i, v, 20 * want[i] + 20);
    }
}

static void wav_and_y4m_pair_without_ffmpeg(void **state)
{
    (void)state;
    char wav[512], y4m[512], mp4[512];
    write_tone(tmp_path(wav, "pair.wav"), 16000);
    write_counting_y4m(tmp_path(y4m, "pair.y4m"));
    tmp_path(mp4, "pair.mp4");
    FILE *fp = fopen(mp4, "wb");
    assert_non_null(fp);
    fputs("not really an mp4", fp);
    fclose(fp);
    /* hide ffmpeg: the pair must not need it; an MP4 must say how to get it */
    char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    setenv("PATH", "/nonexistent-meld-test", 1);
    ClipOptions o = clip_default_options();
    Clip c;
    const char *inputs[2] = {wav, y4m};
    for (int i = 0; i < 2; i++) {
        if (clip_load(inputs[i], &o, &c)) fail_msg("%s: %s", inputs[i], meld_error());
        assert_int_equal(c.used_ffmpeg, 0);
        check_counting_frames(&c);
        assert_int_equal(c.audio.n_samples, 16000);
        assert_int_equal(c.audio.sample_rate, 16000);
        clip_free(&c);
    }
    assert_int_equal(clip_load(mp4, &o, &c), MELD_ERR);
    assert_non_null(strstr(meld_error(), "pair.mp4: ffmpeg not found: install it with apt-get install ffmpeg"));
    if (old) setenv("PATH", old, 1);
    else unsetenv("PATH");
    free(old);
}

static void frame_folder_with_resampled_wav(void **state)
{
    (void)state;
    char dir[512], wav[512], f[600];
    mkdir(tmp_path(dir, "utt"), 0777);
    write_tone(tmp_path(wav, "utt.wav"), 8000);
    /* f1..f10: a plain strcmp would put f10 second */
    for (int i = 0; i < 10; i++) {
        Image im;
        assert_int_equal(image_alloc(&im, 12, 10, 1), MELD_OK);
        memset(im.pixels, 20 * i + 20, 120);
        snprintf(f, sizeof f, "%s/f%d.pgm", dir, i + 1);
        assert_int_equal(pnm_write(f, &im), MELD_OK);
        image_free(&im);
    }
    snprintf(f, sizeof f, "%s/._f3.pgm", dir);   /* skipped */
    FILE *fp = fopen(f, "wb");
    assert_non_null(fp);
    fclose(fp);
    ClipOptions o = clip_default_options();
    Clip c;
    if (clip_load(dir, &o, &c)) fail_msg("%s", meld_error());
    check_counting_frames(&c);
    assert_int_equal(c.frames[0].channels, 3);
    assert_int_equal(c.audio.sample_rate, 16000);
    assert_int_equal(c.audio.n_samples, 16000);   /* 1 s at 8 kHz resampled */
    double hz = tone_hz(&c.audio);
    assert_true(fabs(hz - 440) < 3);
    clip_free(&c);
    /* a .wav whose video is missing names what it looked for */
    write_tone(tmp_path(wav, "lonely.wav"), 16000);
    assert_int_equal(clip_load(wav, &o, &c), MELD_ERR);
    assert_non_null(strstr(meld_error(), "lonely.y4m"));
}

static void still_image_is_a_one_frame_clip(void **state)
{
    (void)state;
    ClipOptions o = clip_default_options();
    Clip c;
    assert_int_equal(clip_load("tests/fixtures/video/hopper_grey.pgm", &o, &c), MELD_ERR);
    assert_non_null(strstr(meld_error(), "no audio"));
    o.want_audio = 0;
    assert_int_equal(clip_load("tests/fixtures/video/hopper_grey.pgm", &o, &c), MELD_OK);
    assert_int_equal(c.total_frames, 1);
    assert_int_equal(c.n_frames, 4);
    assert_int_equal(c.frames[3].width, 170);
    assert_int_equal(c.frames[3].channels, 3);
    assert_memory_equal(c.frames[3].pixels, c.frames[0].pixels, 170 * 200 * 3);
    clip_free(&c);
    assert_int_equal(clip_load("/nonexistent/x.mp4", &o, &c), MELD_ERR);
    assert_non_null(strstr(meld_error(), "x.mp4: no such file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(runner_reports_exit_status_and_last_line),
        cmocka_unit_test(runner_collects_a_second_output_on_fd3),
        cmocka_unit_test(runner_collects_many_sinks),
        cmocka_unit_test(runner_times_out),
        cmocka_unit_test(runner_names_a_missing_program),
        cmocka_unit_test(mp4_frames_and_audio_match_what_was_encoded),
        cmocka_unit_test(mp4_sampled_frames_are_the_right_ones),
        cmocka_unit_test(many_clips_one_decode_each),
        cmocka_unit_test(wrong_container_count_is_decoded_again),
        cmocka_unit_test(truncated_mp4_and_appledouble_are_reported),
        cmocka_unit_test(wav_and_y4m_pair_without_ffmpeg),
        cmocka_unit_test(frame_folder_with_resampled_wav),
        cmocka_unit_test(still_image_is_a_one_frame_clip),
    };
    return cmocka_run_group_tests_name("video: clip", tests, setup_dir, remove_dir);
}
