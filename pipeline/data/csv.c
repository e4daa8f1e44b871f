/* RFC 4180 CSV reader: bytes -> valid UTF-8 -> mojibake repair -> records.
 * See csv.h for the accepted format. */
#include "pipeline/data/csv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/data/checksum.h"
#include "tensor/error.h"
#include "tensor/utf8.h"
#include "tensor/input_file.h"

/* ---- cp1252 (UTF-8 itself: tensor/utf8.h) ------------------------------- */

/* cp1252 bytes 0x80..0x9F and the characters they stand for. 0 marks the
 * five bytes cp1252 leaves undefined; decoders pass those through as the
 * C1 controls U+0081 etc., which is what we do too. 0xA0..0xFF are Latin-1:
 * byte b is U+00b. */
static const uint16_t CP1252_80_9F[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
    0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

static uint32_t cp1252_to_unicode(unsigned char b)
{
    if (b >= 0x80 && b <= 0x9F && CP1252_80_9F[b - 0x80]) return CP1252_80_9F[b - 0x80];
    return b;
}

/* The byte a character came from if the text was decoded as cp1252 or
 * Latin-1; -1 for characters neither can produce (including ASCII, which
 * never takes part in mojibake). */
static int unicode_to_cp1252(uint32_t cp)
{
    if (cp >= 0x80 && cp <= 0xFF) return (int)cp;
    for (int i = 0; i < 32; i++)
        if (CP1252_80_9F[i] && CP1252_80_9F[i] == cp) return 0x80 + i;
    return -1;
}

/* Tries to undo one mojibake sequence at p: k characters whose cp1252
 * bytes are a UTF-8 lead byte and k-1 continuation bytes forming one valid
 * sequence. Returns that sequence's length (2..4) in out and the input
 * bytes consumed in *used, or 0 when p does not start such a sequence. */
static size_t unmangle_at(const unsigned char *p, size_t n, unsigned char out[4], size_t *used)
{
    size_t pos = 0, need = 1;
    for (size_t k = 0; k < need; k++) {
        if (pos >= n) return 0;
        size_t l = utf8_sequence(p + pos, n - pos);
        if (!l) return 0;
        int b = unicode_to_cp1252(utf8_decode(p + pos, l));
        if (b < 0) return 0;
        if (k == 0) {
            if (b >= 0xC2 && b <= 0xDF) need = 2;
            else if (b >= 0xE0 && b <= 0xEF) need = 3;
            else if (b >= 0xF0 && b <= 0xF4) need = 4;
            else return 0;
        } else if (b > 0xBF) {
            return 0;   /* b >= 0x80 always holds here: unicode_to_cp1252 gives no ASCII */
        }
        out[k] = (unsigned char)b;
        pos += l;
    }
    if (utf8_sequence(out, need) != need) return 0;
    *used = pos;
    return need;
}

size_t csv_repair_mojibake(char *s)
{
    unsigned char *p = (unsigned char *)s;
    size_t n = strlen(s), r = 0, w = 0, repaired = 0;
    while (r < n) {
        unsigned char fixed[4];
        size_t used = 0, k = unmangle_at(p + r, n - r, fixed, &used);
        if (k) {
            /* Each mangled character is >= 2 bytes and stands for one byte,
             * so k < used and w stays behind r. */
            memcpy(p + w, fixed, k);
            w += k;
            r += used;
            repaired++;
            continue;
        }
        size_t l = utf8_sequence(p + r, n - r);
        if (!l) l = 1;
        memmove(p + w, p + r, l);
        w += l;
        r += l;
    }
    p[w] = '\0';
    return repaired;
}

/* Step 1 of csv.h: copies data into a new NUL-terminated buffer of valid
 * UTF-8, converting stray bytes from cp1252 and dropping a leading BOM.
 * Refuses NUL bytes. */
static int to_utf8(const char *data, size_t len, const char *name, char **out, size_t *out_len,
                   size_t *converted)
{
    const unsigned char *p = (const unsigned char *)data;
    size_t start = 0;
    if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) start = 3;

    /* Pass 1: size of the result, and the NUL check. */
    size_t size = 0, bad = 0;
    long line = 1;
    for (size_t i = start; i < len;) {
        if (p[i] == 0) return meld_errorf("%s: line %ld: NUL byte in text", name, line);
        if (p[i] == '\n') line++;
        size_t l = utf8_sequence(p + i, len - i);
        if (l) {
            size += l;
            i += l;
        } else {
            char tmp[4];
            size += utf8_encode(cp1252_to_unicode(p[i]), tmp);
            bad++;
            i++;
        }
    }
    char *buf = meld_malloc(size + 1, "CSV text");
    if (!buf) return MELD_ERR;

    /* Pass 2: copy / convert. */
    unsigned char *w = (unsigned char *)buf;
    for (size_t i = start; i < len;) {
        size_t l = utf8_sequence(p + i, len - i);
        if (l) {
            memcpy(w, p + i, l);
            w += l;
            i += l;
        } else {
            w += utf8_encode(cp1252_to_unicode(p[i]), (char *)w);
            i++;
        }
    }
    *w = '\0';
    *out = buf;
    *out_len = size;
    *converted = bad;
    return MELD_OK;
}

