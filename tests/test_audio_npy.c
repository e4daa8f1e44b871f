/* .npy files: round trip through the file and from memory, and malformed
 * headers each refused with its own message. Cases found by the fuzz
 * target (tests/fuzz/fuzz_npy.c) are kept here as regressions. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "audio/npy.h"
#include "tensor/error.h"

/* A version-1 file with this header text (padded as numpy pads it) and
 * n_values float32 values 0, 1, 2, ... Returns the size. */
static size_t make_npy(uint8_t *buf, const char *header, size_t n_values)
{
    size_t hlen = strlen(header), padded = ((10 + hlen + 1 + 63) / 64) * 64 - 10;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (uint8_t)(padded & 0xff);
    buf[9] = (uint8_t)(padded >> 8);
    memcpy(buf + 10, header, hlen);
    memset(buf + 10 + hlen, ' ', padded - hlen - 1);
    buf[10 + padded - 1] = '\n';
    for (size_t i = 0; i < n_values; i++) {
        float v = (float)i;
        memcpy(buf + 10 + padded + 4 * i, &v, 4);
    }
    return 10 + padded + 4 * n_values;
}

static void expect_refused(const uint8_t *bytes, size_t size, const char *what)
{
    float *m;
    size_t r, c;
    assert_int_equal(npy_parse_f32(bytes, size, "t.npy", &m, &r, &c), MELD_ERR);
    assert_null(m);
    if (!strstr(meld_error(), what)) fail_msg("expected '%s' in '%s'", what, meld_error());
    assert_non_null(strstr(meld_error(), "t.npy: "));
}

static void round_trip_file_and_memory(void **state)
{
    (void)state;
    char dir[] = "/tmp/meld-npy-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/m.npy", dir);
    float x[6] = {1, -2, 3.5f, 0, 1e-8f, 7};
    assert_int_equal(npy_write_f32(path, x, 2, 3), MELD_OK);
    float *m;
    size_t r, c;
    assert_int_equal(npy_read_f32(path, &m, &r, &c), MELD_OK);
    assert_int_equal(r, 2);
    assert_int_equal(c, 3);
    assert_memory_equal(m, x, sizeof x);
    free(m);
    uint8_t buf[256];
    size_t n = make_npy(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", 4);
    assert_int_equal(npy_parse_f32(buf, n, "v.npy", &m, &r, &c), MELD_OK);
    assert_int_equal(r, 1);
    assert_int_equal(c, 4);
    assert_true(m[3] == 3.0f);
    free(m);
    /* A FIFO is refused, not waited on. */
    snprintf(path, sizeof path, "%s/f.npy", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(npy_read_f32(path, &m, &r, &c), MELD_ERR);
    assert_non_null(strstr(meld_error(), "f.npy: is a FIFO"));
    unlink(path);
    snprintf(path, sizeof path, "%s/m.npy", dir);
    unlink(path);
    rmdir(dir);
}

static void malformed_headers_are_refused(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t n;
    expect_refused((const uint8_t *)"\x93NUMPY", 6, "not a version-1 .npy file");
    n = make_npy(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 4);
    expect_refused(buf, n, "only little-endian float32");
    n = make_npy(buf, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", 2);
    expect_refused(buf, n, "Fortran-order");
    /* Found by fuzz_npy: a header whose key is not 'shape' gave an error
     * with an empty message. */
    n = make_npy(buf, "{'descr': '<f4', 'fortran_order': False, 'shapedes': (5,), }", 5);
    expect_refused(buf, n, "the .npy header has no 'shape'");
    n = make_npy(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 0), }", 0);
    expect_refused(buf, n, "non-negative sizes");
    n = make_npy(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }", 6);
    expect_refused(buf, n, "only 1-D and 2-D");
    /* More values promised than present: refused before any allocation. */
    n = make_npy(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000, 100000), }", 2);
    expect_refused(buf, n, "needs more data than the file holds (2 values)");
    n = make_npy(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 3);
    buf[8] = 0xff;   /* header length past the end */
    expect_refused(buf, n, "truncated .npy header");
    n = make_npy(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 3);
    buf[20] = '\0';
    expect_refused(buf, n, "NUL byte in the .npy header");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_file_and_memory),
        cmocka_unit_test(malformed_headers_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
