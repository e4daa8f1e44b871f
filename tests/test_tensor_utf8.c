/* tensor/utf8.h: every code point encodes and decodes back, every 1- to
 * 3-byte sequence (and 4-byte ones around the limits) is judged as a
 * decode-then-check reference judges it, and the classic invalid forms are
 * refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tensor/utf8.h"

/* The reference: decode by the bit pattern of the lead byte, then refuse
 * overlong forms, surrogates and code points past U+10FFFF. */
static size_t reference_sequence(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    if (c < 0x80) return 1;
    size_t len;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07, min = 0x10000;
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

static void every_code_point_round_trips(void **state)
{
    (void)state;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        char buf[4];
        size_t len = utf8_encode(cp, buf);
        size_t want = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        if (len != want) fail_msg("U+%04X: %zu bytes", cp, len);
        if (utf8_sequence((const uint8_t *)buf, len) != len) fail_msg("U+%04X: its encoding is refused", cp);
        if (utf8_decode((const uint8_t *)buf, len) != cp) fail_msg("U+%04X decodes to something else", cp);
        if (len > 1 && utf8_sequence((const uint8_t *)buf, len - 1)) fail_msg("U+%04X: truncated accepted", cp);
    }
}

static void short_sequences_match_the_reference(void **state)
{
    (void)state;
    uint8_t p[4] = {0};
    for (int a = 0; a < 256; a++) {
        p[0] = (uint8_t)a;
        if (utf8_sequence(p, 1) != reference_sequence(p, 1)) fail_msg("%02X", a);
        for (int b = 0; b < 256; b++) {
            p[1] = (uint8_t)b;
            if (utf8_sequence(p, 2) != reference_sequence(p, 2)) fail_msg("%02X %02X", a, b);
            if (a < 0xE0) continue;   /* shorter sequences are decided by two bytes */
            for (int c = 0; c < 256; c++) {
                p[2] = (uint8_t)c;
                if (utf8_sequence(p, 3) != reference_sequence(p, 3)) fail_msg("%02X %02X %02X", a, b, c);
            }
        }
    }
    /* 4-byte sequences: every lead, second and third byte with a few last ones */
    static const uint8_t last[] = {0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xFF};
    for (int a = 0xF0; a < 256; a++)
        for (int b = 0; b < 256; b++)
            for (int c = 0x70; c < 0xD0; c++)
                for (size_t d = 0; d < sizeof last; d++) {
                    uint8_t q[4] = {(uint8_t)a, (uint8_t)b, (uint8_t)c, last[d]};
                    if (utf8_sequence(q, 4) != reference_sequence(q, 4)) fail_msg("%02X %02X %02X %02X", a, b, c, last[d]);
                }
}

static void classic_invalid_forms(void **state)
{
    (void)state;
    assert_true(utf8_valid("abc\xE2\x80\x99\xF0\x9F\x98\x80", 10));
    assert_true(utf8_valid("", 0));
    assert_true(utf8_valid("\xF4\x8F\xBF\xBF", 4));       /* U+10FFFF */
    assert_false(utf8_valid("\xC0\xAF", 2));              /* overlong '/' */
    assert_false(utf8_valid("\xE0\x80\xAF", 3));          /* overlong, 3 bytes */
    assert_false(utf8_valid("\xF0\x80\x80\xAF", 4));      /* overlong, 4 bytes */
    assert_false(utf8_valid("\xED\xA0\x80", 3));          /* surrogate */
    assert_false(utf8_valid("\xF4\x90\x80\x80", 4));      /* above U+10FFFF */
    assert_false(utf8_valid("\xF5\x80\x80\x80", 4));      /* lead byte F5 */
    assert_false(utf8_valid("\x80", 1));                  /* lone continuation */
    assert_false(utf8_valid("\xE2\x80", 2));              /* truncated */
    assert_false(utf8_valid("a\xE2\x80" "b", 4));         /* truncated inside */
    assert_false(utf8_valid("\xFF", 1));
}

/* utf8_sanitize keeps valid text, replaces each bad byte by U+FFFD, and
 * sizes and cuts like snprintf. */
static void sanitize_replaces_bad_bytes(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(utf8_sanitize("caf\xC3\xA9 \xF0\x9F\x98\x80", out, sizeof out), 10);
    assert_string_equal(out, "caf\xC3\xA9 \xF0\x9F\x98\x80");
    /* A lone continuation, a truncated sequence, an overlong '/'. */
    assert_int_equal(utf8_sanitize("a\x80" "b\xE2\x80" "c\xC0\xAF", out, sizeof out), 3 + 4 * 3 + 3);
    assert_string_equal(out, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD");
    assert_true(utf8_valid(out, strlen(out)));
    /* Too small: the length it needs, the text cut and terminated. */
    assert_int_equal(utf8_sanitize("abc\xFF", out, 4), 6);
    assert_string_equal(out, "abc");
    assert_int_equal(utf8_sanitize("abc\xFF", NULL, 0), 6);
    assert_int_equal(utf8_sanitize("", out, sizeof out), 0);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_code_point_round_trips),
        cmocka_unit_test(short_sequences_match_the_reference),
        cmocka_unit_test(classic_invalid_forms),
        cmocka_unit_test(sanitize_replaces_bad_bytes),
    };
    return cmocka_run_group_tests_name("tensor: utf8", tests, NULL, NULL);
}
