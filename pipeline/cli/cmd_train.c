/* meld train: prepare (if needed) and train one model, report the test split. */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli/args.h"
#include "pipeline/cli/commands.h"
#include "pipeline/cli/corpus.h"
#include "pipeline/cli/report.h"
#include "pipeline/train/train.h"
#include "tensor/error.h"
#include "tensor/threadpool.h"

static const char *USAGE =
    "usage: meld train [--data DIR] [--cache DIR] [--model gru|lstm|melstm|cnn|fusion]\n"
    "                  [--task both|emotion|sentiment] [--epochs N] [--batch N]\n"
    "                  [--optim adam|adamw|adadelta|sgd|rmsprop] [--lr X]\n"
    "                  [--class-weights auto|meld|none] [--patience N] [--threads N]\n"
    "                  [--seed S] [--out DIR] [--resume] [--context] [--audio functionals|mel]\n"
    "                  [--hidden N] [--frames K] [--size N] [--mels N] [--cascade FILE|none] [--lenient]\n"
    "                  [--features meld-pickle]\n"
    "\n"
    "Trains a model and reports accuracy and F1 on the test split from the best\n"
    "dev checkpoint. With no --data and no MELD found (MELD_DATA, ./data), the\n"
    "built-in synthetic corpus is generated into " BUILTIN_CORPUS_DIR " and used.\n"
    "Defaults: --model fusion (audio branch: functionals), --task both,\n"
    "--class-weights auto, --seed 1,\n"
    "--out runs/MODEL, epochs/batch/optimiser per model (see README).\n"
    "--features meld-pickle: train gru or lstm for one --task on MELD's released audio\n"
    "features (audio_embeddings_feature_selection_{emotion,sentiment}.pkl beside the\n"
    "CSVs under --data) instead of features computed from the clips; no prepare step.\n";

/* Per-model defaults: epochs, batch, patience, hidden. */
typedef struct {
    const char *model;
    int epochs, batch, patience;
} ModelDefaults;

