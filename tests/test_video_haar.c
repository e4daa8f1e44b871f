/* Viola-Jones detection: a hand-made cascade whose answers we can work out,
 * malformed cascades, grouping, OpenCV's frontal-face cascade on real
 * photographs (tests/fixtures/video/), and the face crop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "tensor/cpu.h"
#include "tensor/error.h"
#include "video/face.h"
#include "video/face_eval.h"
#include "video/haar.h"
#include "video/image.h"

/* A 4x4 window, one stump on "right half minus left half": the window
 * passes when the right half is at least as bright as the left. */
static const char TINY[] =
    "<?xml version=\"1.0\"?>\n<!-- hand-made -->\n<opencv_storage>\n"
    "<cascade type_id=\"opencv-cascade-classifier\"><stageType>BOOST</stageType>\n"
    "  <featureType>HAAR</featureType>\n  <height>4</height>\n  <width>4</width>\n"
    "  <stageNum>1</stageNum>\n  <stages>\n    <_>\n      <maxWeakCount>1</maxWeakCount>\n"
    "      <stageThreshold>0.5</stageThreshold>\n      <weakClassifiers>\n        <_>\n"
    "          <internalNodes>\n            0 -1 0 0.</internalNodes>\n"
    "          <leafValues>\n            -1. 1.</leafValues></_></weakClassifiers></_></stages>\n"
    "  <features>\n    <_>\n      <rects>\n        <_>\n          0 0 2 4 -1.</_>\n"
    "        <_>\n          2 0 2 4 1.</_></rects></_></features></cascade>\n</opencv_storage>\n";

static HaarCascade *tiny_with(const char *from, const char *to)
{
    char buf[sizeof TINY + 256];
    const char *at = strstr(TINY, from);
    assert_non_null(at);
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - TINY), TINY, to, at + strlen(from));
    return haar_load_memory(buf, strlen(buf), "tiny.xml");
}

/* 40x20 grey image with a vertical edge at x = 20. */
static Image edge_image(uint8_t left, uint8_t right)
{
    Image im;
    assert_int_equal(image_alloc(&im, 40, 20, 1), MELD_OK);
    for (int y = 0; y < 20; y++)
        for (int x = 0; x < 40; x++) im.pixels[y * 40 + x] = x < 20 ? left : right;
    return im;
}

static void tiny_cascade_finds_dark_to_bright_edges(void **state)
{
    (void)state;
    HaarCascade *c = haar_load_memory(TINY, sizeof TINY - 1, "tiny.xml");
    if (!c) fail_msg("%s", meld_error());
    int w, h, s;
    haar_info(c, &w, &h, &s);
    assert_int_equal(w, 4);
    assert_int_equal(s, 1);
    HaarOptions o = haar_default_options();
    o.min_neighbours = 0;   /* raw windows */
    o.scale_factor = 2.0f;  /* next level's window is 8 > max_size: scale 1 only */
    o.max_size = 4;
    Image im = edge_image(0, 200);
    HaarDetection *d;
    int n;
    assert_int_equal(haar_detect(c, &im, &o, &d, &n), MELD_OK);
    /* step 2: only windows at x = 18 straddle the edge (others are flat and
     * skipped); y = 0, 2, ..., 14: like OpenCV, the last row y = 16 is lost
     * to its stripe split (2 stripes of 8 rows for 17) */
    assert_int_equal(n, 8);
    for (int i = 0; i < n; i++) {
        assert_int_equal(d[i].box.x, 18);
        assert_int_equal(d[i].box.width, 4);
    }
    free(d);
    image_free(&im);
    /* the opposite edge makes the feature negative: nothing */
    im = edge_image(200, 0);
    assert_int_equal(haar_detect(c, &im, &o, &d, &n), MELD_OK);
    assert_int_equal(n, 0);
    assert_null(d);
    image_free(&im);
    haar_free(c);
}

static void expect_bad_cascade(const char *from, const char *to, const char *needle)
{
    HaarCascade *c = tiny_with(from, to);
    if (c) fail_msg("replacing '%s' by '%s' was accepted", from, to);
    if (!strstr(meld_error(), needle)) fail_msg("error '%s' lacks '%s'", meld_error(), needle);
    assert_non_null(strstr(meld_error(), "tiny.xml"));
}

