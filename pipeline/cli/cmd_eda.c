/* meld eda: exploratory analysis of the MELD annotations (text, JSON, HTML). */
#include <stdio.h>
#include <string.h>

#include "pipeline/cli/commands.h"
#include "pipeline/cli/messages.h"
#include "pipeline/data/dataset.h"
#include "pipeline/eda/eda.h"
#include "tensor/atomic_file.h"
#include "tensor/error.h"

typedef struct {
    const char *data, *html;
    bool json, lenient, no_clips;
} EdaArgs;

#define A(f, T) OPT_AT(EdaArgs, f, T)
static const Option OPTIONS[] = {
    {"--data", OPT_TEXT, A(data, const char *), "DIR", .help = "folder holding MELD, searched recursively for the three CSVs and the clip folders", .def_text = "$MELD_DATA, else ./data, ./MELD.Raw or ./MELD"},
    {"--json", OPT_FLAG, A(json, bool), .help = "print one JSON object instead of the text report"},
    {"--html", OPT_TEXT, A(html, const char *), "FILE", .help = "also write a self-contained HTML page with charts", .def_text = "none"},
    {"--lenient", OPT_FLAG, A(lenient, bool), .help = "skip malformed rows (counted and listed) instead of stopping"},
    {"--no-clips", OPT_FLAG, A(no_clips, bool), .help = "do not look for clip files"},
};
#undef A

static int run_eda(int argc, char **argv);

const CommandSpec CMD_EDA = {
    .name = "eda",
    .summary = "exploratory analysis of the MELD annotations",
    .about = "Exploratory analysis of the MELD annotations, per split and overall: sizes,\n"
             "emotion and sentiment distributions, words per utterance, dialogue structure,\n"
             "emotion shifts, durations, class weights, clips, data issues, and which\n"
             "utterances have MELD's released audio features when their pickles are there.\n",
    .run = run_eda,
    .options = OPTIONS,
    .n_options = OPT_COUNT(OPTIONS),
    .args_size = sizeof(EdaArgs),
};

static void how_to_get_meld(void)
{
    fprintf(stderr,
            "meld eda: MELD's annotation files (train_sent_emo.csv, dev_sent_emo.csv, test_sent_emo.csv)\n"
            "  are in https://github.com/declare-lab/MELD under data/MELD/; the clips are in\n"
            "  MELD.Raw.tar.gz (http://web.eecs.umich.edu/~mihalcea/downloads/MELD.Raw.tar.gz, ~10 GB).\n"
            "  Put them in a folder and run 'meld eda --data DIR', or set MELD_DATA=DIR.\n");
}

static int run_eda(int argc, char **argv)
{
    const char *cmd = "eda";
    EdaArgs a = {0};
    int rc = options_exit_status(options_parse(&CMD_EDA, argc, argv, &a, NULL));
    if (rc >= 0) return rc;
    const char *data = a.data, *html = a.html;
    int json = a.json;
    DatasetOptions opt = {.lenient = a.lenient, .skip_clips = a.no_clips};

    DatasetLocation loc;
    if (dataset_locate(data, &loc)) {
        rc = report_error(cmd);
        how_to_get_meld();
        return rc;
    }
    Dataset ds;
    if (dataset_load_from(&loc, &ds, &opt)) return report_error(cmd);
    report_warnings(cmd);

    EdaReport report;
    MeldFeatures features[N_FEATURE_PICKLES] = {0};
    rc = eda_compute(&ds, &report);
    if (!rc) eda_add_features(&report, &loc, features);
    if (rc ||
        (json ? eda_write_json(&report, stdout) : eda_write_text(&report, stdout)) ||
        (html && (atomic_file_sweep(html), eda_write_html(&report, html)))) {
        rc = report_error(cmd);
    } else if (html) {
        cli_errorf(cmd, "wrote %s", html);
    }
    for (int k = 0; k < N_FEATURE_PICKLES; k++) meld_features_free(&features[k]);
    dataset_free(&ds);
    return rc;
}
