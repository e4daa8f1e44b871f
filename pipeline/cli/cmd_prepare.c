/* meld prepare: build (or refresh) the feature caches of a corpus. */
#include <stdio.h>
#include <string.h>

#include "pipeline/cli/args.h"
#include "pipeline/cli/commands.h"
#include "pipeline/cli/corpus.h"
#include "tensor/error.h"
#include "tensor/threadpool.h"

static const char *USAGE =
    "usage: meld prepare [--data DIR] [--out CACHE_DIR] [--threads N] [--frames K] [--size N]\n"
    "                    [--mels N] [--cascade FILE|none] [--lenient]\n"
    "\n"
    "Decodes every clip (ffmpeg for MP4; WAV/Y4M directly), computes log-Mel frames,\n"
    "the utterance functional vector and K face crops, and writes one cache file per\n"
    "split (default: CACHE_DIR = the data folder's cache/). Interrupted runs resume;\n"
    "damaged clips are listed and skipped. With no --data and no MELD found, the\n"
    "built-in synthetic corpus is used.\n";

int cmd_prepare(int argc, char **argv)
{
    CorpusRequest req = {.allow_synthetic = true, .prep = prepare_default_options()};
    int threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(USAGE, stdout); return 0; }
        if (!strcmp(a, "--lenient")) { req.lenient = true; continue; }
        if (!(v = arg_value(argc, argv, &i, "prepare"))) return 2;
        if (!strcmp(a, "--data")) req.data = v;
        else if (!strcmp(a, "--out")) req.cache = v;
        else if (!strcmp(a, "--cascade")) req.prep.cascade = strcmp(v, "none") ? v : "";
        else if (!strcmp(a, "--threads")) { if (arg_int("prepare", a, v, 1, 1024, &threads)) return 2; }
        else if (!strcmp(a, "--frames")) { if (arg_int("prepare", a, v, 1, 64, &req.prep.frames)) return 2; }
        else if (!strcmp(a, "--size")) { if (arg_int("prepare", a, v, 16, 1024, &req.prep.size)) return 2; }
        else if (!strcmp(a, "--mels")) { if (arg_int("prepare", a, v, 1, 256, &req.prep.n_mels)) return 2; }
        else { fprintf(stderr, "meld prepare: unknown option '%s'\n%s", a, USAGE); return 2; }
    }
    if (threads && threadpool_set_threads(threads)) return report_error("prepare");
    Corpus corpus;
    if (corpus_ready("prepare", &req, &corpus)) return 1;
    printf("cache %s is up to date (%s corpus %s, %d threads)\n", corpus.cache_dir,
           corpus.synthetic ? "built-in synthetic" : "data", corpus.root, threadpool_threads());
    return 0;
}
