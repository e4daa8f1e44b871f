/* ./bench train: time of one training step of each MELD model, at 1 and N
 * threads, beside the same model in PyTorch, in one invocation.
 *
 * A step is exactly what pipeline/train/train.c's train_epoch does per batch:
 *     forward -> meld_model_loss (emotion CE + sentiment CE, masked mean,
 *     no class weights) -> graph_backward -> optim_clip_grad_norm (5)
 *     -> optim_step -> optim_zero_grad -> graph_reset
 * with the model's default optimiser and learning rate (lstm Adadelta,
 * the others Adam). The batch is filled once, by hand, with seeded random
 * data (tensor/rng.h), so no corpus or cache is needed; it lives on the
 * heap, outside the graph's arena, like a torch tensor made once before
 * the loop. Shapes (benchmarks/torch_train.py builds the same):
 *
 *   lstm, gru  50 dialogues x 33 utterances x 1611 features (the MELD
 *              baseline's audio vector), right-padded: dialogue 0 has 33
 *              utterances, dialogue i > 0 has 1 + below(27) drawn from
 *              PCG32(seed 1, stream 7) (59 % of the grid is padding).
 *              rnn_hidden 300.
 *   melstm     32 utterances x 300 log-Mel frames x 40, all frames valid,
 *              mel_hidden 128.
 *   melstm-var the same model and tensors, but utterance u has 75 +
 *              below(226) valid frames (PCG32 seed 1, stream 8), the rest
 *              masked: real clips differ in length, and our masked LSTM
 *              skips the padded frames (torch: padded and packed).
 *   cnn        32 utterances x 1 face frame 3x64x64 (frames_used 1).
 *   fusion     32 utterances: mel 300 x 40 (mel_hidden 64, `meld train`'s
 *              default for fusion --audio mel) + 4 frames 3x64x64 each; no
 *              --context; with its training aids (auxiliary heads, modality
 *              dropout), as torch_train.py's Fusion.
 *
 * Timing: `warmup` steps, then the median (and minimum) of `steps` steps,
 * per thread count (threadpool_set_threads). utterances/s = the batch's
 * real utterances / median step time. The loss of the first and of the
 * last step is printed as a sanity check (the optimiser is fitting one
 * fixed random batch, so it should fall).
 *
 * Roofline: the step's work W is the multiply-adds of its matrix products
 * (2 flops each; GEMMs and convolutions, forward and backward), counted on
 * the real data only (no padded utterance or frame), see step_work(). The
 * roofline time is W / P, P the FMA peak of this machine on the ISA path in
 * effect at that thread count (kernel_timing.h: measured at the start, the
 * best of that and a second measurement at the end); "% roofline" =
 * 100 (W / P) / step time. Element-wise maths, the loss, clipping and the
 * optimiser are time the roofline does not pay, so 100 % is out of reach.
 *
 * PyTorch: when `/usr/bin/python3 -c 'import torch'` works, the script
 * benchmarks/torch_train.py times the same steps in subprocesses, one per
 * setting: 1 thread; N threads with the default OpenMP wait policy; N
 * threads with OMP_WAIT_POLICY=PASSIVE (on a small shared machine libgomp's
 * spinning workers can make torch slower with 2 threads than with 1). For
 * lstm/gru (and melstm-var) torch runs both on the padded batch ("padded":
 * the RNN computes every step, padding included) and with
 * pack_padded_sequence ("packed": only the real steps, which is what our
 * masked RNN does). Every speed-up printed is against torch's FASTEST
 * setting using at most as many threads as ours (padded or packed, 1 or N
 * threads, either wait policy), the table names it; speedup = torch ms /
 * ours ms. Each process gets OPENBLAS_NUM_THREADS = its thread count and
 * the kernels of the ISA path we run on (child_env): OPENBLAS_CORETYPE
 * (torch as installed here runs its GEMMs in OpenBLAS, which falls back to
 * SSE3 kernels on CPUs it does not know, which would flatter us 3-7x),
 * ATEN_CPU_CAPABILITY and ONEDNN_MAX_CPU_ISA, so that MELD_ISA=avx2 compares
 * AVX2 with AVX2. Each model's torch runs come right after ours, so both
 * see the machine in the same state; with --rounds N that pair is repeated
 * N times and the table gives the medians (of the times, and of the rounds'
 * own speed-ups), since this VM's speed drifts by tens of percent over
 * minutes.
 * The subprocess is started with posix_spawn and a fixed argument vector
 * (model names from the table below, numbers we format): no shell, no
 * user text in it. No timing is asserted anywhere. */
