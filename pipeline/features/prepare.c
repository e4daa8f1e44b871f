#include "pipeline/features/prepare.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "audio/functionals.h"
#include "audio/spectral.h"
#include "pipeline/data/cache.h"
#include "pipeline/features/clip.h"
#include "tensor/atomic_file.h"
#include "tensor/error.h"
#include "tensor/threadpool.h"
#include "video/face.h"
#include "video/haar.h"

/* ---- shard files -----------------------------------------------------------
 * A feature shard, little-endian:
 *   "MELDSHRD" | u64 config hash | i32 dialogue, utterance, emotion,
 *   sentiment, speaker | u32 n_mel_frames, n_mels, functional_dim,
 *   frames_bytes | mel floats | functional floats | frame bytes
 * A skip shard: "MELDSKIP" | u64 config hash | reason text. */
enum { SHARD_HEAD = 8 + 8 + 5 * 4 + 4 * 4 };

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

typedef struct {
    const Split *split;
    const Utterance *u;
    int speaker;
    char shard[1200], skip[1200];
} Job;

typedef struct {
    const PrepareOptions *o;
    uint64_t hash;
    const HaarCascade *cascade;
    Job *jobs;
    atomic_int fatal;          /* a write failed: stop */
    char fatal_msg[512];
    int fallbacks[64];         /* per thread */
} Work;

static int write_skip(const Work *w, const Job *j, const char *reason)
{
    AtomicFile f;
    uint8_t head[16];
    memcpy(head, "MELDSKIP", 8);
    put64(head + 8, w->hash);
    if (atomic_file_open(&f, j->skip)) return MELD_ERR;
    if (atomic_file_write(&f, head, 16) || atomic_file_write(&f, reason, strlen(reason))) {
        atomic_file_abort(&f);
        return MELD_ERR;
    }
    return atomic_file_commit(&f);
}

static int write_shard(const Work *w, const Job *j, const float *mel, int frames, const float *fn,
                       const uint8_t *pix, size_t pix_bytes)
{
    uint8_t head[SHARD_HEAD];
    memcpy(head, "MELDSHRD", 8);
    put64(head + 8, w->hash);
    int32_t ids[5] = {j->u->dialogue_id, j->u->utterance_id, j->u->emotion, j->u->sentiment, j->speaker};
    for (int i = 0; i < 5; i++) put32(head + 16 + 4 * i, (uint32_t)ids[i]);
    put32(head + 36, (uint32_t)frames);
    put32(head + 40, (uint32_t)w->o->n_mels);
    put32(head + 44, (uint32_t)functionals_dim());
    put32(head + 48, (uint32_t)pix_bytes);
    AtomicFile f;
    if (atomic_file_open(&f, j->shard)) return MELD_ERR;
    if (atomic_file_write(&f, head, sizeof head) ||
        atomic_file_write(&f, mel, sizeof(float) * (size_t)frames * (size_t)w->o->n_mels) ||
        atomic_file_write(&f, fn, sizeof(float) * (size_t)functionals_dim()) || atomic_file_write(&f, pix, pix_bytes)) {
        atomic_file_abort(&f);
        return MELD_ERR;
    }
    return atomic_file_commit(&f);
}

void clip_features_free(ClipFeatures *f)
{
    free(f->mel);
    free(f->functional);
    free(f->frames);
    memset(f, 0, sizeof *f);
}

int clip_features(const char *path, const PrepareOptions *o, const HaarCascade *cascade, ClipFeatures *f)
{
    return clip_features_of(path, o, cascade, CLIP_AUDIO | CLIP_VIDEO, f);
}

