#include "pipeline/features/prepare.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audio/functionals.h"
#include "audio/spectral.h"
#include "pipeline/data/cache.h"
#include "pipeline/data/checksum.h"
#include "pipeline/data/folder_lock.h"
#include "pipeline/features/clip.h"
#include "pipeline/features/ffmpeg.h"
#include "tensor/atomic_file.h"
#include "tensor/error.h"
#include "tensor/threadpool.h"
#include "video/face.h"
#include "video/haar.h"

/* Clips per ffmpeg run: enough that the program's start-up (about one
 * clip's decode) costs a few percent; few enough that the groups spread
 * evenly over the threads. */
enum { BATCH_MAX = 16 };

/* ---- shard files -------------------------------------------------------------
 * One clip's result, little-endian (docs/CACHE.md):
 *   0  "MELDSHRD"   8  u32 version 2   12 u32 problem (ClipProblem; 0: features)
 *   16 u64 key: XXH64 of (config hash, clip size, mtime, name), what it was made from
 *   24 u32 n_mel_frames  28 u32 n_mels  32 u32 functional_dim  36 u32 frames_bytes
 *   40 u32 reason_len    44 u32 face_fallbacks
 *   48 u64 XXH64 of the payload
 *   56 payload: mel floats | functional floats | frame bytes | reason text */
enum { SHARD_HEAD = 56, SHARD_VERSION = 2 };

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* One CSV row: its clip, and where its result will come from. */
typedef enum {
    JOB_TODO,     /* to compute */
    JOB_FIXED,    /* known unusable from the plan alone (no clip file) */
    JOB_SHARD,    /* a valid shard is on disk */
    JOB_OLD,      /* the previous cache has it (features or the same skip) */
} JobState;

typedef struct {
    int split;
    const Utterance *u;
    int speaker;
    char name[256];            /* the clip's file name, "" when none */
    uint64_t size;
    int64_t mtime_ns;
    uint64_t key;
    JobState state;
    int problem;               /* JOB_FIXED: why */
    int old;                   /* JOB_OLD: source row in the previous cache */
    char shard[1200];
} Job;

struct PreparePlan {
    const Dataset *ds;
    PrepareOptions o;
    char config[512];
    uint64_t hash;
    Job *jobs;
    int n;
    int begin[N_SPLITS], end[N_SPLITS];
    Cache old[N_SPLITS];       /* previous caches (salvage mode), when of this configuration */
    int have_old[N_SPLITS];
    int tool;                  /* ffmpeg is installed */
    HaarCascade *cascade;
};

PrepareOptions prepare_default_options(void)
{
    PrepareOptions o = {0};
    o.frames = 4;
    o.size = 64;
    o.n_mels = 40;
    return o;
}

static const char *cascade_path(const PrepareOptions *o)
{
    if (o->cascade) return o->cascade[0] ? o->cascade : NULL;
    return haar_default_cascade_path();
}

static const char *ffmpeg_program(const PrepareOptions *o) { return o->ffmpeg ? o->ffmpeg : "ffmpeg"; }

int prepare_config(const PrepareOptions *o, char *buf, size_t cap)
{
    const char *cascade = cascade_path(o);
    const char *base = cascade ? strrchr(cascade, '/') : NULL;
    int n = snprintf(buf, cap,
                     "meld-cache v1 audio: sr=16000 n_fft=400 hop=160 hann-periodic center-reflect "
                     "log-mel n_mels=%d floor=1e-10; functionals dim=%d; video: frames=%d size=%d rgb "
                     "face=%s",
                     o->n_mels, functionals_dim(), o->frames, o->size, cascade ? (base ? base + 1 : cascade) : "none");
    return n > 0 && (size_t)n < cap ? MELD_OK : meld_errorf("prepare: configuration string too long");
}

int prepare_options_check(const PrepareOptions *o)
{
    if (o->frames < 1 || o->frames > CLIP_MAX_K) return meld_errorf("frames=%d is outside 1..%d", o->frames, CLIP_MAX_K);
    if (o->size < 16 || o->size > PREPARE_MAX_SIZE || o->size % 16)
        return meld_errorf("size=%d is not a multiple of 16 in 16..%d", o->size, PREPARE_MAX_SIZE);
    if (o->n_mels < 1 || o->n_mels > PREPARE_MAX_MELS)
        return meld_errorf("n_mels=%d is outside 1..%d", o->n_mels, PREPARE_MAX_MELS);
    return MELD_OK;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int make_dirs(const char *path)
{
    char buf[1200];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) && errno != EEXIST) return meld_errorf("%s: cannot create folder: %s", buf, strerror(errno));
            *p = '/';
        }
    if (mkdir(buf, 0777) && errno != EEXIST) return meld_errorf("%s: cannot create folder: %s", buf, strerror(errno));
    return MELD_OK;
}

static uint32_t frames_bytes(const PrepareOptions *o) { return (uint32_t)o->frames * o->size * o->size * 3; }

/* ---- what a row was built from ------------------------------------------------- */