static const ModelDefaults DEFAULTS[] = {
    {"gru", 30, 16, 6}, {"lstm", 30, 16, 6}, {"melstm", 10, 32, 4}, {"cnn", 20, 32, 6}, {"fusion", 16, 32, 5},
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

static void on_batch(void *ctx, int epoch, int step, int steps, float loss)
{
    TrainCtx *c = ctx;
    if (epoch != c->epoch) {
        progress_init(&c->bar);
        c->epoch = epoch;
    }
    char label[32], extra[48];
    snprintf(label, sizeof label, "epoch %d", epoch);
    snprintf(extra, sizeof extra, "loss %.4f", loss);
    progress_update(&c->bar, label, step, steps, extra);
    if (step == steps) progress_end(&c->bar);
}

static void on_epoch(void *ctx, const char *json)
{
    (void)ctx;
    printf("%s\n", json);
    fflush(stdout);
}

int cmd_train(int argc, char **argv)
{
    CorpusRequest req = {.allow_synthetic = true, .prep = prepare_default_options()};
    TrainOptions o = {0};
    o.model = "fusion";
    o.seed = 1;
    o.cfg.rnn_hidden = 300;
    o.cfg.mel_hidden = 64;
    o.cfg.mel_pool = 4;
    o.cfg.mel_max_frames = 200;
    int epochs = 0, batch = 0, patience = 0, threads = 0, seed = 1, hidden = 0;
    const char *out = NULL, *weights = "auto", *task = "both", *audio = "functionals", *features = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(USAGE, stdout);
            return 0;
        }
        if (!strcmp(a, "--resume")) { o.resume = true; continue; }
        if (!strcmp(a, "--context")) { o.cfg.context = true; continue; }
        if (!strcmp(a, "--lenient")) { req.lenient = true; continue; }
        if (!(v = arg_value(argc, argv, &i, "train"))) return 2;
        if (!strcmp(a, "--data")) req.data = v;
        else if (!strcmp(a, "--cache")) req.cache = v;
        else if (!strcmp(a, "--model")) o.model = v;
        else if (!strcmp(a, "--task")) task = v;
        else if (!strcmp(a, "--optim")) o.optim = v;
        else if (!strcmp(a, "--class-weights")) weights = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--audio")) audio = v;
        else if (!strcmp(a, "--features")) features = v;
        else if (!strcmp(a, "--cascade")) req.prep.cascade = strcmp(v, "none") ? v : "";
        else if (!strcmp(a, "--lr")) { if (arg_float("train", a, v, 1e-8, 100, &o.lr)) return 2; }
        else if (!strcmp(a, "--epochs")) { if (arg_int("train", a, v, 1, 100000, &epochs)) return 2; }
        else if (!strcmp(a, "--batch")) { if (arg_int("train", a, v, 1, 100000, &batch)) return 2; }
        else if (!strcmp(a, "--patience")) { if (arg_int("train", a, v, 1, 100000, &patience)) return 2; }
        else if (!strcmp(a, "--threads")) { if (arg_int("train", a, v, 1, 1024, &threads)) return 2; }
        else if (!strcmp(a, "--seed")) { if (arg_int("train", a, v, 0, 2147483647, &seed)) return 2; }
        else if (!strcmp(a, "--hidden")) { if (arg_int("train", a, v, 1, 4096, &hidden)) return 2; }
        else if (!strcmp(a, "--frames")) { if (arg_int("train", a, v, 1, 64, &req.prep.frames)) return 2; }
        else if (!strcmp(a, "--size")) { if (arg_int("train", a, v, 16, 1024, &req.prep.size)) return 2; }
        else if (!strcmp(a, "--mels")) { if (arg_int("train", a, v, 1, 256, &req.prep.n_mels)) return 2; }
        else {
            fprintf(stderr, "meld train: unknown option '%s'\n%s", a, USAGE);
            return 2;
        }
    }
    const ModelDefaults *d = NULL;
    for (size_t k = 0; k < sizeof DEFAULTS / sizeof DEFAULTS[0]; k++)
        if (!strcmp(DEFAULTS[k].model, o.model)) d = &DEFAULTS[k];
    if (!d) {
        fprintf(stderr, "meld train: unknown model '%s' (gru, lstm, melstm, cnn, fusion)\n", o.model);
        return 2;
    }
    if (!strcmp(task, "both")) o.cfg.task = TASK_BOTH;
    else if (!strcmp(task, "emotion")) o.cfg.task = TASK_EMOTION;
    else if (!strcmp(task, "sentiment")) o.cfg.task = TASK_SENTIMENT;
    else {
        fprintf(stderr, "meld train: --task must be both, emotion or sentiment, got '%s'\n", task);
        return 2;
    }
    if (!strcmp(weights, "auto")) o.class_weights = CLASS_WEIGHTS_AUTO;
    else if (!strcmp(weights, "meld")) o.class_weights = CLASS_WEIGHTS_MELD;
    else if (!strcmp(weights, "none")) o.class_weights = CLASS_WEIGHTS_NONE;
    else {
        fprintf(stderr, "meld train: --class-weights must be auto, meld or none, got '%s'\n", weights);
        return 2;
    }
    if (strcmp(audio, "mel") && strcmp(audio, "functionals")) {
        fprintf(stderr, "meld train: --audio must be mel or functionals, got '%s'\n", audio);
        return 2;
    }
    o.cfg.audio_functionals = !strcmp(audio, "functionals");
    int pickle = corpus_pickle_choice("train", features, o.cfg.task, o.model);
    if (pickle == -2) return 2;
    if (hidden) {
        o.cfg.rnn_hidden = hidden;
        o.cfg.mel_hidden = hidden;
    }
    if (!strcmp(o.model, "melstm") && !hidden) o.cfg.mel_hidden = 128;
    /* fusion --context sees each dialogue once per epoch (24 steps on the
     * built-in corpus): it gets twice the epochs and patience. */
    o.epochs = epochs ? epochs : (o.cfg.context ? 2 * d->epochs : d->epochs);
    /* fusion --context batches dialogues (~10 utterances each), not utterances. */
    o.batch = batch ? batch : (o.cfg.context ? 8 : d->batch);
    o.patience = patience ? patience : (o.cfg.context ? d->patience + 2 : d->patience);
    o.seed = (uint64_t)seed;
    if (threads && threadpool_set_threads(threads)) return report_error("train");
    char out_dir[1024];
    snprintf(out_dir, sizeof out_dir, "%s", out ? out : "runs");
    if (!out) {
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
    if (pickle >= 0) {   /* MELD's released features: in memory, no cache */
        if (corpus_pickle_ready("train", &req, pickle, NULL, splits, corpus.config, sizeof corpus.config)) return 1;
        fprintf(stderr, "meld train: model %s, %d threads\n", o.model, threadpool_threads());
        o.splits = splits;
    } else {
        if (corpus_ready("train", &req, &corpus)) return 1;
        fprintf(stderr, "meld train: %s corpus %s (cache %s), model %s, %d threads\n",
                corpus.synthetic ? "built-in synthetic" : "data", corpus.root, corpus.cache_dir, o.model,
                threadpool_threads());
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
    int rc = train_run(&o, &res);
    for (int s = 0; s < N_SPLITS; s++) split_data_close(&splits[s]);
    if (rc != MELD_OK) return report_error("train");
    printf("trained %d epochs in %.1f s; best dev weighted F1 %.4f at epoch %d; checkpoint %s\n", res.epochs_run,
           res.seconds, res.best_score, res.best_epoch, res.best_path);
    report_eval_text(stdout, "test", o.cfg.task, &res.test, &res.test_baselines);
    return 0;
}
