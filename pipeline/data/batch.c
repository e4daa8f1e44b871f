#include "pipeline/data/batch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"

/* Entries are sorted by (dialogue, utterance): each dialogue is a run. */
static int index_dialogues(SplitData *s)
{
    int n = s->cache.n;
    s->dia_first = meld_malloc(sizeof(int) * (size_t)(n + 1), "dialogue index");
    s->dia_len = meld_malloc(sizeof(int) * (size_t)(n + 1), "dialogue index");
    if (!s->dia_first || !s->dia_len) {
        split_data_close(s);
        return MELD_ERR;
    }
    for (int i = 0; i < n; i++) {
        if (i == 0 || s->cache.entries[i].dialogue_id != s->cache.entries[i - 1].dialogue_id) {
            s->dia_first[s->n_dialogues] = i;
            s->dia_len[s->n_dialogues++] = 0;
        }
        s->dia_len[s->n_dialogues - 1]++;
    }
    return MELD_OK;
}

int split_data_open(SplitData *s, const char *path, uint64_t expected_hash, int *stale)
{
    memset(s, 0, sizeof *s);
    if (cache_open(path, expected_hash, &s->cache, stale)) return MELD_ERR;
    return index_dialogues(s);
}

int split_data_from_vectors(SplitData *s, CacheEntry *entries, int n, float *vectors, int dim, const char *config)
{
    memset(s, 0, sizeof *s);
    Cache *c = &s->cache;
    c->base = (const uint8_t *)vectors;
    c->size = sizeof(float) * (size_t)n * (size_t)dim;
    c->in_memory = true;
    c->n = n;
    c->entries = entries;
    c->cfg.functional_dim = dim;
    snprintf(c->cfg.config, sizeof c->cfg.config, "%s", config);
    c->hash = cache_hash(config);
    for (int i = 0; i < n; i++) entries[i].functional_offset = sizeof(float) * (uint64_t)i * (uint64_t)dim;
    return index_dialogues(s);
}

void split_data_close(SplitData *s)
{
    cache_close(&s->cache);
    free(s->dia_first);
    free(s->dia_len);
    memset(s, 0, sizeof *s);
}

/* Accumulates sum and sum of squares in double (thousands of rows). */
static int fit_columns(int dim, float **mean, float **std, const SplitData *t,
                       const float *(*row)(const Cache *, int, int), int (*rows_of)(const Cache *, int))
{
    /* + 1: a split without log-Mel frames has dim 0 here */
    double *s1 = calloc((size_t)dim + 1, sizeof *s1), *s2 = calloc((size_t)dim + 1, sizeof *s2);
    *mean = meld_malloc(sizeof(float) * (size_t)dim, "normaliser");
    *std = meld_malloc(sizeof(float) * (size_t)dim, "normaliser");
    if (!s1 || !s2 || !*mean || !*std) {
        free(s1);
        free(s2);
        return meld_errorf("out of memory fitting the feature normaliser");
    }
    double count = 0;
    for (int i = 0; i < t->cache.n; i++)
        for (int r = 0; r < rows_of(&t->cache, i); r++) {
            const float *x = row(&t->cache, i, r);
            for (int d = 0; d < dim; d++) {
                s1[d] += x[d];
                s2[d] += (double)x[d] * x[d];
            }
            count++;
        }
    for (int d = 0; d < dim; d++) {
        double m = count ? s1[d] / count : 0, v = count ? s2[d] / count - m * m : 1;
        (*mean)[d] = (float)m;
        (*std)[d] = (float)fmax(sqrt(fmax(v, 0)), 1e-3);
    }
    free(s1);
    free(s2);
    return MELD_OK;
}

static const float *func_row(const Cache *c, int i, int r) { (void)r; return cache_functional(c, i); }
static int one_row(const Cache *c, int i) { (void)c; (void)i; return 1; }
static const float *mel_row(const Cache *c, int i, int r) { return cache_mel(c, i) + (size_t)r * c->cfg.n_mels; }
static int mel_rows(const Cache *c, int i) { return c->entries[i].n_mel_frames; }

int normaliser_fit(Normaliser *n, const SplitData *train)
{
    memset(n, 0, sizeof *n);
    n->func_dim = train->cache.cfg.functional_dim;
    n->n_mels = train->cache.cfg.n_mels;
    if (fit_columns(n->func_dim, &n->func_mean, &n->func_std, train, func_row, one_row) ||
        fit_columns(n->n_mels, &n->mel_mean, &n->mel_std, train, mel_row, mel_rows)) {
        normaliser_free(n);
        return MELD_ERR;
    }
    return MELD_OK;
}

