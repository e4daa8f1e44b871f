/* The JSON reader and writer (see json.h). */
#include "tensor/json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"
#include "tensor/utf8.h"

/* ---- reading: the cursor ---------------------------------------------------- */

void json_reader_init(JsonReader *j, const void *text, size_t n)
{
    *j = (JsonReader){.s = text, .n = n};
}

static int fail(JsonReader *j, const char *what)
{
    if (!j->problem) {
        j->problem = j->pos >= j->n ? "unexpected end of input" : what;
        j->problem_pos = j->pos;
    }
    return -1;
}

int json_peek(JsonReader *j)
{
    while (j->pos < j->n) {
        uint8_t c = j->s[j->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return c;
        j->pos++;
    }
    return -1;
}

int json_expect(JsonReader *j, int c, const char *what)
{
    if (json_peek(j) != c) return fail(j, what);
    j->pos++;
    return 0;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

/* ---- strings ---------------------------------------------------------------- */

static int hex4(const uint8_t *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

/* One "\uXXXX" escape at p (room bytes before the closing quote), with its
 * low surrogate when it is a high one. Returns the escape's length in bytes
 * and the code point, or 0 when malformed. */
static size_t unicode_escape(const uint8_t *p, size_t room, uint32_t *cp)
{
    if (room < 6 || hex4(p + 2, cp)) return 0;
    if (*cp >= 0xDC00 && *cp <= 0xDFFF) return 0; /* low surrogate first */
    if (*cp < 0xD800 || *cp > 0xDBFF) return 6;
    uint32_t lo;
    if (room < 12 || p[6] != '\\' || p[7] != 'u' || hex4(p + 8, &lo) || lo < 0xDC00 || lo > 0xDFFF)
        return 0;
    *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
    return 12;
}

int json_read_string(JsonReader *j, char **out)
{
    if (json_peek(j) != '"') return fail(j, "expected a string");
    size_t end = j->pos + 1;
    /* Find the closing quote first (an escape covers two bytes): the decoded
     * text is never longer than the raw span, which bounds the allocation. */
    while (end < j->n && j->s[end] != '"') end += j->s[end] == '\\' ? 2 : 1;
    if (end >= j->n) return fail(j, "unterminated string"); /* at the opening quote */
    j->pos++;
    char *buf = NULL;
    size_t k = 0;
    if (out && !(buf = meld_malloc(end - j->pos + 1, "JSON string"))) return fail(j, "out of memory");
    while (j->pos < end) {
        const uint8_t *p = j->s + j->pos;
        if (*p < 0x20) {
            free(buf);
            return fail(j, "control character inside a string");
        }
        if (*p != '\\') {
            size_t len = utf8_sequence(p, end - j->pos);
            if (!len) {
                free(buf);
                return fail(j, "invalid UTF-8 inside a string");
            }
            if (buf) memcpy(buf + k, p, len);
            k += len;
            j->pos += len;
            continue;
        }
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *hit = p[1] ? strchr(from, p[1]) : NULL;
        if (hit) {
            if (buf) buf[k] = to[hit - from];
            k++;
            j->pos += 2;
            continue;
        }
        uint32_t cp;
        size_t len = p[1] == 'u' ? unicode_escape(p, end - j->pos, &cp) : 0;
        if (!len || cp == 0) {
            free(buf);
            return fail(j, !len ? "bad escape sequence" : "\\u0000 inside a string is not supported");
        }
        char utf8[4];
        size_t m = utf8_encode(cp, utf8);
        if (buf) memcpy(buf + k, utf8, m);
        k += m;
        j->pos += len;
    }
    j->pos = end + 1;
    if (buf) {
        buf[k] = '\0';
        *out = buf;
    }
    return 0;
}

/* ---- numbers, literals, containers ------------------------------------------ */

/* The end of the number at the cursor (RFC 8259's grammar), or 0. */
static size_t number_end(const JsonReader *j)
{
    const uint8_t *s = j->s;
    size_t p = j->pos, n = j->n;
    if (p < n && s[p] == '-') p++;
    if (p >= n || !is_digit(s[p])) return 0;
    if (s[p] == '0') p++;
    else while (p < n && is_digit(s[p])) p++;
    if (p < n && s[p] == '.') {
        if (++p >= n || !is_digit(s[p])) return 0;
        while (p < n && is_digit(s[p])) p++;
    }
    if (p < n && (s[p] == 'e' || s[p] == 'E')) {
        if (++p < n && (s[p] == '+' || s[p] == '-')) p++;
        if (p >= n || !is_digit(s[p])) return 0;
        while (p < n && is_digit(s[p])) p++;
    }
    return p;
}

static int literal(JsonReader *j, const char *word)
{
    size_t len = strlen(word);
    if (j->n - j->pos < len || memcmp(j->s + j->pos, word, len) != 0) return fail(j, "unexpected character");
    j->pos += len;
    return 0;
}

static int value(JsonReader *j, int depth);

static int container(JsonReader *j, int depth, int close)
{
    j->pos++; /* the '{' or '[' */
    if (json_peek(j) == close) {
        j->pos++;
        return 0;
    }
    for (;;) {
        if (close == '}' && (json_read_string(j, NULL) || json_expect(j, ':', "expected ':' after a key")))
            return -1;
        if (value(j, depth + 1)) return -1;
        int c = json_peek(j);
        if (c == ',') {
            j->pos++;
        } else if (c == close) {
            j->pos++;
            return 0;
        } else {
            return fail(j, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
}

/* One value; depth counts the containers around it (0 for the top-level
 * value), so at most JSON_MAX_DEPTH containers nest. */
static int value(JsonReader *j, int depth)
{
    if (depth >= JSON_MAX_DEPTH && (json_peek(j) == '{' || json_peek(j) == '['))
        return fail(j, "nesting deeper than 64 levels");
    int c = json_peek(j);
    switch (c) {
    case -1: return fail(j, "unexpected end of input");
    case '{': return container(j, depth, '}');
    case '[': return container(j, depth, ']');
    case '"': return json_read_string(j, NULL);
    case 't': return literal(j, "true");
    case 'f': return literal(j, "false");
    case 'n': return literal(j, "null");
    default:
        if (c == '-' || is_digit(c)) {
            size_t end = number_end(j);
            if (!end) return fail(j, "bad number");
            j->pos = end;
            return 0;
        }
        return fail(j, "unexpected character");
    }
}

int json_skip_value(JsonReader *j)
{
    return value(j, 0);
}

int json_check(JsonReader *j)
{
    j->pos = 0;
    j->problem = NULL;
    if (value(j, 0) == 0 && json_peek(j) != -1) fail(j, "text after the JSON value");
    j->pos = 0;
    return j->problem ? -1 : 0;
}

int json_read_uint(JsonReader *j, uint64_t *out)
{
    int c = json_peek(j);
    if (!is_digit(c)) return 1;
    uint64_t v = 0;
    while (j->pos < j->n && is_digit(j->s[j->pos])) {
        unsigned d = j->s[j->pos++] - '0';
        if (v > (UINT64_MAX - d) / 10) return 1;
        v = v * 10 + d;
    }
    if (j->pos < j->n && strchr(".eE", j->s[j->pos])) return 1;
    *out = v;
    return 0;
}

int json_read_number(JsonReader *j, double *out)
{
    int c = json_peek(j);
    size_t end = c == '-' || is_digit(c) ? number_end(j) : 0;
    char text[128];
    if (!end) return fail(j, "expected a number");
    if (end - j->pos >= sizeof text) return fail(j, "number too long");
    memcpy(text, j->s + j->pos, end - j->pos);
    text[end - j->pos] = '\0';
    *out = strtod(text, NULL);   /* the grammar above is a subset of strtod's */
    j->pos = end;
    return 0;
}

int json_next_member(JsonReader *j, char **key)
{
    int c = json_peek(j);
    if (c == ',') {
        j->pos++;
        c = json_peek(j);
    }
    if (c == '}') {
        j->pos++;
        return 0;
    }
    if (json_read_string(j, key)) return -1;
    if (json_expect(j, ':', "expected ':' after a key")) {
        free(*key);
        return -1;
    }
    return 1;
}

/* ---- writing ---------------------------------------------------------------- */

void json_writer_init(JsonWriter *w, JsonStyle style, FILE *fp)
{
    *w = (JsonWriter){.style = style, .fp = fp};
}

void json_writer_free(JsonWriter *w)
{
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

static void put(JsonWriter *w, const char *s, size_t n)
{
    if (w->fp) {
        fwrite(s, 1, n, w->fp);   /* errors: ferror() in json_writer_finish */
        return;
    }
    if (w->out_of_memory) return;
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n + 1) cap *= 2;
        char *b = realloc(w->buf, cap);
        if (!b) {
            w->out_of_memory = true;
            return;
        }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static void puts_(JsonWriter *w, const char *s) { put(w, s, strlen(s)); }

static void misuse(JsonWriter *w, const char *what)
{
    if (!w->misuse) w->misuse = what;
}

/* A new line indented by 2 per open container (JSON_PRETTY). */
static void new_line(JsonWriter *w)
{
    put(w, "\n", 1);
    for (int i = 0; i < w->depth; i++) put(w, "  ", 2);
}

/* One printf conversion (a number: at most 309 digits and the fraction). */
static void putf(JsonWriter *w, const char *format, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(text, sizeof text, format, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof text) {
        misuse(w, "a number longer than 511 characters");
        return;
    }
    put(w, text, (size_t)n);
}

static bool in_array(const JsonWriter *w)
{
    return w->depth > 0 && (w->arrays >> (w->depth - 1) & 1u);
}

static bool one_line(const JsonWriter *w)
{
    return w->style != JSON_PRETTY || (w->inline_depth && w->depth >= w->inline_depth);
}

static void put_quoted(JsonWriter *w, const char *s)
{
    put(w, "\"", 1);
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s), run = 0;   /* bytes copied as they are, pending */
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        size_t len = c < 0x80 ? 1 : utf8_sequence(p + i, n - i);
        const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r"
                        : c == '\t' ? "\\t" : NULL;
        char code[8];
        if (!esc && (c < 0x20 || c == 0x7F)) {
            snprintf(code, sizeof code, "\\u%04x", c);
            esc = code;
        } else if (!esc && !len) {
            esc = "\\ufffd";   /* not UTF-8: the replacement character */
            len = 1;
        }
        if (!esc) {
            run += len;
            i += len;
            continue;
        }
        put(w, (const char *)p + i - run, run);
        run = 0;
        puts_(w, esc);
        i += len ? len : 1;
    }
    put(w, (const char *)p + n - run, run);
    put(w, "\"", 1);
}

/* The separator, indentation and key before a member. */
static void member(JsonWriter *w, const char *key)
{
    if (w->depth == 0) {
        if (key) misuse(w, "a key on the top-level value");
        if (w->need_comma) misuse(w, "a second top-level value");
        w->need_comma = true;
        return;
    }
    if (in_array(w) ? key != NULL : key == NULL)
        misuse(w, in_array(w) ? "a key inside an array" : "a member without a key inside an object");
    if (w->need_comma) puts_(w, w->style == JSON_MINIFIED ? "," : one_line(w) ? ", " : ",");
    if (!one_line(w)) new_line(w);
    if (key) {
        put_quoted(w, key);
        puts_(w, w->style == JSON_MINIFIED ? ":" : ": ");
    }
    w->need_comma = true;
}

static void begin(JsonWriter *w, const char *key, bool array, bool keep_on_line)
{
    member(w, key);
    put(w, array ? "[" : "{", 1);
    if (w->depth == JSON_MAX_DEPTH) {
        misuse(w, "nesting deeper than 64 levels");
        return;
    }
    w->arrays = (w->arrays & ~(1ull << w->depth)) | (uint64_t)array << w->depth;
    w->depth++;
    if (keep_on_line && !w->inline_depth) w->inline_depth = w->depth;
    w->need_comma = false;
}

static void end(JsonWriter *w, bool array)
{
    if (w->depth == 0 || in_array(w) != array) {
        misuse(w, array ? "json_end_array without its array" : "json_end_object without its object");
        return;
    }
    bool line = one_line(w);
    w->depth--;
    if (w->need_comma && !line) new_line(w);   /* an empty one stays {} or [] */
    put(w, array ? "]" : "}", 1);
    if (w->inline_depth > w->depth) w->inline_depth = 0;
    w->need_comma = true;
}

void json_begin_object(JsonWriter *w, const char *key) { begin(w, key, false, false); }
void json_begin_array(JsonWriter *w, const char *key) { begin(w, key, true, false); }
void json_begin_array_inline(JsonWriter *w, const char *key) { begin(w, key, true, true); }
void json_end_object(JsonWriter *w) { end(w, false); }
void json_end_array(JsonWriter *w) { end(w, true); }

void json_int(JsonWriter *w, const char *key, long long v)
{
    member(w, key);
    putf(w, "%lld", v);
}

void json_uint(JsonWriter *w, const char *key, unsigned long long v)
{
    member(w, key);
    putf(w, "%llu", v);
}

void json_real(JsonWriter *w, const char *key, double v, const char *format)
{
    member(w, key);
    if (isfinite(v)) putf(w, format, v);
    else puts_(w, "null");
}

void json_string(JsonWriter *w, const char *key, const char *s)
{
    member(w, key);
    if (s) put_quoted(w, s);
    else puts_(w, "null");
}

void json_bool(JsonWriter *w, const char *key, bool v)
{
    member(w, key);
    puts_(w, v ? "true" : "false");
}

void json_null(JsonWriter *w, const char *key)
{
    member(w, key);
    puts_(w, "null");
}

int json_writer_finish(JsonWriter *w, const char *what)
{
    if (w->misuse) return meld_errorf("%s: JSON writer: %s", what, w->misuse);
    if (w->depth)
        return meld_errorf("%s: JSON writer: %d container%s left open", what, w->depth, w->depth > 1 ? "s" : "");
    if (w->out_of_memory) return meld_errorf("%s: out of memory writing JSON", what);
    if (w->fp && (fflush(w->fp) != 0 || ferror(w->fp)))
        return meld_errorf("%s: writing the JSON failed: %s", what, strerror(errno));
    return MELD_OK;
}
