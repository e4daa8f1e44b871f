/* UTF-8 (RFC 3629): validation, decoding and encoding, for every reader
 * and writer of text (JSON, safetensors names, the CSV reader).
 *
 * Valid means the shortest form of a code point in U+0000..U+10FFFF that
 * is not a UTF-16 surrogate (U+D800..U+DFFF): no overlong forms (C0 AF for
 * '/'), no lead bytes C0, C1 or F5..FF, no truncated sequences. The second
 * byte's range after E0, ED, F0 and F4 is what enforces the last three
 * rules (the Unicode standard's table 3-7).
 */
#ifndef MELD_UTF8_H
#define MELD_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length (1..4) of the valid sequence at p, of which n >= 1 bytes can be
 * read; 0 when it is not one. */
size_t utf8_sequence(const uint8_t *p, size_t n);

/* The code point of a valid sequence of length len (utf8_sequence's). */
uint32_t utf8_decode(const uint8_t *p, size_t len);

/* Writes code point cp (<= U+10FFFF, not a surrogate) to out (4 bytes of
 * room); returns the byte count, 1..4. */
size_t utf8_encode(uint32_t cp, char *out);

/* True when the n bytes at s are valid UTF-8 throughout. */
bool utf8_valid(const char *s, size_t n);

/* Copies the C string s into out (cap bytes, NUL-terminated when cap > 0)
 * with every byte that does not start a valid sequence replaced by U+FFFD
 * (EF BF BD); returns the length the whole result needs, as snprintf does
 * (out may be NULL when cap is 0). For text that must be UTF-8, such as
 * safetensors metadata made from a path. */
size_t utf8_sanitize(const char *s, char *out, size_t cap);

#endif