void normaliser_free(Normaliser *n)
{
    free(n->func_mean);
    free(n->func_std);
    free(n->mel_mean);
    free(n->mel_std);
    memset(n, 0, sizeof *n);
}

/* Lays out the label grid and the list of real utterances. */
static int layout(Graph *g, const SplitData *s, const BatchSpec *spec, const int *items, int count, Batch *b)
{
    b->B = count;
    b->T = 1;
    if (spec->dialogue_level)
        for (int i = 0; i < count; i++) b->T = s->dia_len[items[i]] > b->T ? s->dia_len[items[i]] : b->T;
    int grid = b->B * b->T;
    b->mask = graph_alloc(g, sizeof(float) * (size_t)grid);
    b->emotion = graph_alloc(g, sizeof(int) * (size_t)grid);
    b->sentiment = graph_alloc(g, sizeof(int) * (size_t)grid);
    b->slot = graph_alloc(g, sizeof(int) * (size_t)grid);
    b->utt_index = graph_alloc(g, sizeof(int) * (size_t)grid);
    if (!b->mask || !b->emotion || !b->sentiment || !b->slot || !b->utt_index) return MELD_ERR;
    memset(b->mask, 0, sizeof(float) * (size_t)grid);
    memset(b->emotion, 0, sizeof(int) * (size_t)grid);
    memset(b->sentiment, 0, sizeof(int) * (size_t)grid);
    b->n_utts = 0;
    for (int i = 0; i < count; i++) {
        int first = spec->dialogue_level ? s->dia_first[items[i]] : items[i];
        int len = spec->dialogue_level ? s->dia_len[items[i]] : 1;
        for (int t = 0; t < len; t++) {
            int slot = i * b->T + t, e = first + t;
            b->mask[slot] = 1;
            b->emotion[slot] = s->cache.entries[e].emotion;
            b->sentiment[slot] = s->cache.entries[e].sentiment;
            b->slot[b->n_utts] = slot;
            b->utt_index[b->n_utts++] = e;
        }
    }
    int gs[2] = {b->B, b->T};
    b->grid_mask = tensor_from_buffer(&g->arena, 2, gs, b->mask);
    return b->grid_mask ? MELD_OK : MELD_ERR;
}

static int fill_func(Graph *g, const SplitData *s, const Normaliser *n, Batch *b)
{
    int f = n->func_dim, shape[3] = {b->B, b->T, f};
    b->func = tensor_new(&g->arena, 3, shape);
    if (!b->func) return MELD_ERR;
    for (int u = 0; u < b->n_utts; u++) {
        const float *x = cache_functional(&s->cache, b->utt_index[u]);
        float *y = b->func->data + (size_t)b->slot[u] * f;
        for (int d = 0; d < f; d++) y[d] = (x[d] - n->func_mean[d]) / n->func_std[d];
    }
    return MELD_OK;
}

/* Frames after pooling `pool` consecutive frames, capped. */
static int pooled_len(int frames, const BatchSpec *spec)
{
    int t = (frames + spec->mel_pool - 1) / spec->mel_pool;
    return t > spec->mel_max_frames ? spec->mel_max_frames : t;
}

static int fill_mel(Graph *g, const SplitData *s, const Normaliser *n, const BatchSpec *spec, Batch *b)
{
    int m = n->n_mels, tmax = 1;
    for (int u = 0; u < b->n_utts; u++) {
        int t = pooled_len(s->cache.entries[b->utt_index[u]].n_mel_frames, spec);
        tmax = t > tmax ? t : tmax;
    }
    int shape[3] = {b->n_utts, tmax, m};
    b->mel = tensor_new(&g->arena, 3, shape);
    b->mel_mask = tensor_new(&g->arena, 2, shape);
    if (!b->mel || !b->mel_mask) return MELD_ERR;
    for (int u = 0; u < b->n_utts; u++) {
        const CacheEntry *e = &s->cache.entries[b->utt_index[u]];
        const float *x = cache_mel(&s->cache, b->utt_index[u]);
        int t_out = pooled_len(e->n_mel_frames, spec);
        for (int t = 0; t < t_out; t++) {
            /* Average frames [t*pool, min((t+1)*pool, n)) then z-normalise. */
            int lo = t * spec->mel_pool, hi = lo + spec->mel_pool < e->n_mel_frames ? lo + spec->mel_pool : e->n_mel_frames;
            float *y = b->mel->data + ((size_t)u * tmax + t) * m;
            for (int k = lo; k < hi; k++)
                for (int d = 0; d < m; d++) y[d] += x[(size_t)k * m + d];
            for (int d = 0; d < m; d++) y[d] = (y[d] / (float)(hi - lo) - n->mel_mean[d]) / n->mel_std[d];
            b->mel_mask->data[(size_t)u * tmax + t] = 1;
        }
    }
    return MELD_OK;
}

