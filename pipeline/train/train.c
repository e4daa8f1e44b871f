#include "pipeline/train/train.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "optim/optim.h"
#include "optim/schedule.h"
#include "pipeline/data/dataset.h"
#include "pipeline/dist/data_parallel.h"
#include "pipeline/eda/eda.h"
#include "pipeline/train/checkpoint_io.h"
#include "pipeline/train/train_log.h"
#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/threadpool.h"

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void class_weights_balanced(const int *counts, int k, float *w)
{
    long total = 0;
    for (int c = 0; c < k; c++) total += counts[c];
    for (int c = 0; c < k; c++) w[c] = counts[c] ? (float)((double)total / ((double)k * counts[c])) : 1.0f;
}

static int majority(const int *counts, int k)
{
    int best = 0;
    for (int c = 1; c < k; c++) best = counts[c] > counts[best] ? c : best;
    return best;
}

/* Index of the class whose cumulative share first exceeds u. */
static int draw(const int *counts, int k, int total, float u)
{
    double acc = 0;
    for (int c = 0; c < k; c++) {
        acc += (double)counts[c] / total;
        if (u < acc) return c;
    }
    return k - 1;
}

int baselines_compute(const SplitData *train, const SplitData *eval, Baselines *out)
{
    int ce[N_EMOTIONS] = {0}, cs[N_SENTIMENTS] = {0}, n = eval->cache.n, total = train->cache.n;
    for (int i = 0; i < total; i++) ce[train->cache.entries[i].emotion]++, cs[train->cache.entries[i].sentiment]++;
    int *t_e = meld_malloc(sizeof(int) * (size_t)(n + 1), "baselines"), *t_s = meld_malloc(sizeof(int) * (size_t)(n + 1), "baselines");
    int *p_e = meld_malloc(sizeof(int) * (size_t)(n + 1), "baselines"), *p_s = meld_malloc(sizeof(int) * (size_t)(n + 1), "baselines");
    int rc = t_e && t_s && p_e && p_s && total ? MELD_OK : meld_errorf("baselines: no training data or out of memory");
    Rng r;
    rng_seed(&r, 12345, 6);
    for (int i = 0; rc == MELD_OK && i < n; i++) t_e[i] = eval->cache.entries[i].emotion, t_s[i] = eval->cache.entries[i].sentiment;
    if (rc == MELD_OK) {
        for (int i = 0; i < n; i++) p_e[i] = majority(ce, N_EMOTIONS), p_s[i] = majority(cs, N_SENTIMENTS);
        rc = metrics_compute(&out->majority_emotion, N_EMOTIONS, t_e, p_e, n) ||
             metrics_compute(&out->majority_sentiment, N_SENTIMENTS, t_s, p_s, n);
    }
    if (rc == MELD_OK) {
        for (int i = 0; i < n; i++) {
            p_e[i] = draw(ce, N_EMOTIONS, total, rng_uniform(&r));
            p_s[i] = draw(cs, N_SENTIMENTS, total, rng_uniform(&r));
        }
        rc = metrics_compute(&out->random_emotion, N_EMOTIONS, t_e, p_e, n) ||
             metrics_compute(&out->random_sentiment, N_SENTIMENTS, t_s, p_s, n);
    }
    free(t_e), free(t_s), free(p_e), free(p_s);
    return rc ? MELD_ERR : MELD_OK;
}

/* Everything a run holds open; freed by run_close. */
typedef struct {
    const TrainOptions *o;
    SplitData own[N_SPLITS];      /* opened here from the cache */
    SplitData *split;             /* own, or the caller's */
    Normaliser norm;
    MeldModel *model;
    Optimizer *opt;
    Schedule sched;
    ParamRef params[MELD_MODEL_MAX_PARAMS];
    Tensor *param_tensors[MELD_MODEL_MAX_PARAMS];
    int n_params;
    float w_emotion[N_EMOTIONS], w_sentiment[N_SENTIMENTS];
    Graph g;
    TrainState ts;
    RunFolder own_folder, *folder;
    char *log_path;
    FILE *log;
    char *record;                 /* the last epoch record's text */
    const Comm *comm;             /* the processes training together */
    DataParallel dp;
    Provenance *prov;             /* the run's: result->provenance */
} Run;

static void run_close(Run *r)
{
    for (int s = 0; s < N_SPLITS; s++) split_data_close(&r->own[s]);
    normaliser_free(&r->norm);
    meld_model_free(r->model);
    optim_free(r->opt);
    graph_free(&r->g);
    dp_free(&r->dp);
    if (r->log) fclose(r->log);
    free(r->log_path);
    free(r->record);
    run_folder_close(&r->own_folder);
}

