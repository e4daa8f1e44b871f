/* Checkpoints of the MELD models: parameters, buffers and the feature
 * normaliser, plus, in training checkpoints, the optimiser, the schedule
 * and the training state, in one safetensors file (format and atomic
 * write: tensor/safetensors.h). See checkpoint_io.h and train.h. */
#include "pipeline/train/checkpoint_io.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
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

/* What every model file holds: parameters, buffers, the normaliser and the
 * metadata that rebuilds the model and its features. */
static int add_model(SafeTensors *st, const MeldModel *m, const Normaliser *norm, uint64_t cache_hash,
                     const char *cache_config)
{
    Tensor *list[MELD_MODEL_MAX_PARAMS];
    int rc = MELD_OK;
    int n = meld_model_params(m, list);
    for (int i = 0; rc == MELD_OK && i < n; i++) rc = add_view(st, list[i]->name, list[i]);
    n = meld_model_buffers(m, list);
    for (int i = 0; rc == MELD_OK && i < n; i++) rc = add_view(st, list[i]->name, list[i]);
    if (rc == MELD_OK && norm->func_dim) {
        rc = add_vector(st, "norm.func_mean", norm->func_mean, norm->func_dim) ||
             add_vector(st, "norm.func_std", norm->func_std, norm->func_dim);
    }
    if (rc == MELD_OK && norm->n_mels) {
        rc = add_vector(st, "norm.mel_mean", norm->mel_mean, norm->n_mels) ||
             add_vector(st, "norm.mel_std", norm->mel_std, norm->n_mels);
    }
    char cfg[512], hash[32];
    if (rc == MELD_OK) rc = config_format(&m->cfg, cfg, sizeof cfg);
    snprintf(hash, sizeof hash, "%016" PRIx64, cache_hash);
    const char *meta[][2] = {
        {"format", CHECKPOINT_FORMAT}, {"model", m->kind->name}, {"config", cfg}, {"cache_hash", hash},
        {"cache_config", cache_config}, {"emotion_labels", "neutral,joy,sadness,anger,surprise,fear,disgust"},
        {"sentiment_labels", "neutral,positive,negative"},
    };
    for (size_t i = 0; rc == MELD_OK && i < sizeof meta / sizeof meta[0]; i++) rc = st_set_meta(st, meta[i][0], meta[i][1]);
    return rc ? MELD_ERR : MELD_OK;
}

/* Metadata "key" = value, printf-style. */
static int meta_printf(SafeTensors *st, const char *key, const char *fmt, ...) MELD_PRINTF(3, 4);
static int meta_printf(SafeTensors *st, const char *key, const char *fmt, ...)
{
    char v[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof v) return meld_errorf("checkpoint metadata '%s' too long", key);
    return st_set_meta(st, key, v);
}

/* "c00,c01,...;s00,..." : the epoch's training confusion matrices. */
static int confusion_to_text(const TrainState *ts, char *buf, size_t cap)
{
    size_t used = 0;
    for (int i = 0; i < N_EMOTIONS * N_EMOTIONS + N_SENTIMENTS * N_SENTIMENTS; i++) {
        int v = i < N_EMOTIONS * N_EMOTIONS ? ts->confusion_emotion[i / N_EMOTIONS][i % N_EMOTIONS]
                                            : ts->confusion_sentiment[(i - N_EMOTIONS * N_EMOTIONS) / N_SENTIMENTS]
                                                                     [(i - N_EMOTIONS * N_EMOTIONS) % N_SENTIMENTS];
        int n = snprintf(buf + used, cap - used, "%s%d", i == 0 ? "" : i == N_EMOTIONS * N_EMOTIONS ? ";" : ",", v);
        if (n < 0 || (size_t)n >= cap - used) return meld_errorf("confusion matrices too long");
        used += (size_t)n;
    }
    return MELD_OK;
}

static int confusion_from_text(const char *s, TrainState *ts)
{
    for (int i = 0; i < N_EMOTIONS * N_EMOTIONS + N_SENTIMENTS * N_SENTIMENTS; i++) {
        char *end;
        long v = strtol(s, &end, 10);
        char sep = i + 1 == N_EMOTIONS * N_EMOTIONS ? ';' : i + 1 == N_EMOTIONS * N_EMOTIONS + N_SENTIMENTS * N_SENTIMENTS ? '\0' : ',';
        if (end == s || *end != sep || v < 0 || v > 1000000000) return MELD_ERR;
        if (i < N_EMOTIONS * N_EMOTIONS) ts->confusion_emotion[i / N_EMOTIONS][i % N_EMOTIONS] = (int)v;
        else ts->confusion_sentiment[(i - N_EMOTIONS * N_EMOTIONS) / N_SENTIMENTS][(i - N_EMOTIONS * N_EMOTIONS) % N_SENTIMENTS] = (int)v;
        s = end + (*end != '\0');
    }
    return MELD_OK;
}

