/* Checkpoints of the MELD models: parameters, buffers, the feature
 * normaliser, the optimiser and the training state in one safetensors file
 * (format and atomic write: tensor/safetensors.h). See train.h. */
#include "pipeline/train/checkpoint_io.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/data/dataset.h"
#include "tensor/error.h"

static int add_view(SafeTensors *st, const char *name, const Tensor *t)
{
    int64_t shape[TENSOR_MAX_DIMS];
    for (int d = 0; d < t->ndim; d++) shape[d] = t->shape[d];
    return st_add_view(st, name, t->ndim, shape, t->data);
}

static int add_vector(SafeTensors *st, const char *name, const float *v, int n)
{
    int64_t shape[1] = {n};
    return st_add_view(st, name, 1, shape, v);
}

int config_format(const MeldModelConfig *c, char *buf, size_t cap)
{
    int n = snprintf(buf, cap,
                     "task=%d func_dim=%d n_mels=%d frame_size=%d frame_channels=%d frames_used=%d "
                     "rnn_hidden=%d mel_hidden=%d mel_pool=%d mel_max_frames=%d context=%d audio_functionals=%d",
                     c->task, c->func_dim, c->n_mels, c->frame_size, c->frame_channels, c->frames_used,
                     c->rnn_hidden, c->mel_hidden, c->mel_pool, c->mel_max_frames, c->context, c->audio_functionals);
    return n > 0 && (size_t)n < cap ? MELD_OK : meld_errorf("model configuration too long");
}

int config_parse(const char *s, MeldModelConfig *c)
{
    int context = 0, functionals = 0;
    memset(c, 0, sizeof *c);
    int got = sscanf(s,
                     "task=%d func_dim=%d n_mels=%d frame_size=%d frame_channels=%d frames_used=%d "
                     "rnn_hidden=%d mel_hidden=%d mel_pool=%d mel_max_frames=%d context=%d audio_functionals=%d",
                     &c->task, &c->func_dim, &c->n_mels, &c->frame_size, &c->frame_channels, &c->frames_used,
                     &c->rnn_hidden, &c->mel_hidden, &c->mel_pool, &c->mel_max_frames, &context, &functionals);
    if (got != 12) return meld_errorf("model configuration '%s' is malformed", s);
    c->context = context != 0;
    c->audio_functionals = functionals != 0;
    bool sane = c->task >= 0 && c->task <= 2 && c->func_dim >= 0 && c->func_dim < 1 << 20 && c->n_mels >= 0 &&
                c->n_mels < 4096 && c->frame_size >= 0 && c->frame_size <= 1024 && c->frame_channels >= 0 &&
                c->frame_channels <= 4 && c->frames_used >= 0 && c->frames_used <= 256 && c->rnn_hidden >= 0 &&
                c->rnn_hidden <= 4096 && c->mel_hidden >= 0 && c->mel_hidden <= 4096 && c->mel_pool >= 1 &&
                c->mel_pool <= 100 && c->mel_max_frames >= 1 && c->mel_max_frames <= 100000;
    return sane ? MELD_OK : meld_errorf("model configuration '%s' has values out of range", s);
}

static void rng_to_text(const Rng *r, char *buf, size_t cap)
{
    snprintf(buf, cap, "%016" PRIx64 ":%016" PRIx64, r->state, r->inc);
}

static int rng_from_text(const char *s, Rng *r)
{
    if (!s || sscanf(s, "%16" SCNx64 ":%16" SCNx64, &r->state, &r->inc) != 2) return meld_errorf("bad rng state '%s'", s ? s : "(missing)");
    return MELD_OK;
}

int checkpoint_save(const char *path, const MeldModel *m, const Normaliser *norm, const Optimizer *opt,
                    const TrainState *ts)
{
    SafeTensors st;
    st_init(&st);
    Tensor *list[MELD_MODEL_MAX_PARAMS];
    int rc = MELD_OK;
    int n = meld_model_params(m, list);
    for (int i = 0; rc == MELD_OK && i < n; i++) rc = add_view(&st, list[i]->name, list[i]);
    n = meld_model_buffers(m, list);
    for (int i = 0; rc == MELD_OK && i < n; i++) rc = add_view(&st, list[i]->name, list[i]);
    if (rc == MELD_OK && norm->func_dim) {
        rc = add_vector(&st, "norm.func_mean", norm->func_mean, norm->func_dim) ||
             add_vector(&st, "norm.func_std", norm->func_std, norm->func_dim);
    }
    if (rc == MELD_OK && norm->n_mels) {
        rc = add_vector(&st, "norm.mel_mean", norm->mel_mean, norm->n_mels) ||
             add_vector(&st, "norm.mel_std", norm->mel_std, norm->n_mels);
    }
    if (rc == MELD_OK && opt) rc = optim_export_state(opt, &st);

    char cfg[512], r1[64], r2[64];
    if (rc == MELD_OK) rc = config_format(&m->cfg, cfg, sizeof cfg);
    rng_to_text(&ts->rng_train, r1, sizeof r1);
    rng_to_text(&ts->rng_graph, r2, sizeof r2);
    struct { const char *k; char v[128]; } meta[] = {
        {"format", "meld-c checkpoint 1"}, {"model", ""}, {"epoch", ""}, {"step", ""}, {"best_score", ""},
        {"best_epoch", ""}, {"bad_epochs", ""}, {"cache_hash", ""}, {"rng_train", ""}, {"rng_graph", ""},
        {"emotion_labels", "neutral,joy,sadness,anger,surprise,fear,disgust"},
        {"sentiment_labels", "neutral,positive,negative"},
    };
    snprintf(meta[1].v, sizeof meta[1].v, "%s", m->kind->name);
    snprintf(meta[2].v, sizeof meta[2].v, "%d", ts->epoch);
    snprintf(meta[3].v, sizeof meta[3].v, "%ld", ts->step);
    snprintf(meta[4].v, sizeof meta[4].v, "%.17g", ts->best_score);
    snprintf(meta[5].v, sizeof meta[5].v, "%d", ts->best_epoch);
    snprintf(meta[6].v, sizeof meta[6].v, "%d", ts->bad_epochs);
    snprintf(meta[7].v, sizeof meta[7].v, "%016" PRIx64, ts->cache_hash);
    snprintf(meta[8].v, sizeof meta[8].v, "%s", r1);
    snprintf(meta[9].v, sizeof meta[9].v, "%s", r2);
    for (size_t i = 0; rc == MELD_OK && i < sizeof meta / sizeof meta[0]; i++) rc = st_set_meta(&st, meta[i].k, meta[i].v);
    if (rc == MELD_OK) rc = st_set_meta(&st, "config", cfg);
    if (rc == MELD_OK) rc = st_set_meta(&st, "cache_config", ts->cache_config);
    if (rc == MELD_OK) rc = st_save(&st, path);
    st_free(&st);
    return rc ? MELD_ERR : MELD_OK;
}