static int open_splits(Run *r, const TrainOptions *o)
{
    /* The caller's splits (in memory, no cache), or the cache's files. */
    r->split = o->splits ? o->splits : r->own;
    for (int s = 0; o->splits && s < N_SPLITS; s++)
        if (r->split[s].cache.n == 0) return meld_errorf("%s split: no utterances with features", split_name(s));
    for (int s = 0; !o->splits && s < N_SPLITS; s++) {
        char *path = path_join(o->cache_dir, split_name(s));
        char *file = path ? meld_malloc(strlen(path) + 16, "path") : NULL;
        int rc = file ? MELD_OK : MELD_ERR;
        if (file) sprintf(file, "%s.meldcache", path);
        if (rc == MELD_OK) rc = split_data_open(&r->own[s], file, o->cache_hash, NULL);
        if (rc == MELD_OK && r->split[s].cache.n == 0) rc = meld_errorf("%s: no utterances", file);
        free(path), free(file);
        if (rc) return MELD_ERR;
    }
    const Cache *caches[N_SPLITS] = {&r->split[0].cache, &r->split[1].cache, &r->split[2].cache};
    r->prov->cache_hash = provenance_cache_hash(caches, N_SPLITS);
    return MELD_OK;
}

/* Feature dimensions come from the cache; the rest from the options. */
static int create_model(Run *r, const TrainOptions *o)
{
    MeldModelConfig cfg = o->cfg;
    const CacheConfig *c = &r->split[SPLIT_TRAIN].cache.cfg;
    cfg.func_dim = c->functional_dim;
    cfg.n_mels = c->n_mels;
    cfg.frame_size = c->frame_size;
    cfg.frame_channels = c->frame_channels;
    if (cfg.frames_used < 1 || cfg.frames_used > c->n_frames) cfg.frames_used = c->n_frames;
    if (cfg.frame_size % 16) return meld_errorf("frame size %d: the CNN needs a multiple of 16", cfg.frame_size);
    Rng init;
    rng_seed(&init, o->seed, 1);
    r->model = meld_model_create(o->model, &cfg, &init);
    if (!r->model) return MELD_ERR;
    int needs = meld_model_batch_spec(r->model, false).needs;
    if (((needs & NEED_FUNC) && !c->functional_dim) || ((needs & NEED_MEL) && !c->n_mels) ||
        ((needs & NEED_FRAMES) && !c->n_frames))
        return meld_errorf("model %s needs inputs these features do not have (%s); %s", o->model, c->config,
                           "one vector per utterance feeds gru and lstm");
    r->n_params = meld_model_params(r->model, r->param_tensors);
    for (int i = 0; i < r->n_params; i++) {
        Tensor *t = r->param_tensors[i];
        r->params[i] = (ParamRef){t->name, t->data, t->grad, t->size};
    }
    return MELD_OK;
}

static int create_optimizer(Run *r, const TrainOptions *o)
{
    const char *kind = o->optim ? o->optim : r->model->kind->default_optim;
    OptimHparams hp;
    if (optim_defaults(kind, &hp)) return MELD_ERR;
    if (!o->optim) hp.lr = r->model->kind->default_lr;
    if (o->optim_hparams && optim_parse_hparams(kind, o->optim_hparams, &hp)) return MELD_ERR;
    if (o->lr > 0) hp.lr = o->lr;
    r->opt = optim_create(kind, &hp, r->params, r->n_params);
    if (!r->opt) return MELD_ERR;
    return schedule_init(&r->sched, o->schedule ? o->schedule : "constant", hp.lr);
}

static void set_class_weights(Run *r, ClassWeightMode mode)
{
    int ce[N_EMOTIONS] = {0}, cs[N_SENTIMENTS] = {0};
    const Cache *c = &r->split[SPLIT_TRAIN].cache;
    for (int i = 0; i < c->n; i++) ce[c->entries[i].emotion]++, cs[c->entries[i].sentiment]++;
    for (int k = 0; k < N_EMOTIONS; k++) r->w_emotion[k] = 1.0f;
    for (int k = 0; k < N_SENTIMENTS; k++) r->w_sentiment[k] = 1.0f;
    /* CLASS_WEIGHTS_MELD: the emotion weights the MELD authors published for
     * their baselines (pipeline/eda/eda.h); none were published for sentiment. */
    if (mode == CLASS_WEIGHTS_MELD)
        for (int k = 0; k < N_EMOTIONS; k++) r->w_emotion[k] = (float)MELD_BASELINE_EMOTION_WEIGHTS[k];
    if (mode == CLASS_WEIGHTS_AUTO) {
        class_weights_balanced(ce, N_EMOTIONS, r->w_emotion);
        class_weights_balanced(cs, N_SENTIMENTS, r->w_sentiment);
    }
}

/* Items of an epoch: dialogues or utterances. */
static int item_count(const Run *r, const BatchSpec *spec, int split)
{
    return spec->dialogue_level ? r->split[split].n_dialogues : r->split[split].cache.n;
}

static bool all_finite(const float *v, int n)
{
    for (int k = 0; k < n; k++)
        if (!isfinite(v[k])) return false;
    return true;
}

/* Evaluation over processes: the batches are shared out, and every value
 * of the arrays below is computed by exactly one process while the others
 * hold zero there, so their sum over the processes is that value bit for
 * bit (x + 0 = x): every process ends with what one process computes. */