/* Where a run stands and where it comes from: best and last checkpoints. */
static int run_meta(SafeTensors *st, const TrainState *ts, const Provenance *prov, const char *kind)
{
    int rc = st_set_meta(st, "checkpoint", kind) || meta_printf(st, "epoch", "%d", ts->epoch) ||
             meta_printf(st, "step", "%ld", ts->step) || meta_printf(st, "best_score", "%.17g", ts->best_score) ||
             meta_printf(st, "best_epoch", "%d", ts->best_epoch);
    if (!rc && prov) rc = provenance_export(prov, st);
    return rc ? MELD_ERR : MELD_OK;
}

/* Where the run stands inside an epoch (only when it does). */
static int epoch_meta(SafeTensors *st, const TrainState *ts)
{
    char r[64], conf[1024];
    rng_to_text(&ts->rng_epoch, r, sizeof r);
    int rc = confusion_to_text(ts, conf, sizeof conf);
    if (rc == MELD_OK)
        rc = meta_printf(st, "epoch_step", "%d", ts->epoch_step) || st_set_meta(st, "rng_epoch", r) ||
             meta_printf(st, "epoch_loss", "%.17g", ts->epoch_loss) || meta_printf(st, "epoch_utts", "%d", ts->epoch_utts) ||
             meta_printf(st, "epoch_seconds", "%.3f", ts->epoch_seconds) || st_set_meta(st, "epoch_confusion", conf);
    return rc ? MELD_ERR : MELD_OK;
}

int checkpoint_save(const char *path, const MeldModel *m, const Normaliser *norm, const Optimizer *opt,
                    const Schedule *sched, const TrainState *ts, const Provenance *prov)
{
    SafeTensors st;
    st_init(&st);
    char r1[64], r2[64];
    rng_to_text(&ts->rng_train, r1, sizeof r1);
    rng_to_text(&ts->rng_graph, r2, sizeof r2);
    int rc = add_model(&st, m, norm, ts->cache_hash, ts->cache_config);
    if (rc == MELD_OK && opt) rc = optim_export_state(opt, &st);
    if (rc == MELD_OK && sched) rc = schedule_export(sched, &st);
    if (rc == MELD_OK) rc = run_meta(&st, ts, prov, "resume");
    if (rc == MELD_OK)
        rc = meta_printf(&st, "bad_epochs", "%d", ts->bad_epochs) || st_set_meta(&st, "rng_train", r1) ||
             st_set_meta(&st, "rng_graph", r2);
    if (rc == MELD_OK && ts->epoch_step > 0) rc = epoch_meta(&st, ts);
    if (rc == MELD_OK) rc = st_save(&st, path);
    st_free(&st);
    return rc ? MELD_ERR : MELD_OK;
}

int checkpoint_save_weights(const char *path, const MeldModel *m, const Normaliser *norm, uint64_t cache_hash,
                            const char *cache_config, const TrainState *ts, const Provenance *prov)
{
    SafeTensors st;
    st_init(&st);
    int rc = add_model(&st, m, norm, cache_hash, cache_config);
    if (rc == MELD_OK && ts) rc = run_meta(&st, ts, prov, "weights");
    else if (rc == MELD_OK && prov) rc = provenance_export(prov, &st);
    if (rc == MELD_OK) rc = st_save(&st, path);
    st_free(&st);
    return rc ? MELD_ERR : MELD_OK;
}

/* A NaN or an infinity in a checkpoint is damage, never a weight: every
 * prediction made with it would be NaN, every metric computed from those
 * silently "class 0". */
static int check_finite(const SafeTensors *st, const char *name, const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return meld_errorf("%s: tensor '%s' holds %s at index %zu: the checkpoint is damaged", st->source, name,
                               isnan(v[i]) ? "NaN" : "an infinity", i);
    return MELD_OK;
}

static int read_tensor(const SafeTensors *st, Tensor *t)
{
    int64_t shape[TENSOR_MAX_DIMS];
    for (int d = 0; d < t->ndim; d++) shape[d] = t->shape[d];
    if (st_read_into(st, t->name, t->ndim, shape, t->data)) return MELD_ERR;
    return check_finite(st, t->name, t->data, t->size);
}