static void malformed_cascades_are_refused(void **state)
{
    (void)state;
    expect_bad_cascade("0 -1 0 0.", "0 -1 5 0.", "bad feature or child");
    expect_bad_cascade("0 -1 0 0.", "0 1 0 0.", "bad feature or child");
    expect_bad_cascade("0 -1 0 0.", "0 -3 0 0.", "bad feature or child");
    expect_bad_cascade("0 -1 0 0.", "0 -1 0", "groups of 4");
    expect_bad_cascade("2 0 2 4 1.", "3 0 2 4 1.", "outside");
    expect_bad_cascade("2 0 2 4 1.", "2 0 2 4", "x y w h weight");
    expect_bad_cascade("</rects>", "</rects><tilted>1</tilted>", "tilted");
    expect_bad_cascade("HAAR", "LBP", "not HAAR");
    expect_bad_cascade("<width>4</width>", "<width>4000</width>", "width");
    expect_bad_cascade("-1. 1.", "-1. abc", "bad number");
    expect_bad_cascade("</stages>", "</stagez>", "does not match");
    expect_bad_cascade("<cascade type_id=\"opencv-cascade-classifier\">",
                       "<haarcascade_frontalface type_id=\"opencv-haar-classifier\"><cascade>", "does not match");
    HaarCascade *c = haar_load_memory("<opencv_storage><old_face type_id=\"opencv-haar-classifier\"></old_face>"
                                      "</opencv_storage>", 87, "old.xml");
    assert_null(c);
    assert_non_null(strstr(meld_error(), "old-style"));
    assert_null(haar_load("/nonexistent/cascade.xml"));
    assert_non_null(strstr(meld_error(), "/nonexistent/cascade.xml"));
}

/* Numbers that do not fit the types they become: refused at load, never
 * converted (a rect at x = 2^31 - 1 made x + w overflow, pass the window
 * check and crash the detector). */
static void out_of_range_numbers_are_refused(void **state)
{
    (void)state;
    expect_bad_cascade("2 0 2 4 1.", "2147483647 0 2 4 1.", "outside");
    expect_bad_cascade("2 0 2 4 1.", "2 0 2147483647 4 1.", "outside");
    expect_bad_cascade("2 0 2 4 1.", "2 2147483647 2 4 1.", "outside");
    expect_bad_cascade("2 0 2 4 1.", "-2147483648 0 2 4 1.", "outside");
    expect_bad_cascade("2 0 2 4 1.", "2 0 2 4.5 1.", "outside");
    expect_bad_cascade("2 0 2 4 1.", "1e10 0 2 4 1.", "outside");
    expect_bad_cascade("2 0 2 4 1.", "2 0 2 4 1e39", "weight");
    expect_bad_cascade("0 -1 0 0.", "0 -1 4294967296 0.", "bad feature or child");
    expect_bad_cascade("0 -1 0 0.", "2147483648 -1 0 0.", "bad feature or child");
    expect_bad_cascade("0 -1 0 0.", "0 -1 0 1e39", "threshold");
    expect_bad_cascade("-1. 1.", "-1. 1e39", "leaf");
    expect_bad_cascade("<stageThreshold>0.5", "<stageThreshold>1e39", "stageThreshold");
}

static int run_tiny(HaarCascade *c, HaarDetection **d)
{
    HaarOptions o = haar_default_options();
    o.min_neighbours = 0;
    o.scale_factor = 2.0f;
    o.max_size = 4;
    Image im = edge_image(0, 200);
    int n;
    assert_int_equal(haar_detect(c, &im, &o, d, &n), MELD_OK);
    image_free(&im);
    return n;
}

/* A feature with one rect is valid (OpenCV pads it with empty, zero-weight
 * rects): it must give exactly what the same feature with an explicit
 * zero-weight second rect gives. The detector used to read the missing
 * rect's offsets uninitialised (SEGV in rect_sum); heap perturbation makes
 * that deterministic here. */