int evaluate_split_on(const Comm *c, MeldModel *m, const SplitData *s, const Normaliser *norm, int batch,
                      EvalResult *out, int *pred_e, int *pred_s, float *prob_e, float *prob_s)
{
    memset(out, 0, sizeof *out);
    BatchSpec spec = meld_model_batch_spec(m, false);
    int n_items = spec.dialogue_level ? s->n_dialogues : s->cache.n, n = s->cache.n;
    int n_batches = (n_items + batch - 1) / batch, first, mine;
    dp_share(c, n_batches, &first, &mine);
    int *te = meld_malloc(sizeof(int) * (size_t)(n + 1), "eval"), *tsn = meld_malloc(sizeof(int) * (size_t)(n + 1), "eval");
    int *pe = meld_calloc((size_t)n + 1, sizeof(int), "eval"), *ps = meld_calloc((size_t)n + 1, sizeof(int), "eval");
    double *batch_loss = meld_calloc((size_t)n_batches + 1, sizeof(double), "eval");
    int *items = meld_malloc(sizeof(int) * (size_t)(batch > 0 ? batch : 1), "eval");
    if (prob_e) memset(prob_e, 0, sizeof(float) * (size_t)n * N_EMOTIONS);
    if (prob_s) memset(prob_s, 0, sizeof(float) * (size_t)n * N_SENTIMENTS);
    Graph g;
    graph_init(&g, 0);
    g.grad_enabled = false;
    g.training = false;
    int rc = te && tsn && pe && ps && batch_loss && items ? MELD_OK : MELD_ERR;
    for (int k = first; rc == MELD_OK && k < first + mine; k++) {
        int start = k * batch, count = n_items - start < batch ? n_items - start : batch;
        for (int i = 0; i < count; i++) items[i] = start + i;
        Batch b;
        Tensor *le = NULL, *ls = NULL;
        rc = batch_build(&g, s, norm, &spec, items, count, 0, &b);
        if (rc == MELD_OK) rc = m->kind->forward(m, &g, &b, &le, &ls);
        float parts[2] = {0, 0};
        if (rc == MELD_OK && !meld_model_loss(m, &g, &b, le, ls, NULL, NULL, parts)) rc = MELD_ERR;
        if (rc == MELD_OK) {
            Tensor *pr_e = op_softmax(&g, le), *pr_s = op_softmax(&g, ls);
            batch_loss[k] = (double)(parts[0] + parts[1]) * b.n_utts;
            for (int u = 0; rc == MELD_OK && u < b.n_utts; u++) {
                int e = b.utt_index[u], slot = b.slot[u];
                const float *pe_row = pr_e->data + (size_t)slot * N_EMOTIONS, *ps_row = pr_s->data + (size_t)slot * N_SENTIMENTS;
                /* NaN compares false with everything: argmax would say
                 * "class 0" and the metrics would look like a model's. */
                if (!all_finite(pe_row, N_EMOTIONS) || !all_finite(ps_row, N_SENTIMENTS) || !isfinite(parts[0] + parts[1])) {
                    rc = meld_errorf("the model's output for dialogue %d utterance %d is not a number (NaN or "
                                     "infinite): the weights or the features are damaged",
                                     s->cache.entries[e].dialogue_id, s->cache.entries[e].utterance_id);
                    break;
                }
                int be = 0, bs = 0;
                for (int j = 1; j < N_EMOTIONS; j++) be = pe_row[j] > pe_row[be] ? j : be;
                for (int j = 1; j < N_SENTIMENTS; j++) bs = ps_row[j] > ps_row[bs] ? j : bs;
                pe[e] = be, ps[e] = bs;
                if (prob_e) memcpy(prob_e + (size_t)e * N_EMOTIONS, pe_row, sizeof(float) * N_EMOTIONS);
                if (prob_s) memcpy(prob_s + (size_t)e * N_SENTIMENTS, ps_row, sizeof(float) * N_SENTIMENTS);
            }
        }
        graph_reset(&g);
    }
    if (rc == MELD_OK)
        rc = comm_sum(c, pe, (size_t)n, COMM_I32) || comm_sum(c, ps, (size_t)n, COMM_I32) ||
             comm_sum(c, batch_loss, (size_t)n_batches, COMM_F64) ||
             (prob_e && comm_sum(c, prob_e, (size_t)n * N_EMOTIONS, COMM_F32)) ||
             (prob_s && comm_sum(c, prob_s, (size_t)n * N_SENTIMENTS, COMM_F32));
    if (rc == MELD_OK) {
        double loss_sum = 0;
        for (int k = 0; k < n_batches; k++) loss_sum += batch_loss[k];
        for (int e = 0; e < n; e++) te[e] = s->cache.entries[e].emotion, tsn[e] = s->cache.entries[e].sentiment;
        out->n = n;
        out->loss = n ? loss_sum / n : 0;
        rc = metrics_compute(&out->emotion, N_EMOTIONS, te, pe, n) || metrics_compute(&out->sentiment, N_SENTIMENTS, tsn, ps, n);
        if (pred_e) memcpy(pred_e, pe, sizeof(int) * (size_t)n);
        if (pred_s) memcpy(pred_s, ps, sizeof(int) * (size_t)n);
    }
    graph_free(&g);
    free(te), free(tsn), free(pe), free(ps), free(batch_loss), free(items);
    return rc ? MELD_ERR : MELD_OK;
}

static const Comm ALONE = {.rank = 0, .size = 1, .impl = NULL};

int evaluate_split(MeldModel *m, const SplitData *s, const Normaliser *norm, int batch,
                   EvalResult *out, int *pred_e, int *pred_s, float *prob_e, float *prob_s)
{
    return evaluate_split_on(&ALONE, m, s, norm, batch, out, pred_e, pred_s, prob_e, prob_s);
}