/* Training augmentation of one HWC uint8 frame into CHW floats in [-1, 1]:
 * horizontal flip (p = 0.5), a shift of up to S/16 pixels in each direction
 * with zero (mid-grey) fill, brightness +-0.1 and contrast x[0.9, 1.1]. */
static void frame_to_chw(const uint8_t *src, int S, int C, bool augment, Rng *rng, float *dst)
{
    int flip = 0, dx = 0, dy = 0;
    float bright = 0, contrast = 1;
    if (augment) {
        int max_shift = S / 16;
        flip = rng_uniform(rng) < 0.5f;
        dx = (int)rng_below(rng, (uint32_t)(2 * max_shift + 1)) - max_shift;
        dy = (int)rng_below(rng, (uint32_t)(2 * max_shift + 1)) - max_shift;
        bright = rng_uniform_range(rng, -0.1f, 0.1f);
        contrast = rng_uniform_range(rng, 0.9f, 1.1f);
    }
    for (int c = 0; c < C; c++)
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                int sx = (flip ? S - 1 - x : x) + dx, sy = y + dy;
                float v = 0.0f;
                if (sx >= 0 && sx < S && sy >= 0 && sy < S)
                    v = src[((size_t)sy * S + sx) * C + c] / 127.5f - 1.0f;
                dst[((size_t)c * S + y) * S + x] = v * contrast + bright;
            }
}

static int fill_frames(Graph *g, const SplitData *s, const BatchSpec *spec, Rng *rng, Batch *b)
{
    const CacheConfig *cfg = &s->cache.cfg;
    int S = cfg->frame_size, C = cfg->frame_channels, K = cfg->n_frames, use = spec->frames_used;
    if (use < 1 || use > K) use = K;
    int shape[4] = {b->n_utts * use, C, S, S};
    b->frames = tensor_new(&g->arena, 4, shape);
    if (!b->frames) return MELD_ERR;
    size_t frame_bytes = (size_t)S * S * C;
    for (int u = 0; u < b->n_utts; u++) {
        const uint8_t *all = cache_frames(&s->cache, b->utt_index[u]);
        for (int k = 0; k < use; k++) {
            /* Evenly spaced subset of the K cached frames. */
            int src = use == K ? k : (int)(((long)k * K + K / 2) / use);
            frame_to_chw(all + (size_t)src * frame_bytes, S, C, spec->augment, rng,
                         b->frames->data + ((size_t)u * use + k) * frame_bytes);
        }
    }
    return MELD_OK;
}

/* One feature size as the model, the normaliser and the cache have it. */
static int same_size(const char *what, int model, int norm, int cache)
{
    if (model == cache && norm == cache) return MELD_OK;
    return meld_errorf("the model reads %d %s, its normaliser %d, but the feature cache holds %d: the checkpoint and the "
                       "cache were made with different feature settings", model, what, norm, cache);
}

static int check_sizes(const SplitData *s, const Normaliser *norm, const BatchSpec *spec)
{
    const CacheConfig *c = &s->cache.cfg;
    if ((spec->needs & NEED_FUNC) &&
        same_size("functionals per utterance", spec->func_dim, norm->func_dim, c->functional_dim))
        return MELD_ERR;
    if ((spec->needs & NEED_MEL) && same_size("log-Mel bands", spec->n_mels, norm->n_mels, c->n_mels)) return MELD_ERR;
    if ((spec->needs & NEED_FRAMES) && (spec->frame_size != c->frame_size || spec->frame_channels != c->frame_channels))
        return meld_errorf("the model reads %dx%dx%d face frames but the feature cache holds %dx%dx%d: the checkpoint "
                           "and the cache were made with different feature settings", spec->frame_size, spec->frame_size,
                           spec->frame_channels, c->frame_size, c->frame_size, c->frame_channels);
    if ((spec->needs & NEED_FRAMES) && c->n_frames < 1) return meld_errorf("the feature cache holds no face frames");
    return MELD_OK;
}

int batch_build(Graph *g, const SplitData *s, const Normaliser *norm, const BatchSpec *spec,
                const int *items, int count, Rng *rng, Batch *out)
{
    memset(out, 0, sizeof *out);
    if (check_sizes(s, norm, spec) || layout(g, s, spec, items, count, out)) return MELD_ERR;
    if ((spec->needs & NEED_FUNC) && fill_func(g, s, norm, out)) return MELD_ERR;
    if ((spec->needs & NEED_MEL) && fill_mel(g, s, norm, spec, out)) return MELD_ERR;
    if ((spec->needs & NEED_FRAMES) && fill_frames(g, s, spec, rng, out)) return MELD_ERR;
    return MELD_OK;
}
