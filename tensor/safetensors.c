/* safetensors reader and writer; the format and the checks are described in
 * safetensors.h. Sections: byte order, the header schema (read with
 * tensor/json.h), the data layout, loading, writing. */
#include "tensor/safetensors.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tensor/atomic_file.h"
#include "tensor/error.h"
#include "tensor/json.h"
#include "tensor/utf8.h"
#include "tensor/input_file.h"

enum { HEADER_MAX = 100000000 }; /* the reference loader's limit, in bytes */
static const char META_KEY[] = "__metadata__";

/* ---- byte order: the file is little-endian whatever the host is ---- */

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static void store_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static float load_le_f32(const uint8_t *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void store_le_f32(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(u >> (8 * i));
}

/* ---- the header schema ---- */

typedef struct {
    const char *label;       /* file name for messages */
    JsonReader j;
    uint64_t data_size;      /* bytes after the header */
    SafeTensors *st;
    uint64_t (*offsets)[2];  /* [BEGIN, END) of st->tensors[i] */
    int cap_offsets;
} Loader;

static int load_error(const Loader *L, const char *fmt, ...) MELD_PRINTF(2, 3);
static int load_error(const Loader *L, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return meld_errorf("%s: %s", L->label, msg);
}

static int grow(void **items, int *cap, int need, size_t item_size, const char *what)
{
    if (need <= *cap) return MELD_OK;
    int cap2 = *cap ? *cap : 8;
    while (cap2 < need) cap2 *= 2;
    void *p = realloc(*items, (size_t)cap2 * item_size);
    if (!p) return meld_errorf("out of memory growing the %s list", what);
    *items = p;
    *cap = cap2;
    return MELD_OK;
}

/* "[4, 3]" */
const char *st_shape_str(int ndim, const int64_t *shape, char *buf, size_t cap)
{
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
    return buf;
}

/* A JSON list of at most max non-negative integers into out. */
static int parse_uint_list(Loader *L, const char *name, const char *field, uint64_t *out,
                           int max, int *count)
{
    JsonReader *j = &L->j;
    if (json_peek(j) != '[') return load_error(L, "tensor '%s': \"%s\" is not a list", name, field);
    j->pos++;
    *count = 0;
    if (json_peek(j) == ']') {
        j->pos++;
        return MELD_OK;
    }
    for (;;) {
        if (*count == max)
            return load_error(L, "tensor '%s': \"%s\" has more than %d entries", name, field, max);
        if (json_read_uint(j, &out[*count]))
            return load_error(L, "tensor '%s': \"%s\" must hold non-negative integers", name, field);
        ++*count;
        int c = json_peek(j);
        j->pos++;
        if (c == ']') return MELD_OK;
    }
}

/* The size rule: END - BEGIN = 4 * product(shape), with overflow checked. */
static int check_entry_size(Loader *L, StTensor *t, const uint64_t off[2])
{
    char sh[256];
    st_shape_str(t->ndim, t->shape, sh, sizeof sh);
    uint64_t numel = 1;
    int has_zero = 0;
    for (int d = 0; d < t->ndim; d++) has_zero |= t->shape[d] == 0;
    for (int d = 0; d < t->ndim && !has_zero; d++) {
        uint64_t dim = (uint64_t)t->shape[d];
        if (numel > UINT64_MAX / 4 / dim)
            return load_error(L, "tensor '%s': shape %s is too large", t->name, sh);
        numel *= dim;
    }
    if (has_zero) numel = 0;
    if (off[0] > off[1])
        return load_error(L, "tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] end before they begin",
                          t->name, off[0], off[1]);
    if (off[1] > L->data_size)
        return load_error(L, "tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] run past the %" PRIu64
                          "-byte data section", t->name, off[0], off[1], L->data_size);
    if (off[1] - off[0] != numel * 4)
        return load_error(L, "tensor '%s': shape %s needs %" PRIu64 " bytes but data_offsets [%" PRIu64
                          ", %" PRIu64 "] hold %" PRIu64, t->name, sh, numel * 4, off[0], off[1],
                          off[1] - off[0]);
    t->numel = (size_t)numel;
    return MELD_OK;
}

/* One tensor entry {"dtype": "F32", "shape": [...], "data_offsets": [b, e]}.
 * Takes ownership of name. */
static int parse_entry(Loader *L, char *name)
{
    JsonReader *j = &L->j;
    SafeTensors *st = L->st;
    if (grow((void **)&st->tensors, &st->cap_tensors, st->n_tensors + 1, sizeof *st->tensors, "tensor") ||
        grow((void **)&L->offsets, &L->cap_offsets, st->n_tensors + 1, sizeof *L->offsets, "offset")) {
        free(name);
        return MELD_ERR;
    }
    StTensor *t = &st->tensors[st->n_tensors++];
    memset(t, 0, sizeof *t);
    t->name = name;
    uint64_t *off = L->offsets[st->n_tensors - 1];
    if (json_peek(j) != '{') return load_error(L, "tensor '%s': entry is not an object", name);
    j->pos++;
    int seen[3] = {0, 0, 0}; /* dtype, shape, data_offsets */
    char *field;
    int more;
    while ((more = json_next_member(j, &field)) > 0) {
        int which = !strcmp(field, "dtype") ? 0 : !strcmp(field, "shape") ? 1
                  : !strcmp(field, "data_offsets") ? 2 : -1;
        int rc = MELD_OK;
        if (which >= 0 && seen[which]++) {
            rc = load_error(L, "tensor '%s': \"%s\" given twice", name, field);
        } else if (which == 0) {
            char *dtype = NULL;
            if (json_peek(j) != '"') rc = load_error(L, "tensor '%s': dtype is not a string", name);
            else if (json_read_string(j, &dtype)) rc = MELD_ERR;
            else if (strcmp(dtype, "F32") != 0)
                rc = load_error(L, "tensor '%s': dtype \"%s\" not supported (only F32)", name, dtype);
            free(dtype);
        } else if (which == 1) {
            uint64_t dims[ST_MAX_DIMS];
            rc = parse_uint_list(L, name, "shape", dims, ST_MAX_DIMS, &t->ndim);
            for (int d = 0; d < t->ndim && !rc; d++) {
                if (dims[d] > INT64_MAX) rc = load_error(L, "tensor '%s': shape entry too large", name);
                t->shape[d] = (int64_t)dims[d];
            }
        } else if (which == 2) {
            int k;
            rc = parse_uint_list(L, name, "data_offsets", off, 2, &k);
            if (!rc && k != 2) rc = load_error(L, "tensor '%s': data_offsets must hold 2 integers", name);
        } else if (json_skip_value(j)) {
            rc = MELD_ERR; /* unknown field: skipped */
        }
        free(field);
        if (rc) return MELD_ERR;
    }
    if (more < 0) return MELD_ERR;
    static const char *const fields[3] = {"dtype", "shape", "data_offsets"};
    for (int f = 0; f < 3; f++)
        if (!seen[f]) return load_error(L, "tensor '%s': no \"%s\"", name, fields[f]);
    return check_entry_size(L, t, off);
}

/* "__metadata__": {"key": "value", ...} */
static int parse_metadata(Loader *L)
{
    JsonReader *j = &L->j;
    SafeTensors *st = L->st;
    if (json_peek(j) != '{') return load_error(L, "__metadata__ is not an object");
    j->pos++;
    char *key, *value;
    int more;
    while ((more = json_next_member(j, &key)) > 0) {
        if (json_peek(j) != '"') {
            int rc = load_error(L, "__metadata__ value of '%s' is not a string", key);
            free(key);
            return rc;
        }
        if (json_read_string(j, &value)) {
            free(key);
            return MELD_ERR;
        }
        if (grow((void **)&st->meta, &st->cap_meta, st->n_meta + 1, sizeof *st->meta, "metadata")) {
            free(key);
            free(value);
            return MELD_ERR;
        }
        st->meta[st->n_meta].key = key;
        st->meta[st->n_meta++].value = value;
    }
    return more < 0 ? MELD_ERR : MELD_OK;
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names must be unique; sorting finds repeats in O(n log n) even for a
 * header with millions of entries. */
static int check_unique(const Loader *L, char **names, int n, const char *what)
{
    qsort(names, (size_t)n, sizeof *names, cmp_str_ptr);
    for (int i = 1; i < n; i++)
        if (!strcmp(names[i - 1], names[i]))
            return load_error(L, "%s '%s' appears twice", what, names[i]);
    return MELD_OK;
}

static int check_duplicates(const Loader *L)
{
    const SafeTensors *st = L->st;
    int n = st->n_tensors > st->n_meta ? st->n_tensors : st->n_meta;
    char **names = meld_malloc(sizeof *names * (size_t)(n ? n : 1), "name list");
    if (!names) return MELD_ERR;
    for (int i = 0; i < st->n_tensors; i++) names[i] = st->tensors[i].name;
    int rc = check_unique(L, names, st->n_tensors, "tensor");
    for (int i = 0; i < st->n_meta && !rc; i++) names[i] = st->meta[i].key;
    if (!rc) rc = check_unique(L, names, st->n_meta, "metadata key");
    free(names);
    return rc;
}

static int parse_header(Loader *L)
{
    JsonReader *j = &L->j;
    j->pos = 0;
    if (json_peek(j) != '{') return load_error(L, "header is not a JSON object");
    j->pos++;
    int seen_meta = 0, more;
    char *key;
    while ((more = json_next_member(j, &key)) > 0) {
        int rc;
        if (!strcmp(key, META_KEY)) {
            free(key);
            rc = seen_meta++ ? load_error(L, "__metadata__ appears twice") : parse_metadata(L);
        } else {
            rc = parse_entry(L, key);
        }
        if (rc) return MELD_ERR;
    }
    return more < 0 ? MELD_ERR : check_duplicates(L);
}

/* ---- the data layout ---- */

typedef struct {
    uint64_t begin, end;
    int index;
} Span;

static int cmp_span(const void *a, const void *b)
{
    const Span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* Sorted by offset, each tensor must start exactly where the previous one
 * ended, and the last must end at the end of the data section. */
static int check_layout(const Loader *L)
{
    const SafeTensors *st = L->st;
    int n = st->n_tensors;
    Span *s = meld_malloc(sizeof *s * (size_t)(n ? n : 1), "tensor layout");
    if (!s) return MELD_ERR;
    for (int i = 0; i < n; i++) s[i] = (Span){L->offsets[i][0], L->offsets[i][1], i};
    qsort(s, (size_t)n, sizeof *s, cmp_span);
    uint64_t at = 0;
    int rc = MELD_OK;
    for (int k = 0; k < n && !rc; k++) {
        if (s[k].begin < at)
            rc = load_error(L, "tensors '%s' [%" PRIu64 ", %" PRIu64 ") and '%s' [%" PRIu64 ", %" PRIu64
                               ") overlap",
                            st->tensors[s[k - 1].index].name, s[k - 1].begin, s[k - 1].end,
                            st->tensors[s[k].index].name, s[k].begin, s[k].end);
        else if (s[k].begin > at)
            rc = load_error(L, "data bytes [%" PRIu64 ", %" PRIu64 ") belong to no tensor", at, s[k].begin);
        at = s[k].end;
    }
    if (!rc && at != L->data_size)
        rc = load_error(L, "data section has %" PRIu64 " bytes but the tensors end at byte %" PRIu64,
                        L->data_size, at);
    free(s);
    return rc;
}

/* ---- loading ---- */

/* Steps 1-4 of the checks on the 8 + N header bytes; data_size is what
 * follows them. On success st holds every tensor with data == NULL. */
static int read_header(Loader *L, const uint8_t *head, uint64_t file_size)
{
    if (file_size < 8)
        return load_error(L, "file is %" PRIu64 " bytes, too short for the 8-byte header length", file_size);
    uint64_t n = load_le64(head);
    if (n > file_size - 8)
        return load_error(L, "header length %" PRIu64 " exceeds the %" PRIu64 " bytes after the length field",
                          n, file_size - 8);
    if (n > HEADER_MAX)
        return load_error(L, "header length %" PRIu64 " is over the %d-byte limit", n, HEADER_MAX);
    if (n < 2) return load_error(L, "header length %" PRIu64 " is too small for a JSON object", n);
    L->data_size = file_size - 8 - n;
    json_reader_init(&L->j, head + 8, (size_t)n);
    if (json_check(&L->j))
        return load_error(L, "bad JSON in header at byte %zu: %s", L->j.problem_pos, L->j.problem);
    if (parse_header(L)) return MELD_ERR;
    return check_layout(L);
}

static int alloc_tensor_data(SafeTensors *st)
{
    for (int i = 0; i < st->n_tensors; i++) {
        StTensor *t = &st->tensors[i];
        if (!(t->data = meld_aligned_alloc(t->numel * 4, t->name))) return MELD_ERR;
    }
    return MELD_OK;
}

static void loader_start(Loader *L, SafeTensors *st, const char *label)
{
    st_init(st);
    snprintf(st->source, sizeof st->source, "%s", label);
    *L = (Loader){.label = label, .st = st};
}

static int loader_finish(Loader *L, int rc)
{
    free(L->offsets);
    if (rc) st_free(L->st);
    return rc;
}

int st_parse(SafeTensors *st, const void *bytes, size_t size, const char *label)
{
    Loader L;
    loader_start(&L, st, label);
    const uint8_t *b = bytes;
    if (read_header(&L, b, size) || alloc_tensor_data(st)) return loader_finish(&L, MELD_ERR);
    const uint8_t *data = b + (size - L.data_size);
    for (int i = 0; i < st->n_tensors; i++) {
        StTensor *t = &st->tensors[i];
        const uint8_t *src = data + L.offsets[i][0];
        for (size_t e = 0; e < t->numel; e++) t->data[e] = load_le_f32(src + 4 * e);
    }
    return loader_finish(&L, MELD_OK);
}

/* Reading a file: the header first, validated before anything else is read;
 * then each tensor straight into its own buffer (no copy of the whole file). */
static int load_file(Loader *L, FILE *fp)
{
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0) return load_error(L, "cannot stat: %s", strerror(errno));
    if (!S_ISREG(sb.st_mode)) return load_error(L, "not a regular file");
    uint64_t size = (uint64_t)sb.st_size;
    uint8_t len8[8];
    if (size < 8) return read_header(L, len8, size);
    if (fread(len8, 1, 8, fp) != 8) return load_error(L, "read failed at byte 0");
    uint64_t n = load_le64(len8);
    if (n > size - 8 || n > HEADER_MAX) return read_header(L, len8, size); /* reports it */
    uint8_t *head = meld_malloc((size_t)n + 8, "safetensors header");
    if (!head) return MELD_ERR;
    memcpy(head, len8, 8);
    int rc = fread(head + 8, 1, (size_t)n, fp) == n ? read_header(L, head, size)
           : load_error(L, "read failed in the header");
    free(head);
    if (rc || alloc_tensor_data(L->st)) return MELD_ERR;
    long data_start = (long)(8 + n);
    for (int i = 0; i < L->st->n_tensors; i++) {
        StTensor *t = &L->st->tensors[i];
        if (fseek(fp, data_start + (long)L->offsets[i][0], SEEK_SET) != 0 ||
            fread(t->data, 4, t->numel, fp) != t->numel)
            return load_error(L, "tensor '%s': read failed (file changed while reading?)", t->name);
        /* Decode in place: on a little-endian host this is the identity. */
        uint8_t *raw = (uint8_t *)t->data;
        for (size_t e = 0; e < t->numel; e++) t->data[e] = load_le_f32(raw + 4 * e);
    }
    return MELD_OK;
}

int st_load(SafeTensors *st, const char *path)
{
    Loader L;
    loader_start(&L, st, path);
    FILE *fp = input_file_fopen(path);
    if (!fp) return loader_finish(&L, MELD_ERR);
    int rc = load_file(&L, fp);
    fclose(fp);
    return loader_finish(&L, rc);
}

/* ---- building in memory ---- */

void st_init(SafeTensors *st) { memset(st, 0, sizeof *st); }

void st_free(SafeTensors *st)
{
    for (int i = 0; i < st->n_tensors; i++) {
        free(st->tensors[i].name);
        if (!st->tensors[i].borrowed) free(st->tensors[i].data);
    }
    for (int i = 0; i < st->n_meta; i++) {
        free(st->meta[i].key);
        free(st->meta[i].value);
    }
    free(st->tensors);
    free(st->meta);
    st_init(st);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = meld_malloc(n, "string");
    if (d) memcpy(d, s, n);
    return d;
}

static const char *source_of(const SafeTensors *st) { return st->source[0] ? st->source : "safetensors"; }

static int add_tensor(SafeTensors *st, const char *name, int ndim, const int64_t *shape,
                      const float *data, int borrow)
{
    const char *src = source_of(st);
    if (!name || !name[0]) return meld_errorf("%s: empty tensor name", src);
    if (!utf8_valid(name, strlen(name))) return meld_errorf("%s: tensor name is not valid UTF-8", src);
    if (!strcmp(name, META_KEY)) return meld_errorf("%s: '%s' is reserved", src, META_KEY);
    if (st_find(st, name)) return meld_errorf("%s: tensor '%s' added twice", src, name);
    if (ndim < 0 || ndim > ST_MAX_DIMS)
        return meld_errorf("%s: tensor '%s' has rank %d (0..%d allowed)", src, name, ndim, ST_MAX_DIMS);
    size_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0) return meld_errorf("%s: tensor '%s' has a negative dimension", src, name);
        if (shape[d] && numel > SIZE_MAX / 4 / (uint64_t)shape[d])
            return meld_errorf("%s: tensor '%s' is too large", src, name);
        numel *= (size_t)shape[d];
    }
    if (numel && !data) return meld_errorf("%s: tensor '%s' has no data", src, name);
    if (grow((void **)&st->tensors, &st->cap_tensors, st->n_tensors + 1, sizeof *st->tensors, "tensor"))
        return MELD_ERR;
    StTensor t = {.ndim = ndim, .numel = numel, .borrowed = borrow};
    if (ndim) memcpy(t.shape, shape, sizeof *shape * (size_t)ndim);
    if (!(t.name = dup_str(name))) return MELD_ERR;
    if (borrow) {
        t.data = (float *)data;
    } else {
        if (!(t.data = meld_aligned_alloc(numel * 4, name))) {
            free(t.name);
            return MELD_ERR;
        }
        if (numel) memcpy(t.data, data, numel * 4);
    }
    st->tensors[st->n_tensors++] = t;
    return MELD_OK;
}