/* Adds the batch's training predictions (argmax of the logits) to the
 * epoch's confusion matrices. */
static void count_predictions(TrainState *ts, const SplitData *s, const Batch *b, const Tensor *le, const Tensor *ls)
{
    for (int u = 0; u < b->n_utts; u++) {
        const CacheEntry *e = &s->cache.entries[b->utt_index[u]];
        const float *pe = le->data + (size_t)b->slot[u] * N_EMOTIONS, *ps = ls->data + (size_t)b->slot[u] * N_SENTIMENTS;
        int be = 0, bs = 0;
        for (int k = 1; k < N_EMOTIONS; k++) be = pe[k] > pe[be] ? k : be;
        for (int k = 1; k < N_SENTIMENTS; k++) bs = ps[k] > ps[bs] ? k : bs;
        ts->confusion_emotion[e->emotion][be]++;
        ts->confusion_sentiment[e->sentiment][bs]++;
    }
}

/* A new epoch begins: its counters start from zero and its shuffle from
 * the current rng_train. */
static void epoch_begin(TrainState *ts)
{
    ts->epoch_step = 0;
    ts->rng_epoch = ts->rng_train;
    ts->epoch_loss = 0;
    ts->epoch_utts = 0;
    ts->epoch_seconds = 0;
    memset(ts->confusion_emotion, 0, sizeof ts->confusion_emotion);
    memset(ts->confusion_sentiment, 0, sizeof ts->confusion_sentiment);
}

static int not_finite(const char *what, double v, const TrainState *ts, int step)
{
    return meld_errorf("%s is %s at epoch %d, step %d: training stopped (the last good checkpoint is kept)", what,
                       isnan(v) ? "NaN" : "infinite", ts->epoch + 1, step);
}

static bool stop_requested(const TrainOptions *o)
{
    return o->stop && *o->stop;
}

/* One optimiser step on one batch. */
/* One optimiser step on the global batch items[0 .. count): this process's
 * share forward and backward, the gradients summed over the processes, then
 * the same clipping and step on every process (alone: the whole batch). */
static int train_step(Run *r, const BatchSpec *spec, const int *items, int count, uint64_t seed, int step, int steps)
{
    const TrainOptions *o = r->o;
    const SplitData *train = &r->split[SPLIT_TRAIN];
    int first, mine, utts = batch_utterances(train, spec, items, count);
    dp_share(r->comm, count, &first, &mine);
    Batch b;
    Tensor *le = NULL, *ls = NULL, *l = NULL;
    float parts[2], loss = 0;
    int rc = dp_step_begin(&r->dp, &r->g, count);
    if (rc == MELD_OK && mine > 0) {
        rc = batch_build(&r->g, train, &r->norm, spec, items + first, mine, seed, &b);
        if (rc == MELD_OK) rc = r->model->kind->forward(r->model, &r->g, &b, &le, &ls);
        if (rc == MELD_OK) l = meld_model_loss(r->model, &r->g, &b, le, ls, r->w_emotion, r->w_sentiment, parts);
        /* The loss is a mean over the share's utterances (every class weight
         * is positive): scaled by the share's part of the batch, the
         * processes' losses add up to the global batch's, and so do their
         * gradients. */
        if (rc == MELD_OK && l && b.n_utts != utts) l = op_scale(&r->g, l, (float)b.n_utts / (float)utts);
        if (rc == MELD_OK && !l) rc = MELD_ERR;
    }
    if (rc == MELD_OK) rc = dp_backward(&r->dp, &r->g, l, &loss);
    if (rc == MELD_OK && !isfinite(loss)) rc = not_finite("loss", loss, &r->ts, step + 1);
    if (rc == MELD_OK) {
        double norm = optim_clip_grad_norm(r->params, r->n_params, o->clip_norm);
        if (!isfinite(norm)) rc = not_finite("the gradient norm", norm, &r->ts, step + 1);
    }
    if (rc == MELD_OK) rc = optim_step(r->opt, r->params, r->n_params);
    if (rc == MELD_OK) {
        optim_zero_grad(r->params, r->n_params);
        if (mine > 0) count_predictions(&r->ts, train, &b, le, ls);   /* this process's share */
        r->ts.epoch_loss += loss;
        r->ts.epoch_utts += utts;
        r->ts.step++;
        r->ts.epoch_step = step + 1;
        if (o->on_batch && r->comm->rank == 0) o->on_batch(o->cb_ctx, r->ts.epoch + 1, step + 1, steps, loss);
    }
    graph_reset(&r->g);
    return rc;
}

/* A stop request (a signal), the same on every process: one that reached
 * some processes only must not leave the others waiting in a sum. */
static int stop_agreed(const Run *r, bool *stop)
{
    int s = stop_requested(r->o);
    if (r->comm->size > 1 && comm_sum(r->comm, &s, 1, COMM_I32)) return MELD_ERR;
    *stop = s > 0;
    return MELD_OK;
}

/* One pass over the training items, or what is left of it after a resume
 * inside it. *stopped: a stop request ended it early (the state is then
 * exactly where a resume continues). */
