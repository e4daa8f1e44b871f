/* `meld prepare`: turn a corpus (real MELD or the synthetic one) into the
 * feature caches every model trains from (format: pipeline/data/cache.h).
 *
 * For every utterance of every split, in parallel on the thread pool:
 *   decode its clip (pipeline/features/clip.h: ffmpeg for MP4, directly for WAV/Y4M),
 *   compute the log-Mel frames (audio/spectral.h) and the utterance
 *   functional vector (audio/functionals.h), sample K frames and crop each
 *   to the largest face (video/face.h; a centre crop when no cascade file
 *   is found or no face is detected), resized to S x S RGB;
 * and write the result as one small "shard" file (atomically) under
 * CACHE/partial/SPLIT/. A clip that cannot be used (missing, damaged, no
 * audio) gets a ".skip" shard holding the reason. When every utterance of a
 * split has a shard, the shards are assembled in (dialogue, utterance)
 * order into CACHE/SPLIT.meldcache (atomically) and deleted.
 *
 * Resuming: an interrupted prepare (Ctrl-C, kill -9) leaves only complete
 * shards and, at worst, a temporary file; the next run reuses the shards
 * whose configuration hash matches and computes the rest. The final cache
 * file only ever appears complete. Shards hold nothing that depends on the
 * thread count or the time, so the caches are byte-identical however the
 * run was split or interrupted.
 *
 * A cache is "fresh" when its configuration hash matches prepare_config();
 * anything else is rebuilt.
 */
#ifndef MELD_PREPARE_H
#define MELD_PREPARE_H

#include <stdint.h>

#include "pipeline/data/dataset.h"

typedef struct {
    const char *cache_dir;
    int frames;             /* K face frames per utterance (4) */
    int size;               /* S, frames are S x S (64) */
    int n_mels;             /* log-Mel bands (40) */
    const char *cascade;    /* Haar cascade XML; NULL: the default location; "" : none */
    /* Progress, called from the calling thread (may be NULL). */
    void *cb_ctx;
    void (*on_progress)(void *ctx, const char *split, int done, int total, int skipped);
    void (*on_skip)(void *ctx, const char *split, int dialogue, int utterance, const char *reason);
} PrepareOptions;

typedef struct {
    int done[N_SPLITS], skipped[N_SPLITS], reused[N_SPLITS];
    int face_fallbacks;      /* frames that used a centre crop */
    int cascade_used;        /* a cascade file was loaded */
    long long cache_bytes;
    double seconds;
} PrepareResult;

PrepareOptions prepare_default_options(void);

/* The configuration string of these options (what the cache hash covers). */
int prepare_config(const PrepareOptions *o, char *buf, size_t cap);

/* 1 when CACHE/{train,dev,test}.meldcache all exist with this configuration. */
int prepare_is_fresh(const PrepareOptions *o);

int prepare_run(const Dataset *ds, const PrepareOptions *o, PrepareResult *res);

/* The features prepare computes for one clip (also used by `meld predict`). */
typedef struct {
    float *mel;              /* n_mel_frames x n_mels */
    int n_mel_frames;
    float *functional;       /* functionals_dim() */
    uint8_t *frames;         /* frames x size x size x 3 */
    int face_fallbacks;      /* frames that used a centre crop */
} ClipFeatures;

struct HaarCascade;
int  clip_features(const char *path, const PrepareOptions *o, const struct HaarCascade *cascade, ClipFeatures *f);
/* The same reading only the streams asked for (a model that hears only
 * needs a WAV, one that sees only a video); the features of a stream not
 * read are zeros (one mel frame). */
enum { CLIP_AUDIO = 1, CLIP_VIDEO = 2 };
int  clip_features_of(const char *path, const PrepareOptions *o, const struct HaarCascade *cascade, int streams,
                      ClipFeatures *f);
void clip_features_free(ClipFeatures *f);

#endif
