#include "tensor/utf8.h"

#include <string.h>

size_t utf8_sequence(const uint8_t *p, size_t n)
{
    uint8_t b0 = p[0], lo = 0x80, hi = 0xBF;
    size_t len;
    if (b0 < 0x80) return 1;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        if (b0 == 0xE0) lo = 0xA0;   /* below: overlong */
        if (b0 == 0xED) hi = 0x9F;   /* above: surrogates */
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        if (b0 == 0xF0) lo = 0x90;   /* below: overlong */
        if (b0 == 0xF4) hi = 0x8F;   /* above: past U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi) return 0;
    for (size_t k = 2; k < len; k++)
        if (p[k] < 0x80 || p[k] > 0xBF) return 0;
    return len;
}

uint32_t utf8_decode(const uint8_t *p, size_t len)
{
    static const uint8_t lead_mask[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    uint32_t cp = p[0] & lead_mask[len];
    for (size_t k = 1; k < len; k++) cp = cp << 6 | (p[k] & 0x3F);
    return cp;
}

size_t utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

bool utf8_valid(const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_sequence(p + i, n - i);
        if (!len) return false;
        i += len;
    }
    return true;
}

size_t utf8_sanitize(const char *s, char *out, size_t cap)
{
    static const char replacement[3] = {'\xEF', '\xBF', '\xBD'};
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s), need = 0;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_sequence(p + i, n - i);
        const char *from = len ? s + i : replacement;
        size_t k = len ? len : sizeof replacement;
        if (need + k < cap) memcpy(out + need, from, k);
        need += k;
        i += len ? len : 1;
    }
    if (cap) out[need < cap ? need : cap - 1] = '\0';
    return need;
}
