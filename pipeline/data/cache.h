/* The feature cache: one file per split holding, for every usable
 * utterance, its labels, its log-Mel frame sequence, its utterance
 * functional vector and K face frames. `meld prepare` writes it; training
 * reads it through mmap, so the whole of MELD never has to fit in memory.
 *
 * File format, version 1 (all integers little-endian; x86-64 and every
 * other little-endian machine read it as is):
 *
 *   offset size  field
 *   0      8     magic "MELDCACH"
 *   8      4     u32 version = 1
 *   12     4     u32 n_utterances (N)
 *   16     8     u64 config_hash: FNV-1a 64 of the configuration string
 *   24     4     u32 n_mels            (columns of every log-Mel matrix)
 *   28     4     u32 functional_dim    (length of every functional vector)
 *   32     4     u32 n_frames (K)      face frames per utterance
 *   36     4     u32 frame_size (S)    frames are S x S
 *   40     4     u32 frame_channels    (3: RGB)
 *   44     4     u32 config_len (L)
 *   48     L     the configuration string (ASCII, no NUL), e.g.
 *                "meld-cache v1 sr=16000 n_fft=400 hop=160 n_mels=40 ..."
 *   48+L   pad   zeros up to a multiple of 64
 *   I      N*48  the index, one 48-byte record per utterance, sorted by
 *                (dialogue_id, utterance_id):
 *                  i32 dialogue_id, i32 utterance_id,
 *                  i32 emotion (0..6), i32 sentiment (0..2),
 *                  u32 n_mel_frames (T), u32 speaker (index in its dialogue),
 *                  u64 mel_offset, u64 functional_offset, u64 frames_offset
 *                offsets are from the start of the file, each 64-aligned:
 *                  mel:        T * n_mels float32, row-major (frame, mel)
 *                  functional: functional_dim float32
 *                  frames:     K * S * S * C uint8, each frame HWC
 *   ...    8     u64 end marker = the file size, written last
 *
 * Nothing machine- or time-dependent is stored (no paths, no dates), so the
 * same corpus and configuration give byte-identical files.
 *
 * Integrity: the file is written to a temporary name and renamed into place
 * (tensor/atomic_file.h), so a cache that exists is complete. The reader
 * still checks everything (magic, version, sizes, every offset and length
 * inside the file, labels in range, the end marker) and names the file and
 * the first problem. A cache whose config_hash differs from the requested
 * configuration is "stale": the caller rebuilds it rather than misread it.
 */
#ifndef MELD_CACHE_H
#define MELD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CACHE_MAGIC "MELDCACH"
#define CACHE_VERSION 1u

typedef struct {
    int dialogue_id, utterance_id;
    int emotion, sentiment;
    int n_mel_frames;
    int speaker;
    uint64_t mel_offset, functional_offset, frames_offset;
} CacheEntry;

typedef struct {
    int n_mels, functional_dim, n_frames, frame_size, frame_channels;
    char config[512];   /* the configuration string; its hash identifies it */
} CacheConfig;

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
    CacheEntry *entries;   /* decoded index, n entries */
} Cache;

uint64_t cache_hash(const char *config);

/* Writes items (any order: sorted here by dialogue, utterance) atomically. */
int cache_write(const char *path, const CacheConfig *cfg, const CacheItem *items, int n);

/* Opens and validates. expected_hash 0 accepts any configuration; otherwise a
 * different hash fails with "stale" in the message and *stale set to 1. */
int cache_open(const char *path, uint64_t expected_hash, Cache *c, int *stale);
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
