/* Protocol 0's text arguments (decimal integers and floats, quoted
 * strings, raw-unicode-escape lines) and the string conversions of the
 * reader (UTF-8 checks, text to latin-1 bytes). Strings that need no
 * decoding point into the file; the others are decoded into blobs no
 * larger than twice their input. */
#include "pipeline/data/pickle_impl.h"

#include <stdlib.h>
#include <string.h>

/* Shown in messages: at most this many characters of an argument. */
enum { SHOWN = 40 };

static int shown(size_t n) { return n > SHOWN ? SHOWN : (int)n; }

int pickle_text_int(PickleReader *r, const uint8_t *s, size_t n, int64_t *v)
{
    size_t i = 0;
    bool negative = n && s[0] == '-';
    if (n && (s[0] == '-' || s[0] == '+')) i++;
    if (i == n) return pickle_fail(r, "'%.*s' is not an integer", shown(n), (const char *)s);
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, mag = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return pickle_fail(r, "'%.*s' is not an integer", shown(n), (const char *)s);
        unsigned d = s[i] - '0';
        if (mag > (limit - d) / 10) return pickle_fail(r, "%.*s does not fit in 64 bits", shown(n), (const char *)s);
        mag = 10 * mag + d;
    }
    *v = !negative ? (int64_t)mag : mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    return MELD_OK;
}

/* Python writes repr(float): digits, sign, '.', exponent, or nan / inf.
 * strtod would also take hex, spaces and "nan(...)"; those are refused. */
int pickle_text_float(PickleReader *r, const uint8_t *s, size_t n, double *v)
{
    char buf[64];
    bool ok = n > 0 && n < sizeof buf;
    for (size_t i = 0; ok && i < n; i++) ok = s[i] && strchr("0123456789+-.eEnNaAiIfFtTyY", s[i]);
    if (!ok) return pickle_fail(r, "'%.*s' is not a float", shown(n), (const char *)s);
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    *v = strtod(buf, &end);
    if (end != buf + n) return pickle_fail(r, "'%.*s' is not a float", shown(n), (const char *)s);
    return MELD_OK;
}

static int hex_digit(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* STRING: a Python 2 str as repr() writes it, between ' or " quotes, with
 * the escapes of Python's escape_decode: \\ \' \" \a \b \f \n \r \t \v,
 * \xHH and 1-3 octal digits; any other backslash stays as it is. */
int pickle_text_string(PickleReader *r, const uint8_t *s, size_t n, PickleValue *out)
{
    if (n < 2 || s[0] != s[n - 1] || (s[0] != '\'' && s[0] != '"'))
        return pickle_fail(r, "the argument is not quoted");
    if (n - 2 > UINT32_MAX) return pickle_fail(r, "a string of %zu bytes (at most 4 GiB)", n - 2);
    s++;
    n -= 2;
    *out = (PickleValue){.kind = PICKLE_BYTES, .len = (uint32_t)n, .u.s = s};
    if (!memchr(s, '\\', n)) return MELD_OK;
    uint8_t *d = pickle_new_blob(r, n);
    if (!d) return MELD_ERR;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            d[k++] = s[i];
            continue;
        }
        if (++i == n) return pickle_fail(r, "a string ends with a lone backslash");
        const char *simple = strchr("\\'\"abfnrtv", s[i]);
        if (simple && s[i]) {
            d[k++] = (uint8_t)"\\'\"\a\b\f\n\r\t\v"[simple - "\\'\"abfnrtv"];
        } else if (s[i] == 'x') {
            int hi = i + 1 < n ? hex_digit(s[i + 1]) : -1, lo = i + 2 < n ? hex_digit(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) return pickle_fail(r, "invalid \\x escape in a string");
            d[k++] = (uint8_t)(hi << 4 | lo);
            i += 2;
        } else if (s[i] >= '0' && s[i] <= '7') {
            unsigned v = 0;
            for (int digits = 0; digits < 3 && i < n && s[i] >= '0' && s[i] <= '7'; digits++)
                v = 8 * v + (unsigned)(s[i++] - '0');
            i--;
            d[k++] = (uint8_t)v;   /* \400 and up wrap, as in Python */
        } else {
            d[k++] = '\\';
            d[k++] = s[i];
        }
    }
    out->u.s = d;
    out->len = (uint32_t)k;
    return MELD_OK;
}

