/* Image operations: crops, resizers, flip, float CHW, augmentation, frame
 * sampling. Expected values are worked out by hand in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"
#include "tensor/rng.h"
#include "video/augment.h"
#include "video/image.h"
#include "video/sample.h"
#include "video/transform.h"

static Image make(int w, int h, int c, const uint8_t *px)
{
    Image im;
    assert_int_equal(image_alloc(&im, w, h, c), MELD_OK);
    memcpy(im.pixels, px, (size_t)w * h * c);
    return im;
}

static void crop_inside_and_padded(void **state)
{
    (void)state;
    const uint8_t px[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};   /* 3x3 grey */
    Image im = make(3, 3, 1, px), out = {0};
    assert_int_equal(image_crop(&im, (ImageRect){1, 1, 2, 2}, &out), MELD_OK);
    const uint8_t want[] = {5, 6, 8, 9};
    assert_memory_equal(out.pixels, want, 4);
    assert_int_equal(image_crop(&im, (ImageRect){2, 2, 2, 2}, &out), MELD_ERR);
    assert_non_null(strstr(meld_error(), "outside"));
    /* one pixel off the top-left: a zero row and column */
    assert_int_equal(image_crop_pad(&im, (ImageRect){-1, -1, 3, 3}, 0, &out), MELD_OK);
    const uint8_t padded[] = {0, 0, 0, 0, 1, 2, 0, 4, 5};
    assert_memory_equal(out.pixels, padded, 9);
    /* entirely outside: all fill */
    assert_int_equal(image_crop_pad(&im, (ImageRect){10, 0, 2, 2}, 7, &out), MELD_OK);
    for (int i = 0; i < 4; i++) assert_int_equal(out.pixels[i], 7);
    ImageRect sq = rect_centre_square(640, 360);
    assert_int_equal(sq.x, 140);
    assert_int_equal(sq.y, 0);
    assert_int_equal(sq.width, 360);
    image_free(&im);
    image_free(&out);
}

static void flip_mirrors_rgb(void **state)
{
    (void)state;
    const uint8_t px[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};   /* 3x1 RGB */
    Image im = make(3, 1, 3, px);
    image_flip_horizontal(&im);
    const uint8_t want[] = {7, 8, 9, 4, 5, 6, 1, 2, 3};
    assert_memory_equal(im.pixels, want, 9);
    image_free(&im);
}

static void area_resize_averages_blocks(void **state)
{
    (void)state;
    /* 4x2 -> 2x1: each output is the mean of a 2x2 block */
    const uint8_t px[] = {10, 20, 100, 200, 30, 40, 0, 100};
    Image im = make(4, 2, 1, px), out = {0};
    assert_int_equal(image_resize_area(&im, 2, 1, &out), MELD_OK);
    assert_int_equal(out.pixels[0], 25);    /* (10 + 20 + 30 + 40) / 4 */
    assert_int_equal(out.pixels[1], 100);   /* (100 + 200 + 0 + 100) / 4 */
    /* 3 -> 2 (non-integer): output 0 covers [0, 1.5): (1 * a + 0.5 * b) / 1.5 */
    const uint8_t row[] = {30, 90, 150};
    Image r = make(3, 1, 1, row);
    assert_int_equal(image_resize_area(&r, 2, 1, &out), MELD_OK);
    assert_int_equal(out.pixels[0], 50);    /* (30 + 45) / 1.5 */
    assert_int_equal(out.pixels[1], 130);   /* (45 + 150) / 1.5 */
    image_free(&im);
    image_free(&r);
    image_free(&out);
}

/* Shrinking keeps the mean (area filter is mass-preserving). */
static void area_resize_keeps_mean(void **state)
{
    (void)state;
    Image im, out = {0};
    assert_int_equal(image_alloc(&im, 97, 61, 3), MELD_OK);
    Rng r;
    rng_seed(&r, 3, 0);
    double s = 0;
    for (int i = 0; i < 97 * 61 * 3; i++) s += im.pixels[i] = (uint8_t)rng_below(&r, 256);
    assert_int_equal(image_resize_area(&im, 13, 9, &out), MELD_OK);
    double t = 0;
    for (int i = 0; i < 13 * 9 * 3; i++) t += out.pixels[i];
    assert_true(fabs(s / (97 * 61 * 3) - t / (13 * 9 * 3)) < 0.6);
    image_free(&im);
    image_free(&out);
}