int st_add(SafeTensors *st, const char *name, int ndim, const int64_t *shape, const float *data)
{
    return add_tensor(st, name, ndim, shape, data, 0);
}

int st_add_view(SafeTensors *st, const char *name, int ndim, const int64_t *shape, const float *data)
{
    return add_tensor(st, name, ndim, shape, data, 1);
}

int st_set_meta(SafeTensors *st, const char *key, const char *value)
{
    const char *src = source_of(st);
    if (!key || !value) return meld_errorf("%s: NULL metadata key or value", src);
    if (!utf8_valid(key, strlen(key)) || !utf8_valid(value, strlen(value)))
        return meld_errorf("%s: metadata '%s' is not valid UTF-8", src, key);
    char *v = dup_str(value);
    if (!v) return MELD_ERR;
    for (int i = 0; i < st->n_meta; i++) {
        if (!strcmp(st->meta[i].key, key)) {
            free(st->meta[i].value);
            st->meta[i].value = v;
            return MELD_OK;
        }
    }
    char *k = dup_str(key);
    if (!k || grow((void **)&st->meta, &st->cap_meta, st->n_meta + 1, sizeof *st->meta, "metadata")) {
        free(k);
        free(v);
        return MELD_ERR;
    }
    st->meta[st->n_meta++] = (StMeta){k, v};
    return MELD_OK;
}

