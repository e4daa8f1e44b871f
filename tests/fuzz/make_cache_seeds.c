/* Writes the seeds of fuzz_cache (tests/fuzz/corpus/cache/) with the cache
 * writer itself, so they follow the format (docs/CACHE.md) as it is:
 *
 *   make && cc -std=c11 -D_DEFAULT_SOURCE -I. tests/fuzz/make_cache_seeds.c build/libmeld.a -lm -pthread \
 *       -o /tmp/make_cache_seeds && /tmp/make_cache_seeds tests/fuzz/corpus/cache
 *
 * Three small caches: two utterances of one dialogue with a skipped row,
 * one with no mel frames (a model that reads none), and one whose every
 * row was skipped. */
#include <stdint.h>
#include <stdio.h>

#include "pipeline/data/cache.h"
#include "tensor/error.h"

static int write_seed(const char *dir, const char *name, const CacheConfig *cfg, const CacheSource *rows, int n_rows,
                      const CacheItem *items, int n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    CacheProvenance src = {.csv_hash = 0x5eed, .rows = rows, .n_rows = n_rows};
    if (cache_write(path, cfg, &src, items, n) == MELD_OK) return 0;
    fprintf(stderr, "%s\n", meld_error());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_cache_seeds DIR\n");
        return 2;
    }
    static float mel[3 * 4], fn[5];
    static uint8_t frames[2 * 4 * 4 * 3];
    for (int i = 0; i < 12; i++) mel[i] = 0.25f * (float)i;
    for (int i = 0; i < 5; i++) fn[i] = 1.0f + (float)i;
    for (int i = 0; i < (int)sizeof frames; i++) frames[i] = (uint8_t)(7 * i);
    CacheConfig cfg = {.n_mels = 4, .functional_dim = 5, .n_frames = 2, .frame_size = 4, .frame_channels = 3};
    snprintf(cfg.config, sizeof cfg.config, "meld-cache fuzz seed");
    const CacheSource rows[3] = {
        {.dialogue_id = 0, .utterance_id = 0, .clip_size = 1200, .clip_mtime_ns = 1, .clip_name = "dia0_utt0.mp4", .reason = ""},
        {.dialogue_id = 0, .utterance_id = 1, .clip_size = 900, .clip_mtime_ns = 2, .clip_name = "dia0_utt1.mp4", .reason = ""},
        {.dialogue_id = 0, .utterance_id = 2, .clip_size = 10, .clip_mtime_ns = 3, .problem = 3,
         .clip_name = "dia0_utt2.mp4", .reason = "dia0_utt2.mp4: no video stream"},
    };
    CacheItem items[2] = {
        {.dialogue_id = 0, .utterance_id = 0, .emotion = 1, .sentiment = 1, .n_mel_frames = 3, .mel = mel,
         .functional = fn, .frames = frames},
        {.dialogue_id = 0, .utterance_id = 1, .emotion = 6, .sentiment = 2, .n_mel_frames = 1, .mel = mel,
         .functional = fn, .frames = frames},
    };
    CacheItem no_mel[2] = {items[0], items[1]};
    no_mel[0].n_mel_frames = no_mel[1].n_mel_frames = 0;
    no_mel[0].mel = no_mel[1].mel = NULL;
    return write_seed(argv[1], "two_utterances", &cfg, rows, 3, items, 2) ||
           write_seed(argv[1], "no_mel_frames", &cfg, rows, 3, no_mel, 2) ||
           write_seed(argv[1], "all_skipped", &cfg, rows + 2, 1, NULL, 0);
}