#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchmarks/bench.h"
#include "benchmarks/kernel_timing.h"
#include "optim/optim.h"
#include "pipeline/models/models.h"
#include "tensor/cpu.h"
#include "tensor/error.h"
#include "tensor/rng.h"
#include "tensor/threadpool.h"

extern char **environ;

enum {
    BENCH_SEED = 1,
    LENGTH_STREAM = 7, LENGTH_SPAN = 27,       /* dialogue lengths, as torch_train.py */
    MEL_STREAM = 8, MEL_MIN = 75,              /* melstm-var frame counts, likewise */
    DIALOGUES = 50, MAX_UTTS = 33, FUNC_DIM = 1611, RNN_HIDDEN = 300,
    UTTS = 32, MEL_FRAMES = 300, N_MELS = 40, MEL_HIDDEN = 128, FUSION_MEL_HIDDEN = 64,
    FRAME = 64, FUSION_FRAMES = 4,
    GRAD_CLIP = 5,
    MAX_CASES = 6, MAX_THREAD_RUNS = 2, MAX_ROUNDS = 9, MAX_TORCH_ROWS = 6 * 6 * MAX_ROUNDS,
};

/* ---- the models and their inputs ------------------------------------------ */

typedef struct {
    const char *name;      /* the case; also torch_train.py's name */
    const char *kind;      /* meld_model_create kind */
    const char *input;     /* the batch, for the header */
    int mel_hidden;        /* 0: no mel input */
    bool mel_var;          /* mel lengths 75 + below(226) instead of all 300 */
    int frames_used;       /* face frames per utterance, 0: none */
} TrainCase;