static int train_epoch(Run *r, bool *stopped)
{
    const TrainOptions *o = r->o;
    TrainState *ts = &r->ts;
    BatchSpec spec = meld_model_batch_spec(r->model, true);
    int n = item_count(r, &spec, SPLIT_TRAIN), steps = (n + o->batch - 1) / o->batch;
    int *order = meld_malloc(sizeof(int) * (size_t)n, "epoch order");
    if (!order) return MELD_ERR;
    if (ts->epoch_step == 0) epoch_begin(ts);
    /* The epoch's order is drawn from rng_epoch; an epoch that starts here
     * continues rng_train from that draw, one resumed inside keeps the
     * rng_train it saved. */
    for (int i = 0; i < n; i++) order[i] = i;
    Rng shuffle = ts->rng_epoch;
    rng_shuffle(&shuffle, order, n);
    /* The key of this epoch's per-utterance draws (batch.h), from the same
     * rng: a resume inside the epoch draws it again. */
    uint64_t seed = (uint64_t)rng_u32(&shuffle) << 32 | rng_u32(&shuffle);
    if (ts->epoch_step == 0) ts->rng_train = shuffle;
    r->g.rng = ts->rng_graph;
    r->g.training = true;
    double t0 = now_seconds();
    int rc = MELD_OK;
    *stopped = false;
    for (int step = ts->epoch_step; rc == MELD_OK && step < steps; step++) {
        bool stop;
        if ((rc = stop_agreed(r, &stop)) != MELD_OK) break;
        if (stop) {
            *stopped = true;
            if (step == 0) ts->rng_train = ts->rng_epoch;   /* as if the epoch had not begun */
            break;
        }
        int start = step * o->batch, count = n - start < o->batch ? n - start : o->batch;
        rc = train_step(r, &spec, order + start, count, seed, step, steps);
    }
    ts->rng_graph = r->g.rng;
    ts->epoch_seconds += now_seconds() - t0;
    free(order);
    return rc;
}

/* Every parameter finite, or an error naming the first that is not. */
static int check_parameters(const Run *r)
{
    for (int i = 0; i < r->n_params; i++) {
        const Tensor *t = r->param_tensors[i];
        for (size_t k = 0; k < t->size; k++)
            if (!isfinite(t->data[k]))
                return meld_errorf("parameter %s has %s values at the end of epoch %d (step %d): training stopped "
                                   "(the last good checkpoint is kept)",
                                   t->name, isnan(t->data[k]) ? "NaN" : "infinite", r->ts.epoch + 1, r->ts.epoch_step);
    }
    return MELD_OK;
}

/* Restores weights, optimiser, schedule and training state from last.safetensors. */
static int resume_from(Run *r, const char *path)
{
    SafeTensors st;
    st_init(&st);
    int rc = st_load(&st, path);
    const char *kind = rc == MELD_OK ? st_get_meta(&st, "model") : NULL;
    if (rc == MELD_OK && kind && strcmp(kind, r->model->kind->name))
        rc = meld_errorf("it holds a %s run; this command trains %s", kind, r->model->kind->name);
    uint64_t now_hash = r->prov->cache_hash;
    Provenance was;
    provenance_init(&was);
    if (rc == MELD_OK) rc = provenance_import(&was, &st);
    if (rc == MELD_OK && was.cache_hash && was.cache_hash != now_hash)
        rc = meld_errorf("it was trained on another corpus or feature cache (cache hash %016llx, data %s) than this "
                         "run would continue on (cache hash %016llx): resume with the run's --data and --cache",
                         (unsigned long long)was.cache_hash, was.data ? was.data : "unknown",
                         (unsigned long long)now_hash);
    normaliser_free(&r->norm);
    if (rc == MELD_OK) rc = checkpoint_read_weights(&st, r->model, &r->norm);
    if (rc == MELD_OK) rc = optim_import_state(r->opt, &st);
    if (rc == MELD_OK && st_get_meta(&st, "schedule")) rc = schedule_import(&r->sched, &st);
    if (rc == MELD_OK) rc = checkpoint_read_state(&st, &r->ts);
    provenance_free(&was);
    st_free(&st);
    return rc ? meld_error_context("resuming from %s", path) : MELD_OK;
}

/* ---- data parallelism (pipeline/dist/data_parallel.h) ------------------------ */

static int dp_start(Run *r, const TrainOptions *o)
{
    size_t bucket = o->bucket_bytes > 0 ? (size_t)o->bucket_bytes : o->bucket_bytes < 0 ? 0 : DP_BUCKET_BYTES;
    return dp_init(&r->dp, r->comm, r->param_tensors, r->n_params, o->sync_bn, bucket);
}

/* ", 2 processes (BatchNorm synchronised)" for the start line, or "". */
static const char *dp_summary(const Run *r, const TrainOptions *o, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (r->comm->size > 1)
        snprintf(buf, cap, ", %d processes%s", r->comm->size, o->sync_bn ? " (BatchNorm synchronised)" : "");
    return buf;
}

/* The end of an epoch's training: every process must hold the same model
 * before it is evaluated and saved. BatchNorm's running statistics become
 * rank 0's (data_parallel.h), then the checksum checks parameters and
 * buffers alike. */
