/* The training benchmarks' cases and batches (train_cases.h). */
#include "benchmarks/train_cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"
#include "tensor/rng.h"

enum {
    BENCH_SEED = 1,
    LENGTH_STREAM = 7, LENGTH_SPAN = 27,       /* dialogue lengths, as torch_train.py */
    MEL_STREAM = 8, MEL_MIN = 75,              /* melstm-var frame counts, likewise */
    DIALOGUES = 50, MAX_UTTS = 33, UTTS = 32, MEL_FRAMES = 300, MEL_HIDDEN = 128, FUSION_MEL_HIDDEN = 64,
    FUSION_FRAMES = 4,
};

const TrainCase BENCH_CASES[BENCH_TRAIN_CASES] = {
    {"lstm", "lstm", "50 dialogues x 33 utts x 1611 func (padded grid), 2x BiLSTM(300), Adadelta", 0, false, 0},
    {"gru", "gru", "50 dialogues x 33 utts x 1611 func (padded grid), BiGRU(300), Adam", 0, false, 0},
    {"melstm", "melstm", "32 utts x 300 log-Mel frames x 40 (all valid), 2x BiLSTM(128), Adam", MEL_HIDDEN, false, 0},
    {"melstm-var", "melstm", "the same, utterance i has 75 + below(226) valid frames (right-padded to 300)", MEL_HIDDEN,
     true, 0},
    {"cnn", "cnn", "32 utts x 1 frame 3x64x64, 4 conv blocks + dense 100, Adam", 0, false, 1},
    {"fusion", "fusion", "32 utts: mel 300x40 -> 2x BiLSTM(64) + 4 frames 3x64x64 each -> CNN, Adam", FUSION_MEL_HIDDEN,
     false, FUSION_FRAMES},
};

static MeldModelConfig case_config(const TrainCase *c)
{
    MeldModelConfig cfg = {0};
    cfg.task = TASK_BOTH;
    cfg.func_dim = FUNC_DIM;
    cfg.n_mels = N_MELS;
    cfg.frame_size = FRAME;
    cfg.frame_channels = 3;
    cfg.frames_used = c->frames_used > 0 ? c->frames_used : 1;
    cfg.rnn_hidden = RNN_HIDDEN;
    cfg.mel_hidden = c->mel_hidden > 0 ? c->mel_hidden : MEL_HIDDEN;
    cfg.mel_pool = 1;                  /* the batch holds the frames as they are */
    cfg.mel_max_frames = MEL_FRAMES;
    return cfg;
}

static void heap_batch_free(HeapBatch *h)
{
    for (int i = 0; i < h->n_owned; i++) tensor_free(h->owned[i]);
    free(h->b.slot), free(h->b.utt_index), free(h->b.emotion), free(h->b.sentiment);
    memset(h, 0, sizeof *h);
}

static Tensor *heap_tensor(HeapBatch *h, int ndim, const int *shape)
{
    Tensor *t = tensor_new(NULL, ndim, shape);
    if (t) h->owned[h->n_owned++] = t;
    return t;
}

/* Dialogue lengths of the padded grid: 33, then 1 + below(27) each. */
static void dialogue_lengths(int *len)
{
    Rng r;
    rng_seed(&r, BENCH_SEED, LENGTH_STREAM);
    len[0] = MAX_UTTS;
    for (int i = 1; i < DIALOGUES; i++) len[i] = 1 + (int)rng_below(&r, LENGTH_SPAN);
}

/* The label grid B x T of items [first, first + count): mask, labels and
 * the slot of every real utterance. Dialogue level: of the 50 dialogues
 * right-padded to 33 (a share is padded to its own longest); utterance
 * level: of the 32 utterances, T = 1. */
static int fill_layout(HeapBatch *h, bool dialogue, int first, int count, Rng *r)
{
    Batch *b = &h->b;
    int len[DIALOGUES];
    if (dialogue) dialogue_lengths(len);
    else for (int i = 0; i < UTTS; i++) len[i] = 1;
    b->B = count;
    b->T = 1;
    for (int d = first; d < first + count; d++) b->T = len[d] > b->T ? len[d] : b->T;
    int grid = b->B * b->T, gs[2] = {b->B, b->T};
    b->grid_mask = heap_tensor(h, 2, gs);                    /* zeros = padding */
    b->slot = calloc((size_t)grid, sizeof(int));
    b->utt_index = calloc((size_t)grid, sizeof(int));
    b->emotion = calloc((size_t)grid, sizeof(int));
    b->sentiment = calloc((size_t)grid, sizeof(int));
    if (!b->grid_mask || !b->slot || !b->utt_index || !b->emotion || !b->sentiment)
        return meld_errorf("bench train: out of memory for the batch");
    b->mask = b->grid_mask->data;
    for (int d = 0; d < b->B; d++)
        for (int t = 0; t < len[first + d]; t++) {
            int slot = d * b->T + t;
            b->mask[slot] = 1;
            b->emotion[slot] = (int)rng_below(r, 7);
            b->sentiment[slot] = (int)rng_below(r, 3);
            b->slot[b->n_utts] = slot;
            b->utt_index[b->n_utts++] = slot;
        }
    return MELD_OK;
}