static const TrainCase CASES[MAX_CASES] = {
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

/* A Batch whose arrays and tensors are on the heap (they outlive every
 * graph_reset); owned[] are the tensors to free. */
typedef struct {
    Batch b;
    Tensor *owned[5];
    int n_owned;
} HeapBatch;

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

/* The label grid B x T: mask, labels and the slot of every real utterance.
 * Dialogue level: 50 x 33 right-padded; utterance level: 32 x 1. */
static int fill_layout(HeapBatch *h, bool dialogue, Rng *r)
{
    Batch *b = &h->b;
    int len[DIALOGUES];
    b->B = dialogue ? DIALOGUES : UTTS;
    b->T = dialogue ? MAX_UTTS : 1;
    if (dialogue) dialogue_lengths(len);
    else for (int i = 0; i < UTTS; i++) len[i] = 1;
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
        for (int t = 0; t < len[d]; t++) {
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
static int fill_inputs(HeapBatch *h, const BatchSpec *spec, const MeldModelConfig *cfg, bool mel_var, Rng *r)
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
            for (int t = 0; t < len[u]; t++) {
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

typedef struct {
    MeldModel *model;
    Optimizer *opt;
    ParamRef params[MELD_MODEL_MAX_PARAMS];
    int n_params;
    HeapBatch batch;
    Graph g;
} Trainer;

static void trainer_free(Trainer *t)
{
    meld_model_free(t->model);
    optim_free(t->opt);
    heap_batch_free(&t->batch);
    graph_free(&t->g);
}

/* The model, its default optimiser (as train.c's create_optimizer) and the batch. */
static int trainer_init(Trainer *t, const TrainCase *c)
{
    memset(t, 0, sizeof *t);
    graph_init(&t->g, BENCH_SEED);
    t->g.training = true;
    MeldModelConfig cfg = case_config(c);
    Rng init, data;
    rng_seed(&init, BENCH_SEED, 1);
    rng_seed(&data, BENCH_SEED, 2);
    if (!(t->model = meld_model_create(c->kind, &cfg, &init))) return MELD_ERR;
    Tensor *p[MELD_MODEL_MAX_PARAMS];
    t->n_params = meld_model_params(t->model, p);
    for (int i = 0; i < t->n_params; i++) t->params[i] = (ParamRef){p[i]->name, p[i]->data, p[i]->grad, p[i]->size};
    OptimHparams hp;
    if (optim_defaults(t->model->kind->default_optim, &hp)) return MELD_ERR;
    hp.lr = t->model->kind->default_lr;
    if (!(t->opt = optim_create(t->model->kind->default_optim, &hp, t->params, t->n_params))) return MELD_ERR;
    BatchSpec spec = meld_model_batch_spec(t->model, true);
    if (fill_layout(&t->batch, spec.dialogue_level, &data)) return MELD_ERR;
    return fill_inputs(&t->batch, &spec, &cfg, c->mel_var, &data);
}

/* One training step; *loss gets its value. */
static int train_step(Trainer *t, float *loss)
{
    MeldModel *m = t->model;
    const Batch *b = &t->batch.b;
    Tensor *le = NULL, *ls = NULL, *l = NULL;
    float parts[2];
    int rc = m->kind->forward(m, &t->g, b, &le, &ls);
    if (rc == MELD_OK && !(l = meld_model_loss(m, &t->g, b, le, ls, NULL, NULL, parts))) rc = MELD_ERR;
    if (rc == MELD_OK) rc = graph_backward(&t->g, l);
    if (rc == MELD_OK) {
        *loss = l->data[0];
        optim_clip_grad_norm(t->params, t->n_params, GRAD_CLIP);
        rc = optim_step(t->opt, t->params, t->n_params);
        optim_zero_grad(t->params, t->n_params);
    }
    graph_reset(&t->g);
    return rc;
}

typedef struct {
    int threads;
    double median_ms, min_ms;
    float loss_first, loss_last;
} StepTiming;

static int time_steps(Trainer *t, int threads, int warmup, int steps, StepTiming *out)
{
    if (threadpool_set_threads(threads)) return MELD_ERR;
    double ms[1000];
    float loss = 0;
    out->threads = threads;
    for (int i = 0; i < warmup + steps; i++) {
        double t0 = bench_now();
        if (train_step(t, &loss)) return MELD_ERR;
        if (i >= warmup) ms[i - warmup] = (bench_now() - t0) * 1e3;
        if (i == 0) out->loss_first = loss;
    }
    out->loss_last = loss;
    out->median_ms = bench_median(ms, steps);   /* sorts ms */
    out->min_ms = ms[0];
    return MELD_OK;
}

typedef struct {
    const TrainCase *c;
    size_t n_params;
    int n_utts, grid;
    double work;               /* flops of the step's matrix products (step_work) */
    StepTiming run[MAX_THREAD_RUNS];
    int n_runs;
} CaseResult;

/* ---- the work of a step ------------------------------------------------------
 * Multiply-adds of the matrix products (x 2 = flops), on real data only.
 *   recurrent layer, G gates (LSTM 4, GRU 3), input I, hidden H, one
 *   direction over N valid steps: forward x W_ih^T and h W_hh^T: N G H (I + H);
 *   backward dW_ih, dW_hh: N G H (I + H); dh through W_hh: N G H H; dx
 *   through W_ih: N G H I, except in the first layer (its input, the
 *   features, needs no gradient). Bidirectional: twice.
 *   dense layer, R rows, in -> out: R in out forward, the same for dW and
 *   for dx (the first layer of a branch excepted, as above).
 *   convolution, N images, C -> OC channels, K x K kernel, OH x OW output:
 *   N OC OH OW C K K forward, the same for dW and for dx (not the first).
 * Batch norm, activations, pooling, dropout, the loss and the optimiser are
 * element-wise: not counted. Heads on a padded grid count its real rows. */
static double rnn_macs(double N, int G, int I, int H, bool first)
{
    return 2.0 * N * G * H * ((first ? 2.0 : 3.0) * I + 3.0 * H);   /* both directions */
}

static double dense_macs(double R, int in, int out, bool first) { return R * in * out * (first ? 2.0 : 3.0); }

static double conv_macs(double N, int C, int OC, int side, bool first)
{
    return N * OC * (double)side * side * C * 9 * (first ? 2.0 : 3.0);   /* 3x3, 'same' */
}

/* The frame CNN (4 blocks 16-32-64-128, 3x3 'same', pool 2) and its dense 100. */
static double frame_cnn_macs(double frames)
{
    static const int ch[5] = {3, 16, 32, 64, 128};
    double m = 0;
    for (int b = 0; b < 4; b++) m += conv_macs(frames, ch[b], ch[b + 1], FRAME >> b, b == 0);
    return m + dense_macs(frames, 128 * (FRAME / 16) * (FRAME / 16), 100, false);
}

/* 2-layer bidirectional LSTM encoder over `frames` valid frames. */
static double mel_lstm_macs(double frames, int hidden)
{
    return rnn_macs(frames, 4, N_MELS, hidden, true) + rnn_macs(frames, 4, 2 * hidden, hidden, false);
}

static double step_work(const TrainCase *c, const Batch *b)
{
    enum { HEADS = 7 + 3 };
    double utts = b->n_utts, frames = 0, m = 0;
    for (size_t i = 0; b->mel_mask && i < b->mel_mask->size; i++) frames += b->mel_mask->data[i];
    if (!strcmp(c->kind, "lstm"))
        m = rnn_macs(utts, 4, FUNC_DIM, RNN_HIDDEN, true) + rnn_macs(utts, 4, 2 * RNN_HIDDEN, RNN_HIDDEN, false) +
            dense_macs(utts, 2 * RNN_HIDDEN, HEADS, false);
    else if (!strcmp(c->kind, "gru"))
        m = rnn_macs(utts, 3, FUNC_DIM, RNN_HIDDEN, true) + dense_macs(utts, 2 * RNN_HIDDEN, HEADS, false);
    else if (!strcmp(c->kind, "melstm"))
        m = mel_lstm_macs(frames, c->mel_hidden) + dense_macs(utts, 2 * c->mel_hidden, 128, false) +
            dense_macs(utts, 128, HEADS, false);
    else if (!strcmp(c->kind, "cnn"))
        m = frame_cnn_macs(utts * c->frames_used) + dense_macs(utts * c->frames_used, 100, HEADS, false);
    else if (!strcmp(c->kind, "fusion"))   /* branches, fuse dense 256, heads, auxiliary heads */
        m = frame_cnn_macs(utts * c->frames_used) + mel_lstm_macs(frames, c->mel_hidden) +
            dense_macs(utts, 2 * c->mel_hidden + 100, 256, false) + dense_macs(utts, 256, HEADS, false) +
            dense_macs(utts, 2 * c->mel_hidden, HEADS, false) + dense_macs(utts, 100, HEADS, false);
    return 2.0 * m;
}

static double load_average(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = -1;
        fclose(f);
    }
    return l;
}

/* Times one case at 1 and max_threads threads, printing a line per run. */
static int bench_case(const TrainCase *c, int max_threads, int warmup, int steps, CaseResult *res)
{
    Trainer t;
    memset(res, 0, sizeof *res);
    res->c = c;
    int rc = trainer_init(&t, c);
    if (rc == MELD_OK) {
        res->n_params = meld_model_param_count(t.model);
        res->n_utts = t.batch.b.n_utts;
        res->grid = t.batch.b.B * t.batch.b.T;
        const Batch *b = &t.batch.b;
        res->work = step_work(c, b);
        double valid = 0;
        for (size_t i = 0; b->mel_mask && i < b->mel_mask->size; i++) valid += b->mel_mask->data[i];
        double pad = b->mel_mask ? 1.0 - valid / (double)b->mel_mask->size : (double)(res->grid - res->n_utts) / res->grid;
        printf("%-10s %s\n           %zu parameters, %d utterances, %.1f%% padding (%s), %.2f GFLOP of matrix "
               "products per step, load %.2f\n", c->name, c->input, res->n_params, res->n_utts, 100.0 * pad,
               b->mel_mask ? "log-Mel frames" : "label grid", res->work * 1e-9, load_average());
    }
    int threads[MAX_THREAD_RUNS] = {1, max_threads};
    for (int k = 0; rc == MELD_OK && k < (max_threads > 1 ? 2 : 1); k++) {
        StepTiming *s = &res->run[res->n_runs];
        rc = time_steps(&t, threads[k], warmup, steps, s);
        if (rc != MELD_OK) break;
        res->n_runs++;
        printf("           %d thread%s: %9.1f ms/step (min %9.1f)  %8.1f utt/s   loss %.4f -> %.4f\n", s->threads,
               s->threads > 1 ? "s" : " ", s->median_ms, s->min_ms, res->n_utts / (s->median_ms * 1e-3), s->loss_first,
               s->loss_last);
        fflush(stdout);
    }
    trainer_free(&t);
    return rc;
}

/* ---- PyTorch ------------------------------------------------------------------ */

typedef struct {
    char model[16], variant[8];
    int threads, passive, utts, round;
    double median_ms, min_ms;
} TorchRow;

typedef struct {
    TorchRow row[MAX_TORCH_ROWS];
    int n;
} TorchResults;

/* benchmarks/torch_train.py beside the ./bench binary, else in the working directory. */
static void script_path(char *buf, size_t cap)
{
    char exe[1024];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(buf, cap, "%s/benchmarks/torch_train.py", exe);
            if (access(buf, R_OK) == 0) return;
        }
    }
    snprintf(buf, cap, "benchmarks/torch_train.py");
}

/* The kernels torch may use, matching the ISA path we run on (cpu_isa()):
 * the OpenBLAS core (Debian's torch does its GEMMs in OpenBLAS, whose CPU
 * detection does not recognise every virtualised CPU and then falls back to
 * its Prescott (SSE3) kernels, 4x slower), ATen's own vector kernels
 * (ATEN_CPU_CAPABILITY) and oneDNN's convolutions (ONEDNN_MAX_CPU_ISA, and
 * DNNL_MAX_CPU_ISA for older builds). NULL core: leave it to OpenBLAS. */
typedef struct {
    const char *openblas_core, *aten, *onednn;
} TorchIsa;

static TorchIsa torch_isa(void)
{
    switch (cpu_isa()) {
    case CPU_ISA_AVX512: return (TorchIsa){"SkylakeX", "avx512", "AVX512_CORE"};
    case CPU_ISA_AVX2: return (TorchIsa){"Haswell", "avx2", "AVX2"};
    default: return (TorchIsa){NULL, "default", NULL};
    }
}

/* The environment for python: ours without the OpenMP/OpenBLAS thread,
 * wait-policy and ISA variables, then
 *   OMP_WAIT_POLICY=PASSIVE         when passive;
 *   OPENBLAS_NUM_THREADS=threads    torch.set_num_threads does not limit
 *                                   OpenBLAS (pthreads build): without this,
 *                                   "1 thread" would run GEMMs on every core;
 *   OPENBLAS_CORETYPE, ATEN_CPU_CAPABILITY, ONEDNN_MAX_CPU_ISA,
 *   DNNL_MAX_CPU_ISA                torch_isa(), whatever the caller's
 *                                   environment says (a machine-wide
 *                                   OPENBLAS_CORETYPE=Haswell would hold
 *                                   torch to AVX2 on an AVX-512 path).
 * NULL-terminated malloc'd array of borrowed strings (the added ones live
 * in bufs). *what describes the settings (bufs[0]). */
enum { ENV_BUFS = 6, ENV_BUF = 96 };
static char **child_env(bool passive, int threads, char bufs[ENV_BUFS][ENV_BUF])
{
    static const char *const DROP[] = {"OMP_WAIT_POLICY=", "OPENBLAS_NUM_THREADS=", "OMP_NUM_THREADS=",
                                       "ATEN_CPU_CAPABILITY=", "ONEDNN_MAX_CPU_ISA=", "DNNL_MAX_CPU_ISA=",
                                       "OPENBLAS_CORETYPE="};
    static char passive_policy[] = "OMP_WAIT_POLICY=PASSIVE";
    size_t n = 0;
    while (environ[n]) n++;
    char **env = calloc(n + ENV_BUFS + 2, sizeof *env);
    if (!env) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool drop = false;
        for (size_t d = 0; d < sizeof DROP / sizeof DROP[0]; d++) drop |= !strncmp(environ[i], DROP[d], strlen(DROP[d]));
        if (!drop) env[k++] = environ[i];
    }
    if (passive) env[k++] = passive_policy;
    TorchIsa ti = torch_isa();
    const char *core = ti.openblas_core;
    snprintf(bufs[1], ENV_BUF, "OPENBLAS_NUM_THREADS=%d", threads);
    env[k++] = bufs[1];
    snprintf(bufs[2], ENV_BUF, "OPENBLAS_CORETYPE=%s", core ? core : "");
    if (core) env[k++] = bufs[2];
    snprintf(bufs[3], ENV_BUF, "ATEN_CPU_CAPABILITY=%s", ti.aten);
    env[k++] = bufs[3];
    if (ti.onednn) {
        snprintf(bufs[4], ENV_BUF, "ONEDNN_MAX_CPU_ISA=%s", ti.onednn);
        snprintf(bufs[5], ENV_BUF, "DNNL_MAX_CPU_ISA=%s", ti.onednn);
        env[k++] = bufs[4];
        env[k++] = bufs[5];
    }
    snprintf(bufs[0], ENV_BUF, "OpenBLAS %s, ATen %s, oneDNN %s", core ? core : "(its own detection)", ti.aten,
             ti.onednn ? ti.onednn : "(all)");
    return env;
}