/* ---- records ------------------------------------------------------------ */

/* Makes room for need elements in a growing array (doubling). */
static int grow(void **arr, size_t *cap, size_t need, size_t elem, const char *what)
{
    if (need <= *cap) return MELD_OK;
    size_t n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    if (n > SIZE_MAX / elem) return meld_errorf("allocation size overflow for %s", what);
    void *p = realloc(*arr, n * elem);
    if (!p) return meld_errorf("out of memory allocating %zu bytes for %s", n * elem, what);
    *arr = p;
    *cap = n;
    return MELD_OK;
}

typedef struct {
    CsvTable *t;
    size_t n_fields, cap_fields, cap_starts, cap_lines;
} Builder;

static int push_field(Builder *b, char *field)
{
    if (grow((void **)&b->t->fields, &b->cap_fields, b->n_fields + 1, sizeof(char *), "CSV fields"))
        return MELD_ERR;
    b->t->fields[b->n_fields++] = field;
    return MELD_OK;
}

static int push_row(Builder *b, size_t first_field, long line)
{
    CsvTable *t = b->t;
    /* row_start keeps one extra entry: the end of the last row. */
    if (grow((void **)&t->row_start, &b->cap_starts, t->n_rows + 2, sizeof(size_t), "CSV rows") ||
        grow((void **)&t->row_line, &b->cap_lines, t->n_rows + 1, sizeof(long), "CSV rows"))
        return MELD_ERR;
    t->row_start[t->n_rows] = first_field;
    t->row_line[t->n_rows] = line;
    t->n_rows++;
    t->row_start[t->n_rows] = b->n_fields;
    return MELD_OK;
}

static int is_line_end(char c) { return c == '\n' || c == '\r'; }

/* Parses the quoted field whose opening quote is at buf[*r]. Copies its
 * text down to buf[*w] (in place: w never passes r). */
static int parse_quoted(char *buf, size_t len, size_t *r, size_t *w, long *line, const char *name,
                        size_t field_no)
{
    long open_line = *line;
    size_t i = *r + 1, o = *w;
    for (;;) {
        if (i >= len)
            return meld_errorf("%s: line %ld: quoted field never closed (opened on line %ld)", name,
                               *line, open_line);
        char c = buf[i];
        if (c == '"') {
            if (i + 1 < len && buf[i + 1] == '"') { /* "" is one quote */
                buf[o++] = '"';
                i += 2;
                continue;
            }
            i++;
            break;
        }
        if (c == '\n' || (c == '\r' && !(i + 1 < len && buf[i + 1] == '\n'))) (*line)++;
        buf[o++] = c;
        i++;
    }
    if (i < len && buf[i] != ',' && !is_line_end(buf[i]))
        return meld_errorf("%s: line %ld, field %zu: unexpected character after closing quote", name,
                           *line, field_no);
    *r = i;
    *w = o;
    return MELD_OK;
}

/* Splits the NUL-terminated UTF-8 text buf[0..len) into records, in place:
 * each field's text is moved down and NUL-terminated. This fits because a
 * field never needs more room than it took in the input (quotes and "" go,
 * and the separator byte becomes the NUL; at the very end buf[len] holds
 * the last NUL). */