/* The clip's name, size and mtime (an unreadable or missing clip: none). */
static void job_identity(Job *j, uint64_t config_hash)
{
    j->name[0] = '\0';
    j->size = 0;
    j->mtime_ns = 0;
    j->problem = CLIP_OK;
    struct stat st;
    if (!j->u->clip_path) {
        j->problem = j->u->bad_clips ? CLIP_UNREADABLE : CLIP_NO_FILE;
    } else if (stat(j->u->clip_path, &st) != 0 || !S_ISREG(st.st_mode)) {
        j->problem = CLIP_UNREADABLE;
    } else {
        const char *slash = strrchr(j->u->clip_path, '/');
        snprintf(j->name, sizeof j->name, "%s", slash ? slash + 1 : j->u->clip_path);
        j->size = (uint64_t)st.st_size;
        j->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    }
    uint8_t id[24 + sizeof j->name];
    put64(id, config_hash);
    put64(id + 8, j->size);
    put64(id + 16, (uint64_t)j->mtime_ns);
    size_t len = strlen(j->name);
    memcpy(id + 24, j->name, len);
    j->key = checksum_xxh64(id, 24 + len, 0);
}

static const char *fixed_reason(int problem)
{
    return problem == CLIP_NO_FILE ? "no clip file in the clip folder"
                                   : "clip unreadable (empty, not a regular file, or cannot be opened)";
}

