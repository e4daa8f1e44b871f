/* The error buffer and the seeded generator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "tensor/error.h"
#include "tensor/rng.h"

static void error_message_is_kept_and_prefixed(void **state)
{
    (void)state;
    assert_int_equal(meld_errorf("bad %s", "shape"), MELD_ERR);
    assert_string_equal(meld_error(), "bad shape");
    meld_error_context("file %s", "x.wav");
    assert_string_equal(meld_error(), "file x.wav: bad shape");
    meld_error_clear();
    assert_string_equal(meld_error(), "");
    /* Names from outside cannot break the line. */
    meld_errorf("%s: cannot open", "a\nb\tc\x1b[31m");
    meld_error_context("in %s", "dir\r");
    assert_string_equal(meld_error(), "in dir\\x0d: a\\nb\\tc\\x1b[31m: cannot open");
    meld_warnf("odd name %s", "x\ny");
    assert_string_equal(meld_take_warning(), "odd name x\\ny");
}

static void warnings_accumulate_and_clear(void **state)
{
    (void)state;
    assert_null(meld_take_warning());
    meld_warnf("one");
    meld_warnf("two");
    assert_string_equal(meld_take_warning(), "one\ntwo");
    assert_null(meld_take_warning());
}

/* First outputs of the PCG32 reference (pcg32-demo, seed 42, stream 54). */
static void rng_matches_pcg32_reference(void **state)
{
    (void)state;
    static const uint32_t expected[6] = {0xa15c02b7, 0x7b47f409, 0xba1d3330,
                                         0x83d2f293, 0xbfa4784b, 0xcbed606e};
    Rng r;
    rng_seed(&r, 42, 54);
    for (int i = 0; i < 6; i++) assert_int_equal(rng_u32(&r), expected[i]);
}

static void rng_normal_has_unit_moments(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 7, 1);
    double s = 0, s2 = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double x = rng_normal(&r);
        s += x;
        s2 += x * x;
    }
    assert_true(fabs(s / n) < 0.01);
    assert_true(fabs(s2 / n - 1.0) < 0.02);
}

static void rng_below_stays_in_range_and_shuffle_permutes(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 3, 3);
    int seen[7] = {0};
    for (int i = 0; i < 7000; i++) seen[rng_below(&r, 7)]++;
    for (int i = 0; i < 7; i++) assert_true(seen[i] > 800 && seen[i] < 1200);
    int idx[50], count[50] = {0};
    for (int i = 0; i < 50; i++) idx[i] = i;
    rng_shuffle(&r, idx, 50);
    for (int i = 0; i < 50; i++) count[idx[i]]++;
    for (int i = 0; i < 50; i++) assert_int_equal(count[i], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(error_message_is_kept_and_prefixed),
        cmocka_unit_test(warnings_accumulate_and_clear),
        cmocka_unit_test(rng_matches_pcg32_reference),
        cmocka_unit_test(rng_normal_has_unit_moments),
        cmocka_unit_test(rng_below_stays_in_range_and_shuffle_permutes),
    };
    return cmocka_run_group_tests_name("core: error buffer, rng", tests, NULL, NULL);
}
