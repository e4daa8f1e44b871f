/* The JSON writer (see json_out.h). */
#include "pipeline/train/json_out.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"

void json_init(JsonOut *j)
{
    memset(j, 0, sizeof *j);
}

void json_free(JsonOut *j)
{
    free(j->text);
    memset(j, 0, sizeof *j);
}

int json_ok(const JsonOut *j)
{
    if (!j->failed && j->depth == 0) return MELD_OK;
    return meld_errorf(j->failed ? "JSON output: out of memory or nested deeper than %d" : "JSON output: %d unclosed",
                       j->failed ? JSON_MAX_DEPTH : j->depth);
}

/* Room for n more bytes and the NUL. */
static bool reserve(JsonOut *j, size_t n)
{
    if (j->failed) return false;
    if (j->len + n + 1 <= j->cap) return true;
    size_t cap = j->cap ? j->cap : 256;
    while (cap < j->len + n + 1) cap *= 2;
    char *t = realloc(j->text, cap);
    if (!t) {
        j->failed = true;
        return false;
    }
    j->text = t;
    j->cap = cap;
    return true;
}

static void put(JsonOut *j, const char *s, size_t n)
{
    if (!reserve(j, n)) return;
    memcpy(j->text + j->len, s, n);
    j->len += n;
    j->text[j->len] = '\0';
}

static void putf(JsonOut *j, const char *fmt, ...) MELD_PRINTF(2, 3);
static void putf(JsonOut *j, const char *fmt, ...)
{
    char buf[512];   /* the longest double in %.6f is 317 characters */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf) j->failed = true;
    else put(j, buf, (size_t)n);
}

/* The comma before a value or a key, unless it follows a key or opens its container. */
static void separate(JsonOut *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth > 0 && j->has_item[j->depth - 1]) put(j, ", ", 2);
    if (j->depth > 0) j->has_item[j->depth - 1] = true;
}

static void open_container(JsonOut *j, char c)
{
    separate(j);
    if (j->depth >= JSON_MAX_DEPTH) {
        j->failed = true;
        return;
    }
    put(j, &c, 1);
    j->has_item[j->depth++] = false;
}

static void close_container(JsonOut *j, char c)
{
    if (j->depth == 0) {
        j->failed = true;
        return;
    }
    j->depth--;
    put(j, &c, 1);
}

void json_object_begin(JsonOut *j) { open_container(j, '{'); }
void json_object_end(JsonOut *j) { close_container(j, '}'); }
void json_array_begin(JsonOut *j) { open_container(j, '['); }
void json_array_end(JsonOut *j) { close_container(j, ']'); }

/* Length of the UTF-8 sequence at p (n bytes readable), 0 if it is not a
 * valid one: overlong forms, surrogates and code points past U+10FFFF are
 * not. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    if (p[0] < 0x80) return 1;
    size_t len = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 ? 2 : 0;
    if (!len || p[0] > 0xF4 || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    if (p[0] == 0xE0 && p[1] < 0xA0) return 0;   /* overlong 3-byte */
    if (p[0] == 0xED && p[1] >= 0xA0) return 0;  /* surrogates */
    if (p[0] == 0xF0 && p[1] < 0x90) return 0;   /* overlong 4-byte */
    if (p[0] == 0xF4 && p[1] >= 0x90) return 0;  /* past U+10FFFF */
    return len;
}

static const char REPLACEMENT[] = "\xEF\xBF\xBD";   /* U+FFFD */

size_t utf8_sanitize(const char *s, char *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), need = 0;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq(p + i, n - i);
        const char *from = len ? s + i : REPLACEMENT;
        size_t k = len ? len : 3;
        if (need + k < cap) memcpy(out + need, from, k);
        need += k;
        i += len ? len : 1;
    }
    if (cap) out[need < cap ? need : cap - 1] = '\0';
    return need;
}

void json_key(JsonOut *j, const char *key)
{
    json_string(j, key);
    put(j, ": ", 2);
    j->after_key = true;
}

void json_string(JsonOut *j, const char *s)
{
    if (!s) {
        json_null(j);
        return;
    }
    separate(j);
    put(j, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq(p + i, n - i);
        if (!len) {
            put(j, REPLACEMENT, 3);
            i++;
        } else if (p[i] == '"' || p[i] == '\\') {
            put(j, "\\", 1);
            put(j, s + i, 1);
            i++;
        } else if (p[i] < 0x20 || p[i] == 0x7F) {
            putf(j, "\\u%04x", p[i]);
            i++;
        } else {
            put(j, s + i, len);
            i += len;
        }
    }
    put(j, "\"", 1);
}

void json_int(JsonOut *j, long long v)
{
    separate(j);
    putf(j, "%lld", v);
}

void json_fixed(JsonOut *j, double v, int decimals)
{
    separate(j);
    if (isfinite(v)) putf(j, "%.*f", decimals, v);
    else put(j, "null", 4);
}

void json_real(JsonOut *j, double v, int digits)
{
    separate(j);
    if (isfinite(v)) putf(j, "%.*g", digits, v);
    else put(j, "null", 4);
}

void json_bool(JsonOut *j, bool v)
{
    separate(j);
    put(j, v ? "true" : "false", v ? 4 : 5);
}

void json_null(JsonOut *j)
{
    separate(j);
    put(j, "null", 4);
}