/* The source row of (dialogue, utterance) in a cache, or -1. */
static int find_row(const Cache *c, int dialogue, int utterance)
{
    int lo = 0, hi = c->n_sources - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        const CacheSource *s = &c->sources[mid];
        if (s->dialogue_id == dialogue && s->utterance_id == utterance) return mid;
        if (s->dialogue_id < dialogue || (s->dialogue_id == dialogue && s->utterance_id < utterance)) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

static int same_clip(const CacheSource *s, const Job *j)
{
    return s->clip_size == j->size && s->clip_mtime_ns == j->mtime_ns && !strcmp(s->clip_name, j->name);
}

/* ---- shards ----------------------------------------------------------------- */

typedef struct {
    void *map;
    size_t size;
    int problem;
    uint32_t n_mel_frames, face_fallbacks;
    const float *mel, *functional;
    const uint8_t *frames;
    const char *reason;        /* not NUL-terminated: reason_len bytes */
    uint32_t reason_len;
} Shard;

static void shard_close(Shard *s)
{
    if (s->map) munmap(s->map, s->size);
    memset(s, 0, sizeof *s);
}

/* Maps a shard and checks it completely (key, sizes, checksum). 0 when it
 * is absent or unusable (then it is simply computed again). */
static int shard_open(const char *path, uint64_t key, const PrepareOptions *o, Shard *s)
{
    memset(s, 0, sizeof *s);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return 0;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < SHARD_HEAD) {
        close(fd);
        return 0;
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return 0;
    s->map = m;
    s->size = (size_t)st.st_size;
    const uint8_t *b = m;
    s->problem = (int)get32(b + 12);
    s->n_mel_frames = get32(b + 24);
    uint32_t mels = get32(b + 28), fdim = get32(b + 32), pix = get32(b + 36);
    s->reason_len = get32(b + 40);
    s->face_fallbacks = get32(b + 44);
    uint64_t feat = s->problem ? 0 : 4 * ((uint64_t)s->n_mel_frames * mels + fdim) + pix;
    int ok = !memcmp(b, "MELDSHRD", 8) && get32(b + 8) == SHARD_VERSION && get64(b + 16) == key &&
             s->problem >= 0 && s->problem < CLIP_N_PROBLEMS && SHARD_HEAD + feat + s->reason_len == (uint64_t)s->size &&
             (s->problem || (mels == (uint32_t)o->n_mels && fdim == (uint32_t)functionals_dim() && pix == frames_bytes(o))) &&
             checksum_xxh64(b + SHARD_HEAD, s->size - SHARD_HEAD, 0) == get64(b + 48);
    if (!ok) {
        shard_close(s);
        return 0;
    }
    s->mel = (const float *)(const void *)(b + SHARD_HEAD);
    s->functional = s->mel + (size_t)s->n_mel_frames * mels;
    s->frames = (const uint8_t *)(s->functional + fdim);
    s->reason = (const char *)b + SHARD_HEAD + feat;
    return 1;
}

/* Writes a shard: features (f != NULL) or a problem with its reason. */
static int shard_write(const Job *j, const PrepareOptions *o, const ClipFeatures *f, int problem, const char *reason)
{
    uint32_t mel = f ? 4u * (uint32_t)f->n_mel_frames * (uint32_t)o->n_mels : 0, fn = f ? 4u * (uint32_t)functionals_dim() : 0,
             pix = f ? frames_bytes(o) : 0, rlen = f ? 0 : (uint32_t)strlen(reason);
    size_t payload = (size_t)mel + fn + pix + rlen;
    uint8_t *buf = meld_malloc(SHARD_HEAD + payload, "shard");
    if (!buf) return MELD_ERR;
    uint8_t *p = buf + SHARD_HEAD;
    if (f) {
        memcpy(p, f->mel, mel);
        memcpy(p + mel, f->functional, fn);
        memcpy(p + mel + fn, f->frames, pix);
    } else {
        memcpy(p, reason, rlen);
    }
    memcpy(buf, "MELDSHRD", 8);
    put32(buf + 8, SHARD_VERSION);
    put32(buf + 12, (uint32_t)(f ? CLIP_OK : problem));
    put64(buf + 16, j->key);
    put32(buf + 24, f ? (uint32_t)f->n_mel_frames : 0);
    put32(buf + 28, f ? (uint32_t)o->n_mels : 0);
    put32(buf + 32, f ? (uint32_t)functionals_dim() : 0);
    put32(buf + 36, pix);
    put32(buf + 40, rlen);
    put32(buf + 44, f ? (uint32_t)f->face_fallbacks : 0);
    put64(buf + 48, checksum_xxh64(p, payload, 0));
    AtomicFile af;
    int rc = atomic_file_open(&af, j->shard);
    if (rc == MELD_OK && atomic_file_write(&af, buf, SHARD_HEAD + payload)) {
        atomic_file_abort(&af);
        rc = MELD_ERR;
    } else if (rc == MELD_OK) {
        rc = atomic_file_commit(&af);
    }
    free(buf);
    return rc;
}

/* ---- the plan ------------------------------------------------------------------- */

static void shard_path(Job *j, const char *cache_dir)
{
    snprintf(j->shard, sizeof j->shard, "%s/partial/%s/dia%d_utt%d.shard", cache_dir, split_name(j->split),
             j->u->dialogue_id, j->u->utterance_id);
}

/* Where row j's result will come from. */
static void plan_job(PreparePlan *p, Job *j)
{
    if (j->problem != CLIP_OK) {
        j->state = JOB_FIXED;
        return;
    }
    Shard s;
    if (shard_open(j->shard, j->key, &p->o, &s)) {
        int retry = s.problem == CLIP_NO_TOOL && p->tool;
        shard_close(&s);
        j->state = retry ? JOB_TODO : JOB_SHARD;
        return;
    }
    j->state = JOB_TODO;
    if (!p->have_old[j->split]) return;
    const Cache *c = &p->old[j->split];
    int r = find_row(c, j->u->dialogue_id, j->u->utterance_id);
    if (r < 0 || !same_clip(&c->sources[r], j)) return;
    const CacheSource *src = &c->sources[r];
    int usable = src->problem == CLIP_OK ? !c->entries[src->record].damaged : !(src->problem == CLIP_NO_TOOL && p->tool);
    if (usable) {
        j->state = JOB_OLD;
        j->old = r;
    }
}

static char *cache_file(char *buf, size_t cap, const char *dir, int split)
{
    snprintf(buf, cap, "%s/%s.meldcache", dir, split_name(split));
    return buf;
}

void prepare_plan_free(PreparePlan *p)
{
    if (!p) return;
    for (int s = 0; s < N_SPLITS; s++)
        if (p->have_old[s]) cache_close(&p->old[s]);
    haar_free(p->cascade);
    free(p->jobs);
    free(p);
}

/* Every row of every split, in split, dialogue, utterance order, with its
 * clip's identity (no shard or cache looked at). */
static int list_jobs(PreparePlan *p)
{
    size_t n = dataset_n_utterances(p->ds);
    p->jobs = meld_calloc(n ? n : 1, sizeof *p->jobs, "prepare plan");
    if (!p->jobs) return MELD_ERR;
    for (int s = 0; s < N_SPLITS; s++) {
        const Split *sp = &p->ds->split[s];
        if (!sp->present) return meld_errorf("prepare: the %s split is missing (no %s_sent_emo.csv)", split_name(s), split_name(s));
        int *speaker = meld_calloc(sp->n_utts ? sp->n_utts : 1, sizeof(int), "speakers");
        if (!speaker) return MELD_ERR;
        dataset_speaker_indices(sp, speaker);
        p->begin[s] = p->n;
        for (size_t i = 0; i < sp->n_utts; i++) {
            Job *j = &p->jobs[p->n++];
            j->split = s;
            j->u = &sp->utts[i];
            j->speaker = speaker[i];
            job_identity(j, p->hash);
            shard_path(j, p->o.cache_dir);
        }
        p->end[s] = p->n;
        free(speaker);
    }
    return MELD_OK;
}

static int plan_start(const Dataset *ds, const PrepareOptions *o, PreparePlan **out)
{
    *out = NULL;
    if (prepare_options_check(o)) return meld_error_context("prepare");
    PreparePlan *p = meld_calloc(1, sizeof *p, "prepare plan");
    if (!p) return MELD_ERR;
    p->ds = ds;
    p->o = *o;
    p->tool = ffmpeg_available(ffmpeg_program(o));
    if (prepare_config(o, p->config, sizeof p->config) || (p->hash = cache_hash(p->config), list_jobs(p))) {
        prepare_plan_free(p);
        return MELD_ERR;
    }
    *out = p;
    return MELD_OK;
}

int prepare_plan(const Dataset *ds, const PrepareOptions *o, PreparePlan **out)
{
    PreparePlan *p;
    if (plan_start(ds, o, &p)) return MELD_ERR;
    char path[1200];
    for (int s = 0; s < N_SPLITS; s++) {
        /* a previous cache of this configuration: what is intact is reused */
        if (cache_open_salvage(cache_file(path, sizeof path, o->cache_dir, s), &p->old[s]) == MELD_OK) {
            p->have_old[s] = p->old[s].hash == p->hash;
            if (!p->have_old[s]) cache_close(&p->old[s]);
        }
        meld_error_clear();
    }
    for (int i = 0; i < p->n; i++) plan_job(p, &p->jobs[i]);
    const char *cpath = cascade_path(o);
    if (cpath && !(p->cascade = haar_load(cpath))) {
        meld_error_context("prepare: face cascade");
        prepare_plan_free(p);
        return MELD_ERR;
    }
    *out = p;
    return MELD_OK;
}

int prepare_todo(const PreparePlan *p, int **jobs, int *n)
{
    return prepare_share(p, 0, 1, jobs, n);
}

/* A job with its clip's size, for sorting: largest first, ties by index
 * (deterministic). */
typedef struct {
    uint64_t size;
    int job;
} SizedJob;

static int by_size_desc(const void *a, const void *b)
{
    const SizedJob *x = a, *y = b;
    if (x->size != y->size) return x->size > y->size ? -1 : 1;
    return (x->job > y->job) - (x->job < y->job);
}

/* jobs[0..n) in place, largest clip first. */
static int sort_by_size(const PreparePlan *p, int *jobs, int n)
{
    SizedJob *s = meld_malloc(sizeof *s * (size_t)(n ? n : 1), "prepare jobs");
    if (!s) return MELD_ERR;
    for (int i = 0; i < n; i++) s[i] = (SizedJob){p->jobs[jobs[i]].size, jobs[i]};
    qsort(s, (size_t)n, sizeof *s, by_size_desc);
    for (int i = 0; i < n; i++) jobs[i] = s[i].job;
    free(s);
    return MELD_OK;
}

/* Longest processing time first: each job, largest first, to the part with
 * the least total so far (ties: the lowest part). part[i] for sorted[i]. */
static int balance(const PreparePlan *p, const int *sorted, int n, int parts, int *part)
{
    uint64_t *load = meld_calloc((size_t)parts, sizeof *load, "prepare shares");
    if (!load) return MELD_ERR;
    for (int i = 0; i < n; i++) {
        int best = 0;
        for (int k = 1; k < parts; k++)
            if (load[k] < load[best]) best = k;
        part[i] = best;
        load[best] += p->jobs[sorted[i]].size + 1;
    }
    free(load);
    return MELD_OK;
}

static int sorted_todo(const PreparePlan *p, int **out, int *n)
{
    *out = meld_malloc(sizeof(int) * (size_t)(p->n ? p->n : 1), "prepare jobs");
    if (!*out) return MELD_ERR;
    *n = 0;
    for (int i = 0; i < p->n; i++)
        if (p->jobs[i].state == JOB_TODO) (*out)[(*n)++] = i;
    if (sort_by_size(p, *out, *n) == MELD_OK) return MELD_OK;
    free(*out);
    *out = NULL;
    return MELD_ERR;
}

int prepare_share(const PreparePlan *p, int rank, int n_ranks, int **jobs, int *n)
{
    *jobs = NULL;
    *n = 0;
    if (n_ranks < 1 || rank < 0 || rank >= n_ranks) return meld_errorf("prepare: rank %d of %d ranks", rank, n_ranks);
    int *todo, m;
    if (sorted_todo(p, &todo, &m)) return MELD_ERR;
    int *part = meld_malloc(sizeof(int) * (size_t)(m ? m : 1), "prepare shares");
    if (!part || balance(p, todo, m, n_ranks, part)) {
        free(part);
        free(todo);
        return MELD_ERR;
    }
    for (int i = 0; i < m; i++)
        if (part[i] == rank) todo[(*n)++] = todo[i];
    free(part);
    *jobs = todo;
    return MELD_OK;
}

/* ---- computing features ---------------------------------------------------------- */

void clip_features_free(ClipFeatures *f)
{
    free(f->mel);
    free(f->functional);
    free(f->frames);
    memset(f, 0, sizeof *f);
}

/* The features of a loaded clip, of the streams asked (CLIP_AUDIO,
 * CLIP_VIDEO; those not read are zeros, one mel frame). On failure
 * *problem says what kind. */
static int features_of(const Clip *clip, const char *path, const PrepareOptions *o, const HaarCascade *cascade,
                       int streams, ClipFeatures *f, int *problem)
{
    memset(f, 0, sizeof *f);
    bool audio = streams & CLIP_AUDIO, video = streams & CLIP_VIDEO;
    *problem = CLIP_DAMAGED;
    if (audio && clip->audio.n_samples < 400) {
        *problem = CLIP_ZERO_LENGTH;
        return meld_errorf("%s: audio shorter than one 25 ms frame", path);
    }
    if (video && clip->n_frames < o->frames) {
        *problem = CLIP_NO_VIDEO;
        return meld_errorf("%s: no video frames", path);
    }
    size_t frame_bytes = (size_t)o->size * o->size * 3, n_mel = 1;
    Image *crops = meld_calloc((size_t)o->frames, sizeof *crops, "crops");
    f->functional = meld_calloc((size_t)functionals_dim(), sizeof(float), "functionals");
    f->frames = meld_calloc((size_t)o->frames, frame_bytes, "frames");
    if (!audio) f->mel = meld_calloc((size_t)o->n_mels, sizeof(float), "mel");
    int rc = crops && f->functional && f->frames && (audio || f->mel) ? MELD_OK : MELD_ERR;
    if (rc == MELD_OK && audio)
        rc = audio_log_mel_16k(clip->audio.samples, clip->audio.n_samples, o->n_mels, &f->mel, &n_mel);
    if (rc == MELD_OK && audio) rc = audio_functionals(clip->audio.samples, clip->audio.n_samples, f->functional);
    if (rc == MELD_OK && video) {
        FaceCropOptions fo = face_crop_default_options();
        fo.size = o->size;
        fo.channels = 3;
        f->face_fallbacks = clip_face_crops(clip, cascade, &fo, crops, NULL);
        rc = f->face_fallbacks >= 0 ? MELD_OK : MELD_ERR;
    }
    for (int k = 0; rc == MELD_OK && video && k < o->frames; k++)
        memcpy(f->frames + (size_t)k * frame_bytes, crops[k].pixels, frame_bytes);
    for (int k = 0; crops && k < o->frames; k++) image_free(&crops[k]);
    free(crops);
    f->n_mel_frames = (int)n_mel;
    if (rc != MELD_OK) {
        if (!strstr(meld_error(), path)) meld_error_context("%s", path);
        clip_features_free(f);
    }
    return rc;
}

static ClipOptions clip_options(const PrepareOptions *o)
{
    ClipOptions co = clip_default_options();
    co.k = o->frames;
    co.ffmpeg = ffmpeg_program(o);
    return co;
}

int clip_features(const char *path, const PrepareOptions *o, const HaarCascade *cascade, ClipFeatures *f)
{
    return clip_features_of(path, o, cascade, CLIP_AUDIO | CLIP_VIDEO, f);
}

int clip_features_of(const char *path, const PrepareOptions *o, const HaarCascade *cascade, int streams,
                     ClipFeatures *f)
{
    memset(f, 0, sizeof *f);
    if (prepare_options_check(o)) return meld_error_context("%s: feature configuration", path);
    ClipOptions co = clip_options(o);
    co.k = streams & CLIP_VIDEO ? o->frames : 0;
    co.want_audio = (streams & CLIP_AUDIO) != 0;
    Clip clip;
    if (clip_load(path, &co, &clip) != MELD_OK) return MELD_ERR;
    int problem, rc = features_of(&clip, path, o, cascade, streams, f, &problem);
    clip_free(&clip);
    return rc;
}

typedef struct {
    PreparePlan *p;
    const int *members;        /* plan job indices, batch after batch */
    const int *first;          /* batch b is members[first[b] .. first[b + 1]) */
    int n;
    atomic_int done, computed, twice, fallbacks, fatal;
    char fatal_msg[600];
} Work;

typedef struct {
    Work *w;
    const int *members;        /* plan job indices of this batch */
} Batch;

/* A clip of the batch, loaded (c) or not: its shard. */
static int visit_clip(void *ctx, int i, Clip *c, ClipProblem problem, const char *message)
{
    Batch *b = ctx;
    Work *w = b->w;
    const Job *j = &w->p->jobs[b->members[i]];
    int rc;
    if (!c) {
        rc = shard_write(j, &w->p->o, NULL, problem, message);
    } else {
        ClipFeatures f;
        int why;
        if (features_of(c, j->u->clip_path, &w->p->o, w->p->cascade, CLIP_AUDIO | CLIP_VIDEO, &f, &why) != MELD_OK) {
            rc = shard_write(j, &w->p->o, NULL, why, meld_error());
        } else {
            rc = shard_write(j, &w->p->o, &f, CLIP_OK, "");
            atomic_fetch_add(&w->fallbacks, f.face_fallbacks);
            clip_features_free(&f);
        }
        atomic_fetch_add(&w->computed, 1);
        atomic_fetch_add(&w->twice, c->decodes > 1);
    }
    atomic_fetch_add(&w->done, 1);
    return rc;
}

static void batch_task(void *ctx, int batch, int thread)
{
    Work *w = ctx;
    if (w->fatal) return;
    int m = w->first[batch + 1] - w->first[batch];
    const int *members = w->members + w->first[batch];
    const char **paths = meld_malloc(sizeof *paths * (size_t)m, "clip list");
    int rc = paths ? MELD_OK : MELD_ERR;
    for (int i = 0; rc == MELD_OK && i < m; i++) paths[i] = w->p->jobs[members[i]].u->clip_path;
    ClipOptions co = clip_options(&w->p->o);
    co.decoder_threads = 1;   /* the batches are the parallelism */
    Batch b = {w, members};
    if (rc == MELD_OK) rc = clip_load_many(paths, m, &co, visit_clip, &b);
    free(paths);
    if (rc != MELD_OK && atomic_exchange(&w->fatal, 1) == 0) snprintf(w->fatal_msg, sizeof w->fatal_msg, "%s", meld_error());
    const PrepareOptions *o = &w->p->o;
    if (thread == 0 && o->on_progress) o->on_progress(o->cb_ctx, w->done, w->n);
}

/* Groups of about BATCH_MAX clips, a multiple of the thread count,
 * balanced by clip size like the ranks' shares, as members[] + first[]. */
static int make_batches(const PreparePlan *p, const int *jobs, int n, int **members, int **first, int *n_batches)
{
    int threads = threadpool_threads(), b = (n + BATCH_MAX - 1) / BATCH_MAX;
    b = (b + threads - 1) / threads * threads;
    if (b > n) b = n;
    int *sorted = meld_malloc(sizeof(int) * (size_t)n, "prepare batches");
    int *part = meld_malloc(sizeof(int) * (size_t)n, "prepare batches");
    *members = meld_malloc(sizeof(int) * (size_t)n, "prepare batches");
    *first = meld_calloc((size_t)b + 1, sizeof(int), "prepare batches");
    int rc = sorted && part && *members && *first ? MELD_OK : MELD_ERR;
    if (rc == MELD_OK) {
        memcpy(sorted, jobs, sizeof(int) * (size_t)n);
        rc = sort_by_size(p, sorted, n);
        if (rc == MELD_OK) rc = balance(p, sorted, n, b, part);
    }
    if (rc == MELD_OK) {   /* counting sort by batch, stable */
        for (int i = 0; i < n; i++) (*first)[part[i] + 1]++;
        for (int k = 0; k < b; k++) (*first)[k + 1] += (*first)[k];
        int *at = part;    /* reused: part[i] becomes the slot of sorted[i] */
        int *fill = meld_calloc((size_t)b, sizeof(int), "prepare batches");
        rc = fill ? MELD_OK : MELD_ERR;
        for (int i = 0; rc == MELD_OK && i < n; i++) {
            int k = at[i];
            (*members)[(*first)[k] + fill[k]++] = sorted[i];
        }
        free(fill);
    }
    free(sorted);
    free(part);
    *n_batches = b;
    return rc;
}

int prepare_work(PreparePlan *p, const int *jobs, int n, PrepareResult *res)
{
    if (n == 0) return MELD_OK;
    for (int s = 0; s < N_SPLITS; s++) {
        char dir[1200];
        snprintf(dir, sizeof dir, "%s/partial/%s", p->o.cache_dir, split_name(s));
        if (make_dirs(dir)) return MELD_ERR;
    }
    int *members = NULL, *first = NULL, n_batches = 0;
    if (make_batches(p, jobs, n, &members, &first, &n_batches)) {
        free(members);
        free(first);
        return MELD_ERR;
    }
    Work w = {.p = p, .members = members, .first = first, .n = n};
    if (p->o.on_progress) p->o.on_progress(p->o.cb_ctx, 0, n);
    threadpool_parallel_for(n_batches, batch_task, &w);
    free(members);
    free(first);
    res->computed += w.computed;
    res->decoded_twice += w.twice;
    res->face_fallbacks += w.fallbacks;
    if (p->o.on_progress) p->o.on_progress(p->o.cb_ctx, w.done, n);
    return w.fatal ? meld_errorf("%s", w.fatal_msg) : MELD_OK;
}

/* ---- assembling ---------------------------------------------------------------- */

/* Everything one split's cache is written from. */
typedef struct {
    CacheSource *rows;
    CacheItem *items;
    Shard *shards;             /* kept mapped until the cache is written */
    char (*reasons)[600];      /* the shards' reasons, NUL-terminated */
    int n_rows, n_items;
} SplitParts;

static void parts_free(SplitParts *sp, int n)
{
    for (int i = 0; sp->shards && i < n; i++) shard_close(&sp->shards[i]);
    free(sp->rows);
    free(sp->items);
    free(sp->shards);
    free(sp->reasons);
    memset(sp, 0, sizeof *sp);
}

static CacheItem labelled_item(const Job *j)
{
    return (CacheItem){.dialogue_id = j->u->dialogue_id, .utterance_id = j->u->utterance_id, .emotion = j->u->emotion,
                       .sentiment = j->u->sentiment, .speaker = j->speaker};
}

/* Row i of the split: from the plan, its shard, or the previous cache. */
static int gather_row(PreparePlan *p, const Job *j, SplitParts *sp, int i, PrepareResult *res)
{
    CacheSource *row = &sp->rows[i];
    *row = (CacheSource){.dialogue_id = j->u->dialogue_id, .utterance_id = j->u->utterance_id, .clip_size = j->size,
                         .clip_mtime_ns = j->mtime_ns, .clip_name = j->name, .reason = ""};
    CacheItem it = labelled_item(j);
    if (j->state == JOB_FIXED) {
        row->problem = j->problem;
        row->reason = fixed_reason(j->problem);
        return MELD_OK;
    }
    if (j->state == JOB_OLD) {
        const Cache *c = &p->old[j->split];
        const CacheSource *src = &c->sources[j->old];
        res->reused++;
        row->problem = src->problem;
        row->reason = src->reason;
        if (src->problem) return MELD_OK;
        it.n_mel_frames = c->entries[src->record].n_mel_frames;
        it.mel = cache_mel(c, src->record);
        it.functional = cache_functional(c, src->record);
        it.frames = cache_frames(c, src->record);
        sp->items[sp->n_items++] = it;
        return MELD_OK;
    }
    Shard *s = &sp->shards[i];
    if (!shard_open(j->shard, j->key, &p->o, s))
        return meld_errorf("prepare: %s dia%d_utt%d has no valid shard (a share of the work was not done)",
                           split_name(j->split), j->u->dialogue_id, j->u->utterance_id);
    if (j->state == JOB_SHARD) res->reused++;
    row->problem = s->problem;
    if (s->problem) {
        size_t len = s->reason_len < sizeof sp->reasons[i] - 1 ? s->reason_len : sizeof sp->reasons[i] - 1;
        memcpy(sp->reasons[i], s->reason, len);
        sp->reasons[i][len] = '\0';
        row->reason = sp->reasons[i];
        return MELD_OK;
    }
    it.n_mel_frames = (int)s->n_mel_frames;
    it.mel = s->mel;
    it.functional = s->functional;
    it.frames = s->frames;
    sp->items[sp->n_items++] = it;
    return MELD_OK;
}

static void remove_shards(const PreparePlan *p, int split)
{
    for (int i = p->begin[split]; i < p->end[split]; i++) unlink(p->jobs[i].shard);
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/partial/%s", p->o.cache_dir, split_name(split));
    rmdir(dir);
}

static int assemble_split(PreparePlan *p, int split, PrepareResult *res)
{
    int n = p->end[split] - p->begin[split];
    SplitParts sp = {0};
    size_t m = (size_t)(n ? n : 1);
    sp.rows = meld_calloc(m, sizeof *sp.rows, "cache rows");
    sp.items = meld_calloc(m, sizeof *sp.items, "cache items");
    sp.shards = meld_calloc(m, sizeof *sp.shards, "shards");
    sp.reasons = meld_calloc(m, sizeof *sp.reasons, "skip reasons");
    int rc = sp.rows && sp.items && sp.shards && sp.reasons ? MELD_OK : MELD_ERR;
    for (int i = 0; rc == MELD_OK && i < n; i++) rc = gather_row(p, &p->jobs[p->begin[split] + i], &sp, i, res);
    char path[1200];
    if (rc == MELD_OK) {
        CacheConfig cfg = {.n_mels = p->o.n_mels, .functional_dim = functionals_dim(), .n_frames = p->o.frames,
                           .frame_size = p->o.size, .frame_channels = 3};
        snprintf(cfg.config, sizeof cfg.config, "%s", p->config);
        CacheProvenance src = {.csv_hash = p->ds->split[split].csv.source_hash, .rows = sp.rows, .n_rows = n};
        rc = cache_write(cache_file(path, sizeof path, p->o.cache_dir, split), &cfg, &src, sp.items, sp.n_items);
    }
    if (rc == MELD_OK) {
        res->done[split] = sp.n_items;
        res->skipped[split] = n - sp.n_items;
        struct stat st;
        if (stat(path, &st) == 0) res->cache_bytes += st.st_size;
    }
    parts_free(&sp, n);
    if (rc == MELD_OK) remove_shards(p, split);
    return rc;
}

int prepare_assemble(PreparePlan *p, PrepareResult *res)
{
    for (int s = 0; s < N_SPLITS; s++)
        if (assemble_split(p, s, res)) return MELD_ERR;
    char partial[1200];
    snprintf(partial, sizeof partial, "%s/partial", p->o.cache_dir);
    rmdir(partial);
    return MELD_OK;
}

/* ---- up to date? ----------------------------------------------------------------- */

static void set_why(PrepareStatus *st, const char *fmt, ...) MELD_PRINTF(2, 3);
static void set_why(PrepareStatus *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->why, sizeof st->why, fmt, ap);
    va_end(ap);
}

