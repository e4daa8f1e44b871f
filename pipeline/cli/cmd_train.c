/* meld train: prepare (if needed) and train one model, report the test split. */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli/commands.h"
#include "pipeline/cli/corpus.h"
#include "pipeline/cli/messages.h"
#include "pipeline/features/clip.h"
#include "pipeline/cli/report.h"
#include "pipeline/dist/comm.h"
#include "pipeline/train/train.h"
#include "tensor/error.h"
#include "tensor/threadpool.h"

/* Per-model defaults, in MODEL_CHOICES' order. */
typedef struct {
    int epochs, batch, patience;
    int hidden;   /* the model's LSTM/GRU units (fusion: its --audio mel encoder; cnn: none) */
} ModelDefaults;

static const ModelDefaults DEFAULTS[] = {
    /* gru */ {30, 16, 6, 300}, /* lstm */ {30, 16, 6, 300}, /* melstm */ {10, 32, 4, 128},
    /* cnn */ {20, 32, 6, 0}, /* fusion */ {16, 32, 5, 64},
};
_Static_assert(sizeof DEFAULTS / sizeof DEFAULTS[0] == N_MODEL_CHOICES, "one row per model");

/* "gru 30, lstm 30, melstm 10, cnn 20, fusion 16" from one column of DEFAULTS
 * (a model with 0 there is left out). */
static void per_model(char *buf, size_t cap, size_t column, const char *after)
{
    size_t used = 0;
    for (int m = 0; m < N_MODEL_CHOICES && used < cap; m++) {
        int v = *(const int *)((const char *)&DEFAULTS[m] + column);
        if (!v) continue;
        int n = snprintf(buf + used, cap - used, "%s%s %d", used ? ", " : "", MELD_MODEL_KINDS[m]->name, v);
        used += n > 0 ? (size_t)n : 0;
    }
    if (used < cap) snprintf(buf + used, cap - used, "%s", after);
}

static void default_epochs(char *b, size_t n) { per_model(b, n, offsetof(ModelDefaults, epochs), "; twice fusion's with --context"); }
static void default_batch(char *b, size_t n) { per_model(b, n, offsetof(ModelDefaults, batch), "; 8 dialogues with --context"); }
static void default_patience(char *b, size_t n) { per_model(b, n, offsetof(ModelDefaults, patience), "; fusion's + 2 with --context"); }
static void default_hidden(char *b, size_t n) { per_model(b, n, offsetof(ModelDefaults, hidden), ""); }

static void default_optim(char *buf, size_t cap)
{
    size_t used = 0;
    for (int m = 0; m < N_MELD_MODEL_KINDS && used < cap; m++) {
        int n = snprintf(buf + used, cap - used, "%s%s %s", m ? ", " : "", MELD_MODEL_KINDS[m]->name,
                         MELD_MODEL_KINDS[m]->default_optim);
        used += n > 0 ? (size_t)n : 0;
    }
}

static void default_lr(char *buf, size_t cap)
{
    size_t used = 0;
    for (int m = 0; m < N_MELD_MODEL_KINDS && used < cap; m++) {
        int n = snprintf(buf + used, cap - used, "%s%s %g", m ? ", " : "", MELD_MODEL_KINDS[m]->name,
                         (double)MELD_MODEL_KINDS[m]->default_lr);
        used += n > 0 ? (size_t)n : 0;
    }
    if (used < cap) snprintf(buf + used, cap - used, "; with --optim, that optimiser's own");
}

typedef struct {
    const char *data, *cache, *model, *task, *optim, *weights, *out, *audio, *cascade, *features;
    float lr, bucket_mb;
    int epochs, batch, patience, threads, seed, hidden, frames, size, mels;
    bool resume, context, lenient, sync_bn;
} TrainArgs;