/* Runs argv (argv[0] an absolute path) with env; each line of its stdout and
 * stderr goes to on_line. Returns the exit status (-1 if it did not run). */
static int run_child(char *const argv[], char **env, void (*on_line)(void *, const char *), void *ctx)
{
    int fd[2];
    if (pipe(fd) != 0) return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fd[1], 2);
    posix_spawn_file_actions_addclose(&fa, fd[1]);
    pid_t pid;
    int err = posix_spawn(&pid, argv[0], &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    if (err != 0) {
        close(fd[0]);
        return -1;
    }
    FILE *f = fdopen(fd[0], "r");
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (on_line) on_line(ctx, line);
    }
    if (f) fclose(f);
    else close(fd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool torch_available(void)
{
    char py[] = "/usr/bin/python3", c[] = "-c", code[] = "import torch";
    char *argv[] = {py, c, code, NULL}, bufs[ENV_BUFS][ENV_BUF];
    char **env = child_env(false, 1, bufs);
    int status = env ? run_child(argv, env, NULL, NULL) : -1;
    free(env);
    return status == 0;
}

typedef struct {
    TorchResults *out;
    bool passive;
    int round;
} TorchParse;

static void torch_line(void *ctx, const char *line)
{
    TorchParse *p = ctx;
    TorchRow r = {.passive = p->passive, .round = p->round};
    if (sscanf(line, "RESULT model=%15s variant=%7s threads=%d median_ms=%lf min_ms=%lf utts=%d", r.model, r.variant,
               &r.threads, &r.median_ms, &r.min_ms, &r.utts) == 6) {
        if (p->out->n < MAX_TORCH_ROWS) p->out->row[p->out->n++] = r;
    } else {
        printf("  torch: %s\n", line);
    }
}

/* One python process: the listed models at one thread count. */
static int torch_run(const char *models, int threads, int warmup, int steps, bool passive, int round,
                     TorchResults *out)
{
    char script[1100], steps_s[16], warm_s[16], m_arg[128], t_arg[16], env_bufs[ENV_BUFS][ENV_BUF];
    script_path(script, sizeof script);
    snprintf(steps_s, sizeof steps_s, "%d", steps);
    snprintf(warm_s, sizeof warm_s, "%d", warmup);
    snprintf(m_arg, sizeof m_arg, "%s", models);
    snprintf(t_arg, sizeof t_arg, "%d", threads);
    char py[] = "/usr/bin/python3", o_models[] = "--models", o_threads[] = "--threads", o_steps[] = "--steps",
         o_warm[] = "--warmup";
    char *argv[] = {py, script, o_models, m_arg, o_threads, t_arg, o_steps, steps_s, o_warm, warm_s, NULL};
    char **env = child_env(passive, threads, env_bufs);
    if (!env) return MELD_ERR;
    printf("running PyTorch: %s --threads %d, OMP_WAIT_POLICY=%s, %s; load %.2f\n", script, threads,
           passive ? "PASSIVE" : "(default)", env_bufs[0], load_average());
    fflush(stdout);
    TorchParse p = {out, passive, round};
    int status = run_child(argv, env, torch_line, &p);
    free(env);
    if (status != 0) return meld_errorf("%s exited with status %d", script, status);
    return MELD_OK;
}

/* A torch setting: variant, thread count, wait policy. */
typedef struct {
    char variant[8];
    int threads, passive;
} TorchSetting;

static bool same_setting(const TorchRow *r, const TorchSetting *s)
{
    return !strcmp(r->variant, s->variant) && r->threads == s->threads && r->passive == s->passive;
}

/* torch's time for (model, setting) in a round; < 0 if absent. */
static double torch_ms(const TorchResults *t, const char *model, const TorchSetting *set, int round)
{
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->row[i].model, model) && t->row[i].round == round && same_setting(&t->row[i], set))
            return t->row[i].median_ms;
    return -1;
}

