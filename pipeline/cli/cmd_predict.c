/* meld predict: emotion and sentiment of clips with a trained model.
 *
 * The clips' features are computed exactly as `meld prepare` does (with the
 * feature configuration stored in the checkpoint) and written to a
 * temporary feature cache as one dialogue (clip i = utterance i, in the
 * order given), so the model reads them through the same code path as in
 * training. Dialogue-context models therefore see the clips as one
 * dialogue in order. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli/args.h"
#include "pipeline/cli/commands.h"
#include "pipeline/cli/corpus.h"
#include "pipeline/data/dataset.h"
#include "pipeline/export/model_io.h"
#include "pipeline/train/train.h"
#include "tensor/error.h"
#include "video/haar.h"

static const char *USAGE =
    "usage: meld predict --model-file F [--json] [--full-precision] [--save-inputs FILE] CLIP...\n"
    "       meld predict --model-file F [--json] [--full-precision] --inputs FILE\n"
    "\n"
    "CLIP is an MP4 (decoded by ffmpeg), a WAV with a Y4M of the same stem, or a\n"
    "folder of PGM/PPM frames with a WAV. Prints the emotion and sentiment of each\n"
    "clip with their probabilities; --json prints one JSON object per clip.\n"
    "  --full-precision  probabilities to 9 significant digits (every float32\n"
    "                    exactly) instead of 4 decimals (2 in the text form)\n"
    "  --save-inputs F   also write the clips' features as the inputs of the\n"
    "                    exported models (meld export; names and shapes in\n"
    "                    docs/EXPORT.md), as float32 safetensors\n"
    "  --inputs F        predict from such a file instead of clips (its\n"
    "                    utterances are labelled F[i], or F[dialogue][i])\n";

typedef struct {
    int json, full_precision;
} Style;

static void print_clip(const char *label, const float *pe, const float *ps, const Style *st)
{
    int be = 0, bs = 0;
    for (int k = 1; k < N_EMOTIONS; k++) be = pe[k] > pe[be] ? k : be;
    for (int k = 1; k < N_SENTIMENTS; k++) bs = ps[k] > ps[bs] ? k : bs;
    const char *fmt = st->full_precision ? "%s\"%s\": %.9g" : "%s\"%s\": %.4f";
    if (st->json) {
        printf("{\"clip\": \"");
        for (const char *c = label; *c; c++) {
            if (*c == '"' || *c == '\\') putchar('\\');
            if ((unsigned char)*c >= 0x20) putchar(*c);
        }
        printf("\", \"emotion\": \"%s\", \"sentiment\": \"%s\", \"emotion_probs\": {", emotion_name(be), sentiment_name(bs));
        for (int k = 0; k < N_EMOTIONS; k++) printf(fmt, k ? ", " : "", emotion_name(k), pe[k]);
        printf("}, \"sentiment_probs\": {");
        for (int k = 0; k < N_SENTIMENTS; k++) printf(fmt, k ? ", " : "", sentiment_name(k), ps[k]);
        printf("}}\n");
        return;
    }
    const char *num = st->full_precision ? "%.9g" : "%.2f";
    printf("%s: emotion %s (", label, emotion_name(be));
    printf(num, pe[be]);
    printf("), sentiment %s (", sentiment_name(bs));
    printf(num, ps[bs]);
    printf(")   [");
    for (int k = 0; k < N_EMOTIONS; k++) {
        printf("%s%s ", k ? ", " : "", emotion_name(k));
        printf(num, pe[k]);
    }
    printf("]\n");
}

/* Predicts n utterances and prints one line each (and, with save_inputs,
 * writes them as an inputs file). Returns the exit status. */
static int predict_items(const LoadedModel *lm, const CacheConfig *cfg, const CacheItem *items, int n,
                         const char *const *labels, const Style *st, const char *save_inputs)
{
    float *pe = malloc(sizeof(float) * (size_t)n * N_EMOTIONS), *ps = malloc(sizeof(float) * (size_t)n * N_SENTIMENTS);
    int status = 0;
    if (!pe || !ps) {
        fprintf(stderr, "meld predict: out of memory\n");
        status = 1;
    } else if (model_io_predict(lm->model, &lm->norm, cfg, items, n, pe, ps, save_inputs)) {
        status = report_error("predict");
    } else {
        for (int i = 0; i < n; i++) print_clip(labels[i], pe + (size_t)i * N_EMOTIONS, ps + (size_t)i * N_SENTIMENTS, st);
    }
    free(pe), free(ps);
    return status;
}