#define A(f, T) OPT_AT(TrainArgs, f, T)
static const Option OPTIONS[] = {
    {"--data", OPT_TEXT, A(data, const char *), "DIR", .help = "folder holding MELD, searched for the CSVs and clips", .def_text = "$MELD_DATA, else MELD under ./data, ./MELD.Raw or ./MELD, else the built-in corpus in " BUILTIN_CORPUS_DIR},
    {"--cache", OPT_TEXT, A(cache, const char *), "DIR", .help = "feature cache folder", .def_text = "the data folder's cache/"},
    {"--model", OPT_CHOICE, A(model, const char *), MODEL_CHOICES, .help = "model to train, as listed by meld models", .def = "fusion"},
    {"--task", OPT_CHOICE, A(task, const char *), "both|emotion|sentiment", .help = "what to predict", .def = "both"},
    {"--epochs", OPT_INT, A(epochs, int), "N", .help = "most epochs to train", .lo = 1, .hi = 100000, .def_fn = default_epochs},
    {"--batch", OPT_INT, A(batch, int), "N", .help = "batch size: utterances, or dialogues for dialogue-level models", .alias = "--batch-size", .lo = 1, .hi = 100000, .def_fn = default_batch},
    {"--optim", OPT_CHOICE, A(optim, const char *), "adam|adamw|adadelta|sgd|rmsprop", .help = "optimiser", .def_fn = default_optim},
    {"--lr", OPT_REAL, A(lr, float), "X", .help = "learning rate", .lo = 1e-8, .hi = 100, .def_fn = default_lr},
    {"--class-weights", OPT_CHOICE, A(weights, const char *), "auto|meld|none", .help = "per-class loss weights: inverse frequency, the MELD authors', or none", .def = "auto"},
    {"--patience", OPT_INT, A(patience, int), "N", .help = "stop after N epochs without a better dev F1", .lo = 1, .hi = 100000, .def_fn = default_patience},
    {"--threads", OPT_INT, A(threads, int), "N", .help = "threads", .lo = 1, .hi = THREADPOOL_MAX_THREADS, .def_text = "$MELD_THREADS, else every online core"},
    {"--seed", OPT_INT, A(seed, int), "S", .help = "random seed of the initialisation, data order and dropout", .lo = 0, .hi = 2147483647, .def = "1"},
    {"--out", OPT_TEXT, A(out, const char *), "DIR", .help = "run folder: checkpoints and log.jsonl", .def_text = "runs/MODEL, runs/fusion-context with --context"},
    {"--resume", OPT_FLAG, A(resume, bool), .help = "continue the run in --out from last.safetensors"},
    {"--context", OPT_FLAG, A(context, bool), .help = "dialogue-level context: a BiLSTM over a dialogue's utterances", .only = ONLY_FUSION},
    {"--audio", OPT_CHOICE, A(audio, const char *), "functionals|mel", .help = "audio branch: the functional-vector MLP or the log-Mel LSTM", .def = "functionals", .only = ONLY_FUSION},
    {"--hidden", OPT_INT, A(hidden, int), "N", .help = "units of the recurrent layers; fusion: of its --audio mel LSTM", .lo = 1, .hi = 4096, .def_fn = default_hidden, .only = ONLY_GRU | ONLY_LSTM | ONLY_MELSTM | ONLY_FUSION},
    {"--frames", OPT_INT, A(frames, int), "K", .help = "face frames per utterance in the cache", .lo = 1, .hi = CLIP_MAX_K},
    {"--size", OPT_INT, A(size, int), "N", .help = "side of the face crops in the cache, pixels", .lo = 16, .hi = PREPARE_MAX_SIZE},
    {"--mels", OPT_INT, A(mels, int), "N", .help = "log-Mel bands in the cache", .lo = 1, .hi = PREPARE_MAX_MELS},
    {"--cascade", OPT_TEXT, A(cascade, const char *), "FILE|none", .help = "Haar face cascade for the cache, or none for centre crops", .def_text = "opencv-data's frontal-face cascade; none for the built-in corpus"},
    {"--lenient", OPT_FLAG, A(lenient, bool), .help = "skip malformed CSV rows instead of stopping"},
    {"--features", OPT_CHOICE, A(features, const char *), "clips|meld-pickle", .help = "inputs: features computed from the clips, or (gru, lstm; one --task) MELD's released audio features, audio_embeddings_feature_selection_{emotion,sentiment}.pkl beside the CSVs under --data", .def = "clips"},
    {"--sync-bn", OPT_FLAG, A(sync_bn, bool), .help = "under mpirun: BatchNorm statistics of the whole batch, not of each process's share", .only = ONLY_CNN | ONLY_FUSION},
    {"--bucket-mb", OPT_REAL, A(bucket_mb, float), "X", .help = "under mpirun: gradients summed in buckets of X MiB during the backward pass; 0: all after it", .lo = 0, .hi = 4096, .def = "1"},
};
#undef A