/* torch's fastest setting for model with at most max_threads threads: the
 * one with the lowest median time over the rounds it ran in. */
static bool torch_fastest(const TorchResults *t, const char *model, int max_threads, int rounds, TorchSetting *best)
{
    double best_ms = -1;
    for (int i = 0; i < t->n; i++) {
        const TorchRow *r = &t->row[i];
        if (strcmp(r->model, model) || r->threads > max_threads) continue;
        TorchSetting s = {"", r->threads, r->passive};
        snprintf(s.variant, sizeof s.variant, "%s", r->variant);
        double ms[MAX_ROUNDS];
        int n = 0;
        for (int k = 0; k < rounds; k++) {
            double v = torch_ms(t, model, &s, k);
            if (v >= 0) ms[n++] = v;
        }
        double med = bench_median(ms, n);
        if (best_ms < 0 || med < best_ms) best_ms = med, *best = s;
    }
    return best_ms >= 0;
}

/* ---- report ------------------------------------------------------------------- */

/* The torch cell of (model, our thread count): its fastest setting with at
 * most as many threads, its median time, and the median over the rounds of
 * the speed-up against it (torch and ours of the same round ran back to
 * back). ours[r] = our median in round r. */
static void print_torch_cell(const TorchResults *t, const char *model, int threads, const double *ours, int rounds)
{
    TorchSetting set;
    if (!torch_fastest(t, model, threads, rounds, &set)) {
        printf(" | %9s %-19s %7s", "-", "", "");
        return;
    }
    double tm[MAX_ROUNDS], ratio[MAX_ROUNDS];
    int n = 0;
    for (int r = 0; r < rounds; r++) {
        double v = torch_ms(t, model, &set, r);
        if (v < 0) continue;
        tm[n] = v, ratio[n] = v / ours[r];
        n++;
    }
    char label[32];
    snprintf(label, sizeof label, "%s %dt%s", set.variant, set.threads, set.passive ? " PASSIVE" : "");
    printf(" | %9.1f %-19s %6.2fx", bench_median(tm, n), label, bench_median(ratio, n));
}

