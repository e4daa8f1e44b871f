/* bench video: how many frames per second the frame path turns from a
 * 640x360 Y4M stream into 64x64 float CHW tensors, single thread; then face
 * detection at 1280x720 against OpenCV (bench_video_faces.c).
 *
 * The stream is built in memory (no disk in the measurement): frames of
 * the fixture photograph tests/fixtures/video/hopper_rgb.ppm scaled up and
 * panned, or a synthetic pattern when the file is absent. Stages timed:
 *   decode   Y4M frame parse + BT.601 4:2:0 -> RGB (video/y4m.h)
 *   resize   largest centred square, area filter to 64x64 (video/transform.h)
 *   tensor   float CHW with per-channel mean/std
 * Best of 3 passes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchmarks/bench.h"
#include "tensor/error.h"
#include "video/color.h"
#include "video/image.h"
#include "video/transform.h"
#include "video/y4m.h"

enum { SRC_W = 640, SRC_H = 360 };

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct {
    const uint8_t *p;
    size_t n, pos;
} Mem;

static long mem_read(void *ctx, void *buf, size_t n)
{
    Mem *m = ctx;
    size_t k = m->n - m->pos < n ? m->n - m->pos : n;
    memcpy(buf, m->p + m->pos, k);
    m->pos += k;
    return (long)k;
}

/* One 640x360 RGB picture: the photo scaled to the frame height, or a pattern. */
static int base_picture(Image *out)
{
    Image photo = {0};
    if (pnm_read("tests/fixtures/video/hopper_rgb.ppm", &photo) == MELD_OK) {
        Image rgb = {0}, big = {0};
        int rc = image_to_rgb(&photo, &rgb);
        if (rc == MELD_OK) rc = image_resize(&rgb, SRC_H * rgb.width / rgb.height, SRC_H, &big);
        if (rc == MELD_OK) rc = image_crop_pad(&big, (ImageRect){-(SRC_W - big.width) / 2, 0, SRC_W, SRC_H}, 90, out);
        image_free(&photo);
        image_free(&rgb);
        image_free(&big);
        return rc;
    }
    meld_error_clear();
    if (image_alloc(out, SRC_W, SRC_H, 3)) return MELD_ERR;
    for (int y = 0; y < SRC_H; y++)
        for (int x = 0; x < SRC_W; x++) {
            uint8_t *p = out->pixels + ((size_t)y * SRC_W + x) * 3;
            p[0] = (uint8_t)(x * 255 / SRC_W);
            p[1] = (uint8_t)(y * 255 / SRC_H);
            p[2] = (uint8_t)((x ^ y) & 255);
        }
    return MELD_OK;
}

/* The whole stream in memory: header, then n frames panning the picture. */
static uint8_t *build_stream(const Image *pic, int n, size_t *size)
{
    const size_t luma = (size_t)SRC_W * SRC_H, chroma = luma / 4;
    char header[96];
    int hl = snprintf(header, sizeof header, "YUV4MPEG2 W%d H%d F25:1 Ip A1:1 C420jpeg\n", SRC_W, SRC_H);
    *size = (size_t)hl + (size_t)n * (6 + luma + 2 * chroma);
    uint8_t *s = meld_malloc(*size, "bench stream");
    Image shifted = {0};
    if (!s) return NULL;
    memcpy(s, header, (size_t)hl);
    uint8_t *o = s + hl;
    for (int f = 0; f < n; f++) {
        /* pan a little so frames differ */
        if (image_crop_pad(pic, (ImageRect){(f % 16) - 8, 0, SRC_W, SRC_H}, 90, &shifted)) {
            free(s);
            return NULL;
        }
        memcpy(o, "FRAME\n", 6);
        o += 6;
        rgb_to_yuv420(&shifted, o, o + luma, o + luma + chroma);
        o += luma + 2 * chroma;
    }
    image_free(&shifted);
    return s;
}

typedef struct {
    double decode, resize, tensor;
} Times;

