#include "pipeline/data/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/data/checksum.h"
#include "tensor/atomic_file.h"
#include "tensor/error.h"
#include "tensor/input_file.h"

/* Sizes and alignment of docs/CACHE.md. */
enum { HEADER_BYTES = 64, SOURCE_BYTES = 40, ENTRY_BYTES = 64, RECORD_ALIGN = 64, TAIL_BYTES = 16 };
#define NO_RECORD 0xFFFFFFFFu

uint64_t cache_hash(const char *config)
{
    uint64_t h = 14695981039346656037ULL;   /* FNV-1a 64 */
    for (const unsigned char *p = (const unsigned char *)config; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Where the sections start, from the header's counts (docs/CACHE.md). */
typedef struct {
    uint64_t config_at, sources_at, pool_at, index_at, data_at;
} Layout;

static Layout layout(uint32_t config_len, uint32_t n_sources, uint32_t pool_bytes, uint32_t n_records)
{
    Layout l;
    l.config_at = HEADER_BYTES;
    l.sources_at = align_up(l.config_at + config_len, 8);
    l.pool_at = l.sources_at + (uint64_t)n_sources * SOURCE_BYTES;
    l.index_at = align_up(l.pool_at + pool_bytes, RECORD_ALIGN);
    l.data_at = align_up(l.index_at + (uint64_t)n_records * ENTRY_BYTES, RECORD_ALIGN);
    return l;
}

static uint64_t frames_bytes(const CacheConfig *cfg)
{
    return (uint64_t)cfg->n_frames * cfg->frame_size * cfg->frame_size * cfg->frame_channels;
}

static uint64_t record_bytes(const CacheConfig *cfg, uint64_t n_mel_frames)
{
    return (n_mel_frames * cfg->n_mels + cfg->functional_dim) * 4 + frames_bytes(cfg);
}

static int cmp_ids(int d1, int u1, int d2, int u2)
{
    if (d1 != d2) return d1 < d2 ? -1 : 1;
    return (u1 > u2) - (u1 < u2);
}

static int item_order(const void *a, const void *b)
{
    const CacheItem *x = *(const CacheItem *const *)a, *y = *(const CacheItem *const *)b;
    return cmp_ids(x->dialogue_id, x->utterance_id, y->dialogue_id, y->utterance_id);
}

/* ---- writing ---------------------------------------------------------------- */

/* The pool's bytes: "" at offset 0, then each row's name and reason. */
static size_t pool_size(const CacheProvenance *src)
{
    size_t q = 1;
    for (int i = 0; i < src->n_rows; i++) q += strlen(src->rows[i].clip_name) + 1 + strlen(src->rows[i].reason) + 1;
    return q;
}

static uint32_t pool_add(uint8_t *pool, size_t *used, const char *s)
{
    if (!*s) return 0;
    size_t at = *used, len = strlen(s) + 1;
    memcpy(pool + at, s, len);
    *used += len;
    return (uint32_t)at;
}

/* Checks rows are sorted and each used row has the next item (both in
 * (dialogue, utterance) order); sets row_record[r] = item index or NO_RECORD. */
static int link_rows(const CacheProvenance *src, const CacheItem **order, int n, uint32_t *row_record)
{
    int next = 0;
    for (int r = 0; r < src->n_rows; r++) {
        const CacheSource *s = &src->rows[r];
        if (r > 0 && cmp_ids(src->rows[r - 1].dialogue_id, src->rows[r - 1].utterance_id, s->dialogue_id,
                             s->utterance_id) >= 0)
            return meld_errorf("cache: source rows not in (dialogue, utterance) order at dia%d_utt%d", s->dialogue_id,
                               s->utterance_id);
        row_record[r] = NO_RECORD;
        if (s->problem != 0) continue;
        if (next >= n || order[next]->dialogue_id != s->dialogue_id || order[next]->utterance_id != s->utterance_id)
            return meld_errorf("cache: dia%d_utt%d is marked used but has no features", s->dialogue_id, s->utterance_id);
        row_record[r] = (uint32_t)next++;
    }
    if (next != n)
        return meld_errorf("cache: dia%d_utt%d has features but no used source row", order[next]->dialogue_id,
                           order[next]->utterance_id);
    return MELD_OK;
}

/* Header, configuration, source table, pool and index: everything before
 * the records, in one buffer (the metadata checksum covers exactly it). */
static uint8_t *build_meta(const CacheConfig *cfg, const CacheProvenance *src, const CacheItem **order, int n,
                           const uint32_t *row_record, Layout *l, uint64_t *file_size)
{
    uint32_t clen = (uint32_t)strlen(cfg->config);
    size_t q = pool_size(src);
    *l = layout(clen, (uint32_t)src->n_rows, (uint32_t)q, (uint32_t)n);
    uint8_t *m = meld_calloc(1, (size_t)l->data_at, "cache metadata");
    if (!m) return NULL;
    memcpy(m, CACHE_MAGIC, 8);
    put_u32(m + 8, CACHE_VERSION);
    put_u32(m + 12, (uint32_t)n);
    put_u64(m + 16, cache_hash(cfg->config));
    put_u32(m + 24, (uint32_t)cfg->n_mels);
    put_u32(m + 28, (uint32_t)cfg->functional_dim);
    put_u32(m + 32, (uint32_t)cfg->n_frames);
    put_u32(m + 36, (uint32_t)cfg->frame_size);
    put_u32(m + 40, (uint32_t)cfg->frame_channels);
    put_u32(m + 44, clen);
    put_u32(m + 48, (uint32_t)src->n_rows);
    put_u32(m + 52, (uint32_t)q);
    put_u64(m + 56, src->csv_hash);
    memcpy(m + l->config_at, cfg->config, clen);
    size_t used = 1;   /* pool[0] = '\0': the empty string */
    uint32_t *record_row = meld_malloc(sizeof *record_row * (size_t)(n ? n : 1), "cache index");
    if (!record_row) {
        free(m);
        return NULL;
    }
    for (int r = 0; r < src->n_rows; r++) {
        const CacheSource *s = &src->rows[r];
        uint8_t *e = m + l->sources_at + (uint64_t)r * SOURCE_BYTES;
        put_u32(e + 0, (uint32_t)s->dialogue_id);
        put_u32(e + 4, (uint32_t)s->utterance_id);
        put_u64(e + 8, s->clip_size);
        put_u64(e + 16, (uint64_t)s->clip_mtime_ns);
        put_u32(e + 24, (uint32_t)s->problem);
        put_u32(e + 28, row_record[r]);
        put_u32(e + 32, pool_add(m + l->pool_at, &used, s->clip_name));
        put_u32(e + 36, pool_add(m + l->pool_at, &used, s->reason));
        if (row_record[r] != NO_RECORD) record_row[row_record[r]] = (uint32_t)r;
    }
    uint64_t at = l->data_at;
    for (int i = 0; i < n; i++) {
        const CacheItem *it = order[i];
        uint8_t *e = m + l->index_at + (uint64_t)i * ENTRY_BYTES;
        put_u32(e + 0, (uint32_t)it->dialogue_id);
        put_u32(e + 4, (uint32_t)it->utterance_id);
        put_u32(e + 8, (uint32_t)it->emotion);
        put_u32(e + 12, (uint32_t)it->sentiment);
        put_u32(e + 16, (uint32_t)it->n_mel_frames);
        put_u32(e + 20, (uint32_t)it->speaker);
        uint64_t mel = (uint64_t)it->n_mel_frames * cfg->n_mels * 4, fn = (uint64_t)cfg->functional_dim * 4;
        put_u64(e + 24, at);
        put_u64(e + 32, at + mel);
        put_u64(e + 40, at + mel + fn);
        /* the record's checksum: its three arrays as they will lie in the file */
        uint8_t *rec = meld_malloc((size_t)record_bytes(cfg, (uint64_t)it->n_mel_frames), "cache record");
        if (!rec) {
            free(record_row);
            free(m);
            return NULL;
        }
        /* an input the model does not read may be absent (NULL, 0 bytes) */
        if (mel) memcpy(rec, it->mel, (size_t)mel);
        if (fn) memcpy(rec + mel, it->functional, (size_t)fn);
        if (frames_bytes(cfg)) memcpy(rec + mel + fn, it->frames, (size_t)frames_bytes(cfg));
        put_u64(e + 48, checksum_xxh64(rec, (size_t)record_bytes(cfg, (uint64_t)it->n_mel_frames), 0));
        free(rec);
        put_u32(e + 56, record_row[i]);
        at = align_up(at + record_bytes(cfg, (uint64_t)it->n_mel_frames), i + 1 < n ? RECORD_ALIGN : 8);
    }
    free(record_row);
    *file_size = align_up(at, 8) + TAIL_BYTES;
    return m;
}

/* Writes zero bytes until the file offset reaches `to`. */
static int pad_to(AtomicFile *f, uint64_t *at, uint64_t to)
{
    static const uint8_t zeros[RECORD_ALIGN] = {0};
    while (*at < to) {
        uint64_t n = to - *at > RECORD_ALIGN ? RECORD_ALIGN : to - *at;
        if (atomic_file_write(f, zeros, (size_t)n)) return MELD_ERR;
        *at += n;
    }
    return MELD_OK;
}

static int write_body(AtomicFile *f, const CacheConfig *cfg, const uint8_t *meta, const Layout *l,
                      const CacheItem **order, int n, uint64_t file_size)
{
    if (atomic_file_write(f, meta, (size_t)l->data_at)) return MELD_ERR;
    uint64_t pos = l->data_at;
    for (int i = 0; i < n; i++) {
        const CacheItem *it = order[i];
        const uint8_t *e = meta + l->index_at + (uint64_t)i * ENTRY_BYTES;
        uint64_t mel = (uint64_t)it->n_mel_frames * cfg->n_mels * 4, fn = (uint64_t)cfg->functional_dim * 4;
        if (pad_to(f, &pos, get_u64(e + 24)) || atomic_file_write(f, it->mel, (size_t)mel) ||
            atomic_file_write(f, it->functional, (size_t)fn) || atomic_file_write(f, it->frames, (size_t)frames_bytes(cfg)))
            return MELD_ERR;
        pos += mel + fn + frames_bytes(cfg);
    }
    uint8_t tail[TAIL_BYTES];
    put_u64(tail, checksum_xxh64(meta, (size_t)l->data_at, 0));
    put_u64(tail + 8, file_size);
    return pad_to(f, &pos, file_size - TAIL_BYTES) || atomic_file_write(f, tail, TAIL_BYTES);
}

/* Reads the written temporary file back and checks it completely. */
static int verify_written(AtomicFile *f, int n, int n_rows)
{
    if (fflush(f->fp) != 0) return meld_errorf("%s: write failed: %s", f->path, strerror(errno));
    Cache c;
    if (cache_open(f->tmp_path, 0, &c, NULL)) return meld_error_context("%s: verifying what was written", f->path);
    int ok = c.n == n && c.n_sources == n_rows;
    cache_close(&c);
    return ok ? MELD_OK : meld_errorf("%s: read back %d records of %d written", f->path, c.n, n);
}

int cache_write(const char *path, const CacheConfig *cfg, const CacheProvenance *src, const CacheItem *items, int n)
{
    const CacheItem **order = meld_malloc(sizeof *order * (size_t)(n ? n : 1), "cache order");
    uint32_t *row_record = meld_malloc(sizeof *row_record * (size_t)(src->n_rows ? src->n_rows : 1), "cache rows");
    int rc = order && row_record ? MELD_OK : MELD_ERR;
    for (int i = 0; i < n && rc == MELD_OK; i++) order[i] = &items[i];
    if (rc == MELD_OK) qsort(order, (size_t)n, sizeof *order, item_order);
    if (rc == MELD_OK && strlen(cfg->config) >= sizeof cfg->config)
        rc = meld_errorf("%s: configuration string too long", path);
    if (rc == MELD_OK) rc = link_rows(src, order, n, row_record);
    Layout l;
    uint64_t file_size = 0;
    uint8_t *meta = rc == MELD_OK ? build_meta(cfg, src, order, n, row_record, &l, &file_size) : NULL;
    if (rc == MELD_OK && !meta) rc = MELD_ERR;
    AtomicFile f;
    if (rc == MELD_OK && atomic_file_open(&f, path) == MELD_OK) {
        rc = write_body(&f, cfg, meta, &l, order, n, file_size);
        if (rc == MELD_OK) rc = verify_written(&f, n, src->n_rows);
        if (rc == MELD_OK) rc = atomic_file_commit(&f);
        else atomic_file_abort(&f);
    } else if (rc == MELD_OK) {
        rc = MELD_ERR;
    }
    free(meta);
    free(order);
    free(row_record);
    return rc;
}

/* ---- reading ----------------------------------------------------------------- */

/* A NUL-terminated string at `off` inside the pool, or NULL. */
static const char *pool_string(const uint8_t *pool, uint32_t q, uint32_t off)
{
    if (off >= q || !memchr(pool + off, '\0', q - off)) return NULL;
    return (const char *)pool + off;
}

static int read_header(Cache *c, const char *path, uint64_t expected, int *stale, Layout *l, uint32_t *q)
{
    const uint8_t *b = c->base;
    if (c->size < HEADER_BYTES + TAIL_BYTES)
        return meld_errorf("%s: too short to be a feature cache (%zu bytes)", path, c->size);
    if (memcmp(b, CACHE_MAGIC, 8)) return meld_errorf("%s: not a meld feature cache (bad magic)", path);
    uint32_t version = get_u32(b + 8);
    if (version != CACHE_VERSION)
        return meld_errorf("%s: cache version %u, this program reads %u (run meld prepare to rebuild it)", path, version,
                           CACHE_VERSION);
    if (get_u64(b + c->size - 8) != c->size)
        return meld_errorf("%s: end marker does not match the file size (incomplete file)", path);
    uint32_t n = get_u32(b + 12), clen = get_u32(b + 44), rows = get_u32(b + 48);
    *q = get_u32(b + 52);
    c->hash = get_u64(b + 16);
    c->csv_hash = get_u64(b + 56);
    c->cfg.n_mels = (int)get_u32(b + 24);
    c->cfg.functional_dim = (int)get_u32(b + 28);
    c->cfg.n_frames = (int)get_u32(b + 32);
    c->cfg.frame_size = (int)get_u32(b + 36);
    c->cfg.frame_channels = (int)get_u32(b + 40);
    if (clen >= sizeof c->cfg.config || n > c->size / ENTRY_BYTES || rows > c->size / SOURCE_BYTES || *q > c->size)
        return meld_errorf("%s: header counts do not fit in the file", path);
    *l = layout(clen, rows, *q, n);
    if (l->data_at + TAIL_BYTES > c->size) return meld_errorf("%s: header counts do not fit in the file", path);
    uint64_t meta_sum = get_u64(b + c->size - TAIL_BYTES);
    if (checksum_xxh64(b, (size_t)l->data_at, 0) != meta_sum)
        return meld_errorf("%s: header, source table or index damaged (checksum mismatch)", path);
    memcpy(c->cfg.config, b + HEADER_BYTES, clen);
    c->cfg.config[clen] = '\0';
    if (cache_hash(c->cfg.config) != c->hash) return meld_errorf("%s: configuration hash mismatch (corrupt header)", path);
    if (expected && c->hash != expected) {
        *stale = 1;
        return meld_errorf("%s: stale cache (built with a different feature configuration)", path);
    }
    if (c->cfg.n_mels < 1 || c->cfg.n_mels > 4096 || c->cfg.functional_dim < 0 || c->cfg.functional_dim > 1 << 20 ||
        c->cfg.n_frames < 0 || c->cfg.n_frames > 1024 || c->cfg.frame_size < 0 || c->cfg.frame_size > 4096 ||
        c->cfg.frame_channels < 1 || c->cfg.frame_channels > 4)
        return meld_errorf("%s: implausible feature dimensions in the header", path);
    c->n = (int)n;
    c->n_sources = (int)rows;
    return MELD_OK;
}

static int read_sources(Cache *c, const char *path, const Layout *l, uint32_t q)
{
    const uint8_t *pool = c->base + l->pool_at;
    c->sources = meld_calloc((size_t)(c->n_sources ? c->n_sources : 1), sizeof *c->sources, "cache source table");
    if (!c->sources) return MELD_ERR;
    for (int r = 0; r < c->n_sources; r++) {
        const uint8_t *e = c->base + l->sources_at + (uint64_t)r * SOURCE_BYTES;
        CacheSource *s = &c->sources[r];
        s->dialogue_id = (int)get_u32(e);
        s->utterance_id = (int)get_u32(e + 4);
        s->clip_size = get_u64(e + 8);
        s->clip_mtime_ns = (int64_t)get_u64(e + 16);
        s->problem = (int)get_u32(e + 24);
        uint32_t record = get_u32(e + 28);
        s->record = record == NO_RECORD ? -1 : (int)record;
        s->clip_name = pool_string(pool, q, get_u32(e + 32));
        s->reason = pool_string(pool, q, get_u32(e + 36));
        if (!s->clip_name || !s->reason) return meld_errorf("%s: source row %d names a string outside the pool", path, r);
        int used = s->problem == 0;
        if (used != (record != NO_RECORD) || (used && record >= (uint32_t)c->n) || s->problem < 0)
            return meld_errorf("%s: source row %d (dia%d_utt%d) is inconsistent", path, r, s->dialogue_id, s->utterance_id);
        if (r > 0 && cmp_ids(c->sources[r - 1].dialogue_id, c->sources[r - 1].utterance_id, s->dialogue_id,
                             s->utterance_id) >= 0)
            return meld_errorf("%s: source rows out of order at row %d", path, r);
    }
    return MELD_OK;
}

static int read_index(Cache *c, const char *path, const Layout *l, int salvage)
{
    c->entries = meld_calloc((size_t)(c->n ? c->n : 1), sizeof *c->entries, "cache index");
    if (!c->entries) return MELD_ERR;
    uint64_t data_end = c->size - TAIL_BYTES, next_free = l->data_at;
    for (int i = 0; i < c->n; i++) {
        const uint8_t *e = c->base + l->index_at + (uint64_t)i * ENTRY_BYTES;
        CacheEntry *ce = &c->entries[i];
        ce->dialogue_id = (int)get_u32(e);
        ce->utterance_id = (int)get_u32(e + 4);
        ce->emotion = (int)get_u32(e + 8);
        ce->sentiment = (int)get_u32(e + 12);
        ce->n_mel_frames = (int)get_u32(e + 16);
        ce->speaker = (int)get_u32(e + 20);
        ce->mel_offset = get_u64(e + 24);
        ce->functional_offset = get_u64(e + 32);
        ce->frames_offset = get_u64(e + 40);
        ce->checksum = get_u64(e + 48);
        ce->source = (int)get_u32(e + 56);
        if (ce->emotion < 0 || ce->emotion > 6 || ce->sentiment < 0 || ce->sentiment > 2 || ce->n_mel_frames < 0 ||
            ce->n_mel_frames > 1 << 24)
            return meld_errorf("%s: index entry %d has invalid labels or length", path, i);
        uint64_t mel = (uint64_t)ce->n_mel_frames * c->cfg.n_mels * 4, bytes = record_bytes(&c->cfg, (uint64_t)ce->n_mel_frames);
        if (ce->mel_offset < next_free || ce->mel_offset % RECORD_ALIGN || ce->mel_offset > data_end ||
            bytes > data_end - ce->mel_offset || ce->functional_offset != ce->mel_offset + mel ||
            ce->frames_offset != ce->functional_offset + (uint64_t)c->cfg.functional_dim * 4)
            return meld_errorf("%s: index entry %d points outside its place in the file", path, i);
        next_free = ce->mel_offset + bytes;
        const CacheSource *s = ce->source >= 0 && ce->source < c->n_sources ? &c->sources[ce->source] : NULL;
        if (!s || s->dialogue_id != ce->dialogue_id || s->utterance_id != ce->utterance_id || s->problem != 0)
            return meld_errorf("%s: index entry %d does not match its source row", path, i);
        if (checksum_xxh64(c->base + ce->mel_offset, (size_t)bytes, 0) != ce->checksum) {
            if (!salvage)
                return meld_errorf("%s: dia%d_utt%d: record checksum mismatch (the cache is damaged; meld prepare "
                                   "rebuilds it)",
                                   path, ce->dialogue_id, ce->utterance_id);
            ce->damaged = 1;
            c->n_damaged++;
        }
    }
    return MELD_OK;
}

/* A descriptor of the regular file at path and its size, or -1 (error set):
 * a FIFO is refused, not waited on (tensor/input_file.h). */
static int open_regular(const char *path, size_t *size)
{
    int fd;
    if (input_file_open(path, &fd)) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        meld_errorf("%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    *size = (size_t)st.st_size;
    return fd;
}

static int open_cache(const char *path, uint64_t expected_hash, Cache *c, int *stale, int salvage)
{
    memset(c, 0, sizeof *c);
    int dummy;
    if (!stale) stale = &dummy;
    *stale = 0;
    int fd = open_regular(path, &c->size);
    if (fd < 0) return MELD_ERR;
    if (c->size == 0) {
        close(fd);
        return meld_errorf("%s: empty file", path);
    }
    void *m = mmap(NULL, c->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return meld_errorf("%s: mmap failed: %s", path, strerror(errno));
    c->base = m;
    Layout l = {0};
    uint32_t q = 0;
    if (read_header(c, path, expected_hash, stale, &l, &q) || read_sources(c, path, &l, q) ||
        read_index(c, path, &l, salvage)) {
        cache_close(c);
        return MELD_ERR;
    }
    return MELD_OK;
}

int cache_open(const char *path, uint64_t expected_hash, Cache *c, int *stale)
{
    return open_cache(path, expected_hash, c, stale, 0);
}

int cache_open_salvage(const char *path, Cache *c)
{
    return open_cache(path, 0, c, NULL, 1);
}

void cache_close(Cache *c)
{
    if (c->in_memory) free((void *)c->base);
    else if (c->base) munmap((void *)c->base, c->size);
    free(c->entries);
    free(c->sources);
    memset(c, 0, sizeof *c);
}