const StTensor *st_find(const SafeTensors *st, const char *name)
{
    for (int i = 0; i < st->n_tensors; i++)
        if (!strcmp(st->tensors[i].name, name)) return &st->tensors[i];
    return NULL;
}

const char *st_get_meta(const SafeTensors *st, const char *key)
{
    for (int i = 0; i < st->n_meta; i++)
        if (!strcmp(st->meta[i].key, key)) return st->meta[i].value;
    return NULL;
}

int st_read_into(const SafeTensors *st, const char *name, int ndim, const int64_t *shape, float *dst)
{
    const StTensor *t = st_find(st, name);
    if (!t) return meld_errorf("%s: no tensor '%s'", source_of(st), name);
    int same = t->ndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = t->shape[d] == shape[d];
    if (!same) {
        char have[256], want[256];
        return meld_errorf("%s: tensor '%s' has shape %s, expected %s", source_of(st), name,
                           st_shape_str(t->ndim, t->shape, have, sizeof have),
                           st_shape_str(ndim, shape, want, sizeof want));
    }
    if (t->numel) memcpy(dst, t->data, t->numel * 4);
    return MELD_OK;
}

/* ---- writing ---- */

/* The header text, JSON_MINIFIED as the reference writer's, in h->buf
 * (h->len bytes). It is stored padded with spaces to *stored bytes, so
 * that 8 + *stored is a multiple of 8: the data section then starts 8-byte
 * aligned, as the reference writer does. */