static void bilinear_identity_and_interpolation(void **state)
{
    (void)state;
    const uint8_t px[] = {0, 100, 200, 50};
    Image im = make(2, 2, 1, px), out = {0};
    assert_int_equal(image_resize_bilinear(&im, 2, 2, &out), MELD_OK);
    assert_memory_equal(out.pixels, px, 4);
    /* 2 -> 4 columns: centres map to -0.25, 0.25, 0.75, 1.25 -> clamp, 1/4, 3/4, clamp */
    const uint8_t row[] = {0, 200};
    Image r = make(2, 1, 1, row);
    assert_int_equal(image_resize_bilinear(&r, 4, 1, &out), MELD_OK);
    const uint8_t want[] = {0, 50, 150, 200};
    assert_memory_equal(out.pixels, want, 4);
    /* image_resize picks bilinear to enlarge, area to shrink */
    assert_int_equal(image_resize(&r, 4, 1, &out), MELD_OK);
    assert_memory_equal(out.pixels, want, 4);
    assert_int_equal(image_resize(&im, 1, 1, &out), MELD_OK);
    assert_int_equal(out.pixels[0], 88);   /* (0 + 100 + 200 + 50) / 4 = 87.5 */
    assert_int_equal(image_resize(&im, 0, 4, &out), MELD_ERR);
    image_free(&im);
    image_free(&r);
    image_free(&out);
}

/* Bit-exact with OpenCV's INTER_LINEAR_EXACT, ties included: 129 -> 256
 * columns puts some weights at exactly k + 1/2 in 1/256 units, which OpenCV
 * rounds to even (half away from zero would give 194, 59, 198, 55). The
 * expected pixels are cv2.resize(row, (256, 1), INTER_LINEAR_EXACT) of the
 * alternating row 0, 255, 0, ... (OpenCV 4.6). */
static void bilinear_rounds_ties_like_opencv(void **state)
{
    (void)state;
    uint8_t px[129];
    for (int x = 0; x < 129; x++) px[x] = x % 2 ? 255 : 0;
    Image r = make(129, 1, 1, px), out = {0};
    assert_int_equal(image_resize_bilinear(&r, 256, 1, &out), MELD_OK);
    assert_int_equal(out.pixels[2], 193);
    assert_int_equal(out.pixels[4], 60);
    assert_int_equal(out.pixels[6], 197);
    assert_int_equal(out.pixels[8], 56);
    image_free(&r);
    image_free(&out);
}

static void chw_normalisation(void **state)
{
    (void)state;
    const uint8_t px[] = {0, 51, 255, 255, 102, 0};   /* 2x1 RGB */
    Image im = make(2, 1, 3, px);
    float out[6];
    const float mean[3] = {0.5f, 0.2f, 0.0f}, std[3] = {0.5f, 0.1f, 2.0f};
    assert_int_equal(image_to_chw(&im, mean, std, out), MELD_OK);
    /* plane R: (0 - .5) / .5, (1 - .5) / .5; plane G: (.2 - .2) / .1, (.4 - .2) / .1; plane B: 1/2, 0 */
    const float want[6] = {-1, 1, 0, 2, 0.5f, 0};
    for (int i = 0; i < 6; i++) assert_float_equal(out[i], want[i], 1e-5);
    assert_int_equal(image_to_chw(&im, NULL, NULL, out), MELD_OK);
    assert_float_equal(out[1], 1.0f, 1e-6);
    const float zero_std[3] = {1, 0, 1};
    assert_int_equal(image_to_chw(&im, mean, zero_std, out), MELD_ERR);
    float m[3], s[3];
    assert_int_equal(image_channel_stats(&im, 1, m, s), MELD_OK);
    assert_float_equal(m[0], 0.5f, 1e-6);
    assert_float_equal(s[0], 0.5f, 1e-6);
    assert_float_equal(m[1], 0.3f, 1e-6);
    assert_float_equal(s[1], 0.1f, 1e-6);
    image_free(&im);
}

static void augment_is_reproducible_and_bounded(void **state)
{
    (void)state;
    Image im, a = {0}, b = {0};
    assert_int_equal(image_alloc(&im, 16, 12, 3), MELD_OK);
    for (int i = 0; i < 16 * 12 * 3; i++) im.pixels[i] = (uint8_t)(60 + (i * 7) % 120);
    AugmentOptions o = augment_default_options();
    Rng r1, r2;
    rng_seed(&r1, 11, 2);
    rng_seed(&r2, 11, 2);
    int differ = 0;
    for (int t = 0; t < 20; t++) {
        assert_int_equal(image_augment(&im, &o, &r1, &a), MELD_OK);
        assert_int_equal(image_augment(&im, &o, &r2, &b), MELD_OK);
        assert_memory_equal(a.pixels, b.pixels, 16 * 12 * 3);   /* same seed, same result */
        assert_int_equal(a.width, 16);
        differ += memcmp(a.pixels, im.pixels, 16 * 12 * 3) != 0;
    }
    assert_true(differ >= 18);
    assert_int_equal(image_augment(&im, &o, &r1, &im), MELD_ERR);
    o.brightness = 1.5f;
    assert_int_equal(image_augment(&im, &o, &r1, &a), MELD_ERR);
    image_free(&im);
    image_free(&a);
    image_free(&b);
}