static void one_rect_feature_is_an_empty_second_rect(void **state)
{
    (void)state;
#ifdef __GLIBC__
    mallopt(M_PERTURB, 0x5a);   /* fresh malloc memory is garbage, not zero */
#endif
    HaarCascade *one = tiny_with("<_>\n          0 0 2 4 -1.</_>\n", "");
    HaarCascade *two = tiny_with("0 0 2 4 -1.", "0 0 1 1 0.");
    if (!one || !two) fail_msg("%s", meld_error());
    HaarDetection *d1, *d2;
    int n1 = run_tiny(one, &d1), n2 = run_tiny(two, &d2);
    /* the right half alone: only windows at x = 18 see the bright side
     * with a dark inner column (the others are flat and skipped) */
    assert_int_equal(n1, 8);
    assert_int_equal(n2, n1);
    for (int i = 0; i < n1; i++) assert_memory_equal(&d1[i], &d2[i], sizeof d1[i]);
    free(d1);
    free(d2);
    haar_free(one);
    haar_free(two);
#ifdef __GLIBC__
    mallopt(M_PERTURB, 0);
#endif
}

/* Minimised crashers found by fuzzing the loader + detector
 * (tests/fuzz/fuzz_cascade.c): each loads and runs, or is refused with a
 * message. */
static void fuzzer_crashers_are_harmless(void **state)
{
    (void)state;
    const char *files[] = {"tests/fixtures/video/cascade_one_rect.xml", "tests/fixtures/video/cascade_rect_overflow.xml"};
    Image im;
    assert_int_equal(image_alloc(&im, 48, 40, 1), MELD_OK);
    for (int i = 0; i < 48 * 40; i++) im.pixels[i] = (uint8_t)(i * 37 % 251);
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        HaarCascade *c = haar_load(files[f]);
        if (!c) {
            assert_non_null(strstr(meld_error(), files[f]));
            continue;
        }
        HaarOptions o = haar_default_options();
        HaarDetection *d;
        int n;
        for (o.min_neighbours = 0; o.min_neighbours <= 3; o.min_neighbours += 3) {
            assert_int_equal(haar_detect(c, &im, &o, &d, &n), MELD_OK);
            free(d);
        }
        haar_free(c);
    }
    image_free(&im);
}

static void grouping_merges_neighbours(void **state)
{
    (void)state;
    /* five windows around (100, 100, 40, 40), two around (10, 10, 20, 20), one stray */
    const ImageRect raw[] = {{100, 100, 40, 40}, {102, 99, 40, 40}, {98, 101, 42, 42}, {101, 102, 38, 38},
                             {99, 98, 40, 40},   {10, 10, 20, 20},  {11, 10, 20, 20},  {300, 5, 24, 24}};
    HaarDetection out[8];
    int k = haar_group(raw, 8, 3, 0.2f, out);
    assert_int_equal(k, 1);                 /* only the cluster of 5 has > 3 members */
    assert_int_equal(out[0].neighbours, 5);
    assert_int_equal(out[0].box.x, 100);    /* mean of 100, 102, 98, 101, 99 */
    assert_int_equal(out[0].box.width, 40);
    assert_int_equal(haar_group(raw, 8, 1, 0.2f, out), 2);
    assert_int_equal(haar_group(raw, 8, 0, 0.2f, out), 8);
    /* a weak cluster inside a strong one is dropped */
    ImageRect nested[12];
    for (int i = 0; i < 8; i++) nested[i] = (ImageRect){50 + i % 2, 50, 100, 100};
    for (int i = 8; i < 12; i++) nested[i] = (ImageRect){80, 80, 30, 30};
    assert_int_equal(haar_group(nested, 12, 3, 0.2f, out), 1);
    assert_int_equal(out[0].neighbours, 8);
    /* the mean is rounded as OpenCV rounds it: half to even (10.5 -> 10,
     * 40.5 -> 40, 11.5 -> 12), not half away from zero */
    const ImageRect pair[] = {{10, 11, 40, 40}, {11, 12, 41, 41}};
    assert_int_equal(haar_group(pair, 2, 1, 0.2, out), 1);
    assert_int_equal(out[0].box.x, 10);
    assert_int_equal(out[0].box.y, 12);
    assert_int_equal(out[0].box.width, 40);
}

/* ---- the real cascade on real photographs ------------------------------------------ */

static HaarCascade *frontal(void)
{
    const char *path = haar_default_cascade_path();
    if (!path) return NULL;
    HaarCascade *c = haar_load(path);
    if (!c) fail_msg("%s", meld_error());
    return c;
}

/* The reference: OpenCV 4.6's detectMultiScale on every fixture
 * (tests/fixtures/opencv_faces.py, output committed). */
#define FIXTURES "tests/fixtures/video/"