static int build_header(const SafeTensors *st, JsonWriter *h, size_t *stored)
{
    json_writer_init(h, JSON_MINIFIED, NULL);
    json_begin_object(h, NULL);
    if (st->n_meta) {
        json_begin_object(h, META_KEY);
        for (int i = 0; i < st->n_meta; i++) json_string(h, st->meta[i].key, st->meta[i].value);
        json_end_object(h);
    }
    uint64_t at = 0;
    for (int i = 0; i < st->n_tensors; i++) {
        const StTensor *t = &st->tensors[i];
        json_begin_object(h, t->name);
        json_string(h, "dtype", "F32");
        json_begin_array(h, "shape");
        for (int d = 0; d < t->ndim; d++) json_int(h, NULL, t->shape[d]);
        json_end_array(h);
        const uint64_t end = at + 4 * (uint64_t)t->numel;
        json_begin_array(h, "data_offsets");
        json_uint(h, NULL, at);
        json_uint(h, NULL, end);
        json_end_array(h);
        json_end_object(h);
        at = end;
    }
    json_end_object(h);
    if (json_writer_finish(h, "safetensors header")) {
        json_writer_free(h);
        return MELD_ERR;
    }
    *stored = h->len + (8 - (8 + h->len) % 8) % 8;
    return MELD_OK;
}