static int dp_epoch_end(Run *r)
{
    Tensor *t[2 * MELD_MODEL_MAX_PARAMS];
    int nb = meld_model_buffers(r->model, t);
    if (dp_broadcast_buffers(&r->dp, t, nb)) return MELD_ERR;
    for (int i = 0; i < r->n_params; i++) t[nb + i] = r->param_tensors[i];
    char when[48];
    snprintf(when, sizeof when, "after epoch %d", r->ts.epoch + 1);
    return dp_check_replicas(&r->dp, t, nb + r->n_params, when);
}

static double monitored_score(const MeldModel *m, const EvalResult *dev)
{
    return m->cfg.task == TASK_SENTIMENT ? dev->sentiment.weighted_f1 : dev->emotion.weighted_f1;
}

/* The line on_start receives. */
static void announce(const Run *r, bool resumed)
{
    const TrainOptions *o = r->o;
    if (!o->on_start || r->comm->rank != 0) return;
    char line[700], at[64] = "", dp_text[64];
    if (resumed && r->ts.epoch_step) snprintf(at, sizeof at, ", resumed at epoch %d step %d", r->ts.epoch + 1, r->ts.epoch_step);
    else if (resumed) snprintf(at, sizeof at, ", resumed after epoch %d", r->ts.epoch);
    snprintf(line, sizeof line,
             "model %s: %zu parameters, optimiser %s (lr %g), %d/%d/%d train/dev/test utterances, "
             "class weights emotion [%.2f %.2f %.2f %.2f %.2f %.2f %.2f] sentiment [%.2f %.2f %.2f]%s%s",
             r->model->kind->name, meld_model_param_count(r->model), optim_kind(r->opt), optim_get_lr(r->opt),
             r->split[0].cache.n, r->split[1].cache.n, r->split[2].cache.n, r->w_emotion[0], r->w_emotion[1],
             r->w_emotion[2], r->w_emotion[3], r->w_emotion[4], r->w_emotion[5], r->w_emotion[6], r->w_sentiment[0],
             r->w_sentiment[1], r->w_sentiment[2], at, dp_summary(r, o, dp_text, sizeof dp_text));
    o->on_start(o->cb_ctx, line);
}

/* The "start" or "resume" record. */
static int log_begin(Run *r, bool resumed, const char *session_command)
{
    const TrainOptions *o = r->o;
    char hparams[512], schedule[256];
    if (optim_format_hparams(optim_kind(r->opt), optim_hparams(r->opt), hparams, sizeof hparams) ||
        schedule_format(&r->sched, schedule, sizeof schedule))
        return MELD_ERR;
    LogSession s = {
        .event = resumed ? "resume" : "start", .provenance = r->prov, .command = session_command,
        .epoch = r->ts.epoch, .epoch_step = r->ts.epoch_step, .optimiser = optim_kind(r->opt), .hparams = hparams,
        .schedule = schedule, .clip_norm = o->clip_norm, .epochs = o->epochs, .batch = o->batch,
        .patience = o->patience, .threads = threadpool_threads(), .seed = o->seed,
        .parameters = meld_model_param_count(r->model),
        .utterances = {r->split[0].cache.n, r->split[1].cache.n, r->split[2].cache.n},
    };
    return log_session(r->log, r->log_path, &s);
}

/* Under mpirun the processes other than rank 0 neither lock nor write the
 * run folder: they read its checkpoints by these paths. */
static int folder_paths(const char *dir, TrainResult *result, char **log_path)
{
    const char *names[3] = {"best.safetensors", "last.safetensors", "log.jsonl"};
    char **paths[3] = {&result->best_path, &result->last_path, log_path};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(dir) + strlen(names[i]) + 2;
        if (!(*paths[i] = meld_malloc(n, "run folder path"))) return MELD_ERR;
        snprintf(*paths[i], n, "%s/%s", dir, names[i]);
    }
    return MELD_OK;
}

/* Opens (and locks) the run folder unless the caller did, and log.jsonl
 * (rank 0 of an MPI job only). */
static int open_folder(Run *r, TrainResult *result)
{
    const TrainOptions *o = r->o;
    if (r->comm->rank != 0) return folder_paths(o->out_dir, result, &r->log_path);
    r->folder = o->folder;
    if (!r->folder) {
        RunMode mode = o->resume ? RUN_RESUME : o->overwrite ? RUN_OVERWRITE : RUN_NEW;
        const char *holder = r->prov->command ? r->prov->command : "meld training";
        if (run_folder_open(&r->own_folder, o->out_dir, mode, holder)) return MELD_ERR;
        r->folder = &r->own_folder;
    }
    result->best_path = run_folder_path(r->folder, "best.safetensors");
    result->last_path = run_folder_path(r->folder, "last.safetensors");
    r->log_path = run_folder_path(r->folder, "log.jsonl");
    if (!result->best_path || !result->last_path || !r->log_path) return MELD_ERR;
    return MELD_OK;
}

static int open_log(Run *r)
{
    r->log = fopen(r->log_path, "a");
    return r->log ? MELD_OK : meld_errorf("%s: cannot open: %s", r->log_path, strerror(errno));
}

