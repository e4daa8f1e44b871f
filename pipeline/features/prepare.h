/* `meld prepare`: turn a corpus (real MELD or the synthetic one) into the
 * feature caches every model trains from (format: docs/CACHE.md,
 * pipeline/data/cache.h).
 *
 * Three steps, kept apart so that several processes (MPI ranks, say) can
 * share the middle one:
 *   1. plan (prepare_plan): every CSV row of every split, its clip's name,
 *      size and mtime, and what is already done: a shard left by an
 *      interrupted run, or the same clip's features in the previous cache
 *      (a relabelled CSV or one changed clip recomputes nothing else);
 *   2. work (prepare_work, on any share of the clips still to do, e.g.
 *      prepare_share's): clips decoded in groups, one ffmpeg run per group
 *      (pipeline/features/decode.h), groups spread over the thread pool;
 *      for each clip the log-Mel frames (audio/spectral.h), the functional
 *      vector (audio/functionals.h) and K face crops (video/face.h) go into
 *      one "shard" file (atomically) under CACHE/partial/SPLIT/; a clip that
 *      cannot be used gets a shard holding its ClipProblem and reason;
 *   3. assemble (prepare_assemble, one writer): each split's cache written,
 *      verified and renamed into place (pipeline/data/cache.h), with the
 *      source table saying what every row was built from and why a clip
 *      was skipped; then the shards are deleted.
 * prepare_run does all three under the folder's exclusive lock
 * (pipeline/data/folder_lock.h), after checking the caches are not already
 * up to date.
 *
 * Resuming: an interrupted prepare (Ctrl-C, kill -9) leaves only complete
 * shards and, at worst, a temporary file; the next run reuses the shards
 * and computes the rest. Shards and caches hold nothing that depends on the
 * thread count, the grouping or the time, so the caches are byte-identical
 * however the run was split or interrupted.
 *
 * Up to date (prepare_status): every split's cache opens and verifies
 * (checksums included), was built with this feature configuration, from
 * this CSV (its XXH64), with these clips (names, sizes, mtimes), and skipped
 * no clip for want of a program that is installed now (ffmpeg).
 *
 * Several processes (o->comm, an MPI job): rank 0 holds the folder lock
 * and decides whether there is work; every process plans (before any
 * shard is written), takes its share of the clips to do (prepare_share:
 * balanced by clip size, which for MELD's constant-bitrate clips is
 * duration, and unlike the CSV's timestamps never wrong) and decodes it
 * with its own threads; rank 0 alone assembles the caches from the shards.
 * Shards are the same whoever computes them, so the caches are
 * byte-identical to one process's, and a job in which any process died
 * resumes from the shards like any other run. The cache folder must be one
 * every process sees (a shared file system): a shard rank 0 cannot find is
 * an error, never a silently skipped clip.
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
    const char *ffmpeg;     /* the ffmpeg program (NULL: "ffmpeg" on PATH) */
    const Comm *comm;       /* the processes sharing the work (NULL: this one alone) */
    /* Called from the calling thread (may be NULL). */
    void *cb_ctx;
    void (*on_progress)(void *ctx, int done, int total);
    void (*on_wait)(void *ctx, const char *message);   /* the cache folder is locked: waiting */
} PrepareOptions;

typedef struct {
    int done[N_SPLITS];      /* utterances with features in the cache */
    int skipped[N_SPLITS];   /* rows without (their clip's problem in the source table) */
    int computed;            /* clips whose features this run computed */
    int decoded_twice;       /* of those, clips whose container miscounted their frames */
    int reused;              /* rows taken from shards or the previous cache */
    int face_fallbacks;      /* frames of computed clips that used a centre crop */
    int cascade_used;        /* a cascade file was loaded */
    int up_to_date;          /* nothing to do: the caches were fresh */
    long long cache_bytes;
    double seconds;
} PrepareResult;

/* The ranges prepare accepts (frames: 1..CLIP_MAX_K, pipeline/features/clip.h). */
#define PREPARE_MAX_SIZE 1024
#define PREPARE_MAX_MELS 256

PrepareOptions prepare_default_options(void);
/* Checks frames, size (a multiple of 16) and n_mels against those ranges:
 * a cache configuration read from a checkpoint is input like any other. */
int prepare_options_check(const PrepareOptions *o);

/* The configuration string of these options (what the cache hash covers). */
int prepare_config(const PrepareOptions *o, char *buf, size_t cap);

typedef struct {
    int fresh;               /* every split's cache is up to date */
    int caches_found;        /* split cache files that exist */
    int same_corpus;         /* caches built from one of these very CSVs */
    char why[600];           /* the first reason it is not fresh */
} PrepareStatus;

/* Is the cache up to date for ds (see above)? MELD_ERR only when it cannot
 * be told (out of memory). */
int prepare_status(const Dataset *ds, const PrepareOptions *o, PrepareStatus *st);

/* Locks the cache folder, and unless it is up to date plans, works and
 * assembles. Collective over o->comm; the counts in res are the whole
 * job's on rank 0. */
int prepare_run(const Dataset *ds, const PrepareOptions *o, PrepareResult *res);

/* ---- the steps, for callers that split the work ----------------------- */
typedef struct PreparePlan PreparePlan;

int prepare_plan(const Dataset *ds, const PrepareOptions *o, PreparePlan **out);
/* The clips still to do (indices into the plan), all of them. */
int prepare_todo(const PreparePlan *p, int **jobs, int *n);
/* Rank `rank` of n_ranks's share of the clips to do: a deterministic
 * partition balanced by clip size (largest first to the least loaded
 * share), the same on every rank. */
int prepare_share(const PreparePlan *p, int rank, int n_ranks, int **jobs, int *n);
/* Computes the shards of the given jobs (the thread pool's threads). */
int prepare_work(PreparePlan *p, const int *jobs, int n, PrepareResult *res);
/* One writer: every split's cache from the shards and the previous cache. */
int prepare_assemble(PreparePlan *p, PrepareResult *res);
void prepare_plan_free(PreparePlan *p);

/* Every row of the caches in cache_dir whose clip was skipped. */
typedef void (*PrepareSkipFn)(void *ctx, const char *split, int dialogue, int utterance, const char *clip_name,
                              int problem, const char *reason);
int prepare_list_skips(const char *cache_dir, PrepareSkipFn fn, void *ctx);

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
