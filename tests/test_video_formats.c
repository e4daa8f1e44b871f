/* PNM and Y4M: round trips, every chroma layout, colour ranges, bad input,
 * the atomic writer, and (when ffmpeg is present) agreement with ffmpeg. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/features/ffmpeg.h"
#include "tensor/error.h"
#include "video/color.h"
#include "video/image.h"
#include "video/y4m.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/meld_video_fmt_XXXXXX");
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

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, n, fp), n);
    fclose(fp);
}

/* A smooth colour picture: gradients, so 4:2:0 loses little. */
static void fill_gradient(Image *im, int phase)
{
    for (int y = 0; y < im->height; y++)
        for (int x = 0; x < im->width; x++) {
            uint8_t *p = im->pixels + ((size_t)y * im->width + x) * 3;
            p[0] = (uint8_t)(40 + (x * 160) / im->width + phase);
            p[1] = (uint8_t)(30 + (y * 180) / im->height);
            p[2] = (uint8_t)(200 - (x + y) * 100 / (im->width + im->height));
        }
}

static double mean_abs_diff(const Image *a, const Image *b)
{
    assert_int_equal(a->width, b->width);
    assert_int_equal(a->height, b->height);
    assert_int_equal(a->channels, b->channels);
    size_t n = (size_t)a->width * a->height * a->channels;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += abs(a->pixels[i] - b->pixels[i]);
    return s / (double)n;
}

/* ---- PNM ------------------------------------------------------------------- */

static void pnm_round_trip_grey_and_rgb(void **state)
{
    (void)state;
    char path[512];
    for (int c = 1; c <= 3; c += 2) {
        Image im, back;
        assert_int_equal(image_alloc(&im, 7, 5, c), MELD_OK);
        for (int i = 0; i < 7 * 5 * c; i++) im.pixels[i] = (uint8_t)(i * 37 + 11);
        tmp_path(path, c == 1 ? "a.pgm" : "a.ppm");
        assert_int_equal(pnm_write(path, &im), MELD_OK);
        assert_int_equal(pnm_read(path, &back), MELD_OK);
        assert_int_equal(back.channels, c);
        assert_memory_equal(back.pixels, im.pixels, (size_t)7 * 5 * c);
        image_free(&im);
        image_free(&back);
    }
}

static void pnm_header_comments_and_maxval(void **state)
{
    (void)state;
    /* comments anywhere in the header; maxval 15 rescales to 0..255 */
    const char text[] = "P5\n# made by hand\n2 # width\n1\n15\n\x0f\x05";
    Image im;
    assert_int_equal(pnm_read_memory((const uint8_t *)text, sizeof text - 1, "t.pgm", &im), MELD_OK);
    assert_int_equal(im.width, 2);
    assert_int_equal(im.height, 1);
    assert_int_equal(im.pixels[0], 255);
    assert_int_equal(im.pixels[1], 85);   /* 5 * 255 / 15 */
    image_free(&im);
}

static void expect_pnm_error(const char *data, size_t n, const char *needle)
{
    Image im;
    assert_int_equal(pnm_read_memory((const uint8_t *)data, n, "bad.pnm", &im), MELD_ERR);
    assert_null(im.pixels);
    if (!strstr(meld_error(), needle)) fail_msg("error '%s' lacks '%s'", meld_error(), needle);
    assert_non_null(strstr(meld_error(), "bad.pnm"));
}

static void pnm_bad_inputs_are_clear_errors(void **state)
{
    (void)state;
    expect_pnm_error("", 0, "not a PNM");
    expect_pnm_error("GIF89a", 6, "not a PNM");
    expect_pnm_error("P3\n1 1\n255\n0 0 0\n", 16, "P3 not supported");
    expect_pnm_error("P6\n2 2\n255\nabc", 14, "truncated");
    expect_pnm_error("P5\n2 2\n65535\n", 13, "16-bit");
    expect_pnm_error("P5\n99999 2\n255\n", 15, "over");
    expect_pnm_error("P5\n16000 16000\n255\n", 19, "over the limit");
    expect_pnm_error("P5\n0 4\n255\n", 11, "empty");
    expect_pnm_error("P5\n4", 4, "truncated");
    expect_pnm_error("P5\nx 4 255\n", 11, "not a number");
    char path[512];
    Image im;
    assert_int_equal(pnm_read(tmp_path(path, "missing.ppm"), &im), MELD_ERR);
    assert_non_null(strstr(meld_error(), "missing.ppm"));
}

