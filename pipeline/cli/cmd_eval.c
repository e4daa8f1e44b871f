/* meld eval: metrics of a checkpoint on the dev or test split. */
#include <stdio.h>
#include <string.h>

#include "pipeline/cli/args.h"
#include "pipeline/cli/commands.h"
#include "pipeline/cli/corpus.h"
#include "pipeline/cli/report.h"
#include "pipeline/train/train.h"
#include "tensor/error.h"
#include "tensor/threadpool.h"

static const char *USAGE =
    "usage: meld eval --model-file F [--data DIR] [--cache DIR] [--split dev|test] [--json]\n"
    "                 [--html FILE] [--batch N] [--threads N] [--features meld-pickle]\n"
    "\n"
    "Per task: accuracy, weighted and macro F1, per-class precision/recall/F1/support\n"
    "(as sklearn's classification_report) and the confusion matrix, beside the\n"
    "majority-class and stratified-random baselines. --html writes a page with the\n"
    "confusion matrices and the training curves (log.jsonl beside the checkpoint).\n"
    "The inputs are those the checkpoint was trained on: for --features meld-pickle,\n"
    "MELD's released audio features of its task, found under --data.\n";

int cmd_eval(int argc, char **argv)
{
    const char *model_file = NULL, *split = "test", *html = NULL, *features = NULL;
    CorpusRequest req = {.allow_synthetic = true, .prep = prepare_default_options()};
    int json = 0, batch = 32, threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(USAGE, stdout); return 0; }
        if (!strcmp(a, "--json")) { json = 1; continue; }
        if (!(v = arg_value(argc, argv, &i, "eval"))) return 2;
        if (!strcmp(a, "--model-file")) model_file = v;
        else if (!strcmp(a, "--data")) req.data = v;
        else if (!strcmp(a, "--cache")) req.cache = v;
        else if (!strcmp(a, "--split")) split = v;
        else if (!strcmp(a, "--html")) html = v;
        else if (!strcmp(a, "--features")) features = v;
        else if (!strcmp(a, "--batch")) { if (arg_int("eval", a, v, 1, 100000, &batch)) return 2; }
        else if (!strcmp(a, "--threads")) { if (arg_int("eval", a, v, 1, 1024, &threads)) return 2; }
        else { fprintf(stderr, "meld eval: unknown option '%s'\n%s", a, USAGE); return 2; }
    }
    if (!model_file) { fprintf(stderr, "meld eval: --model-file is required\n%s", USAGE); return 2; }
    int sid = !strcmp(split, "dev") ? SPLIT_DEV : !strcmp(split, "test") ? SPLIT_TEST : -1;
    if (sid < 0) { fprintf(stderr, "meld eval: --split must be dev or test, got '%s'\n", split); return 2; }
    if (threads && threadpool_set_threads(threads)) return report_error("eval");

    LoadedModel lm;
    if (checkpoint_load_model(model_file, &lm)) return report_error("eval");
    int rc = 1, pickle = corpus_pickle_of_config(lm.cache_config);
    SplitData splits[N_SPLITS] = {0}, *train = &splits[SPLIT_TRAIN], *eval = &splits[sid];
    req.quiet = json;
    if (features && (strcmp(features, "meld-pickle") || pickle < 0)) {
        fprintf(stderr, "meld eval: %s was trained on '%s', not on --features %s\n", model_file, lm.cache_config,
                features);
        goto done;
    }
    if (pickle >= 0) {   /* MELD's released features, as the checkpoint records */
        char config[128];
        if (corpus_pickle_ready("eval", &req, pickle, lm.cache_config, splits, config, sizeof config)) goto done;
    } else {
        if (corpus_features_from_config(lm.cache_config, &req.prep)) { report_error("eval"); goto done; }
        req.prep_fixed = true;
        Corpus corpus;
        if (corpus_ready("eval", &req, &corpus)) goto done;
        char path[1200];
        snprintf(path, sizeof path, "%s/train.meldcache", corpus.cache_dir);
        if (split_data_open(train, path, lm.cache_hash, NULL)) { report_error("eval"); goto done; }
        snprintf(path, sizeof path, "%s/%s.meldcache", corpus.cache_dir, split);
        if (split_data_open(eval, path, lm.cache_hash, NULL)) { report_error("eval"); goto done; }
    }
    EvalResult r;
    Baselines b;
    if (evaluate_split(lm.model, eval, &lm.norm, batch, &r, NULL, NULL, NULL, NULL) == MELD_OK &&
        baselines_compute(train, eval, &b) == MELD_OK) {
        if (json) report_eval_json(stdout, split, lm.model->cfg.task, &r, &b);
        else report_eval_text(stdout, split, lm.model->cfg.task, &r, &b);
        rc = 0;
        if (html) {
            char log[1200], title[1400];
            snprintf(log, sizeof log, "%s", model_file);
            char *slash = strrchr(log, '/');
            snprintf(slash ? slash + 1 : log, sizeof log - (size_t)(slash ? slash + 1 - log : 0), "log.jsonl");
            snprintf(title, sizeof title, "meld-c: %s on the %s split (%s)", lm.model->kind->name, split, model_file);
            rc = report_eval_html(html, title, lm.model->cfg.task, &r, &b, log);
            if (!rc && !json) printf("wrote %s\n", html);
        }
    } else {
        report_error("eval");
    }
done:
    for (int s = 0; s < N_SPLITS; s++) split_data_close(&splits[s]);
    loaded_model_free(&lm);
    return rc;
}
