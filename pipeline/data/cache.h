/* The feature cache: one file per split holding, for every usable
 * utterance, its labels, its log-Mel frame sequence, its utterance
 * functional vector and K face frames, and what the file was built from.
 * `meld prepare` writes it; training reads it through mmap, so the whole of
 * MELD never has to fit in memory.
 *
 * The format (version 2) is specified byte by byte in docs/CACHE.md. In
 * short, all integers little-endian:
 *   header (64 bytes: magic "MELDCACH", version, sizes, config hash, CSV hash)
 *   configuration string
 *   source table: one 40-byte row per CSV row of the split, used or not:
 *     clip file name, size and mtime, and why it was skipped (ClipProblem
 *     of pipeline/features/clip.h), with a string pool for names and reasons
 *   index: one 64-byte entry per usable utterance, sorted by (dialogue,
 *     utterance): labels, lengths, offsets, and the XXH64 of its record
 *   records, each 64-aligned: mel | functional | frames, back to back
 *   tail: XXH64 of everything before the records, then the file size
 *
 * Trust: the writer builds the file under a temporary name, reads it back
 * and checks it completely (every checksum, the counts asked) before it is
 * renamed into place, so a cache that exists is complete. The reader checks
 * everything again: structure, offsets, labels, the metadata checksum and
 * every record's checksum, and names the file and the first problem (a
 * damaged record by its dialogue and utterance). A cache whose config_hash
 * differs from the requested configuration is "stale".
 *
 * Nothing machine-dependent is stored but the clips' sizes and mtimes: no
 * paths, no dates of writing, so the same corpus files and configuration
 * give byte-identical caches however the work was split or interrupted.
 */
#ifndef MELD_CACHE_H
#define MELD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CACHE_MAGIC "MELDCACH"
#define CACHE_VERSION 2u

typedef struct {
    int dialogue_id, utterance_id;
    int emotion, sentiment;
    int n_mel_frames;
    int speaker;
    uint64_t mel_offset, functional_offset, frames_offset;
    uint64_t checksum;         /* XXH64 of the record's bytes */
    int source;                /* its row in the source table */
    int damaged;               /* salvage mode only: checksum mismatch */
} CacheEntry;

typedef struct {
    int n_mels, functional_dim, n_frames, frame_size, frame_channels;
    char config[512];   /* the configuration string; its hash identifies it */
} CacheConfig;

/* One CSV row of the split and what became of its clip. */
typedef struct {
    int dialogue_id, utterance_id;
    uint64_t clip_size;        /* bytes; 0 when there is no clip */
    int64_t clip_mtime_ns;     /* modification time, ns since the epoch; 0 when none */
    int problem;               /* ClipProblem: 0 = used (in the index) */
    const char *clip_name;     /* the clip's file name, "" when none */
    const char *reason;        /* why it was skipped, "" when used */
    int record;                /* reader only: its index entry, -1 when skipped */
} CacheSource;

/* What a split cache is built from. */
typedef struct {
    uint64_t csv_hash;         /* XXH64 (seed 0) of the split's CSV file */
    const CacheSource *rows;   /* n_rows, sorted by (dialogue, utterance) */
    int n_rows;
} CacheProvenance;

/* One utterance's features, as handed to the writer. */
typedef struct {
    int dialogue_id, utterance_id, emotion, sentiment, speaker;
    int n_mel_frames;
    const float *mel;          /* n_mel_frames x n_mels */
    const float *functional;   /* functional_dim */
    const uint8_t *frames;     /* n_frames x S x S x C */
} CacheItem;

/* A cache open for reading (mmap), or a split built in memory
 * (split_data_from_vectors in batch.h: no file, malloc'd base). */
typedef struct {
    const uint8_t *base;
    size_t size;
    bool in_memory;        /* base is malloc'd, not mapped */
    int n;
    CacheConfig cfg;
    uint64_t hash;
    uint64_t csv_hash;
    CacheEntry *entries;       /* decoded index, n entries */
    CacheSource *sources;      /* decoded source table (strings point into the map) */
    int n_sources;
    int n_damaged;             /* salvage mode: entries with damaged = 1 */
} Cache;

/* FNV-1a 64 of a configuration string (what checkpoints record). */
uint64_t cache_hash(const char *config);

/* Writes items (any order: sorted here by dialogue, utterance) and their
 * provenance atomically: built under a temporary name, read back and
 * verified, then renamed. Every item must have a used row in src->rows
 * and every used row an item. */
int cache_write(const char *path, const CacheConfig *cfg, const CacheProvenance *src, const CacheItem *items, int n);

/* Opens and validates everything, record checksums included. expected_hash
 * 0 accepts any configuration; otherwise a different hash fails with
 * "stale" in the message and *stale set to 1. */
int cache_open(const char *path, uint64_t expected_hash, Cache *c, int *stale);

/* The same, but records whose checksum fails are marked damaged (counted
 * in n_damaged) instead of failing the open: for reusing what is intact. */
int cache_open_salvage(const char *path, Cache *c);

void cache_close(Cache *c);

static inline const float *cache_mel(const Cache *c, int i)
{
    return (const float *)(const void *)(c->base + c->entries[i].mel_offset);
}
static inline const float *cache_functional(const Cache *c, int i)
{
    return (const float *)(const void *)(c->base + c->entries[i].functional_offset);
}
static inline const uint8_t *cache_frames(const Cache *c, int i)
{
    return c->base + c->entries[i].frames_offset;
}

#endif