/* res[i * rounds + r]: case i, round r. peak[k]: GFLOP/s at the k-th thread count. */
static void print_comparison(const CaseResult *res, int n, int rounds, const TorchResults *torch, const double *peak)
{
    printf("\nms per training step (median%s); %% roofline = (matrix-product flops / FMA peak) / step time;\n"
           "speedup = PyTorch ms / ours ms%s, against PyTorch's fastest setting with at most as many threads\n",
           rounds > 1 ? " over the rounds" : "", rounds > 1 ? " (median of the rounds' ratios)" : "");
    printf("%-10s %3s | %9s %9s %8s | %9s %-19s %7s\n", "model", "thr", "ours ms", "utt/s", "roofline", "torch ms",
           "its fastest setting", "speedup");
    for (int i = 0; i < n; i++) {
        const CaseResult *first = &res[i * rounds];
        for (int k = 0; k < first->n_runs; k++) {
            double ours[MAX_ROUNDS], sorted[MAX_ROUNDS];
            for (int r = 0; r < rounds; r++) ours[r] = sorted[r] = res[i * rounds + r].run[k].median_ms;
            double med = bench_median(sorted, rounds);
            int threads = first->run[k].threads;
            double roof_ms = peak[k] > 0 ? first->work / (peak[k] * 1e9) * 1e3 : 0;
            printf("%-10s %3d | %9.1f %9.1f %7.1f%%", first->c->name, threads, med, first->n_utts / (med * 1e-3),
                   roof_ms > 0 ? 100.0 * roof_ms / med : 0.0);
            if (torch) print_torch_cell(torch, first->c->name, threads, ours, rounds);
            printf("\n");
        }
    }
}

