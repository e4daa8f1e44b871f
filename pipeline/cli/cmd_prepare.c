/* meld prepare: build (or refresh) the feature caches of a corpus. */
#include <stdio.h>
#include <string.h>

#include "pipeline/cli/commands.h"
#include "pipeline/cli/corpus.h"
#include "pipeline/cli/messages.h"
#include "pipeline/features/clip.h"
#include "tensor/error.h"
#include "tensor/threadpool.h"

typedef struct {
    const char *data, *out, *cascade;
    int threads, frames, size, mels;
    bool lenient;
} PrepareArgs;

#define A(f, T) OPT_AT(PrepareArgs, f, T)
static const Option OPTIONS[] = {
    {"--data", OPT_TEXT, A(data, const char *), "DIR", .help = "folder holding MELD", .def_text = "$MELD_DATA, else MELD under ./data, ./MELD.Raw or ./MELD, else the built-in corpus in " BUILTIN_CORPUS_DIR},
    {"--out", OPT_TEXT, A(out, const char *), "CACHE_DIR", .help = "feature cache folder", .def_text = "the data folder's cache/"},
    {"--threads", OPT_INT, A(threads, int), "N", .help = "threads", .lo = 1, .hi = THREADPOOL_MAX_THREADS, .def_text = "$MELD_THREADS, else every online core"},
    {"--frames", OPT_INT, A(frames, int), "K", .help = "face frames per utterance", .lo = 1, .hi = CLIP_MAX_K},
    {"--size", OPT_INT, A(size, int), "N", .help = "side of the face crops, pixels", .lo = 16, .hi = PREPARE_MAX_SIZE},
    {"--mels", OPT_INT, A(mels, int), "N", .help = "log-Mel bands", .lo = 1, .hi = PREPARE_MAX_MELS},
    {"--cascade", OPT_TEXT, A(cascade, const char *), "FILE|none", .help = "Haar face cascade, or none for centre crops", .def_text = "opencv-data's frontal-face cascade; none for the built-in corpus"},
    {"--lenient", OPT_FLAG, A(lenient, bool), .help = "skip malformed CSV rows instead of stopping"},
};
#undef A

static int run_prepare(int argc, char **argv);

const CommandSpec CMD_PREPARE = {
    .name = "prepare",
    .summary = "decode clips and build the feature cache",
    .about = "Decodes every clip (ffmpeg for MP4; WAV/Y4M directly), computes log-Mel frames,\n"
             "the utterance functional vector and K face crops, and writes one cache file per\n"
             "split. Interrupted runs resume; damaged clips are listed and skipped. With no\n"
             "--data and no MELD found, the built-in synthetic corpus is used.\n",
    .run = run_prepare,
    .options = OPTIONS,
    .n_options = OPT_COUNT(OPTIONS),
    .args_size = sizeof(PrepareArgs),
};

static int run_prepare(int argc, char **argv)
{
    PrepareOptions prep = prepare_default_options();
    PrepareArgs a = {.frames = prep.frames, .size = prep.size, .mels = prep.n_mels};
    int rc = options_exit_status(options_parse(&CMD_PREPARE, argc, argv, &a, NULL));
    if (rc >= 0) return rc;
    CorpusRequest req = {.allow_synthetic = true, .prep = prep, .data = a.data, .cache = a.out, .lenient = a.lenient};
    req.prep.frames = a.frames, req.prep.size = a.size, req.prep.n_mels = a.mels;
    if (a.cascade) req.prep.cascade = strcmp(a.cascade, "none") ? a.cascade : "";
    if (a.threads && threadpool_set_threads(a.threads)) return report_error("prepare");
    Corpus corpus;
    if (corpus_ready("prepare", &req, &corpus)) return 1;
    char cache[4096], root[4096];
    printf("cache %s is up to date (%s corpus %s, %d threads)\n", cli_shown(corpus.cache_dir, cache, sizeof cache),
           corpus.synthetic ? "built-in synthetic" : "data", cli_shown(corpus.root, root, sizeof root),
           threadpool_threads());
    return 0;
}
