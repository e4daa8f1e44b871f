/* meld eval: metrics of a checkpoint on the dev or test split. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli/command_line.h"
#include "pipeline/cli/commands.h"
#include "pipeline/cli/corpus.h"
#include "pipeline/cli/messages.h"
#include "pipeline/cli/report.h"
#include "pipeline/cli/version.h"
#include "pipeline/dist/comm.h"
#include "pipeline/train/train.h"
#include "tensor/error.h"
#include "tensor/threadpool.h"

typedef struct {
    const char *model_file, *data, *cache, *split, *html, *features;
    int batch, threads;
    bool json;
} EvalArgs;

#define A(f, T) OPT_AT(EvalArgs, f, T)
static const Option OPTIONS[] = {
    {"--model-file", OPT_TEXT, A(model_file, const char *), "CKPT", .help = "the checkpoint, e.g. a run's best.safetensors", .def_text = "none: give one, here or as CKPT"},
    {"--data", OPT_TEXT, A(data, const char *), "DIR", .help = "folder holding MELD", .def_text = "$MELD_DATA, else MELD under ./data, ./MELD.Raw or ./MELD, else the built-in corpus in " BUILTIN_CORPUS_DIR},
    {"--cache", OPT_TEXT, A(cache, const char *), "DIR", .help = "feature cache folder", .def_text = "the data folder's cache/"},
    {"--split", OPT_CHOICE, A(split, const char *), "dev|test", .help = "split to evaluate", .def = "test"},
    {"--json", OPT_FLAG, A(json, bool), .help = "print one JSON object instead of the text report"},
    {"--features", OPT_CHOICE, A(features, const char *), "clips|meld-pickle", .help = "the inputs the checkpoint must have been trained on: features computed from the clips, or MELD's released audio features (the checkpoint records which: optional)", .def_text = "what the checkpoint records"},
    {"--html", OPT_TEXT, A(html, const char *), "FILE", .help = "also write an HTML page: confusion matrices, training curves", .def_text = "none"},
    {"--batch", OPT_INT, A(batch, int), "N", .help = "batch size", .alias = "--batch-size", .lo = 1, .hi = 100000, .def = "32"},
    {"--threads", OPT_INT, A(threads, int), "N", .help = "threads", .lo = 1, .hi = THREADPOOL_MAX_THREADS, .def_text = "$MELD_THREADS, else every online core"},
};
static const Positional ARGUMENTS[] = {
    {"CKPT", A(model_file, const char *), .help = "the checkpoint", .same_as = "--model-file"},
};
#undef A

static int run_eval(int argc, char **argv);

const CommandSpec CMD_EVAL = {
    .name = "eval",
    .summary = "evaluate a checkpoint on dev or test: accuracy, F1, confusion",
    .about = "Per task: accuracy, weighted and macro F1, per-class precision/recall/F1/support\n"
             "(as sklearn's classification_report) and the confusion matrix, beside the\n"
             "majority-class and stratified-random baselines. --html writes a page with the\n"
             "confusion matrices and the training curves (log.jsonl beside the checkpoint).\n"
             "The inputs are those the checkpoint was trained on: for --features meld-pickle,\n"
             "MELD's released audio features of its task, found under --data.\n",
    .run = run_eval,
    .options = OPTIONS,
    .n_options = OPT_COUNT(OPTIONS),
    .positionals = ARGUMENTS,
    .n_positionals = OPT_COUNT(ARGUMENTS),
    .args_size = sizeof(EvalArgs),
};

/* What the report's numbers are measured on: this corpus and cache (corpus
 * NULL: MELD's released features, read into memory from data), this
 * command and code; the model as the checkpoint names it. */
static int measured_provenance(Provenance *p, const Corpus *c, const char *data, const LoadedModel *lm,
                               const SplitData *splits, const char *command)
{
    provenance_init(p);
    p->seed = c && c->synthetic ? c->seed : -1;
    const Cache *caches[N_SPLITS] = {&splits[0].cache, &splits[1].cache, &splits[2].cache};
    p->cache_hash = provenance_cache_hash(caches, N_SPLITS);
    const char *model = lm->provenance.model ? lm->provenance.model : lm->model->kind->name;
    const char *corpus = c && c->synthetic ? "synthetic" : "MELD";
    return provenance_set(&p->corpus, corpus) || provenance_set(&p->data, c ? c->root : data) ||
                   provenance_set(&p->cache, c ? c->cache_dir : NULL) || provenance_set(&p->model, model) ||
                   provenance_set(&p->command, command) || provenance_set(&p->version, meld_version_string())
               ? MELD_ERR
               : MELD_OK;
}

/* log.jsonl beside the checkpoint; allocated. */
static char *log_beside(const char *checkpoint)
{
    const char *slash = strrchr(checkpoint, '/');
    size_t dir = slash ? (size_t)(slash - checkpoint + 1) : 0;
    char *log = meld_malloc(dir + sizeof "log.jsonl", "path");
    if (log) {
        memcpy(log, checkpoint, dir);
        strcpy(log + dir, "log.jsonl");
    }
    return log;
}