static int by_position(const void *a, const void *b)
{
    const ImageRect *x = a, *y = b;
    if (x->x != y->x) return x->x - y->x;
    if (x->y != y->y) return x->y - y->y;
    if (x->width != y->width) return x->width - y->width;
    return x->height - y->height;
}

/* Our boxes, sorted as the reference file lists them, equal OpenCV's. */
static void expect_same_boxes(const char *file, const char *kind, const HaarDetection *d, int n, const BoxRecord *ref)
{
    ImageRect *mine = calloc((size_t)n + 1, sizeof *mine);
    assert_non_null(mine);
    for (int i = 0; i < n; i++) mine[i] = d[i].box;
    qsort(mine, (size_t)n, sizeof *mine, by_position);
    int same = n == ref->n;
    for (int i = 0; same && i < n; i++) same = !by_position(&mine[i], &ref->boxes[i]);
    if (!same)
        fail_msg("%s %s: %d boxes, OpenCV %d (first: ours %d,%d %dx%d, OpenCV %d,%d %dx%d)", file, kind, n, ref->n,
                 n ? mine[0].x : -1, n ? mine[0].y : -1, n ? mine[0].width : -1, n ? mine[0].height : -1,
                 ref->n ? ref->boxes[0].x : -1, ref->n ? ref->boxes[0].y : -1, ref->n ? ref->boxes[0].width : -1,
                 ref->n ? ref->boxes[0].height : -1);
    free(mine);
}

/* Window for window: the raw windows (minNeighbors 0), the grouped faces,
 * the faces with two minimum sizes, and the raw windows of a cascade of
 * trees (alt2) are OpenCV's, on every fixture, on every ISA path. */
static void finds_exactly_what_opencv_finds(void **state)
{
    (void)state;
    HaarCascade *c = frontal();
    const char *alt2_path = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml";
    HaarCascade *trees = access(alt2_path, R_OK) == 0 ? haar_load(alt2_path) : NULL;
    if (!c || !trees) {
        print_message("skipped: no Haar cascades (apt-get install opencv-data)\n");
        skip();
    }
    BoxList ref;
    if (box_list_read(FIXTURES "opencv_faces.txt", &ref)) fail_msg("%s", meld_error());
    const CpuIsa best = cpu_isa();
    for (int isa = (int)best; isa >= 0; isa--) {
        cpu_set_isa((CpuIsa)isa);
        int images = 0;
        for (int i = 0; i < ref.n; i++) {
            const BoxRecord *r = &ref.r[i];
            char path[256];
            snprintf(path, sizeof path, FIXTURES "%s", r->file);
            Image im;
            if (pnm_read(path, &im)) fail_msg("%s", meld_error());
            HaarOptions o = haar_default_options();
            const int short_side = im.width < im.height ? im.width : im.height;
            if (!strcmp(r->kind, "raw") || !strcmp(r->kind, "alt2")) o.min_neighbours = 0;
            else if (!strcmp(r->kind, "faces5")) o.min_size = (int)lroundf(0.05f * (float)short_side);
            else if (!strcmp(r->kind, "faces48")) o.min_size = 48;
            else if (strcmp(r->kind, "faces")) fail_msg("unknown kind %s", r->kind);
            HaarDetection *d;
            int n;
            assert_int_equal(haar_detect(strcmp(r->kind, "alt2") ? c : trees, &im, &o, &d, &n), MELD_OK);
            char what[64];
            snprintf(what, sizeof what, "%s (ISA %s)", r->kind, cpu_isa_name((CpuIsa)isa));
            expect_same_boxes(r->file, what, d, n, r);
            free(d);
            image_free(&im);
            images += !strcmp(r->kind, "faces");
        }
        assert_true(images >= 14);
    }
    cpu_set_isa(best);
    box_list_free(&ref);
    haar_free(c);
    haar_free(trees);
}

/* The corner cases of the algorithm, against OpenCV's raw windows with
 * hand-made cascades (tests/fixtures/video/cascade_cases/, see
 * tests/fixtures/opencv_faces.py): the skip after a first-stage rejection,
 * the variance gate, the step at scale 2, the 1e-5 below stage thresholds. */
