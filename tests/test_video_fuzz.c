/* Fuzzing the readers (PNM, Y4M, cascade XML) with random bytes, every
 * truncation of valid files, and random byte mutations. Run it in the
 * sanitizer build (make sanitize): the point is that nothing over-reads,
 * leaks or crashes; each input must give a result or a clean error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"
#include "tensor/rng.h"
#include "video/haar.h"
#include "video/image.h"
#include "video/y4m.h"

/* ---- PNM ----------------------------------------------------------------------- */

static void try_pnm(const uint8_t *data, size_t n)
{
    Image im;
    int rc = pnm_read_memory(data, n, "fuzz.pnm", &im);
    if (rc == MELD_OK) {
        /* a success must describe a buffer it really filled */
        assert_true(im.width > 0 && im.height > 0);
        assert_true((size_t)im.width * im.height * im.channels <= n);
        image_free(&im);
    } else {
        assert_int_equal(rc, MELD_ERR);
        assert_null(im.pixels);
        assert_true(strlen(meld_error()) > 0);
    }
}

static void pnm_survives_fuzzing(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 2024, 6);
    uint8_t buf[600];
    /* random bytes, some with a valid magic to get past the first check */
    for (int t = 0; t < 10000; t++) {
        size_t n = rng_below(&r, sizeof buf);
        for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)rng_u32(&r);
        if (n >= 2 && t % 2) {
            buf[0] = 'P';
            buf[1] = t % 4 == 1 ? '5' : '6';
        }
        try_pnm(buf, n);
    }
    /* every truncation and random mutations of a valid file */
    uint8_t good[64];
    int len = snprintf((char *)good, sizeof good, "P6\n# c\n3 2\n255\n");
    for (int i = 0; i < 18; i++) good[len + i] = (uint8_t)(i * 13);
    size_t n = (size_t)len + 18;
    for (size_t cut = 0; cut <= n; cut++) try_pnm(good, cut);
    for (int t = 0; t < 20000; t++) {
        memcpy(buf, good, n);
        int flips = 1 + (int)rng_below(&r, 3);
        for (int f = 0; f < flips; f++) buf[rng_below(&r, (uint32_t)n)] = (uint8_t)rng_u32(&r);
        try_pnm(buf, n);
    }
}

/* ---- Y4M ----------------------------------------------------------------------- */

typedef struct {
    const uint8_t *p;
    size_t n, pos;
    Rng *rng;           /* random read sizes exercise the buffering */
} MemSource;

static long mem_read(void *ctx, void *buf, size_t n)
{
    MemSource *m = ctx;
    size_t left = m->n - m->pos;
    size_t k = 1 + rng_below(m->rng, 97);
    if (k > n) k = n;
    if (k > left) k = left;
    memcpy(buf, m->p + m->pos, k);
    m->pos += k;
    return (long)k;
}

static void try_y4m(const uint8_t *data, size_t n, Rng *rng)
{
    MemSource m = {data, n, 0, rng};
    Y4mReader r;
    if (y4m_open_source(&r, mem_read, &m, "fuzz.y4m") == MELD_OK) {
        Image im = {0};
        int frames = 0, rc;
        while ((rc = y4m_read_frame(&r, &im, frames % 2 ? 1 : 3)) == 1) {
            assert_int_equal(im.width, r.width);
            frames++;
        }
        assert_true(rc == 0 || rc == MELD_ERR);
        image_free(&im);
    }
    y4m_close(&r);
}

static void y4m_survives_fuzzing(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 77, 1);
    static const char *headers[] = {"W5 H3 C420jpeg", "W4 H2 C420mpeg2 XCOLORRANGE=FULL", "W3 H3 C444",
                                    "W6 H1 Cmono", "W5 H4 C422", "W2 H2"};
    uint8_t good[512], buf[512];
    for (size_t h = 0; h < sizeof headers / sizeof headers[0]; h++) {
        /* a valid two-frame stream of this layout */
        int len = snprintf((char *)good, sizeof good, "YUV4MPEG2 %s F25:1\n", headers[h]);
        Y4mReader probe;
        MemSource m = {good, (size_t)len, 0, &r};
        assert_int_equal(y4m_open_source(&probe, mem_read, &m, "probe"), MELD_OK);
        size_t fb = probe.frame_bytes;
        y4m_close(&probe);
        size_t n = (size_t)len;
        for (int f = 0; f < 2; f++) {
            memcpy(good + n, "FRAME\n", 6);
            n += 6;
            for (size_t i = 0; i < fb; i++) good[n++] = (uint8_t)rng_u32(&r);
        }
        for (size_t cut = 0; cut <= n; cut++) try_y4m(good, cut, &r);
        for (int t = 0; t < 2000; t++) {
            memcpy(buf, good, n);
            int flips = 1 + (int)rng_below(&r, 3);
            /* mutate mostly the text parts, where the parser lives */
            for (int f = 0; f < flips; f++) buf[rng_below(&r, (uint32_t)(len + 8))] = (uint8_t)rng_u32(&r);
            try_y4m(buf, n, &r);
        }
    }
    for (int t = 0; t < 10000; t++) {
        size_t n = rng_below(&r, 300);
        for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)rng_u32(&r);
        if (t % 2 && n > 10) memcpy(buf, "YUV4MPEG2 ", 10);
        try_y4m(buf, n, &r);
    }
}