/* One pass over the stream; per-stage seconds. */
static int pass(const uint8_t *stream, size_t size, int size_out, Times *t)
{
    Mem m = {stream, size, 0};
    Y4mReader r;
    if (y4m_open_source(&r, mem_read, &m, "memory")) return MELD_ERR;
    Image frame = {0}, square = {0}, small = {0};
    float *chw = meld_malloc(sizeof(float) * 3 * (size_t)size_out * size_out, "bench tensor");
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    int rc = chw ? MELD_OK : MELD_ERR;
    *t = (Times){0, 0, 0};
    while (rc == MELD_OK) {
        double a = now();
        int got = y4m_read_frame(&r, &frame, 3);
        double b = now();
        if (got <= 0) {
            rc = got;
            break;
        }
        rc = image_crop(&frame, rect_centre_square(frame.width, frame.height), &square);
        if (rc == MELD_OK) rc = image_resize_area(&square, size_out, size_out, &small);
        double c = now();
        if (rc == MELD_OK) rc = image_to_chw(&small, mean, std, chw);
        double d = now();
        t->decode += b - a;
        t->resize += c - b;
        t->tensor += d - c;
    }
    free(chw);
    image_free(&frame);
    image_free(&square);
    image_free(&small);
    y4m_close(&r);
    return rc;
}

int bench_video(int argc, char **argv)
{
    int n = 300, size_out = 64, faces = 1, repeats = 7, opencv = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--frames") && i + 1 < argc) n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--size") && i + 1 < argc) size_out = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--repeats") && i + 1 < argc) repeats = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-faces")) faces = 0;
        else if (!strcmp(argv[i], "--no-opencv")) opencv = 0;
        else {
            fprintf(stderr, "usage: bench video [--frames N] [--size S] [--repeats R] [--no-faces] [--no-opencv]\n"
                            "  --frames N    frames of the 640x360 frame-path stream (default 300)\n"
                            "  --size S      side of the frame-path output (default 64)\n"
                            "  --repeats R   passes over the 1280x720 face-detection frames (default 7)\n"
                            "  --no-faces    frame path only\n"
                            "  --no-opencv   no OpenCV comparison (benchmarks/opencv_detect.py)\n");
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    if (n < 1 || n > 5000 || size_out < 8 || size_out > 360 || repeats < 1 || repeats > 64) {
        fprintf(stderr, "bench video: --frames 1..5000, --size 8..360, --repeats 1..64\n");
        return 2;
    }
    Image pic = {0};
    size_t size = 0;
    uint8_t *stream = NULL;
    if (base_picture(&pic) || !(stream = build_stream(&pic, n, &size))) {
        fprintf(stderr, "bench video: %s\n", meld_error());
        image_free(&pic);
        return 1;
    }
    image_free(&pic);
    printf("bench video: %d frames %dx%d Y4M 4:2:0 in memory -> %dx%d RGB float CHW, 1 thread, best of 3\n", n, SRC_W,
           SRC_H, size_out, size_out);
    Times best = {1e30, 1e30, 1e30};
    double best_total = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        Times t;
        if (pass(stream, size, size_out, &t)) {
            fprintf(stderr, "bench video: %s\n", meld_error());
            free(stream);
            return 1;
        }
        double total = t.decode + t.resize + t.tensor;
        if (total < best_total) {
            best_total = total;
            best = t;
        }
    }
    printf("  decode (parse + YUV->RGB)     %7.3f ms/frame\n", 1e3 * best.decode / n);
    printf("  centre square + area resize   %7.3f ms/frame\n", 1e3 * best.resize / n);
    printf("  normalise to float CHW        %7.3f ms/frame\n", 1e3 * best.tensor / n);
    printf("  total                         %7.3f ms/frame = %.0f frames/s\n", 1e3 * best_total / n, n / best_total);
    free(stream);
    return faces ? bench_video_faces(repeats, opencv) : 0;
}
