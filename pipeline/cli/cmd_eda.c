/* meld eda: exploratory analysis of the MELD annotations (text, JSON, HTML). */
#include <stdio.h>
#include <string.h>

#include "pipeline/cli/args.h"
#include "pipeline/cli/commands.h"
#include "pipeline/data/dataset.h"
#include "pipeline/eda/eda.h"
#include "tensor/error.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: meld eda [--data DIR] [--json] [--html FILE] [--lenient] [--no-clips]\n"
            "\n"
            "Exploratory analysis of the MELD annotations, per split and overall: sizes,\n"
            "emotion and sentiment distributions, words per utterance, dialogue structure,\n"
            "emotion shifts, durations, class weights, clips, data issues, and which\n"
            "utterances have MELD's released audio features when their pickles are there.\n"
            "\n"
            "  --data DIR    folder holding MELD, searched recursively for the three CSVs\n"
            "                and the clip folders (default: $MELD_DATA, else ./data,\n"
            "                ./MELD.Raw or ./MELD)\n"
            "  --json        print one JSON object instead of the text report\n"
            "  --html FILE   also write a self-contained HTML page with charts\n"
            "  --lenient     skip malformed rows (counted and listed) instead of stopping\n"
            "  --no-clips    do not look for clip files\n");
}

static void how_to_get_meld(void)
{
    fprintf(stderr,
            "meld eda: MELD's annotation files (train_sent_emo.csv, dev_sent_emo.csv, test_sent_emo.csv)\n"
            "  are in https://github.com/declare-lab/MELD under data/MELD/; the clips are in\n"
            "  MELD.Raw.tar.gz (http://web.eecs.umich.edu/~mihalcea/downloads/MELD.Raw.tar.gz, ~10 GB).\n"
            "  Put them in a folder and run 'meld eda --data DIR', or set MELD_DATA=DIR.\n");
}

int cmd_eda(int argc, char **argv)
{
    const char *cmd = "eda", *data = NULL, *html = NULL;
    int json = 0;
    DatasetOptions opt = {0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--data")) {
            if (!(data = arg_value(argc, argv, &i, cmd))) return 2;
        } else if (!strcmp(argv[i], "--html")) {
            if (!(html = arg_value(argc, argv, &i, cmd))) return 2;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--lenient")) {
            opt.lenient = 1;
        } else if (!strcmp(argv[i], "--no-clips")) {
            opt.skip_clips = 1;
        } else {
            fprintf(stderr, "meld eda: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }

    DatasetLocation loc;
    if (dataset_locate(data, &loc)) {
        int rc = report_error(cmd);
        how_to_get_meld();
        return rc;
    }
    Dataset ds;
    if (dataset_load_from(&loc, &ds, &opt)) return report_error(cmd);
    report_warnings(cmd);

    EdaReport report;
    MeldFeatures features[N_FEATURE_PICKLES] = {0};
    int rc = eda_compute(&ds, &report);
    if (!rc) eda_add_features(&report, &loc, features);
    if (rc ||
        (json ? eda_write_json(&report, stdout) : eda_write_text(&report, stdout)) ||
        (html && eda_write_html(&report, html))) {
        rc = report_error(cmd);
    } else if (html) {
        fprintf(stderr, "meld eda: wrote %s\n", html);
    }
    for (int k = 0; k < N_FEATURE_PICKLES; k++) meld_features_free(&features[k]);
    dataset_free(&ds);
    return rc;
}
