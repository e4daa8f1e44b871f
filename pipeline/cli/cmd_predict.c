/* meld predict: emotion and sentiment of clips with a trained model.
 *
 * The clips' features are computed exactly as `meld prepare` does (with the
 * feature configuration stored in the checkpoint) and written to a
 * temporary feature cache as one dialogue (clip i = utterance i, in the
 * order given), so the model reads them through the same code path as in
 * training. Dialogue-context models therefore see the clips as one
 * dialogue in order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/cli/commands.h"
#include "pipeline/cli/corpus.h"
#include "pipeline/cli/messages.h"
#include "pipeline/data/dataset.h"
#include "audio/functionals.h"
#include "pipeline/train/train.h"
#include "tensor/error.h"
#include "video/haar.h"

typedef struct {
    const char *model_file;
    bool json;
    OptList clips;
} PredictArgs;

#define A(f, T) OPT_AT(PredictArgs, f, T)
static const Option OPTIONS[] = {
    {"--model-file", OPT_TEXT, A(model_file, const char *), "CKPT", .help = "the checkpoint, e.g. a run's best.safetensors", .def_text = "none: required"},
    {"--json", OPT_FLAG, A(json, bool), .help = "one JSON object per clip"},
};
static const Positional ARGUMENTS[] = {
    {"CLIP", A(clips, OptList), .help = "an MP4, a WAV with a Y4M of the same stem, or a folder of PGM/PPM frames with a WAV", .variadic = true},
};
#undef A

static int run_predict(int argc, char **argv);

const CommandSpec CMD_PREDICT = {
    .name = "predict",
    .summary = "emotion and sentiment for clips",
    .about = "Prints the emotion and sentiment of each clip with their probabilities. The\n"
             "clips are decoded as `meld prepare` does (MP4 through ffmpeg).\n",
    .run = run_predict,
    .options = OPTIONS,
    .n_options = OPT_COUNT(OPTIONS),
    .positionals = ARGUMENTS,
    .n_positionals = OPT_COUNT(ARGUMENTS),
    .args_size = sizeof(PredictArgs),
};

static void print_clip(const char *path, const float *pe, const float *ps, int json)
{
    int be = 0, bs = 0;
    for (int k = 1; k < N_EMOTIONS; k++) be = pe[k] > pe[be] ? k : be;
    for (int k = 1; k < N_SENTIMENTS; k++) bs = ps[k] > ps[bs] ? k : bs;
    if (json) {
        printf("{\"clip\": ");
        cli_write_json_string(stdout, path);
        printf(", \"emotion\": \"%s\", \"sentiment\": \"%s\", \"emotion_probs\": {", emotion_name(be), sentiment_name(bs));
        for (int k = 0; k < N_EMOTIONS; k++) printf("%s\"%s\": %.4f", k ? ", " : "", emotion_name(k), pe[k]);
        printf("}, \"sentiment_probs\": {");
        for (int k = 0; k < N_SENTIMENTS; k++) printf("%s\"%s\": %.4f", k ? ", " : "", sentiment_name(k), ps[k]);
        printf("}}\n");
        return;
    }
    char shown[4096];
    printf("%s: emotion %s (%.2f), sentiment %s (%.2f)   [", cli_shown(path, shown, sizeof shown), emotion_name(be), pe[be],
           sentiment_name(bs), ps[bs]);
    for (int k = 0; k < N_EMOTIONS; k++) printf("%s%s %.2f", k ? ", " : "", emotion_name(k), pe[k]);
    printf("]\n");
}

static int run_predict(int argc, char **argv)
{
    PredictArgs a = {0};
    int rc = options_exit_status(options_parse(&CMD_PREDICT, argc, argv, &a, NULL));
    if (rc >= 0) return rc;
    if (!a.model_file || a.clips.n == 0) {
        fprintf(stderr, "meld predict: needs --model-file and at least one clip\n");
        return 2;
    }
    const char *model_file = a.model_file;
    char **clips = a.clips.items;
    int json = a.json, n = a.clips.n;
    LoadedModel lm;
    if (checkpoint_load_model(model_file, &lm)) return report_error("predict");
    PrepareOptions po = prepare_default_options();
    HaarCascade *cascade = NULL;
    if (corpus_features_from_config(lm.cache_config, &po)) { loaded_model_free(&lm); return report_error("predict"); }
    const char *cpath = po.cascade ? NULL : haar_default_cascade_path();
    if (cpath && !(cascade = haar_load(cpath))) { loaded_model_free(&lm); return report_error("predict"); }

    ClipFeatures *feat = calloc((size_t)n, sizeof *feat);
    CacheItem *items = calloc((size_t)n, sizeof *items);
    int *clip_of = calloc((size_t)n, sizeof *clip_of), m = 0, status = 0;
    if (!feat || !items || !clip_of) { fprintf(stderr, "meld predict: out of memory\n"); status = 1; n = 0; }
    for (int i = 0; i < n; i++) {
        const char *path = clips[i];
        if (clip_features(path, &po, cascade, &feat[m]) != MELD_OK) {
            status = report_error("predict");
            continue;
        }
        items[m] = (CacheItem){.dialogue_id = 0, .utterance_id = m, .n_mel_frames = feat[m].n_mel_frames,
                               .mel = feat[m].mel, .functional = feat[m].functional, .frames = feat[m].frames};
        clip_of[m++] = i;
    }
    char dir[] = "/tmp/meld-predict-XXXXXX", path[64];
    if (m > 0 && mkdtemp(dir)) {
        snprintf(path, sizeof path, "%s/clips.meldcache", dir);
        /* The cache describes the features computed, whatever the model
         * expects: batch building refuses a mismatch. */
        CacheConfig cfg = {.n_mels = po.n_mels, .functional_dim = functionals_dim(), .n_frames = po.frames,
                           .frame_size = po.size, .frame_channels = 3};
        snprintf(cfg.config, sizeof cfg.config, "%s", lm.cache_config);
        SplitData s;
        EvalResult r;
        float *pe = malloc(sizeof(float) * (size_t)m * N_EMOTIONS), *ps = malloc(sizeof(float) * (size_t)m * N_SENTIMENTS);
        if (pe && ps && cache_write(path, &cfg, items, m) == MELD_OK && split_data_open(&s, path, 0, NULL) == MELD_OK) {
            if (evaluate_split(lm.model, &s, &lm.norm, 32, &r, NULL, NULL, pe, ps) == MELD_OK)
                for (int i = 0; i < m; i++) print_clip(clips[clip_of[i]], pe + (size_t)i * N_EMOTIONS, ps + (size_t)i * N_SENTIMENTS, json);
            else status = (meld_error_context("%s", model_file), report_error("predict"));
            split_data_close(&s);
        } else {
            status = report_error("predict");
        }
        free(pe), free(ps);
        remove(path);
        rmdir(dir);
    } else if (m > 0) {
        fprintf(stderr, "meld predict: cannot create a temporary folder in /tmp\n");
        status = 1;
    }
    for (int i = 0; i < m; i++) clip_features_free(&feat[i]);
    free(feat), free(items), free(clip_of);
    haar_free(cascade);
    loaded_model_free(&lm);
    return status;
}