int clip_features_of(const char *path, const PrepareOptions *o, const HaarCascade *cascade, int streams,
                     ClipFeatures *f)
{
    memset(f, 0, sizeof *f);
    bool audio = streams & CLIP_AUDIO, video = streams & CLIP_VIDEO;
    ClipOptions co = clip_default_options();
    co.k = video ? o->frames : 0;
    co.want_audio = audio;
    Clip clip;
    memset(&clip, 0, sizeof clip);
    if (clip_load(path, &co, &clip) != MELD_OK) return MELD_ERR;
    int rc = MELD_OK;
    size_t frames = 1, frame_bytes = (size_t)o->size * o->size * 3;
    Image *crops = NULL;
    if (audio && clip.audio.n_samples < 400) rc = meld_errorf("%s: audio shorter than one 25 ms frame", path);
    else if (video && clip.n_frames < o->frames) rc = meld_errorf("%s: no video frames", path);
    if (rc == MELD_OK) {
        f->functional = meld_calloc((size_t)functionals_dim(), sizeof(float), "functionals");
        f->frames = meld_calloc((size_t)o->frames, frame_bytes, "frames");
        crops = meld_calloc((size_t)o->frames, sizeof *crops, "crops");
        if (!audio) f->mel = meld_calloc((size_t)o->n_mels, sizeof(float), "mel");
        rc = f->functional && f->frames && crops && (audio || f->mel) ? MELD_OK : MELD_ERR;
    }
    if (rc == MELD_OK && audio)
        rc = audio_log_mel_16k(clip.audio.samples, clip.audio.n_samples, o->n_mels, &f->mel, &frames);
    if (rc == MELD_OK && audio) rc = audio_functionals(clip.audio.samples, clip.audio.n_samples, f->functional);
    if (rc == MELD_OK && video) {
        FaceCropOptions fo = face_crop_default_options();
        fo.size = o->size;
        fo.channels = 3;
        f->face_fallbacks = clip_face_crops(&clip, cascade, &fo, crops, NULL);
        rc = f->face_fallbacks >= 0 ? MELD_OK : MELD_ERR;
    }
    for (int k = 0; rc == MELD_OK && video && k < o->frames; k++) memcpy(f->frames + (size_t)k * frame_bytes, crops[k].pixels, frame_bytes);
    for (int k = 0; crops && k < o->frames; k++) image_free(&crops[k]);
    free(crops);
    clip_free(&clip);
    f->n_mel_frames = (int)frames;
    if (rc != MELD_OK) {
        if (!strstr(meld_error(), path)) meld_error_context("%s", path);
        clip_features_free(f);
    }
    return rc;
}

/* One job: features into a shard, or a skip shard with the reason.
 * MELD_ERR only when a shard cannot be written (fatal). */
static int process(Work *w, const Job *j, int thread)
{
    ClipFeatures f;
    if (clip_features(j->u->clip_path, w->o, w->cascade, &f) != MELD_OK) return write_skip(w, j, meld_error());
    w->fallbacks[thread] += f.face_fallbacks;
    int rc = write_shard(w, j, f.mel, f.n_mel_frames, f.functional, f.frames,
                         (size_t)w->o->size * w->o->size * 3 * (size_t)w->o->frames);
    clip_features_free(&f);
    return rc;
}

static void task(void *ctx, int i, int thread)
{
    Work *w = ctx;
    if (w->fatal) return;
    if (process(w, &w->jobs[i], thread < 64 ? thread : 63) != MELD_OK &&
        atomic_exchange(&w->fatal, 1) == 0)
        snprintf(w->fatal_msg, sizeof w->fatal_msg, "%s", meld_error());
}

/* 1 if the file exists and starts with magic + this hash. */
static int shard_valid(const char *path, const char *magic, uint64_t hash)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    uint8_t head[16];
    int ok = fread(head, 1, 16, f) == 16 && !memcmp(head, magic, 8) && get64(head + 8) == hash;
    fclose(f);
    return ok;
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

/* Speaker index of every utterance within its dialogue, in order of first
 * appearance (0, 1, 2, ...): speaker[i] for s->utts[i]. */
static int speaker_indices(const Split *s, int *speaker)
{
    for (size_t d = 0; d < s->n_dialogues; d++) {
        const Dialogue *dia = &s->dialogues[d];
        for (int k = 0; k < dia->n_utts; k++) {
            const char *name = s->utts[dia->first + (size_t)k].speaker;
            int idx = -1;
            for (int j = 0; j < k && idx < 0; j++)
                if (!strcmp(s->utts[dia->first + (size_t)j].speaker, name)) idx = speaker[dia->first + (size_t)j];
            if (idx < 0) {
                idx = 0;
                for (int j = 0; j < k; j++) idx = speaker[dia->first + (size_t)j] + 1 > idx ? speaker[dia->first + (size_t)j] + 1 : idx;
            }
            speaker[dia->first + (size_t)k] = idx;
        }
    }
    return MELD_OK;
}

typedef struct {
    void *map;
    size_t size;
} Mapped;

