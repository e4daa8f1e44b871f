/* meld train: prepare (if needed) and train one model, report the test split.
 *
 * Order of work: parse the options, open (create, lock, check) the run
 * folder, make the corpus and its cache ready, train, report. The run
 * folder comes first so that a refused folder costs nothing. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "optim/optim.h"
#include "optim/schedule.h"
#include "pipeline/cli/command_line.h"
#include "pipeline/cli/commands.h"
#include "pipeline/cli/corpus.h"
#include "pipeline/cli/messages.h"
#include "pipeline/cli/report.h"
#include "pipeline/cli/version.h"
#include "pipeline/dist/comm.h"
#include "pipeline/features/clip.h"
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

/* "the optimiser's own: adam 0, adamw 0.01, ..." */
static void default_weight_decay(char *buf, size_t cap)
{
    size_t used = (size_t)snprintf(buf, cap, "the optimiser's own:");
    for (int k = 0; k < optim_kind_count() && used < cap; k++) {
        OptimHparams hp;
        if (optim_defaults(optim_kind_name(k), &hp)) continue;
        int n = snprintf(buf + used, cap - used, "%s %s %g", k ? "," : "", optim_kind_name(k), hp.weight_decay);
        used += n > 0 ? (size_t)n : 0;
    }
}

typedef struct {
    const char *data, *cache, *model, *task, *optim, *weights, *out, *audio, *cascade, *schedule, *features;
    float lr, clip_norm, weight_decay, bucket_mb;
    int epochs, batch, patience, threads, seed, hidden, frames, size, mels;
    bool resume, overwrite, json, context, lenient, sync_bn;
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
    {"--lr", OPT_REAL, A(lr, float), "X", .help = "learning rate (the schedule's base)", .lo = 1e-8, .hi = 100, .def_fn = default_lr},
    {"--weight-decay", OPT_REAL, A(weight_decay, float), "X", .help = "weight decay: an L2 term in the gradient, decoupled for adamw (as torch.optim)", .lo = 0, .hi = 10, .def_fn = default_weight_decay},
    {"--schedule", OPT_TEXT, A(schedule, const char *), "SPEC", .help = "learning-rate schedule, stepped once per epoch: constant, step:step_size=N[,gamma=G], cosine:t_max=N[,eta_min=X] or plateau[:mode=max,factor=F,patience=N,...] (torch.optim.lr_scheduler's; plateau watches the dev loss, or the dev weighted F1 with mode=max)", .def = "constant"},
    {"--clip-norm", OPT_REAL, A(clip_norm, float), "X", .help = "clip the global gradient norm to X (torch.nn.utils.clip_grad_norm_); 0: no clipping", .lo = 0, .hi = 1e6, .def = "5"},
    {"--class-weights", OPT_CHOICE, A(weights, const char *), "auto|meld|none", .help = "per-class loss weights: inverse frequency, the MELD authors', or none", .def = "auto"},
    {"--patience", OPT_INT, A(patience, int), "N", .help = "stop after N epochs without a better dev F1", .lo = 1, .hi = 100000, .def_fn = default_patience},
    {"--threads", OPT_INT, A(threads, int), "N", .help = "threads", .lo = 1, .hi = THREADPOOL_MAX_THREADS, .def_text = "$MELD_THREADS, else every online core"},
    {"--seed", OPT_INT, A(seed, int), "S", .help = "random seed of the initialisation, data order and dropout", .lo = 0, .hi = 2147483647, .def = "1"},
    {"--out", OPT_TEXT, A(out, const char *), "DIR", .help = "run folder: checkpoints and log.jsonl; created with its parents; an existing run there is kept unless --resume or --overwrite", .def_text = "runs/MODEL, with the variant: runs/fusion-mel, runs/fusion-context, runs/gru-emotion"},
    {"--resume", OPT_FLAG, A(resume, bool), .help = "continue the run in --out from last.safetensors"},
    {"--overwrite", OPT_FLAG, A(overwrite, bool), .help = "replace the run in --out (its checkpoints and log are deleted)"},
    {"--json", OPT_FLAG, A(json, bool), .help = "print each epoch's log.jsonl record and the report as JSON on stdout (the epoch lines go to stderr)"},
    {"--context", OPT_FLAG, A(context, bool), .help = "dialogue-level context: a BiLSTM over a dialogue's utterances", .only = ONLY_FUSION},
    {"--audio", OPT_CHOICE, A(audio, const char *), "functionals|mel", .help = "audio branch: the functional-vector MLP or the log-Mel LSTM", .def = "functionals", .only = ONLY_FUSION},
    {"--hidden", OPT_INT, A(hidden, int), "N", .help = "units of the recurrent layers; fusion: of its --audio mel LSTM", .lo = 1, .hi = 4096, .def_fn = default_hidden, .only = ONLY_GRU | ONLY_LSTM | ONLY_MELSTM | ONLY_FUSION},
    {"--frames", OPT_INT, A(frames, int), "K", .help = "face frames per utterance in the cache", .lo = 1, .hi = CLIP_MAX_K},
    {"--size", OPT_INT, A(size, int), "N", .help = "side of the face crops in the cache, pixels", .lo = 16, .hi = PREPARE_MAX_SIZE},
    {"--mels", OPT_INT, A(mels, int), "N", .help = "log-Mel bands in the cache", .lo = 1, .hi = PREPARE_MAX_MELS},
    {"--cascade", OPT_TEXT, A(cascade, const char *), "FILE|none", .help = "Haar face cascade for the cache, or none for centre crops", .def_text = "opencv-data's frontal-face cascade; none for the built-in corpus"},
    {"--lenient", OPT_FLAG, A(lenient, bool), .help = "skip malformed CSV rows instead of stopping"},
    {"--sync-bn", OPT_FLAG, A(sync_bn, bool), .help = "under mpirun: BatchNorm statistics of the whole batch, not of each process's share", .only = ONLY_CNN | ONLY_FUSION},
    {"--bucket-mb", OPT_REAL, A(bucket_mb, float), "X", .help = "under mpirun: gradients summed in buckets of X MiB during the backward pass; 0: all after it", .lo = 0, .hi = 4096, .def = "1"},
    {"--features", OPT_CHOICE, A(features, const char *), "clips|meld-pickle", .help = "inputs: features computed from the clips, or (gru, lstm; one --task) MELD's released audio features, audio_embeddings_feature_selection_{emotion,sentiment}.pkl beside the CSVs under --data", .def = "clips"},
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

/* ---- interruption ---------------------------------------------------------
 *
 * SIGINT (Ctrl-C) and SIGTERM ask the run to stop at the next step
 * boundary, where it saves a resumable checkpoint. The flag is the one
 * piece of global state here: a signal handler can reach nothing else.
 * SA_RESETHAND: a second signal acts as if no handler were installed
 * (the process ends at once; every file it writes is written atomically). */
static volatile sig_atomic_t stop_request;

static void on_signal(int sig)
{
    stop_request = sig;
}

static void catch_signals(bool on)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on ? on_signal : SIG_DFL;
    sa.sa_flags = on ? SA_RESETHAND : 0;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* ---- output while training ------------------------------------------------ */

typedef struct {
    Progress bar;
    int epoch;
    bool json;
} TrainCtx;

static void on_start(void *ctx, const char *line)
{
    (void)ctx;
    report_warnings("train");   /* "no last.safetensors yet", removed temporary files */
    fprintf(stderr, "meld train: %s\n", line);
    fprintf(stderr, "meld train: each epoch: training loss, dev weighted F1 (emotion / sentiment), seconds; "
                    "best = a new best, saved\n");
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
}

/* "epoch  3/16  loss 2.1340  dev F1 0.612 / 0.701  10.5s  best": under 60 columns. */
static void on_epoch(void *ctx, const EpochReport *e)
{
    TrainCtx *c = ctx;
    progress_clear(&c->bar);
    char f1[48], width[8];
    const Metrics *emo = &e->dev->emotion, *sen = &e->dev->sentiment;
    if (e->task == TASK_BOTH) snprintf(f1, sizeof f1, "%.3f / %.3f", emo->weighted_f1, sen->weighted_f1);
    else snprintf(f1, sizeof f1, "%.3f", e->task == TASK_EMOTION ? emo->weighted_f1 : sen->weighted_f1);
    int digits = snprintf(width, sizeof width, "%d", e->epochs);
    FILE *out = c->json ? stderr : stdout;
    fprintf(out, "epoch %*d/%d  loss %.4f  dev F1 %s  %.1fs%s\n", digits, e->epoch, e->epochs, e->train_loss, f1,
            e->seconds, e->best ? "  best" : "");
    if (c->json) printf("%s\n", e->json);
    fflush(out);
    fflush(stdout);
}

/* ---- the run ---------------------------------------------------------------- */

/* The options as TrainOptions; the defaults per model applied. */
static void train_options(const TrainArgs *a, int model, TrainOptions *o)
{
    const ModelDefaults *d = &DEFAULTS[model];
    memset(o, 0, sizeof *o);
    o->model = a->model;
    o->optim = a->optim;   /* lr and weight decay: run_train passes them as hparams */
    o->schedule = a->schedule;
    o->clip_norm = a->clip_norm;
    o->resume = a->resume;
    o->overwrite = a->overwrite;
    o->cfg.context = a->context;
    o->cfg.rnn_hidden = 300;
    o->cfg.mel_hidden = 64;
    o->cfg.mel_pool = 4;
    o->cfg.mel_max_frames = 200;
    o->cfg.task = !strcmp(a->task, "both") ? TASK_BOTH : !strcmp(a->task, "emotion") ? TASK_EMOTION : TASK_SENTIMENT;
    o->class_weights = !strcmp(a->weights, "auto")   ? CLASS_WEIGHTS_AUTO
                       : !strcmp(a->weights, "meld") ? CLASS_WEIGHTS_MELD
                                                     : CLASS_WEIGHTS_NONE;
    o->cfg.audio_functionals = !strcmp(a->audio, "functionals");
    if (a->hidden) {
        o->cfg.rnn_hidden = a->hidden;
        o->cfg.mel_hidden = a->hidden;
    }
    if (!strcmp(o->model, "melstm") && !a->hidden) o->cfg.mel_hidden = d->hidden;
    /* fusion --context sees each dialogue once per epoch (24 steps on the
     * built-in corpus): it gets twice the epochs and patience. */
    o->epochs = a->epochs ? a->epochs : (o->cfg.context ? 2 * d->epochs : d->epochs);
    /* fusion --context batches dialogues (~10 utterances each), not utterances. */
    o->batch = a->batch ? a->batch : (o->cfg.context ? 8 : d->batch);
    o->patience = a->patience ? a->patience : (o->cfg.context ? d->patience + 2 : d->patience);
    o->seed = (uint64_t)a->seed;
}

/* The words of the command that trains this run, program first: the typed
 * ones without --resume and --overwrite (the run's provenance), with
 * --resume added (the command that resumes it). */
static char *run_command(const char *program, int argc, char **argv, bool resume)
{
    char **words = calloc((size_t)argc + 2, sizeof *words);
    if (!words) return NULL;
    int n = 0;
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--overwrite") && strcmp(argv[i], "--resume")) words[n++] = argv[i];
    if (resume) words[n++] = "--resume";
    char *text = command_line_text(program, n, words);
    free(words);
    return text;
}

static void print_interrupted(const TrainResult *res, const char *resume)
{
    if (res->stop_step)
        fprintf(stderr, "meld train: interrupted in epoch %d after step %d; ", res->stop_epoch, res->stop_step);
    else
        fprintf(stderr, "meld train: interrupted after epoch %d; ", res->stop_epoch);
    fprintf(stderr, "resumable checkpoint: %s\nmeld train: resume with: %s\n", res->last_path,
            resume ? resume : "the same command with --resume");
}

/* "trained 16 epochs in 94.5 s (no better dev F1 for 5 epochs)", "trained
 * epoch 3 (resumed after epoch 2) ..." */
static void print_trained(FILE *out, const TrainResult *res, int patience)
{
    int done = res->epochs_run - res->first_epoch + 1;
    if (res->first_epoch > 1 && done == 1)
        fprintf(out, "trained epoch %d (resumed after epoch %d)", res->epochs_run, res->first_epoch - 1);
    else if (res->first_epoch > 1 && done > 1)
        fprintf(out, "trained epochs %d-%d (resumed after epoch %d)", res->first_epoch, res->epochs_run,
                res->first_epoch - 1);
    else if (done > 0)
        fprintf(out, "trained %d epoch%s", done, done == 1 ? "" : "s");
    else
        fprintf(out, "no epoch left to train (%d done)", res->epochs_run);
    fprintf(out, " in %.1f s", res->seconds);
    if (!strcmp(res->stop_reason, "patience")) fprintf(out, ", stopped early: no better dev F1 for %d epochs", patience);
    fprintf(out, "; best dev weighted F1 %.4f at epoch %d; checkpoint %s\n", res->best_score, res->best_epoch,
            res->best_path);
}

/* Corpus and command into the run's provenance (c NULL: MELD's released
 * features, read from data; no cache). */
static int fill_provenance(Provenance *p, const Corpus *c, const char *data, const char *model, const char *command)
{
    provenance_init(p);
    p->seed = c && c->synthetic ? c->seed : -1;
    return provenance_set(&p->corpus, c && c->synthetic ? "synthetic" : "MELD") ||
                   provenance_set(&p->data, c ? c->root : data) || provenance_set(&p->cache, c ? c->cache_dir : NULL) ||
                   provenance_set(&p->model, model) ||
                   provenance_set(&p->command, command) || provenance_set(&p->version, meld_version_string())
               ? MELD_ERR
               : MELD_OK;
}

static int train_and_report(TrainOptions *o, const TrainArgs *a, const char *cache_config, int argc, char **argv)
{
    TrainCtx ctx = {.epoch = 0, .json = a->json};
    o->cb_ctx = &ctx;
    o->on_start = on_start;
    o->on_batch = on_batch;
    o->on_epoch = on_epoch;
    o->cache_hash = cache_hash(cache_config);
    o->cache_config = cache_config;
    o->stop = &stop_request;
    TrainResult res;
    catch_signals(true);
    int rc = train_run(o, &res);
    catch_signals(false);
    progress_clear(&ctx.bar);
    report_warnings("train");
    if (rc != MELD_OK) {
        train_result_free(&res);
        return report_error("train");
    }
    if (o->comm->rank != 0) {   /* rank 0 reports for the job */
        train_result_free(&res);
        return res.interrupted ? 130 : 0;
    }
    if (res.interrupted) {
        char *resume = run_command(cli_program_name(), argc, argv, true);
        print_interrupted(&res, resume);
        free(resume);
        train_result_free(&res);
        return 130;
    }
    FILE *out = a->json ? stderr : stdout;
    ReportSource src = {.data = &res.provenance, .model = &res.provenance, .checkpoint = res.best_path,
                        .epoch = res.best_epoch};
    report_provenance_text(out, &src);
    print_trained(out, &res, o->patience);
    rc = MELD_OK;
    if (a->json) rc = report_eval_json(stdout, "test", o->cfg.task, &res.test, &res.test_baselines, &src);
    else report_eval_text(stdout, "test", o->cfg.task, &res.test, &res.test_baselines);
    train_result_free(&res);
    return rc == MELD_OK ? 0 : report_error("train");
}

static int run_train(int argc, char **argv)
{
    PrepareOptions prep = prepare_default_options();
    TrainArgs a = {.frames = prep.frames, .size = prep.size, .mels = prep.n_mels, .weight_decay = -1};
    /* The command line as typed (before options_parse reorders argv), and
     * as the run's provenance records it. */
    char *command = command_line_text("meld", argc, argv), *run = run_command("meld", argc, argv, false);
    char **typed = calloc((size_t)argc + 1, sizeof *typed);
    if (!command || !run || !typed) {
        free(command), free(run), free(typed);
        return report_error("train");
    }
    memcpy(typed, argv, sizeof *typed * (size_t)argc);
    int model, rc = options_exit_status(options_parse(&CMD_TRAIN, argc, argv, &a, &model));
    if (rc < 0 && a.hidden && model == MODEL_FUSION && strcmp(a.audio, "mel")) {
        fprintf(stderr, "meld train: --hidden sizes fusion's --audio mel LSTM; --audio functionals has none\n");
        rc = 2;
    }
    Schedule sched;
    if (rc < 0 && schedule_init(&sched, a.schedule, 1.0)) {
        fprintf(stderr, "meld train: --schedule: %s\n", meld_error());
        rc = 2;
    }
    if (rc < 0 && a.resume && a.overwrite) {
        fprintf(stderr, "meld train: --resume continues the run in --out, --overwrite replaces it: give one\n");
        rc = 2;
    }
    if (rc >= 0) {
        free(command), free(run), free(typed);
        return rc;
    }
    TrainOptions o;
    train_options(&a, model, &o);
    o.comm = comm_world();
    o.sync_bn = a.sync_bn;
    o.bucket_bytes = a.bucket_mb > 0 ? (long)((double)a.bucket_mb * 1048576.0) : -1;
    /* Under mpirun rank 0 alone holds and writes the run folder, and speaks. */
    bool lead = o.comm->rank == 0;
    /* lr and weight decay as typed (a float's 7 digits), not as the float's
     * binary value: --lr 0.01 trains with the double 0.01, as PyTorch would. */
    char hparams[96] = "", variant[64];
    if (a.lr > 0) snprintf(hparams, sizeof hparams, "lr=%.7g", (double)a.lr);
    if (a.weight_decay >= 0)
        snprintf(hparams + strlen(hparams), sizeof hparams - strlen(hparams), "%sweight_decay=%.7g", a.lr > 0 ? "," : "",
                 (double)a.weight_decay);
    o.optim_hparams = hparams[0] ? hparams : NULL;
    int pickle = corpus_pickle_choice("train", strcmp(a.features, "clips") ? a.features : NULL, o.cfg.task, o.model);
    if (pickle == -2) {
        free(command), free(run), free(typed);
        return 2;
    }
    model_variant_name(o.model, &o.cfg, variant, sizeof variant);
    if (pickle >= 0)   /* a run of MELD's released features: runs/gru-pickle-emotion */
        snprintf(variant, sizeof variant, "%s-pickle-%s", o.model, pickle == FEATURE_PICKLE_EMOTION ? "emotion" : "sentiment");
    char *default_out = a.out ? NULL : path_join("runs", variant);
    o.out_dir = a.out ? a.out : default_out;
    CorpusRequest req = {.allow_synthetic = true, .prep = prep, .data = a.data, .cache = a.cache, .lenient = a.lenient};
    req.prep.frames = a.frames, req.prep.size = a.size, req.prep.n_mels = a.mels;
    if (a.cascade) req.prep.cascade = strcmp(a.cascade, "none") ? a.cascade : "";

    RunFolder folder = {.lock_fd = -1};
    Corpus corpus;
    memset(&corpus, 0, sizeof corpus);
    SplitData splits[N_SPLITS];
    memset(splits, 0, sizeof splits);
    Provenance prov;
    provenance_init(&prov);
    RunMode mode = a.resume ? RUN_RESUME : a.overwrite ? RUN_OVERWRITE : RUN_NEW;
    bool have_corpus = false;
    if (!o.out_dir || (a.threads && threadpool_set_threads(a.threads)) ||
        (lead && run_folder_open(&folder, o.out_dir, mode, command))) {
        rc = report_error("train");
    } else if (pickle >= 0) {   /* MELD's released features: in memory, no cache */
        const char *data = a.data ? a.data : "MELD's released features";
        if (corpus_pickle_ready("train", &req, pickle, NULL, splits, corpus.config, sizeof corpus.config)) rc = 1;
        else if (fill_provenance(&prov, NULL, data, variant, run)) rc = report_error("train");
        else o.splits = splits;
    } else if (corpus_ready("train", &req, &corpus)) {
        rc = 1;
    } else {
        have_corpus = true;
        if (fill_provenance(&prov, &corpus, NULL, variant, run)) rc = report_error("train");
        else o.cache_dir = corpus.cache_dir;
    }
    if (rc < 0) {
        const char *each = o.comm->size > 1 ? " per process" : "";
        if (lead && pickle >= 0)
            cli_errorf("train", "MELD's released audio features, model %s, run folder %s, %d threads%s", variant,
                       o.out_dir, threadpool_threads(), each);
        else if (lead)
            cli_errorf("train", "%s corpus %s (cache %s), model %s, run folder %s, %d threads%s",
                       corpus.synthetic ? "synthetic" : "MELD", corpus.root, corpus.cache_dir, variant, o.out_dir,
                       threadpool_threads(), each);
        o.folder = lead ? &folder : NULL;
        o.provenance = &prov;
        o.command = command;
        rc = train_and_report(&o, &a, corpus.config, argc, typed);
    }
    for (int s = 0; s < N_SPLITS; s++) split_data_close(&splits[s]);
    if (have_corpus) corpus_release(&corpus);
    run_folder_close(&folder);
    provenance_free(&prov);
    free(default_out);
    free(command), free(run), free(typed);
    return rc;
}