static int split_status(const PreparePlan *p, int s, PrepareStatus *st)
{
    char path[1200];
    Cache c;
    int stale = 0;
    cache_file(path, sizeof path, p->o.cache_dir, s);
    if (access(path, F_OK) != 0) {
        set_why(st, "%s does not exist yet", path);
        return 0;
    }
    st->caches_found++;
    if (cache_open(path, p->hash, &c, &stale) != MELD_OK) {
        set_why(st, "%s", meld_error());
        return 0;
    }
    int fresh = 1;
    if (c.csv_hash != p->ds->split[s].csv.source_hash) {
        set_why(st, "%s was built from another %s CSV (%s changed or is another corpus's)", path,
                 split_name(s), p->ds->split[s].csv_path);
        fresh = 0;
    } else {
        st->same_corpus++;
    }
    int n = p->end[s] - p->begin[s], missing_tool = 0;
    if (fresh && c.n_sources != n) {
        set_why(st, "%s lists %d rows, the CSV %d", path, c.n_sources, n);
        fresh = 0;
    }
    for (int i = 0; fresh && i < n; i++) {
        const Job *j = &p->jobs[p->begin[s] + i];
        const CacheSource *r = &c.sources[i];
        if (r->dialogue_id != j->u->dialogue_id || r->utterance_id != j->u->utterance_id || !same_clip(r, j) ||
            (r->problem == CLIP_NO_FILE || r->problem == CLIP_UNREADABLE) != (j->problem != CLIP_OK)) {
            set_why(st, "%s: the clip of %s dia%d_utt%d changed since the cache was built", path,
                     split_name(s), j->u->dialogue_id, j->u->utterance_id);
            fresh = 0;
        }
        missing_tool += r->problem == CLIP_NO_TOOL;
    }
    if (fresh && missing_tool && p->tool) {
        set_why(st, "%s: %d clips were skipped because %s was missing; it is installed now", path,
                 missing_tool, ffmpeg_program(&p->o));
        fresh = 0;
    }
    cache_close(&c);
    return fresh;
}