/* Maps every shard of the split and writes the cache. */
static int assemble(const Work *w, const char *split, Job *jobs, int n, long long *bytes)
{
    CacheItem *items = meld_calloc((size_t)(n ? n : 1), sizeof *items, "cache items");
    Mapped *maps = meld_calloc((size_t)(n ? n : 1), sizeof *maps, "shard maps");
    int m = 0, rc = items && maps ? MELD_OK : MELD_ERR;
    for (int i = 0; rc == MELD_OK && i < n; i++) {
        if (!shard_valid(jobs[i].shard, "MELDSHRD", w->hash)) continue;   /* skipped clip */
        int fd = open(jobs[i].shard, O_RDONLY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st)) {
            if (fd >= 0) close(fd);
            rc = meld_errorf("%s: cannot open shard", jobs[i].shard);
            break;
        }
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (p == MAP_FAILED) {
            rc = meld_errorf("%s: mmap failed", jobs[i].shard);
            break;
        }
        maps[m] = (Mapped){p, (size_t)st.st_size};
        const uint8_t *b = p;
        uint32_t frames = get32(b + 36), mels = get32(b + 40), fd_dim = get32(b + 44), pix = get32(b + 48);
        size_t need = SHARD_HEAD + 4 * ((size_t)frames * mels + fd_dim) + pix;
        if ((size_t)st.st_size < SHARD_HEAD || need != (size_t)st.st_size || (int)mels != w->o->n_mels ||
            (int)fd_dim != functionals_dim()) {
            m++;
            rc = meld_errorf("%s: damaged shard (delete it and run prepare again)", jobs[i].shard);
            break;
        }
        CacheItem *it = &items[m++];
        it->dialogue_id = (int)get32(b + 16);
        it->utterance_id = (int)get32(b + 20);
        it->emotion = (int)get32(b + 24);
        it->sentiment = (int)get32(b + 28);
        it->speaker = (int)get32(b + 32);
        it->n_mel_frames = (int)frames;
        it->mel = (const float *)(const void *)(b + SHARD_HEAD);
        it->functional = it->mel + (size_t)frames * mels;
        it->frames = (const uint8_t *)(it->functional + fd_dim);
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.meldcache", w->o->cache_dir, split);
    if (rc == MELD_OK) {
        CacheConfig cfg = {.n_mels = w->o->n_mels, .functional_dim = functionals_dim(), .n_frames = w->o->frames,
                           .frame_size = w->o->size, .frame_channels = 3};
        rc = prepare_config(w->o, cfg.config, sizeof cfg.config);
        if (rc == MELD_OK) rc = cache_write(path, &cfg, items, m);
        struct stat st;
        if (rc == MELD_OK && stat(path, &st) == 0) *bytes += st.st_size;
    }
    for (int i = 0; i < m; i++) munmap(maps[i].map, maps[i].size);
    free(items);
    free(maps);
    return rc;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int prepare_split(Work *w, const Split *s, int sid, PrepareResult *res)
{
    const PrepareOptions *o = w->o;
    const char *name = split_name(sid);
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/partial/%s", o->cache_dir, name);
    if (make_dirs(dir)) return MELD_ERR;
    int n = (int)s->n_utts;
    Job *jobs = meld_calloc((size_t)(n ? n : 1), sizeof *jobs, "prepare jobs");
    int *todo = meld_malloc(sizeof(int) * (size_t)(n ? n : 1), "prepare jobs");
    int *speaker = meld_calloc((size_t)(n ? n : 1), sizeof(int), "speakers");
    if (!jobs || !todo || !speaker) {
        free(jobs), free(todo), free(speaker);
        return MELD_ERR;
    }
    speaker_indices(s, speaker);
    int n_todo = 0;
    for (int i = 0; i < n; i++) {
        Job *j = &jobs[i];
        j->split = s;
        j->u = &s->utts[i];
        j->speaker = speaker[i];
        snprintf(j->shard, sizeof j->shard, "%s/dia%d_utt%d.shard", dir, j->u->dialogue_id, j->u->utterance_id);
        snprintf(j->skip, sizeof j->skip, "%s/dia%d_utt%d.skip", dir, j->u->dialogue_id, j->u->utterance_id);
        if (shard_valid(j->shard, "MELDSHRD", w->hash) || shard_valid(j->skip, "MELDSKIP", w->hash)) {
            res->reused[sid]++;
            continue;
        }
        if (!j->u->clip_path) {
            char why[160];
            snprintf(why, sizeof why, "dia%d_utt%d: %s", j->u->dialogue_id, j->u->utterance_id,
                     j->u->bad_clips ? "clip unreadable" : "no clip file");
            if (write_skip(w, j, why)) {
                free(jobs), free(todo), free(speaker);
                return MELD_ERR;
            }
            continue;
        }
        todo[n_todo++] = i;
    }
    if (o->on_progress) o->on_progress(o->cb_ctx, name, 0, n, 0);
    /* Work in chunks so progress is reported from this thread. */
    int chunk = 8 * threadpool_threads();
    Job *chunk_jobs = meld_calloc((size_t)chunk, sizeof *chunk_jobs, "chunk");
    for (int start = 0; chunk_jobs && start < n_todo && !w->fatal; start += chunk) {
        int count = n_todo - start < chunk ? n_todo - start : chunk;
        for (int k = 0; k < count; k++) chunk_jobs[k] = jobs[todo[start + k]];
        w->jobs = chunk_jobs;
        threadpool_parallel_for(count, task, w);
        if (o->on_progress) o->on_progress(o->cb_ctx, name, res->reused[sid] + start + count, n, 0);
    }
    free(chunk_jobs);
    int rc = w->fatal ? meld_errorf("%s", w->fatal_msg) : MELD_OK;
    /* Count and report skips (from the shards, so resumed runs report them too). */
    for (int i = 0; rc == MELD_OK && i < n; i++) {
        if (shard_valid(jobs[i].shard, "MELDSHRD", w->hash)) {
            res->done[sid]++;
            continue;
        }
        res->skipped[sid]++;
        if (o->on_skip) {
            char reason[600] = "";
            FILE *f = fopen(jobs[i].skip, "rb");
            if (f) {
                size_t got = fread(reason, 1, sizeof reason - 1, f);
                reason[got] = '\0';
                fclose(f);
            }
            /* The text follows the 16-byte header (magic, hash). */
            o->on_skip(o->cb_ctx, name, jobs[i].u->dialogue_id, jobs[i].u->utterance_id,
                       strlen(reason) > 16 ? reason + 16 : "unknown reason");
        }
    }
    if (rc == MELD_OK) rc = assemble(w, name, jobs, n, &res->cache_bytes);
    if (rc == MELD_OK) {
        for (int i = 0; i < n; i++) {
            remove(jobs[i].shard);
            remove(jobs[i].skip);
        }
        rmdir(dir);
    }
    free(jobs);
    free(todo);
    free(speaker);
    return rc;
}

int prepare_is_fresh(const PrepareOptions *o)
{
    char cfg[512], path[1200];
    if (prepare_config(o, cfg, sizeof cfg)) return 0;
    for (int s = 0; s < N_SPLITS; s++) {
        snprintf(path, sizeof path, "%s/%s.meldcache", o->cache_dir, split_name(s));
        Cache c;
        if (cache_open(path, cache_hash(cfg), &c, NULL)) return 0;
        cache_close(&c);
    }
    return 1;
}

int prepare_run(const Dataset *ds, const PrepareOptions *o, PrepareResult *res)
{
    memset(res, 0, sizeof *res);
    double t0 = now();
    char cfg[512];
    if (o->frames < 1 || o->frames > CLIP_MAX_K) return meld_errorf("prepare: --frames %d outside 1..%d", o->frames, CLIP_MAX_K);
    if (o->size < 16 || o->size > 1024 || o->size % 16) return meld_errorf("prepare: --size %d must be a multiple of 16 in 16..1024", o->size);
    if (o->n_mels < 1 || o->n_mels > 256) return meld_errorf("prepare: --mels %d outside 1..256", o->n_mels);
    if (prepare_config(o, cfg, sizeof cfg) || make_dirs(o->cache_dir)) return MELD_ERR;
    Work w;
    memset(&w, 0, sizeof w);
    w.o = o;
    w.hash = cache_hash(cfg);
    HaarCascade *cascade = NULL;
    const char *cpath = cascade_path(o);
    if (cpath) {
        cascade = haar_load(cpath);
        if (!cascade) return meld_error_context("prepare: face cascade");
    }
    w.cascade = cascade;
    res->cascade_used = cascade != NULL;
    int rc = MELD_OK;
    for (int s = 0; rc == MELD_OK && s < N_SPLITS; s++) {
        if (!ds->split[s].present) {
            rc = meld_errorf("prepare: the %s split is missing (no %s_sent_emo.csv)", split_name(s), split_name(s));
            break;
        }
        rc = prepare_split(&w, &ds->split[s], s, res);
    }
    for (int t = 0; t < 64; t++) res->face_fallbacks += w.fallbacks[t];
    haar_free(cascade);
    if (rc == MELD_OK) {
        char partial[1100];
        snprintf(partial, sizeof partial, "%s/partial", o->cache_dir);
        rmdir(partial);
    }
    res->seconds = now() - t0;
    return rc;
}