/* An epoch is over: dev evaluation, best, schedule, log record, checkpoints. */
static int epoch_end(Run *r, TrainResult *result)
{
    const TrainOptions *o = r->o;
    TrainState *ts = &r->ts;
    int steps = ts->epoch_step;
    EvalResult dev;
    double t0 = now_seconds();
    bool writer = r->comm->rank == 0;
    int rc = dp_epoch_end(r);
    /* The training predictions of every process's shares. */
    if (rc == MELD_OK && r->comm->size > 1)
        rc = comm_sum(r->comm, &ts->confusion_emotion[0][0], N_EMOTIONS * N_EMOTIONS, COMM_I32) ||
                     comm_sum(r->comm, &ts->confusion_sentiment[0][0], N_SENTIMENTS * N_SENTIMENTS, COMM_I32)
                 ? MELD_ERR
                 : MELD_OK;
    if (rc == MELD_OK) rc = check_parameters(r);
    if (rc == MELD_OK)
        rc = evaluate_split_on(r->comm, r->model, &r->split[SPLIT_DEV], &r->norm, o->batch, &dev, NULL, NULL, NULL, NULL);
    if (rc == MELD_OK && !isfinite(dev.loss)) rc = not_finite("the dev loss", dev.loss, ts, steps);
    if (rc != MELD_OK) return MELD_ERR;
    EpochReport e = {.epoch = ts->epoch + 1, .epochs = o->epochs, .dev = &dev, .task = r->model->cfg.task,
                     .lr = optim_get_lr(r->opt), .train_loss = steps ? ts->epoch_loss / steps : 0,
                     .seconds = ts->epoch_seconds + (now_seconds() - t0)};
    rc = metrics_from_confusion(&e.train_emotion, N_EMOTIONS, &ts->confusion_emotion[0][0], N_EMOTIONS) ||
         metrics_from_confusion(&e.train_sentiment, N_SENTIMENTS, &ts->confusion_sentiment[0][0], N_SENTIMENTS);
    double utts_per_s = ts->epoch_seconds > 0 ? ts->epoch_utts / ts->epoch_seconds : 0;
    ts->epoch++;
    double score = monitored_score(r->model, &dev);
    e.best = score > ts->best_score;
    if (e.best) ts->best_score = score, ts->best_epoch = ts->epoch, ts->bad_epochs = 0;
    else ts->bad_epochs++;
    /* The learning rate of the next epoch. plateau watches the monitored dev
     * F1 in mode max, the dev loss in mode min. */
    double lr = schedule_step(&r->sched, r->sched.mode_max ? score : dev.loss);
    if (rc == MELD_OK && lr != optim_get_lr(r->opt)) rc = optim_set_lr(r->opt, lr);
    epoch_begin(ts);   /* the checkpoints stand at the epoch's end */
    if (rc == MELD_OK && writer) rc = log_epoch(r->log, r->log_path, &e, ts->step, utts_per_s, &r->record);
    if (rc == MELD_OK && writer && e.best)
        rc = checkpoint_save_weights(result->best_path, r->model, &r->norm, ts->cache_hash, ts->cache_config, ts, r->prov);
    if (rc == MELD_OK && writer) rc = checkpoint_save(result->last_path, r->model, &r->norm, r->opt, &r->sched, ts, r->prov);
    if (rc == MELD_OK && writer && o->on_epoch) o->on_epoch(o->cb_ctx, &e);
    return rc ? MELD_ERR : MELD_OK;
}

/* The training loop; *reason says why it ended. */
static int train_epochs(Run *r, TrainResult *result, const char **reason)
{
    const TrainOptions *o = r->o;
    TrainState *ts = &r->ts;
    int rc = MELD_OK;
    while (rc == MELD_OK && !result->interrupted && ts->epoch < o->epochs && ts->bad_epochs < o->patience) {
        bool stopped;
        rc = train_epoch(r, &stopped);
        if (rc == MELD_OK && stopped) {
            /* Inside the epoch: last.safetensors says where. */
            if (r->comm->rank == 0)
                rc = checkpoint_save(result->last_path, r->model, &r->norm, r->opt, &r->sched, ts, r->prov);
            result->interrupted = true;
        } else if (rc == MELD_OK) {
            rc = epoch_end(r, result);   /* last.safetensors stands at the epoch's end */
        }
    }
    /* A request after the last epoch skips the test report. */
    bool stop = false;
    if (rc == MELD_OK) rc = stop_agreed(r, &stop);
    if (stop) result->interrupted = true;
    *reason = result->interrupted ? "interrupted" : ts->epoch >= o->epochs ? "epochs" : "patience";
    result->stop_epoch = ts->epoch_step ? ts->epoch + 1 : ts->epoch;
    result->stop_step = ts->epoch_step;
    return rc;
}

/* The test split from the best checkpoint. */
static int test_report(Run *r, TrainResult *result)
{
    LoadedModel best;
    int rc = comm_barrier(r->comm);   /* rank 0 has written it */
    if (rc == MELD_OK) rc = checkpoint_load_model(result->best_path, &best);
    if (rc == MELD_OK) {
        rc = evaluate_split_on(r->comm, best.model, &r->split[SPLIT_TEST], &best.norm, r->o->batch, &result->test, NULL,
                               NULL, NULL, NULL);
        if (rc == MELD_OK) rc = baselines_compute(&r->split[SPLIT_TRAIN], &r->split[SPLIT_TEST], &result->test_baselines);
        loaded_model_free(&best);
    }
    return rc;
}

