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
 *
 * Several processes (o->comm, an MPI job): every process lists the clips
 * that have no shard yet and takes a contiguous share of them balanced by
 * clip duration (prepare_share_rank), which it decodes with its own
 * threads; once every process has written its shards, rank 0 alone
 * assembles the cache. The shards are the same whoever computes them, so
 * the cache is byte-identical to one process's, and a run in which any
 * process was killed resumes from the shards like any other. CACHE must be
 * a folder every process sees (a shared file system): a shard rank 0
 * cannot find is an error, never a silently skipped clip.
 */
#ifndef MELD_PREPARE_H
#define MELD_PREPARE_H

#include <stdint.h>

#include "pipeline/data/dataset.h"
#include "pipeline/dist/comm.h"

typedef struct {
    const char *cache_dir;
    int frames;             /* K face frames per utterance (4) */
    int size;               /* S, frames are S x S (64) */
    int n_mels;             /* log-Mel bands (40) */
    const char *cascade;    /* Haar cascade XML; NULL: the default location; "" : none */
    const Comm *comm;       /* the processes sharing the work (NULL: this one alone) */
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

/* Collective over o->comm. Counts in res are the whole job's on rank 0,
 * the process's own elsewhere. */
int prepare_run(const Dataset *ds, const PrepareOptions *o, PrepareResult *res);

/* The process (0 .. size) that prepares the clip with cumulative cost
 * [before, before + cost) of a list costing total: the one whose slice
 * [r, r + 1) * total / size holds the clip's midpoint. Non-decreasing along
 * the list, so each process gets a contiguous run of clips, and their
 * costs differ by at most one clip's. */
int prepare_share_rank(long long before, long long cost, long long total, int size);
/* A clip's cost in the balance: its duration in ms plus 100 ms for opening
 * and seeking (a clip with no valid times costs that alone). */
long long prepare_clip_cost(const Utterance *u);

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
void clip_features_free(ClipFeatures *f);

#endif