int prepare_status(const Dataset *ds, const PrepareOptions *o, PrepareStatus *st)
{
    memset(st, 0, sizeof *st);
    PreparePlan *p;
    if (plan_start(ds, o, &p)) return MELD_ERR;
    st->fresh = 1;
    for (int s = 0; s < N_SPLITS; s++) {
        char why[sizeof st->why];
        snprintf(why, sizeof why, "%s", st->why);
        int fresh = split_status(p, s, st);
        if (!st->fresh) snprintf(st->why, sizeof st->why, "%s", why);   /* keep the first reason */
        st->fresh = st->fresh && fresh;
    }
    meld_error_clear();
    prepare_plan_free(p);
    return MELD_OK;
}

/* ---- the whole run ---------------------------------------------------------------- */

/* Rank 0 locks the folder and says whether the caches are fresh. */
static int lead_status(const Dataset *ds, const PrepareOptions *o, FolderLock *lock, int *fresh)
{
    PrepareStatus st;
    if (make_dirs(o->cache_dir) || folder_lock(lock, o->cache_dir, 1, o->on_wait, o->cb_ctx)) return MELD_ERR;
    atomic_file_sweep_folder(o->cache_dir);   /* temporary files of runs that died */
    if (prepare_status(ds, o, &st)) return MELD_ERR;
    *fresh = st.fresh;
    return MELD_OK;
}

