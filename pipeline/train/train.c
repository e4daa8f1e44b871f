#include "pipeline/train/train.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "optim/optim.h"
#include "pipeline/train/checkpoint_io.h"
#include "pipeline/data/dataset.h"
#include "pipeline/dist/data_parallel.h"
#include "pipeline/eda/eda.h"
#include "tensor/atomic_file.h"
#include "tensor/error.h"
#include "tensor/json.h"
#include "tensor/ops.h"

enum { GRAD_CLIP_NORM = 5 };

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
    SplitData own[N_SPLITS];      /* opened here from the cache */
    SplitData *split;             /* own, or the caller's */
    Normaliser norm;
    MeldModel *model;
    Optimizer *opt;
    ParamRef params[MELD_MODEL_MAX_PARAMS];
    Tensor *param_tensors[MELD_MODEL_MAX_PARAMS];
    int n_params;
    float w_emotion[N_EMOTIONS], w_sentiment[N_SENTIMENTS];
    Graph g;
    TrainState ts;
    FILE *log;
    const Comm *comm;
    DataParallel dp;
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
}

static int open_splits(Run *r, const TrainOptions *o)
{
    if (o->splits) {
        r->split = o->splits;
        for (int s = 0; s < N_SPLITS; s++)
            if (r->split[s].cache.n == 0) return meld_errorf("%s split: no utterances with features", split_name(s));
        return MELD_OK;
    }
    r->split = r->own;
    for (int s = 0; s < N_SPLITS; s++) {
        char path[1100];
        snprintf(path, sizeof path, "%s/%s.meldcache", o->cache_dir, split_name(s));
        if (split_data_open(&r->own[s], path, o->cache_hash, NULL)) return MELD_ERR;
        if (r->split[s].cache.n == 0) return meld_errorf("%s: no utterances", path);
    }
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
    if (o->lr > 0) hp.lr = o->lr;
    else if (!o->optim) hp.lr = r->model->kind->default_lr;
    r->opt = optim_create(kind, &hp, r->params, r->n_params);
    return r->opt ? MELD_OK : MELD_ERR;
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

/* One optimiser step on the global batch items[0 .. count): this process's
 * share forward and backward, the gradients summed over the processes, then
 * the same clipping and step on every process. *loss gets the global
 * batch's loss, *utts its real utterances. */
static int train_step(Run *r, const BatchSpec *spec, const int *items, int count, uint64_t seed, float *loss,
                      int *utts)
{
    const SplitData *train = &r->split[SPLIT_TRAIN];
    int first, mine;
    dp_share(r->comm, count, &first, &mine);
    *utts = batch_utterances(train, spec, items, count);
    Tensor *l = NULL;
    int rc = dp_step_begin(&r->dp, &r->g, count);
    if (rc == MELD_OK && mine > 0) {
        Batch b;
        Tensor *le = NULL, *ls = NULL;
        float parts[2];
        rc = batch_build(&r->g, train, &r->norm, spec, items + first, mine, seed, &b);
        if (rc == MELD_OK) rc = r->model->kind->forward(r->model, &r->g, &b, &le, &ls);
        if (rc == MELD_OK) l = meld_model_loss(r->model, &r->g, &b, le, ls, r->w_emotion, r->w_sentiment, parts);
        /* The loss is a mean over the share's utterances (every class weight
         * is positive): scaled by the share's part of the batch, the
         * processes' losses add up to the global batch's, and so do their
         * gradients. */
        if (rc == MELD_OK && l && b.n_utts != *utts) l = op_scale(&r->g, l, (float)b.n_utts / (float)*utts);
        if (rc == MELD_OK && !l) rc = MELD_ERR;
    }
    if (rc == MELD_OK) rc = dp_backward(&r->dp, &r->g, l, loss);
    if (rc == MELD_OK && !isfinite(*loss))
        rc = meld_errorf("loss is %s at epoch %d, step %ld: training stopped (the last good checkpoint is kept)",
                         isnan(*loss) ? "NaN" : "infinite", r->ts.epoch + 1, r->ts.step + 1);
    if (rc == MELD_OK) {
        optim_clip_grad_norm(r->params, r->n_params, GRAD_CLIP_NORM);
        rc = optim_step(r->opt, r->params, r->n_params);
    }
    optim_zero_grad(r->params, r->n_params);
    graph_reset(&r->g);
    return rc;
}

/* One pass over the training items. *loss gets the mean batch loss, *utts
 * the utterances trained on (over every process). */
static int train_epoch(Run *r, const TrainOptions *o, double *loss, int *utts)
{
    BatchSpec spec = meld_model_batch_spec(r->model, true);
    int n = item_count(r, &spec, SPLIT_TRAIN), steps = (n + o->batch - 1) / o->batch;
    int *order = meld_malloc(sizeof(int) * (size_t)n, "epoch order");
    if (!order) return MELD_ERR;
    for (int i = 0; i < n; i++) order[i] = i;
    rng_shuffle(&r->ts.rng_train, order, n);
    /* The key of this epoch's per-utterance draws (batch.h). */
    uint64_t seed = (uint64_t)rng_u32(&r->ts.rng_train) << 32 | rng_u32(&r->ts.rng_train);
    r->g.rng = r->ts.rng_graph;
    r->g.training = true;
    double sum = 0;
    *utts = 0;
    int rc = MELD_OK;
    for (int step = 0; rc == MELD_OK && step < steps; step++) {
        int start = step * o->batch, count = n - start < o->batch ? n - start : o->batch, step_utts;
        float step_loss;
        rc = train_step(r, &spec, order + start, count, seed, &step_loss, &step_utts);
        if (rc != MELD_OK) break;
        sum += step_loss;
        *utts += step_utts;
        r->ts.step++;
        if (o->on_batch && r->comm->rank == 0) o->on_batch(o->cb_ctx, r->ts.epoch + 1, step + 1, steps, step_loss, *utts);
    }
    r->ts.rng_graph = r->g.rng;
    free(order);
    *loss = steps ? sum / steps : 0;
    return rc;
}

/* Data parallelism's share of the epoch for the log line (rank 0's view):
 * per step, the backward pass (with the bucket sums it started) and the
 * wait for the sums after it, and the share of buckets started during the
 * backward pass. Nothing alone. */
static void dp_log_fields(const Run *r, JsonWriter *j)
{
    const DataParallel *dp = &r->dp;
    int steps = dp->steps > 0 ? dp->steps : 1;
    if (r->comm->size <= 1) return;
    json_int(j, "processes", r->comm->size);
    json_real(j, "backward_ms", 1e3 * dp->backward_seconds / steps, "%.3f");
    json_real(j, "sum_wait_ms", 1e3 * dp->finish_seconds / steps, "%.3f");
    json_real(j, "buckets_in_backward", dp->buckets ? (double)dp->buckets_early / dp->buckets : 0.0, "%.3f");
}

/* One line of log.jsonl (JSON_LINE), also handed to on_epoch. */
static int write_log_line(Run *r, const TrainOptions *o, double train_loss, const EvalResult *dev, double secs, int utts,
                          bool best)
{
    JsonWriter j;
    json_writer_init(&j, JSON_LINE, NULL);
    json_begin_object(&j, NULL);
    json_int(&j, "epoch", r->ts.epoch);
    json_int(&j, "step", r->ts.step);
    json_real(&j, "train_loss", train_loss, "%.6f");
    json_real(&j, "dev_loss", dev->loss, "%.6f");
    json_real(&j, "dev_emotion_accuracy", dev->emotion.accuracy, "%.6f");
    json_real(&j, "dev_emotion_weighted_f1", dev->emotion.weighted_f1, "%.6f");
    json_real(&j, "dev_emotion_macro_f1", dev->emotion.macro_f1, "%.6f");
    json_real(&j, "dev_sentiment_accuracy", dev->sentiment.accuracy, "%.6f");
    json_real(&j, "dev_sentiment_weighted_f1", dev->sentiment.weighted_f1, "%.6f");
    json_real(&j, "dev_sentiment_macro_f1", dev->sentiment.macro_f1, "%.6f");
    json_real(&j, "seconds", secs, "%.3f");
    json_real(&j, "utterances_per_s", secs > 0 ? utts / secs : 0.0, "%.1f");
    json_bool(&j, "best", best);
    dp_log_fields(r, &j);
    json_end_object(&j);
    int rc = json_writer_finish(&j, "log.jsonl");
    if (rc == MELD_OK && (fprintf(r->log, "%s\n", j.buf) < 0 || fflush(r->log) != 0))
        rc = meld_errorf("%s/log.jsonl: write failed", o->out_dir);
    if (rc == MELD_OK && o->on_epoch) o->on_epoch(o->cb_ctx, j.buf);
    json_writer_free(&j);
    return rc;
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST) return MELD_OK;
    return meld_errorf("%s: cannot create folder: %s", path, strerror(errno));
}