static uint64_t data_bytes(const SafeTensors *st)
{
    uint64_t n = 0;
    for (int i = 0; i < st->n_tensors; i++) n += 4 * (uint64_t)st->tensors[i].numel;
    return n;
}

int st_serialize(const SafeTensors *st, uint8_t **out, size_t *size)
{
    JsonWriter h;
    size_t hlen;
    if (build_header(st, &h, &hlen)) return MELD_ERR;
    size_t total = 8 + hlen + (size_t)data_bytes(st);
    uint8_t *b = meld_malloc(total, "safetensors bytes");
    if (!b) {
        json_writer_free(&h);
        return MELD_ERR;
    }
    store_le64(b, hlen);
    memcpy(b + 8, h.buf, h.len);
    memset(b + 8 + h.len, ' ', hlen - h.len);
    uint8_t *p = b + 8 + hlen;
    for (int i = 0; i < st->n_tensors; i++)
        for (size_t e = 0; e < st->tensors[i].numel; e++, p += 4) store_le_f32(p, st->tensors[i].data[e]);
    json_writer_free(&h);
    *out = b;
    *size = total;
    return MELD_OK;
}

/* Tensor data in little-endian chunks of 4 KiB floats. */
static int write_data(AtomicFile *f, const StTensor *t)
{
    enum { CHUNK = 4096 };
    uint8_t buf[CHUNK * 4];
    for (size_t e = 0; e < t->numel; e += CHUNK) {
        size_t m = t->numel - e < CHUNK ? t->numel - e : CHUNK;
        for (size_t k = 0; k < m; k++) store_le_f32(buf + 4 * k, t->data[e + k]);
        if (atomic_file_write(f, buf, m * 4)) return MELD_ERR;
    }
    return MELD_OK;
}

int st_save(const SafeTensors *st, const char *path)
{
    JsonWriter h;
    size_t hlen;
    if (build_header(st, &h, &hlen)) return meld_error_context("%s", path);
    AtomicFile f;
    uint8_t len8[8];
    static const char spaces[8] = "        ";
    store_le64(len8, hlen);
    int rc = atomic_file_open(&f, path);
    if (!rc) rc = atomic_file_write(&f, len8, 8);
    if (!rc) rc = atomic_file_write(&f, h.buf, h.len);
    if (!rc) rc = atomic_file_write(&f, spaces, hlen - h.len);
    for (int i = 0; i < st->n_tensors && !rc; i++) rc = write_data(&f, &st->tensors[i]);
    json_writer_free(&h);
    if (rc) {
        if (f.fp) atomic_file_abort(&f);
        return MELD_ERR;
    }
    return atomic_file_commit(&f);
}