/* Each step on its own, replaying the documented draws. */
static void augment_steps_follow_the_documented_draws(void **state)
{
    (void)state;
    const uint8_t px[] = {10, 20, 30, 40, 50, 60};   /* 3x2 grey */
    Image im = make(3, 2, 1, px), out = {0};
    /* crop only: dx, dy = rng_below(2 pad + 1) twice */
    AugmentOptions o = {.pad = 1};
    Rng r, replay;
    rng_seed(&r, 5, 9);
    replay = r;
    assert_int_equal(image_augment(&im, &o, &r, &out), MELD_OK);
    int dx = (int)rng_below(&replay, 3) - 1, dy = (int)rng_below(&replay, 3) - 1;
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 3; x++) {
            int sx = x + dx, sy = y + dy;
            int want = (sx < 0 || sy < 0 || sx >= 3 || sy >= 2) ? 0 : px[sy * 3 + sx];
            assert_int_equal(out.pixels[y * 3 + x], want);
        }
    /* flip with probability 1: always mirrored, one uniform drawn */
    o = (AugmentOptions){.flip_prob = 1.0f};
    assert_int_equal(image_augment(&im, &o, &r, &out), MELD_OK);
    const uint8_t flipped[] = {30, 20, 10, 60, 50, 40};
    assert_memory_equal(out.pixels, flipped, 6);
    /* brightness then contrast: v -> k b v + (1 - k) b mean, mean 35 */
    o = (AugmentOptions){.brightness = 0.5f, .contrast = 0.5f};
    replay = r;
    assert_int_equal(image_augment(&im, &o, &r, &out), MELD_OK);
    float b = rng_uniform_range(&replay, 0.5f, 1.5f), k = rng_uniform_range(&replay, 0.5f, 1.5f);
    for (int i = 0; i < 6; i++) {
        float v = k * b * px[i] + (1 - k) * b * 35.0f;
        assert_true(fabsf(out.pixels[i] - v) <= 0.51f);
    }
    image_free(&im);
    image_free(&out);
}

static void sampling_is_evenly_spaced(void **state)
{
    (void)state;
    long idx[8];
    assert_int_equal(frame_sample_indices(100, 4, idx), MELD_OK);
    const long want[4] = {12, 37, 62, 87};   /* floor((k + 0.5) * 25) */
    assert_memory_equal(idx, want, sizeof want);
    assert_int_equal(frame_sample_indices(1, 4, idx), MELD_OK);
    for (int k = 0; k < 4; k++) assert_int_equal(idx[k], 0);
    assert_int_equal(frame_sample_indices(3, 4, idx), MELD_OK);
    const long few[4] = {0, 1, 1, 2};
    assert_memory_equal(idx, few, sizeof few);
    for (long n = 1; n < 300; n += 7)
        for (int k = 1; k <= 8; k++) {
            assert_int_equal(frame_sample_indices(n, k, idx), MELD_OK);
            for (int i = 0; i < k; i++) {
                assert_true(idx[i] >= 0 && idx[i] < n);
                if (i) assert_true(n >= k ? idx[i] > idx[i - 1] : idx[i] >= idx[i - 1]);
            }
        }
    assert_int_equal(frame_sample_indices(0, 4, idx), MELD_ERR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crop_inside_and_padded),
        cmocka_unit_test(flip_mirrors_rgb),
        cmocka_unit_test(area_resize_averages_blocks),
        cmocka_unit_test(area_resize_keeps_mean),
        cmocka_unit_test(bilinear_identity_and_interpolation),
        cmocka_unit_test(bilinear_rounds_ties_like_opencv),
        cmocka_unit_test(chw_normalisation),
        cmocka_unit_test(augment_is_reproducible_and_bounded),
        cmocka_unit_test(augment_steps_follow_the_documented_draws),
        cmocka_unit_test(sampling_is_evenly_spaced),
    };
    return cmocka_run_group_tests_name("video: ops", tests, NULL, NULL);
}
