/* A protocol-buffers encoder: the part of the wire format that writing an
 * ONNX model needs, and nothing else (no schema, no reflection, no reading).
 *
 * A message is a sequence of fields, each a key followed by a value:
 *
 *   key     varint (field_number << 3 | wire_type)
 *   value   wire type 0, VARINT: an integer as a varint
 *           wire type 2, LEN:    a varint byte count, then the bytes
 *                                (strings, bytes, packed arrays and
 *                                nested messages alike)
 *           wire type 5, I32:    4 bytes little-endian (a float)
 *
 * A varint stores an unsigned 64-bit integer 7 bits at a time, least
 * significant group first; every byte but the last has its top bit set:
 * 1 -> 01, 150 -> 96 01, 300 -> ac 02. A negative int64 is sent as its
 * two's complement, so it always takes ten bytes. Field order is free and a
 * repeated field is simply written once per element.
 *
 * Nested messages are built in a PbBuf of their own and written into their
 * parent with pb_message, which knows the length by then.
 *
 * Errors are sticky: after a failed allocation every call does nothing and
 * pb_failed() reports it (the error message is set once), so builders can
 * write a whole message and check at the end.
 *
 *     PbBuf dims;
 *     pb_init(&dims);
 *     pb_varint(&dims, 1, 150);          // 08 96 01
 *     pb_string(&dims, 2, "x");          // 12 01 78
 *     if (pb_failed(&dims)) ... meld_error() ...
 */
#ifndef MELD_EXPORT_PROTOBUF_H
#define MELD_EXPORT_PROTOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *data;
    size_t len, cap;
    bool failed;
} PbBuf;

void pb_init(PbBuf *b);
void pb_free(PbBuf *b);
bool pb_failed(const PbBuf *b);

/* Field `field` of wire type 0 (int32, int64, enum, bool). */
void pb_varint(PbBuf *b, int field, int64_t v);
/* Wire type 5: a float32. */
void pb_float(PbBuf *b, int field, float v);
/* Wire type 2: raw bytes, a NUL-terminated string, a nested message. */
void pb_bytes(PbBuf *b, int field, const void *data, size_t n);
void pb_string(PbBuf *b, int field, const char *s);
void pb_message(PbBuf *b, int field, const PbBuf *msg);
/* A message is just its fields back to back: appends src's encoded fields
 * to dst (both parts of one message). */
void pb_append(PbBuf *dst, const PbBuf *src);
/* Wire type 2: n values as little-endian bytes (ONNX's raw_data). */
void pb_float_bytes(PbBuf *b, int field, const float *v, size_t n);
void pb_int64_bytes(PbBuf *b, int field, const int64_t *v, size_t n);

#endif