/* ---- cascade XML ---------------------------------------------------------------------- */

static const char CASCADE[] =
    "<?xml version=\"1.0\"?>\n<opencv_storage>\n<cascade type_id=\"opencv-cascade-classifier\">"
    "<stageType>BOOST</stageType><featureType>HAAR</featureType><height>6</height><width>6</width>"
    "<stages><_><stageThreshold>-0.5</stageThreshold><weakClassifiers>"
    "<_><internalNodes>0 1 0 0.1 -1 -2 1 -0.2</internalNodes><leafValues>0.3 -0.4 0.9</leafValues></_>"
    "<_><internalNodes>0 -1 1 0.</internalNodes><leafValues>-1. 1.</leafValues></_></weakClassifiers></_>"
    "<_><stageThreshold>0.1</stageThreshold><weakClassifiers>"
    "<_><internalNodes>0 -1 0 0.05</internalNodes><leafValues>-0.5 0.5</leafValues></_></weakClassifiers></_>"
    "</stages><features><_><rects><_>0 0 3 6 -1.</_><_>3 0 3 6 1.</_></rects></_>"
    "<_><rects><_>0 0 6 6 -1.</_><_>0 2 6 2 3.</_><_>1 1 1 1 0.5</_></rects><tilted>0</tilted></_>"
    "</features></cascade></opencv_storage>\n";

static void try_cascade(const char *xml, size_t n, const Image *im)
{
    HaarCascade *c = haar_load_memory(xml, n, "fuzz.xml");
    if (!c) {
        assert_true(strlen(meld_error()) > 0);
        return;
    }
    /* whatever loaded must also run safely */
    HaarOptions o = haar_default_options();
    o.min_neighbours = 0;
    HaarDetection *d;
    int k;
    assert_int_equal(haar_detect(c, im, &o, &d, &k), MELD_OK);
    free(d);
    haar_free(c);
}

static void cascade_xml_survives_fuzzing(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 5, 5);
    Image im;
    assert_int_equal(image_alloc(&im, 14, 11, 1), MELD_OK);
    for (int i = 0; i < 14 * 11; i++) im.pixels[i] = (uint8_t)rng_u32(&r);
    const size_t n = sizeof CASCADE - 1;
    /* the valid file loads and runs */
    HaarCascade *c = haar_load_memory(CASCADE, n, "ok.xml");
    if (!c) fail_msg("%s", meld_error());
    haar_free(c);
    for (size_t cut = 0; cut < n; cut++) try_cascade(CASCADE, cut, &im);
    char buf[sizeof CASCADE];
    for (int t = 0; t < 10000; t++) {
        memcpy(buf, CASCADE, n);
        int flips = 1 + (int)rng_below(&r, 3);
        for (int f = 0; f < flips; f++) {
            /* digits and minus signs are the interesting mutations */
            static const char pool[] = "0123456789-.<>/ _e";
            buf[rng_below(&r, (uint32_t)n)] = t % 3 ? pool[rng_below(&r, sizeof pool - 1)] : (char)rng_u32(&r);
        }
        try_cascade(buf, n, &im);
    }
    for (int t = 0; t < 3000; t++) {
        size_t k = rng_below(&r, 200);
        for (size_t i = 0; i < k; i++) buf[i] = (char)rng_u32(&r);
        try_cascade(buf, k, &im);
    }
    image_free(&im);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pnm_survives_fuzzing),
        cmocka_unit_test(y4m_survives_fuzzing),
        cmocka_unit_test(cascade_xml_survives_fuzzing),
    };
    return cmocka_run_group_tests_name("video: fuzz", tests, NULL, NULL);
}
