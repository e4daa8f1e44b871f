/* audio/fft.h: complex and real FFTs of many lengths against a naive DFT
 * computed in double. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "audio/fft.h"
#include "tensor/error.h"
#include "tensor/rng.h"

/* Direct O(n^2) DFT in double: the reference. */
static void naive_dft(int n, const float *xr, const float *xi, double *yr, double *yi, int inverse)
{
    double sign = inverse ? 1.0 : -1.0;
    for (int k = 0; k < n; k++) {
        double sr = 0, si = 0;
        for (int j = 0; j < n; j++) {
            double a = sign * 2.0 * M_PI * (double)((long long)j * k % n) / n;
            sr += xr[j] * cos(a) - xi[j] * sin(a);
            si += xr[j] * sin(a) + xi[j] * cos(a);
        }
        yr[k] = inverse ? sr / n : sr;
        yi[k] = inverse ? si / n : si;
    }
}

/* Max error relative to the output's RMS: float FFT error grows like
 * eps * log n relative to the signal norm, so 2e-6 leaves room for n ~ 1e4
 * while a wrong twiddle or index gives errors of order 1. */
static double check_complex(int n, int inverse)
{
    FftPlan *p = fft_plan_create(n);
    assert_non_null(p);
    float *re = malloc(n * sizeof(float)), *im = malloc(n * sizeof(float));
    float *xr = calloc(n, sizeof(float)), *xi = calloc(n, sizeof(float));
    float *work = malloc(fft_work_floats(p) * sizeof(float));
    double *yr = malloc(n * sizeof(double)), *yi = malloc(n * sizeof(double));
    Rng r;
    rng_seed(&r, (uint64_t)n, 3);
    for (int i = 0; i < n; i++) {
        xr[i] = re[i] = rng_uniform_range(&r, -1, 1);
        xi[i] = im[i] = rng_uniform_range(&r, -1, 1);
    }
    fft_execute(p, re, im, work, inverse);
    naive_dft(n, xr, xi, yr, yi, inverse);
    double err = 0, norm = 0;
    for (int i = 0; i < n; i++) {
        err = fmax(err, fmax(fabs(re[i] - yr[i]), fabs(im[i] - yi[i])));
        norm += yr[i] * yr[i] + yi[i] * yi[i];
    }
    double rel = err / sqrt(norm / n + 1e-300);
    free(re); free(im); free(xr); free(xi); free(work); free(yr); free(yi);
    fft_plan_free(p);
    return rel;
}

static void complex_fft_matches_naive_dft(void **state)
{
    (void)state;
    /* Powers of two, the mixed radices (400 = 2^4 5^2, 640, 720), direct
     * primes (7, 31), Bluestein (37, 97, 2*101, 1009) and tiny sizes. */
    static const int sizes[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 25, 31, 37, 49, 64,
                                97, 100, 128, 200, 202, 210, 256, 320, 400, 512, 640, 720,
                                1000, 1009, 1024, 1155, 2048};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        double fwd = check_complex(sizes[i], 0), inv = check_complex(sizes[i], 1);
        if (fwd > 2e-6 || inv > 2e-6) print_error("n = %d: forward %.3g inverse %.3g\n", sizes[i], fwd, inv);
        assert_true(fwd < 2e-6);
        assert_true(inv < 2e-6);
    }
}

static void real_fft_matches_naive_dft(void **state)
{
    (void)state;
    static const int sizes[] = {1, 2, 3, 4, 5, 8, 10, 11, 74, 101, 256, 400, 401, 512, 640, 1024};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        int n = sizes[t], nb = n / 2 + 1;
        RfftPlan *p = rfft_plan_create(n);
        assert_non_null(p);
        float *x = malloc(n * sizeof(float)), *zero = calloc(n, sizeof(float));
        float *re = malloc(nb * sizeof(float)), *im = malloc(nb * sizeof(float));
        float *work = malloc(rfft_work_floats(p) * sizeof(float));
        double *yr = malloc(n * sizeof(double)), *yi = malloc(n * sizeof(double));
        Rng r;
        rng_seed(&r, (uint64_t)n, 9);
        for (int i = 0; i < n; i++) x[i] = rng_uniform_range(&r, -1, 1);
        rfft_forward(p, x, re, im, work);
        naive_dft(n, x, zero, yr, yi, 0);
        double err = 0, norm = 0;
        for (int k = 0; k < nb; k++) {
            err = fmax(err, fmax(fabs(re[k] - yr[k]), fabs(im[k] - yi[k])));
            norm += yr[k] * yr[k] + yi[k] * yi[k];
        }
        double rel = err / sqrt(norm / nb);
        if (rel > 2e-6) print_error("real n = %d: %.3g\n", n, rel);
        assert_true(rel < 2e-6);
        free(x); free(zero); free(re); free(im); free(work); free(yr); free(yi);
        rfft_plan_free(p);
    }
}

/* A unit impulse at j0 has X[k] = exp(-2 pi i j0 k / n): checks the sign
 * convention exactly, not only against the reference implementation. */
static void impulse_gives_the_expected_phase_ramp(void **state)
{
    (void)state;
    const int n = 400, j0 = 3;
    FftPlan *p = fft_plan_create(n);
    float re[400] = {0}, im[400] = {0}, *work = malloc(fft_work_floats(p) * sizeof(float));
    re[j0] = 1;
    fft_execute(p, re, im, work, 0);
    for (int k = 0; k < n; k++) {
        assert_float_equal(re[k], cos(-2 * M_PI * j0 * k / n), 1e-6);
        assert_float_equal(im[k], sin(-2 * M_PI * j0 * k / n), 1e-6);
    }
    free(work);
    fft_plan_free(p);
}

static void bad_lengths_are_errors(void **state)
{
    (void)state;
    assert_null(fft_plan_create(0));
    assert_non_null(strstr(meld_error(), "fft"));
    assert_null(rfft_plan_create(-5));
    assert_null(fft_plan_create(1 << 30));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(complex_fft_matches_naive_dft),
        cmocka_unit_test(real_fft_matches_naive_dft),
        cmocka_unit_test(impulse_gives_the_expected_phase_ramp),
        cmocka_unit_test(bad_lengths_are_errors),
    };
    return cmocka_run_group_tests_name("audio: fft", tests, NULL, NULL);
}