/* Starts a run, or resumes it from last.safetensors. */
static int begin(Run *r, TrainResult *result, bool *resumed)
{
    const TrainOptions *o = r->o;
    struct stat st;
    *resumed = o->resume && stat(result->last_path, &st) == 0;
    if (o->resume && !*resumed && r->comm->rank == 0)
        meld_warnf("%s has no last.safetensors yet: starting at epoch 1", o->out_dir);
    int rc = open_splits(r, o);
    if (rc == MELD_OK) rc = normaliser_fit(&r->norm, &r->split[SPLIT_TRAIN]);
    if (rc == MELD_OK) rc = create_model(r, o);
    if (rc == MELD_OK) rc = create_optimizer(r, o);
    if (rc == MELD_OK) set_class_weights(r, o->class_weights);
    if (rc == MELD_OK) rc = dp_start(r, o);
    if (rc == MELD_OK && *resumed) rc = resume_from(r, result->last_path);
    if (rc == MELD_OK) rc = dp_check_replicas(&r->dp, r->param_tensors, r->n_params, "at the start");
    if (rc == MELD_OK && r->comm->rank == 0) rc = open_log(r);
    if (rc == MELD_OK && r->comm->rank == 0) rc = log_begin(r, *resumed, o->command ? o->command : r->prov->command);
    return rc;
}

int train_run(const TrainOptions *o, TrainResult *result)
{
    memset(result, 0, sizeof *result);
    provenance_init(&result->provenance);
    Run r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.comm = o->comm ? o->comm : &ALONE;
    r.prov = &result->provenance;
    r.own_folder.lock_fd = -1;
    graph_init(&r.g, o->seed);
    rng_seed(&r.ts.rng_train, o->seed, 2);
    r.ts.rng_graph = r.g.rng;
    r.ts.best_score = -1;
    r.ts.cache_hash = o->cache_hash;
    snprintf(r.ts.cache_config, sizeof r.ts.cache_config, "%s", o->cache_config ? o->cache_config : "");
    double t0 = now_seconds();
    bool resumed = false;
    const char *reason = "error";

    int rc = o->provenance ? provenance_copy(&result->provenance, o->provenance) : MELD_OK;
    if (rc == MELD_OK) rc = open_folder(&r, result);
    if (rc == MELD_OK) rc = begin(&r, result, &resumed);
    result->first_epoch = r.ts.epoch + 1;
    if (rc == MELD_OK) announce(&r, resumed);
    if (rc == MELD_OK) rc = train_epochs(&r, result, &reason);
    result->epochs_run = r.ts.epoch;
    result->best_epoch = r.ts.best_epoch;
    result->best_score = r.ts.best_score;
    result->stop_reason = reason;
    if (r.log) {
        /* The session's end in the log (its own failure is secondary to rc's). */
        char message[512];
        snprintf(message, sizeof message, "%s", rc == MELD_OK ? "" : meld_error());
        if (log_stop(r.log, r.log_path, rc == MELD_OK ? reason : "error", rc == MELD_OK ? NULL : message,
                     r.ts.epoch, r.ts.epoch_step, r.ts.best_epoch, r.ts.best_score) != MELD_OK && rc == MELD_OK)
            rc = MELD_ERR;
        else if (rc != MELD_OK)
            meld_errorf("%s", message);
    }
    if (rc == MELD_OK && !result->interrupted) rc = test_report(&r, result);
    result->seconds = now_seconds() - t0;
    run_close(&r);
    return rc ? MELD_ERR : MELD_OK;
}

void train_result_free(TrainResult *r)
{
    free(r->best_path);
    free(r->last_path);
    provenance_free(&r->provenance);
    r->best_path = r->last_path = NULL;
}

int checkpoint_load_model(const char *path, LoadedModel *out)
{
    memset(out, 0, sizeof *out);
    provenance_init(&out->provenance);
    SafeTensors st;
    st_init(&st);
    int rc = st_load(&st, path);
    if (rc == MELD_OK) {
        out->model = checkpoint_create_model(&st);
        rc = out->model ? checkpoint_read_weights(&st, out->model, &out->norm) : MELD_ERR;
    }
    /* A weights-only file (meld export, or PyTorch's save_safetensors of
     * the exported model.py) has no training state: epoch stays 0. A file
     * that has one gets it checked like a resumed run's. */
    if (rc == MELD_OK) rc = checkpoint_read_features(&st, &out->cache_hash, out->cache_config, sizeof out->cache_config);
    if (rc == MELD_OK && st_get_meta(&st, "epoch")) {
        TrainState ts;
        rc = checkpoint_read_progress(&st, &ts);
        out->epoch = ts.epoch;
    }
    if (rc == MELD_OK) rc = provenance_import(&out->provenance, &st);
    st_free(&st);
    if (rc != MELD_OK) {
        loaded_model_free(out);
        if (!strstr(meld_error(), path)) meld_error_context("%s", path);
        return MELD_ERR;
    }
    return MELD_OK;
}

void loaded_model_free(LoadedModel *lm)
{
    meld_model_free(lm->model);
    normaliser_free(&lm->norm);
    provenance_free(&lm->provenance);
    memset(lm, 0, sizeof *lm);
    provenance_init(&lm->provenance);
}