static void print_torch_raw(const TorchResults *t, const CaseResult *res, int n)
{
    printf("\nPyTorch, every setting (ms per step):\n%-10s %-7s %3s %-8s %5s %9s %9s %6s\n", "model", "variant", "thr",
           "policy", "round", "median", "min", "utts");
    for (int i = 0; i < t->n; i++) {
        const TorchRow *r = &t->row[i];
        printf("%-10s %-7s %3d %-8s %5d %9.1f %9.1f %6d", r->model, r->variant, r->threads,
               r->passive ? "PASSIVE" : "default", r->round + 1, r->median_ms, r->min_ms, r->utts);
        for (int k = 0; k < n; k++)
            if (!strcmp(res[k].c->name, r->model) && res[k].n_utts != r->utts)
                printf("  (ours has %d utterances: inputs differ!)", res[k].n_utts);
        printf("\n");
    }
}

/* ---- command line ------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench train [--model lstm|gru|melstm|melstm-var|cnn|fusion|all] [--threads N]\n"
            "                   [--steps N] [--warmup N] [--rounds N] [--no-torch]\n"
            "\n"
            "Median ms per training step (forward + loss + backward + clip + optimiser) of\n"
            "each model on a seeded random batch, at 1 and N threads (default 2), its %% of the\n"
            "roofline (matrix-product flops / measured FMA peak), and the same steps in PyTorch\n"
            "(benchmarks/torch_train.py) when /usr/bin/python3 has torch: speed-ups are against\n"
            "PyTorch's fastest setting with at most as many threads.\n"
            "--rounds N repeats ours-then-PyTorch N times per model and reports medians: the\n"
            "speed of this VM drifts by tens of percent over minutes.\n"
            "Defaults: --model all --steps 10 --warmup 2 --rounds 1.\n");
}

static int parse_int(const char *opt, const char *v, int lo, int hi, int *out)
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

int bench_train(int argc, char **argv)
{
    const char *model = "all";
    int threads = 2, steps = 10, warmup = 2, rounds = 1;
    bool with_torch = true;
    for (int i = 1; i < argc;) {
        const char *a = argv[i++], *v = i < argc ? argv[i] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        if (!strcmp(a, "--no-torch")) { with_torch = false; continue; }
        int bad = 0;
        if (!strcmp(a, "--model") && v) model = v;
        else if (!strcmp(a, "--threads")) bad = parse_int(a, v, 1, 64, &threads);
        else if (!strcmp(a, "--steps")) bad = parse_int(a, v, 1, 1000, &steps);
        else if (!strcmp(a, "--warmup")) bad = parse_int(a, v, 0, 100, &warmup);
        else if (!strcmp(a, "--rounds")) bad = parse_int(a, v, 1, MAX_ROUNDS, &rounds);
        else {
            fprintf(stderr, "bench train: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (bad) return 2;
        i++; /* the option's value */
    }
    /* The selected cases. */
    const TrainCase *sel[MAX_CASES];
    int n = 0;
    for (int i = 0; i < MAX_CASES; i++)
        if (!strcmp(model, "all") || !strcmp(model, CASES[i].name)) sel[n++] = &CASES[i];
    if (n == 0) {
        fprintf(stderr, "bench train: unknown model '%s' (lstm, gru, melstm, melstm-var, cnn, fusion, all)\n", model);
        return 2;
    }
    printf("bench train: ms per training step = forward + loss + backward + clip_grad_norm(5) + optimiser,\n"
           "median of %d steps after %d warm-up, seeded random batch; %d online cores, ISA path %s, load %.2f\n",
           steps, warmup, threadpool_online_cores(), cpu_isa_name(cpu_isa()), load_average());
    /* The FMA peak at our thread counts, for the roofline column: measured
     * now and again at the end, the higher kept (a busy machine can only
     * pull a measurement down). */
    int n_thr = threads > 1 ? 2 : 1, thr[2] = {1, threads};
    double peak[2] = {0, 0};
    for (int k = 0; k < n_thr; k++) peak[k] = bench_fma_peak_gflops(cpu_isa(), thr[k]);
    printf("FMA peak (%s, measured): %.1f GFLOP/s on 1 thread", cpu_isa_name(cpu_isa()), peak[0]);
    if (n_thr > 1) printf(", %.1f on %d", peak[1], threads);
    printf("\n\n");
    /* Each model's torch runs follow ours straight away: this virtual
     * machine's speed drifts by up to 30 % over minutes (other tenants), and
     * adjacent runs see the same machine. */
    static TorchResults torch;
    torch.n = 0;
    bool have_torch = false;
    if (!with_torch) {
        printf("PyTorch: skipped (--no-torch)\n\n");
    } else if (!torch_available()) {
        printf("PyTorch: not available (/usr/bin/python3 -c 'import torch' failed): ours only\n\n");
    } else {
        have_torch = true;
    }
    static CaseResult res[MAX_CASES * MAX_ROUNDS];
    for (int i = 0; i < n; i++)
        for (int r = 0; r < rounds; r++) {
            if (rounds > 1) printf("round %d of %d\n", r + 1, rounds);
            if (bench_case(sel[i], threads, warmup, steps, &res[i * rounds + r])) {
                fprintf(stderr, "bench train: %s: %s\n", sel[i]->name, meld_error());
                return 1;
            }
            if (!have_torch) continue;
            const char *name = sel[i]->name;
            have_torch = torch_run(name, 1, warmup, steps, false, r, &torch) == MELD_OK;
            if (have_torch && threads > 1) have_torch = torch_run(name, threads, warmup, steps, false, r, &torch) == MELD_OK;
            if (have_torch && threads > 1) have_torch = torch_run(name, threads, warmup, steps, true, r, &torch) == MELD_OK;
            if (!have_torch) printf("PyTorch: failed (%s): ours only\n", meld_error());
            printf("\n");
        }
    for (int k = 0; k < n_thr; k++) {
        double again = bench_fma_peak_gflops(cpu_isa(), thr[k]);
        if (again > peak[k]) peak[k] = again;
    }
    printf("FMA peak again at the end; kept: %.1f GFLOP/s on 1 thread", peak[0]);
    if (n_thr > 1) printf(", %.1f on %d", peak[1], threads);
    printf("\n");
    print_comparison(res, n, rounds, have_torch ? &torch : NULL, peak);
    if (have_torch) print_torch_raw(&torch, res, n * rounds);
    printf("\nload at the end: %.2f\n", load_average());
    return 0;
}