/* ---- Y4M reader: layouts and ranges ---------------------------------------------- */

/* Builds a one-frame Y4M in memory from a header tail and planes. */
static size_t make_y4m(uint8_t *out, const char *header, const uint8_t *planes, size_t n)
{
    size_t h = (size_t)sprintf((char *)out, "YUV4MPEG2 %s\nFRAME\n", header);
    memcpy(out + h, planes, n);
    return h + n;
}

static int read_one(const char *name, const uint8_t *data, size_t size, Image *out, int channels)
{
    char path[512];
    write_bytes(tmp_path(path, name), data, size);
    Y4mReader r;
    if (y4m_open(&r, path)) return MELD_ERR;
    int rc = y4m_read_frame(&r, out, channels);
    y4m_close(&r);
    return rc;
}

static void y4m_444_studio_primaries(void **state)
{
    (void)state;
    /* BT.601 studio range: red (81, 90, 240), green (145, 54, 34), blue (41, 240, 110), white (235, 128, 128) */
    const uint8_t planes[] = {81, 145, 41, 235, 90, 54, 240, 128, 240, 34, 110, 128};
    const uint8_t want[] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255};
    uint8_t file[256];
    size_t n = make_y4m(file, "W4 H1 F25:1 C444", planes, sizeof planes);
    Image im = {0};
    assert_int_equal(read_one("prim.y4m", file, n, &im, 3), 1);
    for (int i = 0; i < 12; i++)
        if (abs(im.pixels[i] - want[i]) > 2) fail_msg("channel %d: got %d want %d", i, im.pixels[i], want[i]);
    /* grey = luma stretched from 16..235 to 0..255 */
    assert_int_equal(read_one("prim.y4m", file, n, &im, 1), 1);
    assert_int_equal(im.channels, 1);
    assert_true(abs(im.pixels[0] - 76) <= 1);   /* 0.299 * 255 */
    assert_int_equal(im.pixels[3], 255);
    image_free(&im);
}

static void y4m_full_range_and_mono(void **state)
{
    (void)state;
    /* full-range red: Y = 0.299 * 255, Cb = 128 - 0.1687 * 255, Cr = 255 */
    const uint8_t red[] = {76, 85, 255};
    uint8_t file[256];
    size_t n = make_y4m(file, "W1 H1 C444 XCOLORRANGE=FULL", red, sizeof red);
    Image im = {0};
    assert_int_equal(read_one("full.y4m", file, n, &im, 3), 1);
    assert_true(im.pixels[0] >= 252 && im.pixels[1] <= 2 && im.pixels[2] <= 2);
    const uint8_t grey[] = {16, 126, 235};
    n = make_y4m(file, "W3 H1 Cmono", grey, sizeof grey);
    assert_int_equal(read_one("mono.y4m", file, n, &im, 3), 1);
    assert_int_equal(im.pixels[0], 0);
    assert_int_equal(im.pixels[3], im.pixels[4]);
    assert_true(abs(im.pixels[3] - 128) <= 1);
    assert_int_equal(im.pixels[6], 255);
    image_free(&im);
}

/* 4x2 image, Y flat, Cr steps between the two chroma columns: the blend at
 * x = 1, 2 tells where each layout sites its chroma. */
