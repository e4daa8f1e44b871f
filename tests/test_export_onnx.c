/* The encoders under meld export: the protobuf wire format on the examples
 * of its encoding guide, and the ONNX writer byte for byte against a model
 * the onnx package serialised itself (tests/fixtures/export/
 * make_tiny_onnx.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "pipeline/export/onnx.h"
#include "pipeline/export/protobuf.h"
#include "tensor/error.h"

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size >= 0);
    rewind(f);
    uint8_t *data = malloc((size_t)size + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *n = (size_t)size;
    return data;
}

/* ---- protobuf wire format ----------------------------------------------- */

static void expect_bytes(const PbBuf *b, const uint8_t *want, size_t n)
{
    assert_false(pb_failed(b));
    assert_int_equal(b->len, n);
    assert_memory_equal(b->data, want, n);
}

static void protobuf_wire_format(void **state)
{
    (void)state;
    PbBuf b, inner;
    /* The protocol-buffers encoding guide's examples: field 1 = 150,
     * field 2 = "testing", field 3 = a message holding field 1 = 150. */
    pb_init(&b);
    pb_varint(&b, 1, 150);
    expect_bytes(&b, (const uint8_t[]){0x08, 0x96, 0x01}, 3);
    pb_free(&b);
    pb_string(&b, 2, "testing");
    expect_bytes(&b, (const uint8_t[]){0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'}, 9);
    pb_free(&b);
    pb_init(&inner);
    pb_varint(&inner, 1, 150);
    pb_message(&b, 3, &inner);
    expect_bytes(&b, (const uint8_t[]){0x1a, 0x03, 0x08, 0x96, 0x01}, 5);
    pb_free(&b);
    pb_free(&inner);
    /* Zero, a two-byte key (field 20), 300 = ac 02, a negative int64 in
     * ten bytes, a float as fixed32 little-endian. */
    pb_varint(&b, 1, 0);
    pb_varint(&b, 20, 300);
    pb_varint(&b, 3, -1);
    pb_float(&b, 2, 1.0f);
    expect_bytes(&b,
                 (const uint8_t[]){0x08, 0x00, 0xa0, 0x01, 0xac, 0x02, 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0x01, 0x15, 0x00, 0x00, 0x80, 0x3f},
                 22);
    pb_free(&b);
    /* Raw little-endian arrays, and appending encoded fields. */
    pb_float_bytes(&b, 9, (const float[]){-2.0f}, 1);
    pb_int64_bytes(&inner, 9, (const int64_t[]){-2}, 1);
    pb_append(&b, &inner);
    expect_bytes(&b,
                 (const uint8_t[]){0x4a, 0x04, 0x00, 0x00, 0x00, 0xc0, 0x4a, 0x08, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff},
                 16);
    pb_free(&b);
    pb_free(&inner);
}

/* The model make_tiny_onnx.py writes with the onnx package, built here. */
static void onnx_writer_matches_onnx_package(void **state)
{
    (void)state;
    static const float w[12] = {0.5f, -1.0f, 2.0f, 0.25f, 1.5f, 0.0f, -0.75f, 3.0f, -2.0f, 0.125f, 1.0f, -0.5f};
    static const float bias[3] = {0.1f, -0.2f, 0.3f};
    OnnxGraph g;
    onnx_graph_init(&g);
    const char *x = onnx_input(&g, "x", ONNX_FLOAT, 2, (int64_t[]){-1, 4}, (const char *[]){"batch", NULL}, "features");
    const char *y = onnx_node(&g, "Gemm", "fc",
                              ONNX_IN(x, onnx_init_float(&g, "fc.weight", 2, (int64_t[]){3, 4}, w),
                                      onnx_init_float(&g, "fc.bias", 1, (int64_t[]){3}, bias)),
                              ONNX_ATTRS(ONNX_INT("transB", 1)));
    y = onnx_node(&g, "LeakyRelu", NULL, ONNX_IN(y), ONNX_ATTRS(ONNX_FLOAT_ATTR("alpha", 0.1f)));
    y = onnx_node(&g, "Pad", NULL, ONNX_IN(y, onnx_ints(&g, 4, (int64_t[]){0, 0, 0, 1})),
                  ONNX_ATTRS(ONNX_STRING("mode", "constant")));
    y = onnx_node(&g, "Transpose", NULL, ONNX_IN(y), ONNX_ATTRS(ONNX_INTS("perm", 1, 0)));
    y = onnx_node(&g, "Softmax", "y", ONNX_IN(y), ONNX_ATTRS(ONNX_INT("axis", 0)));
    assert_non_null(onnx_output(&g, y, ONNX_FLOAT, 2, (int64_t[]){4, -1}, (const char *[]){NULL, "batch"}, "probabilities"));
    const char *keys[] = {"model", "labels"}, *values[] = {"tiny", "a,b,c,d"};
    OnnxModelInfo info = {.graph_name = "tiny", .doc = "a tiny test model", .meta_keys = keys, .meta_values = values,
                          .n_meta = 2};
    uint8_t *ours;
    size_t n, m;
    assert_int_equal(onnx_encode(&g, &info, &ours, &n), MELD_OK);
    uint8_t *theirs = read_file("tests/fixtures/export/tiny.onnx", &m);
    assert_int_equal(n, m);
    assert_memory_equal(ours, theirs, n);
    free(ours);
    free(theirs);
    onnx_graph_free(&g);
}

/* A missing input name (a failed earlier step) fails the whole graph. */
static void onnx_errors_are_sticky(void **state)
{
    (void)state;
    OnnxGraph g;
    onnx_graph_init(&g);
    assert_null(onnx_node(&g, "Relu", NULL, ONNX_IN(NULL), ONNX_NO_ATTRS));
    assert_null(onnx_input(&g, "x", ONNX_FLOAT, 0, NULL, NULL, NULL));
    OnnxModelInfo info = {.graph_name = "broken"};
    uint8_t *bytes = (uint8_t *)"";
    size_t n = 1;
    assert_int_equal(onnx_encode(&g, &info, &bytes, &n), MELD_ERR);
    assert_null(bytes);
    onnx_graph_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(protobuf_wire_format),
        cmocka_unit_test(onnx_writer_matches_onnx_package),
        cmocka_unit_test(onnx_errors_are_sticky),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