static void corner_cases_match_opencv(void **state)
{
    (void)state;
    static const struct {
        const char *kind, *cascade;
        float scale_factor;
        int max_size;
    } runs[] = {{"tiny-s1.1-max4", "tiny.xml", 1.1f, 4}, {"tiny-s2-max8", "tiny.xml", 2.0f, 8},
                {"sum-s1.1-max4", "sum.xml", 1.1f, 4}};
    BoxList ref;
    if (box_list_read(FIXTURES "cascade_cases/opencv_raw.txt", &ref)) fail_msg("%s", meld_error());
    assert_int_equal(ref.n, 12);
    const CpuIsa best = cpu_isa();
    for (int j = 0; j < ref.n * ((int)best + 1); j++) {
        const int i = j % ref.n;
        if (i == 0) cpu_set_isa((CpuIsa)(j / ref.n));
        const BoxRecord *r = &ref.r[i];
        size_t k = 0;
        while (k < sizeof runs / sizeof runs[0] && strcmp(runs[k].kind, r->kind)) k++;
        if (k == sizeof runs / sizeof runs[0]) fail_msg("unknown case %s", r->kind);
        char path[256];
        snprintf(path, sizeof path, FIXTURES "cascade_cases/%s", runs[k].cascade);
        HaarCascade *c = haar_load(path);
        snprintf(path, sizeof path, FIXTURES "cascade_cases/%s", r->file);
        Image im;
        if (!c || pnm_read(path, &im)) fail_msg("%s", meld_error());
        HaarOptions o = haar_default_options();
        o.min_neighbours = 0;
        o.scale_factor = runs[k].scale_factor;
        o.max_size = runs[k].max_size;
        HaarDetection *d;
        int n;
        assert_int_equal(haar_detect(c, &im, &o, &d, &n), MELD_OK);
        expect_same_boxes(r->file, r->kind, d, n, r);
        free(d);
        image_free(&im);
        haar_free(c);
    }
    cpu_set_isa(best);
    box_list_free(&ref);
}

/* The face crop (default options: faces down to 5 % of the shorter side)
 * picks the largest face OpenCV finds at full resolution, IoU >= 0.5, and
 * reports none where OpenCV finds none. */
static void face_crop_picks_the_largest_face_opencv_finds(void **state)
{
    (void)state;
    HaarCascade *c = frontal();
    if (!c) {
        print_message("skipped: no Haar cascade (apt-get install opencv-data)\n");
        skip();
    }
    BoxList ref;
    if (box_list_read(FIXTURES "opencv_faces.txt", &ref)) fail_msg("%s", meld_error());
    FaceCropOptions o = face_crop_default_options();
    for (int i = 0; i < ref.n; i++) {
        const BoxRecord *r = &ref.r[i];
        if (strcmp(r->kind, "faces")) continue;
        char path[256];
        snprintf(path, sizeof path, FIXTURES "%s", r->file);
        Image im, out = {0};
        if (pnm_read(path, &im)) fail_msg("%s", meld_error());
        FaceCropInfo info;
        assert_int_equal(face_crop(&im, c, &o, &out, &info), MELD_OK);
        if (info.face_found != (r->n > 0)) fail_msg("%s: face found %d, OpenCV %d faces", r->file, info.face_found, r->n);
        ImageRect largest = {0, 0, 0, 0};
        for (int k = 0; k < r->n; k++)
            if ((long)r->boxes[k].width * r->boxes[k].height > (long)largest.width * largest.height)
                largest = r->boxes[k];
        if (r->n > 0 && rect_iou(info.face, largest) < 0.5)
            fail_msg("%s: face %d,%d %dx%d, OpenCV's largest %d,%d %dx%d", r->file, info.face.x, info.face.y,
                     info.face.width, info.face.height, largest.x, largest.y, largest.width, largest.height);
        image_free(&im);
        image_free(&out);
    }
    box_list_free(&ref);
    haar_free(c);
}

static void no_face_in_a_coffee_cup(void **state)
{
    (void)state;
    HaarCascade *c = frontal();
    if (!c) {
        print_message("skipped: no Haar cascade (apt-get install opencv-data)\n");
        skip();
    }
    Image im;
    if (pnm_read("tests/fixtures/video/coffee_rgb.ppm", &im)) fail_msg("%s", meld_error());
    HaarDetection *d;
    int n;
    HaarOptions o = haar_default_options();
    assert_int_equal(haar_detect(c, &im, &o, &d, &n), MELD_OK);
    assert_int_equal(n, 0);
    /* nor in a flat or tiny image */
    Image flat;
    assert_int_equal(image_alloc(&flat, 64, 64, 1), MELD_OK);
    memset(flat.pixels, 90, 64 * 64);
    assert_int_equal(haar_detect(c, &flat, &o, &d, &n), MELD_OK);
    assert_int_equal(n, 0);
    flat.width = flat.height = 10;
    assert_int_equal(haar_detect(c, &flat, &o, &d, &n), MELD_OK);
    assert_int_equal(n, 0);
    image_free(&flat);
    image_free(&im);
    haar_free(c);
}

