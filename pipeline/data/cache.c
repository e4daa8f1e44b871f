#include "pipeline/data/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tensor/atomic_file.h"
#include "tensor/error.h"
#include "tensor/input_file.h"

enum { HEADER_FIXED = 48, ENTRY_BYTES = 48, ALIGN = 64 };

uint64_t cache_hash(const char *config)
{
    uint64_t h = 14695981039346656037ULL;   /* FNV-1a 64 */
    for (const unsigned char *p = (const unsigned char *)config; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t align_up(uint64_t x) { return (x + ALIGN - 1) & ~(uint64_t)(ALIGN - 1); }

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

static int item_order(const void *a, const void *b)
{
    const CacheItem *x = *(const CacheItem *const *)a, *y = *(const CacheItem *const *)b;
    if (x->dialogue_id != y->dialogue_id) return x->dialogue_id < y->dialogue_id ? -1 : 1;
    return (x->utterance_id > y->utterance_id) - (x->utterance_id < y->utterance_id);
}

static uint64_t frames_bytes(const CacheConfig *cfg)
{
    return (uint64_t)cfg->n_frames * cfg->frame_size * cfg->frame_size * cfg->frame_channels;
}

/* Writes zero bytes until the file offset reaches `to`. */
static int pad_to(AtomicFile *f, uint64_t *at, uint64_t to)
{
    static const uint8_t zeros[ALIGN] = {0};
    while (*at < to) {
        uint64_t n = to - *at > ALIGN ? ALIGN : to - *at;
        if (atomic_file_write(f, zeros, (size_t)n)) return MELD_ERR;
        *at += n;
    }
    return MELD_OK;
}

int cache_write(const char *path, const CacheConfig *cfg, const CacheItem *items, int n)
{
    const CacheItem **order = meld_malloc(sizeof *order * (size_t)(n ? n : 1), "cache order");
    uint8_t *index = meld_calloc((size_t)(n ? n : 1), ENTRY_BYTES, "cache index");
    if (!order || !index) {
        free(order);
        free(index);
        return MELD_ERR;
    }
    for (int i = 0; i < n; i++) order[i] = &items[i];
    qsort(order, (size_t)n, sizeof *order, item_order);

    /* Lay out: header, index, then per utterance mel | functional | frames. */
    uint32_t clen = (uint32_t)strlen(cfg->config);
    uint64_t index_at = align_up(HEADER_FIXED + clen);
    uint64_t at = align_up(index_at + (uint64_t)n * ENTRY_BYTES);
    for (int i = 0; i < n; i++) {
        const CacheItem *it = order[i];
        uint8_t *e = index + (size_t)i * ENTRY_BYTES;
        put_u32(e + 0, (uint32_t)it->dialogue_id);
        put_u32(e + 4, (uint32_t)it->utterance_id);
        put_u32(e + 8, (uint32_t)it->emotion);
        put_u32(e + 12, (uint32_t)it->sentiment);
        put_u32(e + 16, (uint32_t)it->n_mel_frames);
        put_u32(e + 20, (uint32_t)it->speaker);
        put_u64(e + 24, at);
        at = align_up(at + (uint64_t)it->n_mel_frames * cfg->n_mels * 4);
        put_u64(e + 32, at);
        at = align_up(at + (uint64_t)cfg->functional_dim * 4);
        put_u64(e + 40, at);
        at = align_up(at + frames_bytes(cfg));
    }
    uint64_t end = at + 8;

    uint8_t head[HEADER_FIXED];
    memcpy(head, CACHE_MAGIC, 8);
    put_u32(head + 8, CACHE_VERSION);
    put_u32(head + 12, (uint32_t)n);
    put_u64(head + 16, cache_hash(cfg->config));
    put_u32(head + 24, (uint32_t)cfg->n_mels);
    put_u32(head + 28, (uint32_t)cfg->functional_dim);
    put_u32(head + 32, (uint32_t)cfg->n_frames);
    put_u32(head + 36, (uint32_t)cfg->frame_size);
    put_u32(head + 40, (uint32_t)cfg->frame_channels);
    put_u32(head + 44, clen);

    AtomicFile f;
    int rc = atomic_file_open(&f, path);
    uint64_t pos = 0;
    if (rc == MELD_OK) {
        rc = atomic_file_write(&f, head, HEADER_FIXED) || atomic_file_write(&f, cfg->config, clen);
        pos = HEADER_FIXED + clen;
        rc = rc || pad_to(&f, &pos, index_at) || atomic_file_write(&f, index, (size_t)n * ENTRY_BYTES);
        pos += (uint64_t)n * ENTRY_BYTES;
        for (int i = 0; rc == MELD_OK && i < n; i++) {
            const CacheItem *it = order[i];
            const uint8_t *e = index + (size_t)i * ENTRY_BYTES;
            rc = pad_to(&f, &pos, get_u64(e + 24)) ||
                 atomic_file_write(&f, it->mel, (size_t)it->n_mel_frames * cfg->n_mels * 4);
            pos += (uint64_t)it->n_mel_frames * cfg->n_mels * 4;
            rc = rc || pad_to(&f, &pos, get_u64(e + 32)) ||
                 atomic_file_write(&f, it->functional, (size_t)cfg->functional_dim * 4);
            pos += (uint64_t)cfg->functional_dim * 4;
            rc = rc || pad_to(&f, &pos, get_u64(e + 40)) ||
                 atomic_file_write(&f, it->frames, (size_t)frames_bytes(cfg));
            pos += frames_bytes(cfg);
        }
        uint8_t tail[8];
        put_u64(tail, end);
        rc = rc || pad_to(&f, &pos, at) || atomic_file_write(&f, tail, 8);
        if (rc == MELD_OK) rc = atomic_file_commit(&f);
        else atomic_file_abort(&f);
    }
    free(order);
    free(index);
    return rc ? MELD_ERR : MELD_OK;
}

/* Checks [off, off+len) lies inside the data area and is 4-byte aligned. */
static int range_ok(uint64_t off, uint64_t len, uint64_t data_start, uint64_t data_end)
{
    return off >= data_start && off <= data_end && len <= data_end - off && off % 4 == 0;
}

static int validate(Cache *c, const char *path, uint64_t expected, int *stale)
{
    const uint8_t *b = c->base;
    if (c->size < HEADER_FIXED + 8) return meld_errorf("%s: too short to be a feature cache (%zu bytes)", path, c->size);
    if (memcmp(b, CACHE_MAGIC, 8)) return meld_errorf("%s: not a meld feature cache (bad magic)", path);
    uint32_t version = get_u32(b + 8);
    if (version != CACHE_VERSION) return meld_errorf("%s: cache version %u, this program reads %u", path, version, CACHE_VERSION);
    if (get_u64(b + c->size - 8) != c->size) return meld_errorf("%s: end marker does not match the file size (incomplete file)", path);
    uint32_t n = get_u32(b + 12), clen = get_u32(b + 44);
    c->hash = get_u64(b + 16);
    c->cfg.n_mels = (int)get_u32(b + 24);
    c->cfg.functional_dim = (int)get_u32(b + 28);
    c->cfg.n_frames = (int)get_u32(b + 32);
    c->cfg.frame_size = (int)get_u32(b + 36);
    c->cfg.frame_channels = (int)get_u32(b + 40);
    if (clen >= sizeof c->cfg.config || HEADER_FIXED + (uint64_t)clen > c->size)
        return meld_errorf("%s: configuration string length %u is invalid", path, clen);
    memcpy(c->cfg.config, b + HEADER_FIXED, clen);
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
    uint64_t index_at = align_up(HEADER_FIXED + clen), data_end = c->size - 8;
    if ((uint64_t)n > (data_end - index_at) / ENTRY_BYTES) return meld_errorf("%s: index of %u entries does not fit in the file", path, n);
    uint64_t data_start = index_at + (uint64_t)n * ENTRY_BYTES;
    c->n = (int)n;
    c->entries = meld_calloc(n ? n : 1, sizeof *c->entries, "cache index");
    if (!c->entries) return MELD_ERR;
    uint64_t fb = frames_bytes(&c->cfg);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = b + index_at + (uint64_t)i * ENTRY_BYTES;
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
        if (ce->emotion < 0 || ce->emotion > 6 || ce->sentiment < 0 || ce->sentiment > 2 || ce->n_mel_frames < 0)
            return meld_errorf("%s: index entry %u has invalid labels or length", path, i);
        if (!range_ok(ce->mel_offset, (uint64_t)ce->n_mel_frames * c->cfg.n_mels * 4, data_start, data_end) ||
            !range_ok(ce->functional_offset, (uint64_t)c->cfg.functional_dim * 4, data_start, data_end) ||
            !range_ok(ce->frames_offset, fb, data_start, data_end))
            return meld_errorf("%s: index entry %u points outside the file", path, i);
    }
    return MELD_OK;
}

int cache_open(const char *path, uint64_t expected_hash, Cache *c, int *stale)
{
    memset(c, 0, sizeof *c);
    int dummy;
    if (!stale) stale = &dummy;
    *stale = 0;
    int fd;
    if (input_file_open(path, &fd)) return MELD_ERR;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return meld_errorf("%s: cannot stat: %s", path, strerror(errno));
    }
    c->size = (size_t)st.st_size;
    if (c->size == 0) {
        close(fd);
        return meld_errorf("%s: empty file", path);
    }
    void *m = mmap(NULL, c->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return meld_errorf("%s: mmap failed: %s", path, strerror(errno));
    c->base = m;
    if (validate(c, path, expected_hash, stale) != MELD_OK) {
        cache_close(c);
        return MELD_ERR;
    }
    return MELD_OK;
}

void cache_close(Cache *c)
{
    if (c->in_memory) free((void *)c->base);
    else if (c->base) munmap((void *)c->base, c->size);
    free(c->entries);
    memset(c, 0, sizeof *c);
}