/* Valid log-Mel frames of each utterance: all MEL_FRAMES, or for the
 * variable-length case MEL_MIN + below(MEL_FRAMES - MEL_MIN + 1). */
static void mel_lengths(bool variable, int *len)
{
    Rng r;
    rng_seed(&r, BENCH_SEED, MEL_STREAM);
    for (int u = 0; u < UTTS; u++)
        len[u] = variable ? MEL_MIN + (int)rng_below(&r, MEL_FRAMES - MEL_MIN + 1) : MEL_FRAMES;
}

/* The inputs the model asked for (spec->needs), random but seeded:
 * functional vectors N(0,1) on real slots (0 on padding, as batch.c's
 * z-normalised features), log-Mel N(0,1) on valid frames (0 and mask 0 on
 * padding), pixels U(-1, 1). */
static int fill_inputs(HeapBatch *h, const BatchSpec *spec, const MeldModelConfig *cfg, bool mel_var, int first, Rng *r)
{
    Batch *b = &h->b;
    if (spec->needs & NEED_FUNC) {
        int s[3] = {b->B, b->T, FUNC_DIM};
        if (!(b->func = heap_tensor(h, 3, s))) return MELD_ERR;
        for (int u = 0; u < b->n_utts; u++)
            for (int d = 0; d < FUNC_DIM; d++) b->func->data[(size_t)b->slot[u] * FUNC_DIM + d] = rng_normal(r);
    }
    if (spec->needs & NEED_MEL) {
        int s[3] = {b->n_utts, MEL_FRAMES, N_MELS};
        if (!(b->mel = heap_tensor(h, 3, s)) || !(b->mel_mask = heap_tensor(h, 2, s))) return MELD_ERR;
        int len[UTTS];
        mel_lengths(mel_var, len);
        for (int u = 0; u < b->n_utts; u++)
            for (int t = 0; t < len[first + u]; t++) {
                b->mel_mask->data[u * MEL_FRAMES + t] = 1.0f;
                for (int d = 0; d < N_MELS; d++) b->mel->data[((size_t)u * MEL_FRAMES + t) * N_MELS + d] = rng_normal(r);
            }
    }
    if (spec->needs & NEED_FRAMES) {
        int s[4] = {b->n_utts * cfg->frames_used, cfg->frame_channels, FRAME, FRAME};
        if (!(b->frames = heap_tensor(h, 4, s))) return MELD_ERR;
        tensor_fill_uniform(b->frames, r, -1.0f, 1.0f);
    }
    return MELD_OK;
}

/* ---- one model: create, train, time ----------------------------------------- */


void trainer_free(Trainer *t)
{
    meld_model_free(t->model);
    optim_free(t->opt);
    heap_batch_free(&t->batch);
    graph_free(&t->g);
}

int train_case_items(const TrainCase *c)
{
    return strcmp(c->kind, "gru") && strcmp(c->kind, "lstm") ? UTTS : DIALOGUES;
}

int trainer_init(Trainer *t, const TrainCase *c, int first, int count)
{
    memset(t, 0, sizeof *t);
    graph_init(&t->g, BENCH_SEED);
    t->g.training = true;
    MeldModelConfig cfg = case_config(c);
    Rng init, data;
    rng_seed(&init, BENCH_SEED, 1);
    rng_seed(&data, BENCH_SEED, 2);
    if (!(t->model = meld_model_create(c->kind, &cfg, &init))) return MELD_ERR;
    t->n_params = meld_model_params(t->model, t->param_tensors);
    for (int i = 0; i < t->n_params; i++) {
        Tensor *p = t->param_tensors[i];
        t->params[i] = (ParamRef){p->name, p->data, p->grad, p->size};
    }
    OptimHparams hp;
    if (optim_defaults(t->model->kind->default_optim, &hp)) return MELD_ERR;
    hp.lr = t->model->kind->default_lr;
    if (!(t->opt = optim_create(t->model->kind->default_optim, &hp, t->params, t->n_params))) return MELD_ERR;
    BatchSpec spec = meld_model_batch_spec(t->model, true);
    if (fill_layout(&t->batch, spec.dialogue_level, first, count, &data)) return MELD_ERR;
    return fill_inputs(&t->batch, &spec, &cfg, c->mel_var, first, &data);
}

double bench_load_average(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = -1;
        fclose(f);
    }
    return l;
}

int bench_train_int_option(const char *opt, const char *v, int lo, int hi, int *out)
{
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || *end || end == v || x < lo || x > hi) {
        fprintf(stderr, "bench train: %s needs an integer in %d..%d\n", opt, lo, hi);
        return -1;
    }
    *out = (int)x;
    return 0;
}