static int predict_clips(const LoadedModel *lm, char **clips, int n, const Style *st, const char *save_inputs)
{
    PrepareOptions po = prepare_default_options();
    HaarCascade *cascade = NULL;
    if (corpus_features_from_config(lm->cache_config, &po)) return report_error("predict");
    const char *cpath = po.cascade ? NULL : haar_default_cascade_path();
    if (cpath && !(cascade = haar_load(cpath))) return report_error("predict");
    ClipFeatures *feat = calloc((size_t)n, sizeof *feat);
    CacheItem *items = calloc((size_t)n, sizeof *items);
    const char **labels = calloc((size_t)n, sizeof *labels);
    int m = 0, status = 0;
    if (!feat || !items || !labels) { fprintf(stderr, "meld predict: out of memory\n"); status = 1; n = 0; }
    for (int i = 0; i < n; i++) {
        if (clip_features(clips[i], &po, cascade, &feat[m]) != MELD_OK) {
            fprintf(stderr, "meld predict: %s\n", meld_error());
            status = 1;
            continue;
        }
        items[m] = (CacheItem){.dialogue_id = 0, .utterance_id = m, .n_mel_frames = feat[m].n_mel_frames,
                               .mel = feat[m].mel, .functional = feat[m].functional, .frames = feat[m].frames};
        labels[m++] = clips[i];
    }
    CacheConfig cfg = {.n_mels = po.n_mels, .functional_dim = lm->model->cfg.func_dim, .n_frames = po.frames,
                       .frame_size = po.size, .frame_channels = 3};
    snprintf(cfg.config, sizeof cfg.config, "%s", lm->cache_config);
    if (m > 0 && predict_items(lm, &cfg, items, m, labels, st, save_inputs)) status = 1;
    for (int i = 0; i < m; i++) clip_features_free(&feat[i]);
    free(feat), free(items), free(labels);
    haar_free(cascade);
    return status;
}

static int predict_inputs(const LoadedModel *lm, const char *path, const Style *st)
{
    ModelInputItems in;
    if (model_inputs_load(path, lm->model, &in)) return report_error("predict");
    enum { LABEL_CAP = 1100 };
    char *text = malloc((size_t)in.n * LABEL_CAP);
    const char **labels = malloc(sizeof *labels * (size_t)in.n);
    int status = 1;
    if (text && labels) {
        bool dialogues = meld_model_batch_spec(lm->model, false).dialogue_level;
        for (int i = 0; i < in.n; i++) {
            char *l = text + (size_t)i * LABEL_CAP;
            if (dialogues) snprintf(l, LABEL_CAP, "%s[%d][%d]", path, in.items[i].dialogue_id, in.items[i].utterance_id);
            else snprintf(l, LABEL_CAP, "%s[%d]", path, i);
            labels[i] = l;
        }
        status = predict_items(lm, &in.cfg, in.items, in.n, labels, st, NULL);
    } else {
        fprintf(stderr, "meld predict: out of memory\n");
    }
    free(text), free(labels);
    model_input_items_free(&in);
    return status;
}

int cmd_predict(int argc, char **argv)
{
    const char *model_file = NULL, *inputs = NULL, *save_inputs = NULL;
    Style st = {0, 0};
    int first_clip = argc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(USAGE, stdout); return 0; }
        if (!strcmp(a, "--json")) { st.json = 1; continue; }
        if (!strcmp(a, "--full-precision")) { st.full_precision = 1; continue; }
        const char **value = !strcmp(a, "--model-file") ? &model_file : !strcmp(a, "--inputs") ? &inputs
                           : !strcmp(a, "--save-inputs") ? &save_inputs : NULL;
        if (value) {
            if (!(*value = arg_value(argc, argv, &i, "predict"))) return 2;
            continue;
        }
        if (!strncmp(a, "--", 2)) { fprintf(stderr, "meld predict: unknown option '%s'\n%s", a, USAGE); return 2; }
        first_clip = i;
        break;
    }
    if (!model_file || (first_clip >= argc) == !inputs || (inputs && save_inputs)) {
        fprintf(stderr, "meld predict: needs --model-file and either clips or --inputs (not both)\n%s", USAGE);
        return 2;
    }
    LoadedModel lm;
    if (checkpoint_load_model(model_file, &lm)) return report_error("predict");
    int status = inputs ? predict_inputs(&lm, inputs, &st)
                        : predict_clips(&lm, argv + first_clip, argc - first_clip, &st, save_inputs);
    loaded_model_free(&lm);
    return status;
}