/* ---- face crop -------------------------------------------------------------------------- */

static void face_square_grows_and_clamps(void **state)
{
    (void)state;
    ImageRect r = face_square((ImageRect){10, 10, 20, 20}, 0.25f, 100, 100);
    assert_int_equal(r.x, 5);
    assert_int_equal(r.width, 30);
    r = face_square((ImageRect){0, 0, 20, 20}, 0.25f, 100, 100);   /* slid inside */
    assert_int_equal(r.x, 0);
    assert_int_equal(r.y, 0);
    r = face_square((ImageRect){0, 0, 90, 90}, 0.5f, 100, 60);     /* capped to the short side */
    assert_int_equal(r.width, 60);
    assert_int_equal(r.height, 60);
    assert_int_equal(r.x, 15);
    assert_int_equal(r.y, 0);
}

static void face_crop_uses_the_face_or_the_centre(void **state)
{
    (void)state;
    HaarCascade *c = frontal();
    Image hop, cup, out = {0};
    if (pnm_read("tests/fixtures/video/hopper_rgb.ppm", &hop) || pnm_read("tests/fixtures/video/coffee_rgb.ppm", &cup))
        fail_msg("%s", meld_error());
    FaceCropOptions o = face_crop_default_options();
    FaceCropInfo info;
    /* no cascade: the centre square of the 128x150 frame */
    assert_int_equal(face_crop(&hop, NULL, &o, &out, &info), MELD_OK);
    assert_int_equal(info.face_found, 0);
    assert_int_equal(info.crop.y, 11);
    assert_int_equal(info.crop.width, 128);
    assert_int_equal(out.width, 64);
    assert_int_equal(out.channels, 3);
    if (c) {
        assert_int_equal(face_crop(&hop, c, &o, &out, &info), MELD_OK);
        assert_int_equal(info.face_found, 1);
        assert_true(rect_iou(info.face, (ImageRect){38, 25, 59, 59}) > 0.7);
        /* the crop holds the face plus margin */
        assert_true(info.crop.x <= info.face.x && info.crop.y <= info.face.y);
        assert_true(info.crop.x + info.crop.width >= info.face.x + info.face.width);
        o.channels = 1;
        o.size = 32;
        assert_int_equal(face_crop(&cup, c, &o, &out, &info), MELD_OK);
        assert_int_equal(info.face_found, 0);
        assert_int_equal(info.crop.x, 25);   /* (150 - 100) / 2 */
        assert_int_equal(out.channels, 1);
        assert_int_equal(out.width, 32);
    }
    o.size = 0;
    assert_int_equal(face_crop(&hop, c, &o, &out, &info), MELD_ERR);
    image_free(&hop);
    image_free(&cup);
    image_free(&out);
    haar_free(c);
    if (!c) print_message("face part skipped: no Haar cascade (apt-get install opencv-data)\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tiny_cascade_finds_dark_to_bright_edges),
        cmocka_unit_test(malformed_cascades_are_refused),
        cmocka_unit_test(out_of_range_numbers_are_refused),
        cmocka_unit_test(one_rect_feature_is_an_empty_second_rect),
        cmocka_unit_test(fuzzer_crashers_are_harmless),
        cmocka_unit_test(grouping_merges_neighbours),
        cmocka_unit_test(finds_exactly_what_opencv_finds),
        cmocka_unit_test(corner_cases_match_opencv),
        cmocka_unit_test(face_crop_picks_the_largest_face_opencv_finds),
        cmocka_unit_test(no_face_in_a_coffee_cup),
        cmocka_unit_test(face_square_grows_and_clamps),
        cmocka_unit_test(face_crop_uses_the_face_or_the_centre),
    };
    return cmocka_run_group_tests_name("video: haar", tests, NULL, NULL);
}