static int run_train(int argc, char **argv);

const CommandSpec CMD_TRAIN = {
    .name = "train",
    .summary = "train a model (default: fusion on the built-in synthetic corpus)",
    .about = "Trains a model and reports accuracy and F1 on the test split from the best\n"
             "dev checkpoint. With no --data and no MELD found (MELD_DATA, ./data), the\n"
             "built-in synthetic corpus is generated into " BUILTIN_CORPUS_DIR " and used.\n",
    .run = run_train,
    .options = OPTIONS,
    .n_options = OPT_COUNT(OPTIONS),
    .variant_option = "--model",
    .args_size = sizeof(TrainArgs),
};

typedef struct {
    Progress bar;
    int epoch;
} TrainCtx;

static void on_start(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "meld train: %s\n", line);
}

/* The job's one progress line (rank 0's): the rate is global, utterances
 * trained on by every process together. */
static void on_batch(void *ctx, int epoch, int step, int steps, float loss, int utts)
{
    TrainCtx *c = ctx;
    if (epoch != c->epoch) {
        progress_init(&c->bar);
        c->epoch = epoch;
    }
    char label[32], extra[64];
    double elapsed = wall_seconds() - c->bar.start;
    snprintf(label, sizeof label, "epoch %d", epoch);
    /* As the step rate, shown once it is not noise (progress_update). */
    if (elapsed > 0.5 || (step == steps && elapsed > 0)) snprintf(extra, sizeof extra, "loss %.4f, %.0f utt/s", loss, utts / elapsed);
    else snprintf(extra, sizeof extra, "loss %.4f", loss);
    progress_update(&c->bar, label, step, steps, extra);
    if (step == steps) progress_end(&c->bar);
}

static void on_epoch(void *ctx, const char *json)
{
    (void)ctx;
    printf("%s\n", json);
    fflush(stdout);
}