/* A normaliser vector; one of length 0 was not saved (a model without that
 * input: no log-Mel frames with MELD's released features). */
static int read_vector(const SafeTensors *st, const char *name, int n, float **out)
{
    *out = meld_malloc(sizeof(float) * (size_t)(n ? n : 1), name);
    if (!*out) return MELD_ERR;
    int64_t shape[1] = {n};
    if (n == 0) return MELD_OK;
    return st_read_into(st, name, 1, shape, *out) || check_finite(st, name, *out, (size_t)n) ? MELD_ERR : MELD_OK;
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

int checkpoint_read_features(const SafeTensors *st, uint64_t *cache_hash, char *cache_config, size_t cap)
{
    const char *hash = st_get_meta(st, "cache_hash"), *cc = st_get_meta(st, "cache_config");
    if (!hash || sscanf(hash, "%" SCNx64, cache_hash) != 1)
        return meld_errorf("%s: metadata cache_hash missing or malformed", st->source);
    snprintf(cache_config, cap, "%s", cc ? cc : "");
    return MELD_OK;
}

static int meta_double(const SafeTensors *st, const char *key, double *v)
{
    const char *s = st_get_meta(st, key);
    char *end;
    if (!s) return meld_errorf("%s: metadata '%s' missing", st->source, key);
    *v = strtod(s, &end);
    if (end == s || *end) return meld_errorf("%s: metadata '%s' = '%s' is not a number", st->source, key, s);
    return MELD_OK;
}

/* The position inside an epoch, when the checkpoint has one. */
static int read_epoch_state(const SafeTensors *st, TrainState *ts)
{
    long step = 0, utts;
    const char *conf = st_get_meta(st, "epoch_confusion");
    if (!st_get_meta(st, "epoch_step")) return MELD_OK;
    if (meta_long(st, "epoch_step", &step) || meta_long(st, "epoch_utts", &utts) ||
        meta_double(st, "epoch_loss", &ts->epoch_loss) || meta_double(st, "epoch_seconds", &ts->epoch_seconds) ||
        rng_from_text(st_get_meta(st, "rng_epoch"), &ts->rng_epoch))
        return MELD_ERR;
    if (step < 1 || step > 1000000000 || utts < 0 || utts > 1000000000)
        return meld_errorf("%s: metadata epoch_step/epoch_utts out of range", st->source);
    if (!conf || confusion_from_text(conf, ts))
        return meld_errorf("%s: metadata epoch_confusion missing or malformed", st->source);
    ts->epoch_step = (int)step;
    ts->epoch_utts = (int)utts;
    return MELD_OK;
}

int checkpoint_read_progress(const SafeTensors *st, TrainState *ts)
{
    memset(ts, 0, sizeof *ts);
    long epoch, step, best_epoch, bad = 0;
    if (meta_long(st, "epoch", &epoch) || meta_long(st, "step", &step) || meta_long(st, "best_epoch", &best_epoch) ||
        (st_get_meta(st, "bad_epochs") && meta_long(st, "bad_epochs", &bad)) ||
        meta_double(st, "best_score", &ts->best_score))
        return MELD_ERR;
    /* Counts a run can reach; anything else is a damaged or crafted file. */
    if (epoch < 0 || epoch > 1000000 || step < 0 || best_epoch < 0 || best_epoch > epoch || bad < 0 || bad > epoch ||
        !(ts->best_score >= -1 && ts->best_score <= 1))
        return meld_errorf("%s: training state out of range (epoch %ld, step %ld, best epoch %ld, epochs without "
                           "improvement %ld, best score %s)", st->source, epoch, step, best_epoch, bad,
                           st_get_meta(st, "best_score"));
    ts->epoch = (int)epoch;
    ts->step = step;
    ts->best_epoch = (int)best_epoch;
    ts->bad_epochs = (int)bad;
    return MELD_OK;
}

int checkpoint_read_state(const SafeTensors *st, TrainState *ts)
{
    const char *kind = st_get_meta(st, "checkpoint");
    long bad;
    if (kind && strcmp(kind, "resume"))
        return meld_errorf("%s: a '%s' checkpoint has no training state to resume from (last.safetensors has)",
                           st->source, kind);
    if (meta_long(st, "bad_epochs", &bad) || checkpoint_read_progress(st, ts) ||
        checkpoint_read_features(st, &ts->cache_hash, ts->cache_config, sizeof ts->cache_config))
        return MELD_ERR;
    if (rng_from_text(st_get_meta(st, "rng_train"), &ts->rng_train) ||
        rng_from_text(st_get_meta(st, "rng_graph"), &ts->rng_graph) || read_epoch_state(st, ts))
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
    /* Features are divided by these. */
    for (int d = 0; d < norm->func_dim + norm->n_mels; d++) {
        float sd = d < norm->func_dim ? norm->func_std[d] : norm->mel_std[d - norm->func_dim];
        if (!(sd > 0)) {
            normaliser_free(norm);
            return meld_errorf("%s: normaliser standard deviation %g is not positive", st->source, (double)sd);
        }
    }
    return MELD_OK;
}

/* Floats the file holds: no model it can fill has more parameters. */
static size_t file_floats(const SafeTensors *st)
{
    size_t n = 0;
    for (int i = 0; i < st->n_tensors; i++) n += st->tensors[i].numel;
    return n;
}

static size_t model_floats(const MeldModel *m)
{
    Tensor *list[MELD_MODEL_MAX_PARAMS];
    size_t n = meld_model_param_count(m);
    int k = meld_model_buffers(m, list);
    for (int i = 0; i < k; i++) n += list[i]->size;
    return n;
}

static int grown(int target, int start, int step)
{
    long v = (long)start << (step < 30 ? step : 30);
    return v < target ? (int)v : target;
}

/* The configuration decides the model's size before a single tensor is
 * compared with it, so a lying one (rnn_hidden=4096 beside a few hundred
 * bytes of tensors) would have gigabytes allocated and initialised only to
 * fail the shape check. The model cannot have more parameters than the
 * file has floats: grow a model towards the configuration, every size
 * doubling per step, and refuse as soon as one outgrows the file.
 * Parameter counts are at most quadratic in the sizes (a weight is
 * in x out, a CNN's flattened map side^2), so each step is at most 4 times
 * the last: the memory spent stays within a few times the file's. The last
 * step is the configuration itself, and its model is the one returned. */
static MeldModel *create_within_file(const char *kind, const MeldModelConfig *cfg, const SafeTensors *st)
{
    size_t budget = file_floats(st);
    for (int step = 0;; step++) {
        MeldModelConfig c = *cfg;
        c.func_dim = grown(cfg->func_dim, 1, step);
        c.n_mels = grown(cfg->n_mels, 1, step);
        c.frame_size = grown(cfg->frame_size, 16, step);
        c.frame_channels = grown(cfg->frame_channels, 1, step);
        c.rnn_hidden = grown(cfg->rnn_hidden, 1, step);
        c.mel_hidden = grown(cfg->mel_hidden, 1, step);
        bool last = c.func_dim == cfg->func_dim && c.n_mels == cfg->n_mels && c.frame_size == cfg->frame_size &&
                    c.frame_channels == cfg->frame_channels && c.rnn_hidden == cfg->rnn_hidden &&
                    c.mel_hidden == cfg->mel_hidden;
        Rng r;
        rng_seed(&r, 0, 0);   /* weights are overwritten by the checkpoint */
        MeldModel *m = meld_model_create(kind, &c, &r);
        if (!m) return NULL;
        size_t need = model_floats(m);
        if (need > budget) {
            meld_model_free(m);
            meld_errorf("%s: its configuration describes a %s model of at least %zu parameters, but the file holds only "
                        "%zu numbers", st->source, kind, need, budget);
            return NULL;
        }
        if (last) return m;
        meld_model_free(m);
    }
}

MeldModel *checkpoint_create_model(const SafeTensors *st)
{
    const char *format = st_get_meta(st, "format"), *kind = st_get_meta(st, "model"), *cfg_text = st_get_meta(st, "config");
    if (!format || strcmp(format, CHECKPOINT_FORMAT)) {
        meld_errorf("%s: not a meld-c model checkpoint (metadata 'format' is %s)", st->source, format ? format : "missing");
        return NULL;
    }
    if (!kind || !cfg_text) {
        meld_errorf("%s: metadata '%s' missing: the checkpoint does not say which model it holds", st->source,
                    !kind ? "model" : "config");
        return NULL;
    }
    MeldModelConfig cfg;
    if (!meld_model_kind_find(kind)) {
        meld_errorf("%s: unknown model '%s'", st->source, kind);
        return NULL;
    }
    if (config_parse(cfg_text, &cfg)) {
        meld_error_context("%s", st->source);
        return NULL;
    }
    return create_within_file(kind, &cfg, st);
}