/* Restores weights, optimiser and training state from OUT/last.safetensors. */
static int resume_from(Run *r, const char *path)
{
    SafeTensors st;
    st_init(&st);
    int rc = st_load(&st, path);
    normaliser_free(&r->norm);
    if (rc == MELD_OK) rc = checkpoint_read_weights(&st, r->model, &r->norm);
    if (rc == MELD_OK) rc = optim_import_state(r->opt, &st);
    if (rc == MELD_OK) rc = checkpoint_read_state(&st, &r->ts);
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
    snprintf(buf, cap, r->comm->size > 1 ? ", %d processes%s" : "", r->comm->size,
             o->sync_bn ? " (BatchNorm synchronised)" : "");
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

int train_run(const TrainOptions *o, TrainResult *result)
{
    memset(result, 0, sizeof *result);
    Run r;
    memset(&r, 0, sizeof r);
    graph_init(&r.g, o->seed);
    rng_seed(&r.ts.rng_train, o->seed, 2);
    r.ts.rng_graph = r.g.rng;
    r.ts.best_score = -1;
    r.ts.cache_hash = o->cache_hash;
    snprintf(r.ts.cache_config, sizeof r.ts.cache_config, "%s", o->cache_config ? o->cache_config : "");
    char last[1100], log_path[1100];
    snprintf(last, sizeof last, "%s/last.safetensors", o->out_dir);
    snprintf(result->best_path, sizeof result->best_path, "%s/best.safetensors", o->out_dir);
    snprintf(log_path, sizeof log_path, "%s/log.jsonl", o->out_dir);
    double t0 = now_seconds();
    r.comm = o->comm ? o->comm : &ALONE;
    bool writer = r.comm->rank == 0;   /* files and callbacks: rank 0 only */

    int rc = writer ? make_dir(o->out_dir) : MELD_OK;
    if (rc == MELD_OK && writer) atomic_file_sweep_folder(o->out_dir);
    if (rc == MELD_OK) rc = open_splits(&r, o);
    if (rc == MELD_OK) rc = normaliser_fit(&r.norm, &r.split[SPLIT_TRAIN]);
    if (rc == MELD_OK) rc = create_model(&r, o);
    if (rc == MELD_OK) rc = create_optimizer(&r, o);
    if (rc == MELD_OK) set_class_weights(&r, o->class_weights);
    if (rc == MELD_OK) rc = dp_start(&r, o);
    if (rc == MELD_OK && o->resume) rc = resume_from(&r, last);
    if (rc == MELD_OK) rc = dp_check_replicas(&r.dp, r.param_tensors, r.n_params, "at the start");
    if (rc == MELD_OK && writer) {
        r.log = fopen(log_path, o->resume ? "a" : "w");
        if (!r.log) rc = meld_errorf("%s: cannot open: %s", log_path, strerror(errno));
    }
    if (rc == MELD_OK && o->on_start && writer) {
        char line[600], dp_text[64];
        snprintf(line, sizeof line,
                 "model %s: %zu parameters, optimiser %s (lr %g), %d/%d/%d train/dev/test utterances, "
                 "class weights emotion [%.2f %.2f %.2f %.2f %.2f %.2f %.2f] sentiment [%.2f %.2f %.2f]%s%s",
                 r.model->kind->name, meld_model_param_count(r.model), optim_kind(r.opt), optim_get_lr(r.opt),
                 r.split[0].cache.n, r.split[1].cache.n, r.split[2].cache.n, r.w_emotion[0], r.w_emotion[1],
                 r.w_emotion[2], r.w_emotion[3], r.w_emotion[4], r.w_emotion[5], r.w_emotion[6], r.w_sentiment[0],
                 r.w_sentiment[1], r.w_sentiment[2], o->resume ? ", resumed" : "", dp_summary(&r, o, dp_text, sizeof dp_text));
        o->on_start(o->cb_ctx, line);
    }
    while (rc == MELD_OK && r.ts.epoch < o->epochs && r.ts.bad_epochs < o->patience) {
        double t = now_seconds(), loss;
        int utts;
        EvalResult dev;
        dp_stats_reset(&r.dp);
        rc = train_epoch(&r, o, &loss, &utts);
        if (rc == MELD_OK) rc = dp_epoch_end(&r);
        if (rc == MELD_OK)
            rc = evaluate_split_on(r.comm, r.model, &r.split[SPLIT_DEV], &r.norm, o->batch, &dev, NULL, NULL, NULL, NULL);
        if (rc != MELD_OK) break;
        r.ts.epoch++;
        double score = monitored_score(r.model, &dev);
        bool best = score > r.ts.best_score;
        if (best) r.ts.best_score = score, r.ts.best_epoch = r.ts.epoch, r.ts.bad_epochs = 0;
        else r.ts.bad_epochs++;
        if (best && writer) rc = checkpoint_save(result->best_path, r.model, &r.norm, r.opt, &r.ts);
        if (rc == MELD_OK && writer) rc = checkpoint_save(last, r.model, &r.norm, r.opt, &r.ts);
        if (rc == MELD_OK && writer) rc = write_log_line(&r, o, loss, &dev, now_seconds() - t, utts, best);
    }
    result->epochs_run = r.ts.epoch;
    result->best_epoch = r.ts.best_epoch;
    result->best_score = r.ts.best_score;
    /* Test report from the best checkpoint (once rank 0 has written it). */
    if (rc == MELD_OK) rc = comm_barrier(r.comm);
    if (rc == MELD_OK) {
        LoadedModel best;
        rc = checkpoint_load_model(result->best_path, &best);
        if (rc == MELD_OK) {
            rc = evaluate_split_on(r.comm, best.model, &r.split[SPLIT_TEST], &best.norm, o->batch, &result->test, NULL,
                                   NULL, NULL, NULL);
            if (rc == MELD_OK) rc = baselines_compute(&r.split[SPLIT_TRAIN], &r.split[SPLIT_TEST], &result->test_baselines);
            loaded_model_free(&best);
        }
    }
    result->seconds = now_seconds() - t0;
    run_close(&r);
    return rc ? MELD_ERR : MELD_OK;
}

int checkpoint_load_model(const char *path, LoadedModel *out)
{
    memset(out, 0, sizeof *out);
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
        memset(&ts, 0, sizeof ts);
        rc = checkpoint_read_state(&st, &ts);
        out->epoch = ts.epoch;
    }
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
    memset(lm, 0, sizeof *lm);
}