/* Plans, computes this process's share, and (rank 0) assembles. Every
 * process plans before any writes a shard, and none goes on before rank 0
 * has written the caches. */
static int run_plan(const Dataset *ds, const PrepareOptions *o, const Comm *c, PrepareResult *res)
{
    PreparePlan *p = NULL;
    int *todo = NULL, n = 0;
    int rc = prepare_plan(ds, o, &p);
    if (rc == MELD_OK) rc = comm_barrier(c);
    if (rc == MELD_OK) {
        res->cascade_used = p->cascade != NULL;
        rc = c->size > 1 ? prepare_share(p, c->rank, c->size, &todo, &n) : prepare_todo(p, &todo, &n);
    }
    if (rc == MELD_OK) rc = prepare_work(p, todo, n, res);
    int counts[3] = {res->computed, res->decoded_twice, res->face_fallbacks};   /* the job's */
    if (rc == MELD_OK && c->size > 1 && (rc = comm_sum(c, counts, 3, COMM_I32)) == MELD_OK)
        res->computed = counts[0], res->decoded_twice = counts[1], res->face_fallbacks = counts[2];
    if (rc == MELD_OK) rc = comm_barrier(c);
    if (rc == MELD_OK && c->rank == 0) rc = prepare_assemble(p, res);
    if (rc == MELD_OK) rc = comm_barrier(c);
    free(todo);
    prepare_plan_free(p);
    return rc;
}