static int read_tensor(const SafeTensors *st, Tensor *t)
{
    int64_t shape[TENSOR_MAX_DIMS];
    for (int d = 0; d < t->ndim; d++) shape[d] = t->shape[d];
    return st_read_into(st, t->name, t->ndim, shape, t->data);
}

/* A normaliser vector; one of length 0 was not saved (a model without that
 * input: no log-Mel frames with MELD's released features). */
static int read_vector(const SafeTensors *st, const char *name, int n, float **out)
{
    *out = meld_malloc(sizeof(float) * (size_t)(n ? n : 1), name);
    if (!*out) return MELD_ERR;
    int64_t shape[1] = {n};
    return n ? st_read_into(st, name, 1, shape, *out) : MELD_OK;
}

static int meta_long(const SafeTensors *st, const char *key, long *v)
{
    const char *s = st_get_meta(st, key);
    char *end;
    if (!s) return meld_errorf("%s: metadata '%s' missing", st->source, key);
    *v = strtol(s, &end, 10);
    if (end == s || *end) return meld_errorf("%s: metadata '%s' = '%s' is not a number", st->source, key, s);
    return MELD_OK;
}

int checkpoint_read_state(const SafeTensors *st, TrainState *ts)
{
    long epoch, step, best_epoch, bad;
    const char *best = st_get_meta(st, "best_score"), *hash = st_get_meta(st, "cache_hash");
    if (meta_long(st, "epoch", &epoch) || meta_long(st, "step", &step) || meta_long(st, "best_epoch", &best_epoch) ||
        meta_long(st, "bad_epochs", &bad))
        return MELD_ERR;
    if (!best || !hash || sscanf(hash, "%" SCNx64, &ts->cache_hash) != 1)
        return meld_errorf("%s: metadata best_score/cache_hash missing or malformed", st->source);
    ts->best_score = strtod(best, NULL);
    const char *cc = st_get_meta(st, "cache_config");
    snprintf(ts->cache_config, sizeof ts->cache_config, "%s", cc ? cc : "");
    ts->epoch = (int)epoch;
    ts->step = step;
    ts->best_epoch = (int)best_epoch;
    ts->bad_epochs = (int)bad;
    if (rng_from_text(st_get_meta(st, "rng_train"), &ts->rng_train) ||
        rng_from_text(st_get_meta(st, "rng_graph"), &ts->rng_graph))
        return meld_error_context("%s", st->source);
    return MELD_OK;
}

int checkpoint_read_weights(const SafeTensors *st, MeldModel *m, Normaliser *norm)
{
    Tensor *list[MELD_MODEL_MAX_PARAMS];
    int n = meld_model_params(m, list);
    for (int i = 0; i < n; i++)
        if (read_tensor(st, list[i])) return MELD_ERR;
    n = meld_model_buffers(m, list);
    for (int i = 0; i < n; i++)
        if (read_tensor(st, list[i])) return MELD_ERR;
    memset(norm, 0, sizeof *norm);
    norm->func_dim = m->cfg.func_dim;
    norm->n_mels = m->cfg.n_mels;
    if (read_vector(st, "norm.func_mean", norm->func_dim, &norm->func_mean) ||
        read_vector(st, "norm.func_std", norm->func_dim, &norm->func_std) ||
        read_vector(st, "norm.mel_mean", norm->n_mels, &norm->mel_mean) ||
        read_vector(st, "norm.mel_std", norm->n_mels, &norm->mel_std)) {
        normaliser_free(norm);
        return MELD_ERR;
    }
    return MELD_OK;
}

MeldModel *checkpoint_create_model(const SafeTensors *st)
{
    const char *format = st_get_meta(st, "format"), *kind = st_get_meta(st, "model"), *cfg_text = st_get_meta(st, "config");
    if (!format || strcmp(format, "meld-c checkpoint 1")) {
        meld_errorf("%s: not a meld-c model checkpoint (metadata 'format' is %s)", st->source, format ? format : "missing");
        return NULL;
    }
    MeldModelConfig cfg;
    if (!kind || !cfg_text || config_parse(cfg_text, &cfg)) {
        meld_error_context("%s", st->source);
        return NULL;
    }
    Rng r;
    rng_seed(&r, 0, 0);   /* weights are overwritten by the checkpoint */
    return meld_model_create(kind, &cfg, &r);
}