/* Appends code point c as UTF-8 (c < 0x110000, not a surrogate). */
static size_t put_utf8(uint8_t *d, uint32_t c)
{
    if (c < 0x80) {
        d[0] = (uint8_t)c;
        return 1;
    }
    if (c < 0x800) {
        d[0] = (uint8_t)(0xc0 | c >> 6);
        d[1] = (uint8_t)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        d[0] = (uint8_t)(0xe0 | c >> 12);
        d[1] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
        d[2] = (uint8_t)(0x80 | (c & 0x3f));
        return 3;
    }
    d[0] = (uint8_t)(0xf0 | c >> 18);
    d[1] = (uint8_t)(0x80 | (c >> 12 & 0x3f));
    d[2] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
    d[3] = (uint8_t)(0x80 | (c & 0x3f));
    return 4;
}

/* UNICODE: raw-unicode-escape, as Python's decoder reads it: every byte is
 * the code point of the same value, except that \uXXXX and \UXXXXXXXX
 * after an odd number of backslashes are escapes. Held as UTF-8: a byte
 * becomes at most 2 bytes, an escape of 6 or 10 at most 3 or 4. */
int pickle_text_unicode(PickleReader *r, const uint8_t *s, size_t n, PickleValue *out)
{
    if (n > UINT32_MAX / 2) return pickle_fail(r, "a text of %zu bytes", n);
    *out = (PickleValue){.kind = PICKLE_TEXT, .len = (uint32_t)n, .u.s = s};
    bool plain = !memchr(s, '\\', n);
    for (size_t i = 0; plain && i < n; i++) plain = s[i] < 0x80;
    if (plain) return MELD_OK;
    uint8_t *d = pickle_new_blob(r, 2 * n);
    if (!d) return MELD_ERR;
    size_t k = 0, backslashes = 0;
    for (size_t i = 0; i < n; i++) {
        bool escape = s[i] == 'u' || s[i] == 'U' ? backslashes % 2 == 1 : false;
        backslashes = s[i] == '\\' ? backslashes + 1 : 0;
        if (!escape) {
            k += put_utf8(d + k, s[i]);
            continue;
        }
        k--;   /* the backslash just written starts the escape */
        int digits = s[i] == 'u' ? 4 : 8;
        uint32_t c = 0;
        for (int j = 1; j <= digits; j++) {
            int h = i + (size_t)j < n ? hex_digit(s[i + (size_t)j]) : -1;
            if (h < 0) return pickle_fail(r, "truncated \\%c escape in a text", s[i]);
            c = c << 4 | (uint32_t)h;
        }
        if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return pickle_fail(r, "\\%c escape of code point 0x%x, which UTF-8 cannot hold", s[i], (unsigned)c);
        k += put_utf8(d + k, c);
        i += (size_t)digits;
    }
    out->u.s = d;
    out->len = (uint32_t)k;
    return MELD_OK;
}

/* Length of the UTF-8 sequence at s (at most n bytes) and its code point,
 * or 0 when it is not strict UTF-8 (overlong, surrogate, > U+10FFFF). */
static size_t utf8_next(const uint8_t *s, size_t n, uint32_t *cp)
{
    uint8_t b = s[0];
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    size_t len = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (!len || len > n) return 0;
    uint32_t c = b & (0xff >> (len + 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    static const uint32_t MIN[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < MIN[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    *cp = c;
    return len;
}

int pickle_check_utf8(PickleReader *r, const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t len = utf8_next(s + i, n - i, &c);
        if (!len) return pickle_fail(r, "text is not UTF-8 (byte %zu of the text)", i);
        i += len;
    }
    return MELD_OK;
}

/* str.encode('latin1'): one byte per code point, each below 256. */
int pickle_text_to_latin1(PickleReader *r, const PickleValue *text, PickleValue *out)
{
    const uint8_t *s = text->u.s;
    size_t n = text->len;
    *out = (PickleValue){.kind = PICKLE_BYTES, .len = text->len, .u.s = s};
    bool ascii = true;
    for (size_t i = 0; ascii && i < n; i++) ascii = s[i] < 0x80;
    if (ascii) return MELD_OK;
    uint8_t *d = pickle_new_blob(r, n);
    if (!d) return MELD_ERR;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t len = utf8_next(s + i, n - i, &c);
        if (!len || c > 0xff) return pickle_fail(r, "text to encode as latin-1 holds U+%04X", len ? (unsigned)c : 0u);
        d[k++] = (uint8_t)c;
        i += len;
    }
    out->u.s = d;
    out->len = (uint32_t)k;
    return MELD_OK;
}