static int open_splits(const char *cache_dir, uint64_t hash, SplitData *splits)
{
    for (int s = 0; s < N_SPLITS; s++) {
        char *base = path_join(cache_dir, split_name(s));
        char *path = base ? meld_malloc(strlen(base) + 16, "path") : NULL;
        int rc = path ? MELD_OK : MELD_ERR;
        if (path) sprintf(path, "%s.meldcache", base);
        if (rc == MELD_OK) rc = split_data_open(&splits[s], path, hash, NULL);
        free(base), free(path);
        if (rc) return MELD_ERR;
    }
    return MELD_OK;
}

/* The report in the forms asked for (corpus NULL: MELD's released
 * features, from data). */
static int report(const EvalArgs *a, const LoadedModel *lm, const Corpus *corpus, const char *data, SplitData *splits,
                  const char *command)
{
    const SplitData *eval = &splits[strcmp(a->split, "dev") ? SPLIT_TEST : SPLIT_DEV];
    EvalResult r;
    Baselines b;
    Provenance measured;
    const Comm *c = comm_world();   /* under mpirun the batches are shared out; rank 0 reports */
    int rc = measured_provenance(&measured, corpus, data, lm, splits, command);
    if (rc == MELD_OK && evaluate_split_on(c, lm->model, eval, &lm->norm, a->batch, &r, NULL, NULL, NULL, NULL))
        rc = meld_error_context("%s on the %s split", a->model_file, a->split);
    if (rc == MELD_OK) rc = baselines_compute(&splits[SPLIT_TRAIN], eval, &b);
    if (rc == MELD_OK && c->rank != 0) {
        provenance_free(&measured);
        return 0;
    }
    ReportSource src = {.data = &measured, .model = &lm->provenance, .checkpoint = a->model_file, .epoch = lm->epoch};
    if (rc == MELD_OK && a->json) rc = report_eval_json(stdout, a->split, lm->model->cfg.task, &r, &b, &src);
    if (rc == MELD_OK && !a->json) {
        report_provenance_text(stdout, &src);
        report_eval_text(stdout, a->split, lm->model->cfg.task, &r, &b);
    }
    int status = rc == MELD_OK ? 0 : report_error("eval");
    if (status == 0 && a->html) {
        char *log = log_beside(a->model_file);
        status = log ? report_eval_html(a->html, a->split, lm->model->cfg.task, &r, &b, &src, log) : report_error("eval");
        char shown[4096];
        if (!status && !a->json) printf("wrote %s\n", cli_shown(a->html, shown, sizeof shown));
        free(log);
    }
    provenance_free(&measured);
    return status;
}

/* The checkpoint on the inputs it was trained on: MELD's released features
 * or a feature cache of the corpus. */
static int eval_model(const EvalArgs *a, CorpusRequest *req, const LoadedModel *lm, const char *command)
{
    int pickle = corpus_pickle_of_config(lm->cache_config), rc;
    SplitData splits[N_SPLITS];
    memset(splits, 0, sizeof splits);
    req->quiet = a->json;
    if (a->features && (pickle >= 0) != !strcmp(a->features, "meld-pickle")) {
        cli_errorf("eval", "%s was trained on '%s', not on --features %s", a->model_file, lm->cache_config, a->features);
        return 1;
    }
    if (pickle >= 0) {   /* MELD's released features, as the checkpoint records */
        char config[128];
        if (corpus_pickle_ready("eval", req, pickle, lm->cache_config, splits, config, sizeof config)) return 1;
        rc = report(a, lm, NULL, a->data ? a->data : "MELD's released features", splits, command);
        for (int s = 0; s < N_SPLITS; s++) split_data_close(&splits[s]);
        return rc;
    }
    Corpus corpus;
    req->prep_fixed = true;
    if (corpus_features_from_config(lm->cache_config, &req->prep)) return report_error("eval");
    if (corpus_ready("eval", req, &corpus)) return 1;
    if (open_splits(corpus.cache_dir, lm->cache_hash, splits)) rc = report_error("eval");
    else rc = report(a, lm, &corpus, NULL, splits, command);
    for (int s = 0; s < N_SPLITS; s++) split_data_close(&splits[s]);
    corpus_release(&corpus);
    return rc;
}

static int run_eval(int argc, char **argv)
{
    EvalArgs a = {0};
    char *command = command_line_text("meld", argc, argv);
    if (!command) return report_error("eval");
    int rc = options_exit_status(options_parse(&CMD_EVAL, argc, argv, &a, NULL));
    if (rc < 0 && !a.model_file) {
        fprintf(stderr, "meld eval: no checkpoint: give CKPT or --model-file CKPT\n");
        rc = 2;
    }
    if (rc < 0 && a.threads && threadpool_set_threads(a.threads)) rc = report_error("eval");
    if (rc >= 0) {
        free(command);
        return rc;
    }
    CorpusRequest req = {.allow_synthetic = true, .prep = prepare_default_options(), .data = a.data, .cache = a.cache};
    LoadedModel lm;
    if (checkpoint_load_model(a.model_file, &lm)) {
        free(command);
        return report_error("eval");
    }
    rc = eval_model(&a, &req, &lm, command);
    loaded_model_free(&lm);
    free(command);
    return rc;
}
