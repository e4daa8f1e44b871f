/* Pickle byte streams written by hand in tests: C strings in which `...`
 * holds bytes in hex, so "K`07`a" is BININT1 7 then APPEND (a C "\x07a"
 * escape would swallow the hex digit after it). */
#ifndef MELD_TESTS_PICKLE_STREAM_H
#define MELD_TESTS_PICKLE_STREAM_H

#include <stddef.h>
#include <stdint.h>

/* Decodes spec into a static buffer (valid until the next call) and
 * returns it; *len gets its length. */
const uint8_t *pickle_stream(const char *spec, size_t *len);

#endif
