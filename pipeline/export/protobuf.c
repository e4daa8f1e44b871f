/* The protocol-buffers wire format, encoding only (see protobuf.h). */
#include "pipeline/export/protobuf.h"

#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"

enum { WIRE_VARINT = 0, WIRE_LEN = 2, WIRE_I32 = 5 };

void pb_init(PbBuf *b) { memset(b, 0, sizeof *b); }

void pb_free(PbBuf *b)
{
    free(b->data);
    pb_init(b);
}

bool pb_failed(const PbBuf *b) { return b->failed; }

/* Room for n more bytes (capacity doubles), or the sticky failure. */
static bool reserve(PbBuf *b, size_t n)
{
    if (b->failed) return false;
    if (n <= b->cap - b->len) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2) {
            b->failed = true;
            meld_errorf("protobuf: message larger than memory");
            return false;
        }
        cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        meld_errorf("out of memory growing a protobuf message to %zu bytes", cap);
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

static void put(PbBuf *b, const void *p, size_t n)
{
    if (!reserve(b, n)) return;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* 7 bits a byte, low group first, top bit = "more follows". */
static void put_varint(PbBuf *b, uint64_t v)
{
    uint8_t bytes[10];
    size_t n = 0;
    do {
        bytes[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) bytes[n] |= 0x80;
        n++;
    } while (v);
    put(b, bytes, n);
}

static void put_key(PbBuf *b, int field, int wire) { put_varint(b, (uint64_t)field << 3 | (uint64_t)wire); }

void pb_varint(PbBuf *b, int field, int64_t v)
{
    put_key(b, field, WIRE_VARINT);
    put_varint(b, (uint64_t)v);   /* negative: two's complement, ten bytes */
}

static void put_le(PbBuf *b, uint64_t v, int bytes)
{
    uint8_t le[8];
    for (int i = 0; i < bytes; i++) le[i] = (uint8_t)(v >> (8 * i));
    put(b, le, (size_t)bytes);
}

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

void pb_float(PbBuf *b, int field, float v)
{
    put_key(b, field, WIRE_I32);
    put_le(b, float_bits(v), 4);
}

void pb_bytes(PbBuf *b, int field, const void *data, size_t n)
{
    put_key(b, field, WIRE_LEN);
    put_varint(b, n);
    put(b, data, n);
}

void pb_string(PbBuf *b, int field, const char *s) { pb_bytes(b, field, s, strlen(s)); }

void pb_message(PbBuf *b, int field, const PbBuf *msg)
{
    if (msg->failed) {
        b->failed = true;   /* the child's error message stands */
        return;
    }
    pb_bytes(b, field, msg->data, msg->len);
}

void pb_append(PbBuf *dst, const PbBuf *src)
{
    if (src->failed) dst->failed = true;
    put(dst, src->data, src->len);
}

void pb_float_bytes(PbBuf *b, int field, const float *v, size_t n)
{
    if (n > SIZE_MAX / 4) {
        b->failed = true;
        meld_errorf("protobuf: %zu floats do not fit in memory", n);
        return;
    }
    put_key(b, field, WIRE_LEN);
    put_varint(b, n * 4);
    if (!reserve(b, n * 4)) return;
    for (size_t i = 0; i < n; i++) put_le(b, float_bits(v[i]), 4);
}

void pb_int64_bytes(PbBuf *b, int field, const int64_t *v, size_t n)
{
    if (n > SIZE_MAX / 8) {
        b->failed = true;
        meld_errorf("protobuf: %zu integers do not fit in memory", n);
        return;
    }
    put_key(b, field, WIRE_LEN);
    put_varint(b, n * 8);
    if (!reserve(b, n * 8)) return;
    for (size_t i = 0; i < n; i++) put_le(b, (uint64_t)v[i], 8);
}