static int parse_records(CsvTable *t, char *buf, size_t len, const char *name)
{
    Builder b = {t, 0, 0, 0, 0};
    size_t r = 0, w = 0;
    long line = 1;
    while (r < len) {
        long row_line = line;
        size_t first = b.n_fields;
        int last_quoted = 0;
        for (;;) {
            char *field = buf + w;
            last_quoted = r < len && buf[r] == '"';
            if (last_quoted) {
                if (parse_quoted(buf, len, &r, &w, &line, name, b.n_fields - first + 1)) return MELD_ERR;
            } else {
                while (r < len && buf[r] != ',' && !is_line_end(buf[r])) buf[w++] = buf[r++];
            }
            if (push_field(&b, field)) return MELD_ERR;
            char sep = r < len ? buf[r] : '\0';
            buf[w++] = '\0'; /* may overwrite the separator just read (w == r) */
            if (sep == ',') {
                r++;
                continue;
            }
            if (sep == '\r') { /* CRLF or a lone CR */
                r++;
                if (r < len && buf[r] == '\n') r++;
                line++;
            } else if (sep == '\n') {
                r++;
                line++;
            }
            break;
        }
        int blank = b.n_fields - first == 1 && !last_quoted && t->fields[first][0] == '\0';
        if (blank) {
            b.n_fields = first; /* a blank line is not a record */
            continue;
        }
        if (push_row(&b, first, row_line)) return MELD_ERR;
    }
    return MELD_OK;
}

int csv_parse(const char *data, size_t len, const char *name, CsvTable *out)
{
    memset(out, 0, sizeof *out);
    if (len > CSV_MAX_BYTES)
        return meld_errorf("%s: %zu bytes is more than the %zu a CSV may have", name, len, CSV_MAX_BYTES);
    char *buf = NULL;
    size_t n = 0;
    if (to_utf8(data, len, name, &buf, &n, &out->cp1252_bytes)) return MELD_ERR;
    out->source_hash = checksum_xxh64(data, len, 0);
    /* Repair rounds; each one can only shorten the text. */
    for (int round = 0; round < 3; round++) {
        size_t k = csv_repair_mojibake(buf);
        out->mojibake_repairs += k;
        if (!k) break;
    }
    n = strlen(buf);
    out->buf = buf;
    if (parse_records(out, buf, n, name)) {
        csv_free(out);
        return MELD_ERR;
    }
    if (out->cp1252_bytes)
        meld_warnf("%s: %zu bytes were not UTF-8 and were read as cp1252", name, out->cp1252_bytes);
    if (out->mojibake_repairs)
        meld_warnf("%s: repaired %zu cp1252 mojibake sequences", name, out->mojibake_repairs);
    return MELD_OK;
}

int csv_read_file(const char *path, CsvTable *out)
{
    memset(out, 0, sizeof *out);
    uint8_t *data;
    size_t n;
    if (input_file_read_all(path, CSV_MAX_BYTES, &data, &n)) return MELD_ERR;
    int rc = csv_parse((const char *)data, n, path, out);
    free(data);
    return rc;
}

void csv_free(CsvTable *t)
{
    free(t->buf);
    free(t->fields);
    free(t->row_start);
    free(t->row_line);
    memset(t, 0, sizeof *t);
}

size_t csv_row_fields(const CsvTable *t, size_t r) { return t->row_start[r + 1] - t->row_start[r]; }

const char *csv_field(const CsvTable *t, size_t r, size_t c)
{
    if (r >= t->n_rows || c >= csv_row_fields(t, r)) return NULL;
    return t->fields[t->row_start[r] + c];
}

/* a == b ignoring ASCII case and spaces/tabs around a. */
static int header_equal(const char *a, const char *b)
{
    while (*a == ' ' || *a == '\t') a++;
    size_t n = strlen(a);
    while (n && (a[n - 1] == ' ' || a[n - 1] == '\t')) n--;
    if (strlen(b) != n) return 0;
    for (size_t i = 0; i < n; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
        if (x != y) return 0;
    }
    return 1;
}

int csv_find_column(const CsvTable *t, const char *name)
{
    if (t->n_rows == 0) return -1;
    size_t n = csv_row_fields(t, 0);
    for (size_t c = 0; c < n; c++)
        if (header_equal(csv_field(t, 0, c), name)) return (int)c;
    return -1;
}