static void y4m_chroma_siting(void **state)
{
    (void)state;
    struct {
        const char *tag;
        int cw, ch;
        double cr_at[4];   /* effective Cr at x = 0..3 */
    } cases[] = {
        {"C420jpeg", 2, 1, {128, 140.5, 165.5, 178}},
        {"C420mpeg2", 2, 1, {128, 153, 178, 178}},
        {"C420paldv", 2, 1, {128, 153, 178, 178}},
        {"C422", 2, 2, {128, 153, 178, 178}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        uint8_t planes[8 + 2 * 4], file[256];
        memset(planes, 128, 8);                       /* Y */
        size_t cp = (size_t)cases[k].cw * cases[k].ch;
        memset(planes + 8, 128, cp);                  /* Cb */
        for (size_t i = 0; i < cp; i++) planes[8 + cp + i] = (i % 2) ? 178 : 128;   /* Cr */
        char header[64];
        snprintf(header, sizeof header, "W4 H2 %s XCOLORRANGE=FULL", cases[k].tag);
        size_t n = make_y4m(file, header, planes, 8 + 2 * cp);
        Image im = {0};
        assert_int_equal(read_one("site.y4m", file, n, &im, 3), 1);
        for (int x = 0; x < 4; x++) {
            double r = 128 + 1.402 * (cases[k].cr_at[x] - 128);
            if (r > 255) r = 255;
            for (int y = 0; y < 2; y++)
                if (abs(im.pixels[(y * 4 + x) * 3] - (int)(r + 0.5)) > 1)
                    fail_msg("%s x=%d y=%d: R %d, want %.1f", cases[k].tag, x, y, im.pixels[(y * 4 + x) * 3], r);
        }
        image_free(&im);
    }
}

static void y4m_frame_parameters_and_count(void **state)
{
    (void)state;
    /* three 2x2 mono frames; the second FRAME header carries a parameter */
    const char data[] = "YUV4MPEG2 W2 H2 F30000:1001 Ip A1:1 Cmono XYSCSS=420JPEG\n"
                        "FRAME\n\x10\x10\x10\x10"
                        "FRAME Ixyz\n\xeb\xeb\xeb\xeb"
                        "FRAME\n\x7e\x7e\x7e\x7e";
    char path[512];
    write_bytes(tmp_path(path, "three.y4m"), data, sizeof data - 1);
    Y4mReader r;
    assert_int_equal(y4m_open(&r, path), MELD_OK);
    assert_int_equal(r.fps_num, 30000);
    assert_int_equal(r.fps_den, 1001);
    assert_int_equal(r.chroma, Y4M_MONO);
    assert_int_equal(y4m_count_frames(&r), 3);
    y4m_close(&r);
    assert_int_equal(y4m_open(&r, path), MELD_OK);
    Image im = {0};
    assert_int_equal(y4m_read_frame(&r, &im, 1), 1);
    assert_int_equal(im.pixels[0], 0);
    assert_int_equal(y4m_read_frame(&r, &im, 1), 1);
    assert_int_equal(im.pixels[0], 255);
    assert_int_equal(y4m_read_frame(&r, &im, 1), 1);
    assert_int_equal(y4m_read_frame(&r, &im, 1), 0);   /* clean end */
    image_free(&im);
    y4m_close(&r);
}

static void expect_y4m_error(const char *data, size_t n, const char *needle)
{
    char path[512];
    write_bytes(tmp_path(path, "bad.y4m"), data, n);
    Y4mReader r;
    int rc = y4m_open(&r, path);
    if (rc == MELD_OK) {
        Image im = {0};
        rc = y4m_read_frame(&r, &im, 3);
        image_free(&im);
        y4m_close(&r);
        assert_int_equal(rc, MELD_ERR);
    }
    if (!strstr(meld_error(), needle)) fail_msg("error '%s' lacks '%s'", meld_error(), needle);
    assert_non_null(strstr(meld_error(), "bad.y4m"));
}

static void y4m_bad_inputs_are_clear_errors(void **state)
{
    (void)state;
    expect_y4m_error("", 0, "empty");
    expect_y4m_error("RIFF....WAVE\n", 13, "not a Y4M");
    expect_y4m_error("YUV4MPEG2 W4 H4", 15, "truncated");
    expect_y4m_error("YUV4MPEG2 H4\n", 13, "lacks the W");
    expect_y4m_error("YUV4MPEG2 W99999 H4\n", 20, "bad Y4M size");
    expect_y4m_error("YUV4MPEG2 W16000 H16000\n", 25, "over the limit");
    expect_y4m_error("YUV4MPEG2 W4 H4 C420p10\n", 24, "unsupported");
    expect_y4m_error("YUV4MPEG2 W4 H4 Fx:1\n", 21, "frame rate");
    expect_y4m_error("YUV4MPEG2 W2 H2 Cmono\nFRAMX\n....", 32, "expected a FRAME");
    expect_y4m_error("YUV4MPEG2 W2 H2 Cmono\nFRAME\n\x01\x02", 30, "truncated");
    /* a 4000x4000 frame promised by a 40-byte file: refused before allocating */
    expect_y4m_error("YUV4MPEG2 W4000 H4000 C444\nFRAME\nabcdef", 39, "truncated");
    char line[1200];
    memset(line, 'A', sizeof line);
    memcpy(line, "YUV4MPEG2 ", 10);
    expect_y4m_error(line, sizeof line, "longer than");
}

/* ---- Y4M writer ------------------------------------------------------------------------ */

static void y4m_writer_round_trip_odd_size(void **state)
{
    (void)state;
    char path[512];
    tmp_path(path, "w.y4m");
    const int sizes[][2] = {{64, 48}, {33, 17}, {1, 1}};
    for (int s = 0; s < 3; s++) {
        int w = sizes[s][0], h = sizes[s][1];
        Y4mWriter wr;
        assert_int_equal(y4m_writer_open(&wr, path, w, h, 25, 1), MELD_OK);
        Image src[3];
        for (int f = 0; f < 3; f++) {
            assert_int_equal(image_alloc(&src[f], w, h, 3), MELD_OK);
            fill_gradient(&src[f], f * 10);
            assert_int_equal(y4m_writer_write_rgb(&wr, &src[f]), MELD_OK);
        }
        assert_int_equal(y4m_writer_close(&wr), MELD_OK);
        Y4mReader r;
        assert_int_equal(y4m_open(&r, path), MELD_OK);
        assert_int_equal(r.width, w);
        assert_int_equal(r.height, h);
        assert_int_equal(r.chroma, Y4M_420JPEG);
        assert_int_equal(r.fps_num, 25);
        Image back = {0};
        for (int f = 0; f < 3; f++) {
            assert_int_equal(y4m_read_frame(&r, &back, 3), 1);
            /* 4:2:0 + 8-bit rounding on a smooth picture: small error */
            double d = mean_abs_diff(&back, &src[f]);
            if (d > 2.0) fail_msg("%dx%d frame %d: mean abs diff %.2f", w, h, f, d);
            image_free(&src[f]);
        }
        assert_int_equal(y4m_read_frame(&r, &back, 3), 0);
        image_free(&back);
        y4m_close(&r);
    }
}

static void y4m_writer_is_atomic(void **state)
{
    (void)state;
    char path[512];
    struct stat st;
    tmp_path(path, "atomic.y4m");
    Y4mWriter w;
    Image im;
    assert_int_equal(image_alloc(&im, 8, 8, 3), MELD_OK);
    fill_gradient(&im, 0);
    assert_int_equal(y4m_writer_open(&w, path, 8, 8, 10, 1), MELD_OK);
    assert_int_equal(y4m_writer_write_rgb(&w, &im), MELD_OK);
    assert_int_not_equal(stat(path, &st), 0);          /* not there while writing */
    y4m_writer_abort(&w);
    assert_int_not_equal(stat(path, &st), 0);          /* nor after an abort */
    /* a wrong-size frame fails the writer, and close then leaves no file */
    Image wrong;
    assert_int_equal(image_alloc(&wrong, 4, 4, 3), MELD_OK);
    assert_int_equal(y4m_writer_open(&w, path, 8, 8, 10, 1), MELD_OK);
    assert_int_equal(y4m_writer_write_rgb(&w, &wrong), MELD_ERR);
    assert_non_null(strstr(meld_error(), "4x4x3"));
    assert_int_equal(y4m_writer_close(&w), MELD_ERR);
    assert_int_not_equal(stat(path, &st), 0);
    /* and a complete one appears whole */
    assert_int_equal(y4m_writer_open(&w, path, 8, 8, 10, 1), MELD_OK);
    assert_int_equal(y4m_writer_write_rgb(&w, &im), MELD_OK);
    assert_int_equal(y4m_writer_close(&w), MELD_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, strlen("YUV4MPEG2 W8 H8 F10:1 Ip A1:1 C420jpeg XCOLORRANGE=LIMITED\n") + 6 + 64 + 32);
    image_free(&im);
    image_free(&wrong);
}

/* ffmpeg decodes our Y4M to the same colours we wrote, and we decode
 * ffmpeg's Y4M to the colours it encoded. */
static void y4m_agrees_with_ffmpeg(void **state)
{
    (void)state;
    if (!ffmpeg_available("ffmpeg")) {
        print_message("skipped: ffmpeg not on PATH (apt-get install ffmpeg)\n");
        skip();
    }
    char y4m[512], ppm[512], ff_y4m[512];
    tmp_path(y4m, "ours.y4m");
    tmp_path(ppm, "src.ppm");
    tmp_path(ff_y4m, "theirs.y4m");
    Image src;
    assert_int_equal(image_alloc(&src, 48, 32, 3), MELD_OK);
    fill_gradient(&src, 5);
    Y4mWriter w;
    assert_int_equal(y4m_writer_open(&w, y4m, 48, 32, 25, 1), MELD_OK);
    assert_int_equal(y4m_writer_write_rgb(&w, &src), MELD_OK);
    assert_int_equal(y4m_writer_close(&w), MELD_OK);
    /* ours -> ffmpeg -> raw RGB on a pipe */
    const char *dec[] = {"ffmpeg", "-v", "error", "-nostdin", "-i", y4m, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1", NULL};
    FfmpegProc p;
    assert_int_equal(ffmpeg_start(&p, dec, y4m, 30, 0), MELD_OK);
    uint8_t *rgb;
    size_t n;
    assert_int_equal(ffmpeg_read_all(&p, &rgb, &n, 1 << 20), MELD_OK);
    assert_int_equal(ffmpeg_finish(&p, 0), MELD_OK);
    assert_int_equal(n, (size_t)48 * 32 * 3);
    Image theirs = {48, 32, 3, rgb};
    double d = mean_abs_diff(&theirs, &src);
    if (d > 2.5) fail_msg("ffmpeg decodes our Y4M %.2f away from the source", d);
    free(rgb);
    /* source -> ffmpeg's Y4M -> our reader */
    assert_int_equal(pnm_write(ppm, &src), MELD_OK);
    const char *enc[] = {"ffmpeg", "-v", "error", "-nostdin", "-y", "-i", ppm, "-pix_fmt", "yuv420p", ff_y4m, NULL};
    assert_int_equal(ffmpeg_start(&p, enc, ppm, 30, 0), MELD_OK);
    assert_int_equal(ffmpeg_finish(&p, 0), MELD_OK);
    Y4mReader r;
    Image back = {0};
    assert_int_equal(y4m_open(&r, ff_y4m), MELD_OK);
    assert_int_equal(y4m_read_frame(&r, &back, 3), 1);
    d = mean_abs_diff(&back, &src);
    if (d > 2.5) fail_msg("our reader decodes ffmpeg's Y4M %.2f away from the source", d);
    y4m_close(&r);
    image_free(&back);
    image_free(&src);
}

static void rgb_yuv_matrix_known_values(void **state)
{
    (void)state;
    uint8_t px[] = {255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0};
    Image red = {2, 2, 3, px};
    uint8_t y[4], cb[1], cr[1];
    rgb_to_yuv420(&red, y, cb, cr);
    assert_int_equal(y[0], 81);
    assert_int_equal(cb[0], 90);
    assert_int_equal(cr[0], 240);
    Image grey = {0};
    assert_int_equal(image_to_grey(&red, &grey), MELD_OK);
    assert_int_equal(grey.pixels[0], 76);
    image_free(&grey);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pnm_round_trip_grey_and_rgb),
        cmocka_unit_test(pnm_header_comments_and_maxval),
        cmocka_unit_test(pnm_bad_inputs_are_clear_errors),
        cmocka_unit_test(y4m_444_studio_primaries),
        cmocka_unit_test(y4m_full_range_and_mono),
        cmocka_unit_test(y4m_chroma_siting),
        cmocka_unit_test(y4m_frame_parameters_and_count),
        cmocka_unit_test(y4m_bad_inputs_are_clear_errors),
        cmocka_unit_test(y4m_writer_round_trip_odd_size),
        cmocka_unit_test(y4m_writer_is_atomic),
        cmocka_unit_test(y4m_agrees_with_ffmpeg),
        cmocka_unit_test(rgb_yuv_matrix_known_values),
    };
    return cmocka_run_group_tests_name("video: formats", tests, setup_dir, remove_dir);
}