int prepare_run(const Dataset *ds, const PrepareOptions *o, PrepareResult *res)
{
    static const Comm ALONE = {.rank = 0, .size = 1, .impl = NULL};
    const Comm *c = o->comm ? o->comm : &ALONE;
    memset(res, 0, sizeof *res);
    double t0 = now();
    if (prepare_options_check(o)) return meld_error_context("prepare");
    FolderLock lock = {.fd = -1};
    int fresh = 0, rc = c->rank == 0 ? lead_status(ds, o, &lock, &fresh) : MELD_OK;
    /* (a rank 0 that failed ends the job: the others wait here) */
    if (rc == MELD_OK) rc = comm_broadcast(c, &fresh, sizeof fresh, 0);
    if (rc == MELD_OK && fresh) res->up_to_date = 1;
    else if (rc == MELD_OK) rc = run_plan(ds, o, c, res);
    folder_unlock(&lock);
    res->seconds = now() - t0;
    return rc;
}

int prepare_list_skips(const char *cache_dir, PrepareSkipFn fn, void *ctx)
{
    for (int s = 0; s < N_SPLITS; s++) {
        char path[1200];
        Cache c;
        if (cache_open(cache_file(path, sizeof path, cache_dir, s), 0, &c, NULL)) return MELD_ERR;
        for (int r = 0; r < c.n_sources; r++) {
            const CacheSource *src = &c.sources[r];
            if (src->problem)
                fn(ctx, split_name(s), src->dialogue_id, src->utterance_id, src->clip_name, src->problem, src->reason);
        }
        cache_close(&c);
    }
    return MELD_OK;
}