static int run_train(int argc, char **argv)
{
    PrepareOptions prep = prepare_default_options();
    TrainArgs a = {.frames = prep.frames, .size = prep.size, .mels = prep.n_mels};
    int model, rc = options_exit_status(options_parse(&CMD_TRAIN, argc, argv, &a, &model));
    if (rc >= 0) return rc;
    if (a.hidden && model == MODEL_FUSION && strcmp(a.audio, "mel")) {
        fprintf(stderr, "meld train: --hidden sizes fusion's --audio mel LSTM; --audio functionals has none\n");
        return 2;
    }
    CorpusRequest req = {.allow_synthetic = true, .prep = prep, .data = a.data, .cache = a.cache, .lenient = a.lenient};
    req.prep.frames = a.frames, req.prep.size = a.size, req.prep.n_mels = a.mels;
    if (a.cascade) req.prep.cascade = strcmp(a.cascade, "none") ? a.cascade : "";
    const ModelDefaults *d = &DEFAULTS[model];
    TrainOptions o = {0};
    o.model = a.model;
    o.optim = a.optim;
    o.lr = a.lr;
    o.resume = a.resume;
    o.cfg.context = a.context;
    o.cfg.rnn_hidden = 300;
    o.cfg.mel_hidden = 64;
    o.cfg.mel_pool = 4;
    o.cfg.mel_max_frames = 200;
    o.cfg.task = !strcmp(a.task, "both") ? TASK_BOTH : !strcmp(a.task, "emotion") ? TASK_EMOTION : TASK_SENTIMENT;
    o.class_weights = !strcmp(a.weights, "auto")   ? CLASS_WEIGHTS_AUTO
                      : !strcmp(a.weights, "meld") ? CLASS_WEIGHTS_MELD
                                                   : CLASS_WEIGHTS_NONE;
    o.cfg.audio_functionals = !strcmp(a.audio, "functionals");
    if (a.hidden) {
        o.cfg.rnn_hidden = a.hidden;
        o.cfg.mel_hidden = a.hidden;
    }
    if (!strcmp(o.model, "melstm") && !a.hidden) o.cfg.mel_hidden = d->hidden;
    int pickle = corpus_pickle_choice("train", strcmp(a.features, "clips") ? a.features : NULL, o.cfg.task, o.model);
    if (pickle == -2) return 2;
    /* fusion --context sees each dialogue once per epoch (24 steps on the
     * built-in corpus): it gets twice the epochs and patience. */
    o.epochs = a.epochs ? a.epochs : (o.cfg.context ? 2 * d->epochs : d->epochs);
    /* fusion --context batches dialogues (~10 utterances each), not utterances. */
    o.batch = a.batch ? a.batch : (o.cfg.context ? 8 : d->batch);
    o.patience = a.patience ? a.patience : (o.cfg.context ? d->patience + 2 : d->patience);
    o.seed = (uint64_t)a.seed;
    o.comm = comm_world();
    o.sync_bn = a.sync_bn;
    o.bucket_bytes = a.bucket_mb > 0 ? (long)((double)a.bucket_mb * 1048576.0) : -1;
    if (a.threads && threadpool_set_threads(a.threads)) return report_error("train");
    char out_dir[1024];
    snprintf(out_dir, sizeof out_dir, "%s", a.out ? a.out : "runs");
    if (!a.out) {
        /* runs/MODEL (runs/ is created first). */
        if (mkdir("runs", 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "meld train: runs: cannot create folder: %s\n", strerror(errno));
            return 1;
        }
        snprintf(out_dir, sizeof out_dir, "runs/%s%s%s", o.model, o.cfg.context ? "-context" : "",
                 pickle < 0 ? "" : pickle == FEATURE_PICKLE_EMOTION ? "-pickle-emotion" : "-pickle-sentiment");
    }
    o.out_dir = out_dir;

    Corpus corpus = {0};
    SplitData splits[N_SPLITS] = {0};
    bool lead = o.comm->rank == 0;
    const char *per_process = o.comm->size > 1 ? " per process" : "";
    if (pickle >= 0) {   /* MELD's released features: in memory, no cache */
        if (corpus_pickle_ready("train", &req, pickle, NULL, splits, corpus.config, sizeof corpus.config)) return 1;
        if (lead)
            cli_errorf("train", "MELD's released audio features, model %s, %d threads%s", o.model, threadpool_threads(),
                       per_process);
        o.splits = splits;
    } else {
        if (corpus_ready("train", &req, &corpus)) return 1;
        if (lead)
            cli_errorf("train", "%s corpus %s (cache %s), model %s, %d threads%s",
                       corpus.synthetic ? "built-in synthetic" : "data", corpus.root, corpus.cache_dir, o.model,
                       threadpool_threads(), per_process);
        o.cache_dir = corpus.cache_dir;
    }
    o.cache_hash = cache_hash(corpus.config);
    o.cache_config = corpus.config;
    TrainCtx ctx = {.epoch = 0};
    o.cb_ctx = &ctx;
    o.on_start = on_start;
    o.on_batch = on_batch;
    o.on_epoch = on_epoch;
    TrainResult res;
    rc = train_run(&o, &res);
    for (int s = 0; s < N_SPLITS; s++) split_data_close(&splits[s]);
    if (rc != MELD_OK) return report_error("train");
    if (!lead) return 0;
    printf("trained %d epochs in %.1f s; best dev weighted F1 %.4f at epoch %d; checkpoint %s\n", res.epochs_run,
           res.seconds, res.best_score, res.best_epoch, res.best_path);
    report_eval_text(stdout, "test", o.cfg.task, &res.test, &res.test_baselines);
    return 0;
}
