/* meld eval: metrics of a checkpoint on the dev or test split. */
#include <stdio.h>
#include <string.h>

#include "pipeline/cli/commands.h"
#include "pipeline/cli/corpus.h"
#include "pipeline/cli/messages.h"
#include "pipeline/cli/report.h"
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

static int run_eval(int argc, char **argv)
{
    EvalArgs a = {0};
    int rc = options_exit_status(options_parse(&CMD_EVAL, argc, argv, &a, NULL));
    if (rc >= 0) return rc;
    if (!a.model_file) {
        fprintf(stderr, "meld eval: no checkpoint: give CKPT or --model-file CKPT\n");
        return 2;
    }
    CorpusRequest req = {.allow_synthetic = true, .prep = prepare_default_options(), .data = a.data, .cache = a.cache};
    if (a.threads && threadpool_set_threads(a.threads)) return report_error("eval");

    LoadedModel lm;
    if (checkpoint_load_model(a.model_file, &lm)) return report_error("eval");
    rc = 1;
    int pickle = corpus_pickle_of_config(lm.cache_config);
    int sid = !strcmp(a.split, "dev") ? SPLIT_DEV : SPLIT_TEST;
    SplitData splits[N_SPLITS] = {0}, *train = &splits[SPLIT_TRAIN], *eval = &splits[sid];
    char path[1200];
    req.quiet = a.json;
    if (a.features && (pickle >= 0) != !strcmp(a.features, "meld-pickle")) {
        cli_errorf("eval", "%s was trained on '%s', not on --features %s", a.model_file, lm.cache_config, a.features);
        goto done;
    }
    if (pickle >= 0) {   /* MELD's released features, as the checkpoint records */
        char config[128];
        snprintf(path, sizeof path, "%s", a.data ? a.data : "MELD's released features");
        if (corpus_pickle_ready("eval", &req, pickle, lm.cache_config, splits, config, sizeof config)) goto done;
    } else {
        if (corpus_features_from_config(lm.cache_config, &req.prep)) { report_error("eval"); goto done; }
        req.prep_fixed = true;
        Corpus corpus;
        if (corpus_ready("eval", &req, &corpus)) goto done;
        snprintf(path, sizeof path, "%s/train.meldcache", corpus.cache_dir);
        if (split_data_open(train, path, lm.cache_hash, NULL)) { report_error("eval"); goto done; }
        snprintf(path, sizeof path, "%s/%s.meldcache", corpus.cache_dir, a.split);
        if (split_data_open(eval, path, lm.cache_hash, NULL)) { report_error("eval"); goto done; }
    }
    EvalResult r;
    Baselines b;
    const Comm *c = comm_world();   /* under mpirun the batches are shared out */
    int evaluated = evaluate_split_on(c, lm.model, eval, &lm.norm, a.batch, &r, NULL, NULL, NULL, NULL);
    if (evaluated != MELD_OK) meld_error_context("%s on %s", a.model_file, path);
    if (evaluated == MELD_OK && baselines_compute(train, eval, &b) == MELD_OK) {
        if (c->rank != 0) {
            rc = 0;
            goto done;
        }
        rc = 0;
        if (!a.json) report_eval_text(stdout, a.split, lm.model->cfg.task, &r, &b);
        else if (report_eval_json(stdout, a.split, lm.model->cfg.task, &r, &b)) rc = report_error("eval");
        if (a.html && !rc) {
            char log[1200], title[1400];
            snprintf(log, sizeof log, "%s", a.model_file);
            char *slash = strrchr(log, '/');
            snprintf(slash ? slash + 1 : log, sizeof log - (size_t)(slash ? slash + 1 - log : 0), "log.jsonl");
            snprintf(title, sizeof title, "meld-c: %s on the %s split (%s)", lm.model->kind->name, a.split, a.model_file);
            rc = report_eval_html(a.html, title, lm.model->cfg.task, &r, &b, log);
            char shown[4096];
            if (!rc && !a.json) printf("wrote %s\n", cli_shown(a.html, shown, sizeof shown));
        }
    } else {
        report_error("eval");
    }
done:
    for (int s = 0; s < N_SPLITS; s++) split_data_close(&splits[s]);
    loaded_model_free(&lm);
    return rc;
}
