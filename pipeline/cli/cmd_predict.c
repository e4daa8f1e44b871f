/* meld predict: emotion and sentiment of clips with a trained model.
 *
 * The clips' features are computed exactly as `meld prepare` does (with the
 * feature configuration stored in the checkpoint) and written to a
 * temporary feature cache as one dialogue (clip i = utterance i, in the
 * order given), so the model reads them through the same code path as in
 * training. Dialogue-context models therefore see the clips as one
 * dialogue in order. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli/commands.h"
#include "audio/functionals.h"
#include "pipeline/cli/corpus.h"
#include "pipeline/cli/messages.h"
#include "pipeline/data/dataset.h"
#include "pipeline/export/model_io.h"
#include "pipeline/train/train.h"
#include "tensor/error.h"
#include "tensor/json.h"
#include "video/haar.h"

typedef struct {
    const char *model_file, *inputs, *save_inputs;
    bool json, full_precision;
    OptList clips;
} PredictArgs;

#define A(f, T) OPT_AT(PredictArgs, f, T)
static const Option OPTIONS[] = {
    {"--model-file", OPT_TEXT, A(model_file, const char *), "CKPT", .help = "the checkpoint, e.g. a run's best.safetensors", .def_text = "none: required"},
    {"--json", OPT_FLAG, A(json, bool), .help = "one JSON object per clip"},
    {"--full-precision", OPT_FLAG, A(full_precision, bool), .help = "probabilities to 9 significant digits (every float32 exactly) instead of 4 decimals (2 in the text form)"},
    {"--save-inputs", OPT_TEXT, A(save_inputs, const char *), "FILE", .help = "also write the clips' features as the inputs of the exported models (meld export; docs/EXPORT.md), as float32 safetensors", .def_text = "none"},
    {"--inputs", OPT_TEXT, A(inputs, const char *), "FILE", .help = "predict from such a file instead of clips (its utterances are labelled FILE[i], or FILE[dialogue][i])", .def_text = "none: clips"},
};
static const Positional ARGUMENTS[] = {
    {"CLIP", A(clips, OptList), .help = "an MP4 (or anything ffmpeg decodes), a WAV, a Y4M, or a folder of PGM/PPM frames; a model that reads both streams finds the other beside it (X.wav with X.y4m)", .variadic = true},
};
#undef A

static int run_predict(int argc, char **argv);

const CommandSpec CMD_PREDICT = {
    .name = "predict",
    .summary = "emotion and sentiment for clips",
    .about = "Prints the emotion and sentiment of each clip with their probabilities. The\n"
             "clips are decoded as `meld prepare` does (MP4 through ffmpeg), only the\n"
             "streams the model reads: a WAV alone for an audio model (gru, lstm,\n"
             "melstm), a video alone for cnn, both for fusion.\n",
    .run = run_predict,
    .options = OPTIONS,
    .n_options = OPT_COUNT(OPTIONS),
    .positionals = ARGUMENTS,
    .n_positionals = OPT_COUNT(ARGUMENTS),
    .args_size = sizeof(PredictArgs),
};

typedef struct {
    int json, full_precision;
    const char *model_file;   /* named in errors */
} Style;

static bool finite_all(const float *v, int n)
{
    for (int k = 0; k < n; k++)
        if (!isfinite(v[k])) return false;
    return true;
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int k = 1; k < n; k++) best = v[k] > v[best] ? k : best;
    return best;
}

/* One clip as one JSON line: clip, labels and probabilities (null when the
 * model's outputs are not finite, with a note). MELD_OK or MELD_ERR (a
 * write error). */
static int print_clip_json(const char *label, const float *pe, const float *ps, const Style *st)
{
    bool ok = finite_all(pe, N_EMOTIONS) && finite_all(ps, N_SENTIMENTS);
    const char *fmt = st->full_precision ? "%.9g" : "%.4f";
    JsonWriter j;
    json_writer_init(&j, JSON_LINE, stdout);
    json_begin_object(&j, NULL);
    json_string(&j, "clip", label);
    json_string(&j, "emotion", ok ? emotion_name(argmax(pe, N_EMOTIONS)) : NULL);
    json_string(&j, "sentiment", ok ? sentiment_name(argmax(ps, N_SENTIMENTS)) : NULL);
    json_begin_object(&j, "emotion_probs");
    for (int k = 0; k < N_EMOTIONS; k++) json_real(&j, emotion_name(k), pe[k], fmt);
    json_end_object(&j);
    json_begin_object(&j, "sentiment_probs");
    for (int k = 0; k < N_SENTIMENTS; k++) json_real(&j, sentiment_name(k), ps[k], fmt);
    json_end_object(&j);
    if (!ok) json_string(&j, "note", "the model's outputs are not finite: its weights are damaged");
    json_end_object(&j);
    putchar('\n');
    return json_writer_finish(&j, "predict");
}

static int print_clip(const char *label, const float *pe, const float *ps, const Style *st)
{
    if (st->json) return print_clip_json(label, pe, ps, st);
    char shown[4096];
    if (!finite_all(pe, N_EMOTIONS) || !finite_all(ps, N_SENTIMENTS)) {
        printf("%s: no prediction: the model's outputs are not finite (its weights are damaged)\n",
               cli_shown(label, shown, sizeof shown));
        return MELD_OK;
    }
    int be = argmax(pe, N_EMOTIONS), bs = argmax(ps, N_SENTIMENTS);
    const char *num = st->full_precision ? "%.9g" : "%.2f";
    printf("%s: emotion %s (", cli_shown(label, shown, sizeof shown), emotion_name(be));
    printf(num, pe[be]);
    printf("), sentiment %s (", sentiment_name(bs));
    printf(num, ps[bs]);
    printf(")   [");
    for (int k = 0; k < N_EMOTIONS; k++) {
        printf("%s%s ", k ? ", " : "", emotion_name(k));
        printf(num, pe[k]);
    }
    printf("]\n");
    return MELD_OK;
}

/* The streams the model reads: audio (functionals or log-Mel), video (frames). */
static int model_streams(const MeldModel *m)
{
    int needs = meld_model_batch_spec(m, false).needs;
    return (needs & (NEED_FUNC | NEED_MEL) ? CLIP_AUDIO : 0) | (needs & NEED_FRAMES ? CLIP_VIDEO : 0);
}

static const char *streams_text(int streams)
{
    return streams == CLIP_AUDIO ? "the audio only" : streams == CLIP_VIDEO ? "the video only" : "audio and video";
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
        if (!strstr(meld_error(), st->model_file)) meld_error_context("%s", st->model_file);
        status = report_error("predict");
    } else {
        for (int i = 0; i < n && !status; i++)
            if (print_clip(labels[i], pe + (size_t)i * N_EMOTIONS, ps + (size_t)i * N_SENTIMENTS, st))
                status = report_error("predict");
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
    int streams = model_streams(lm->model);
    for (int i = 0; i < n; i++) {
        if (clip_features_of(clips[i], &po, cascade, streams, &feat[m]) != MELD_OK) {
            cli_errorf("predict", "%s (model %s reads %s)", meld_error(), lm->model->kind->name, streams_text(streams));
            status = 1;
            continue;
        }
        items[m] = (CacheItem){.dialogue_id = 0, .utterance_id = m, .n_mel_frames = feat[m].n_mel_frames,
                               .mel = feat[m].mel, .functional = feat[m].functional, .frames = feat[m].frames};
        labels[m++] = clips[i];
    }
    /* The features as computed, whatever the model expects: batch building
     * refuses a mismatch. */
    CacheConfig cfg = {.n_mels = po.n_mels, .functional_dim = functionals_dim(), .n_frames = po.frames,
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

static int run_predict(int argc, char **argv)
{
    PredictArgs a = {0};
    int rc = options_exit_status(options_parse(&CMD_PREDICT, argc, argv, &a, NULL));
    if (rc >= 0) return rc;
    if (!a.model_file || (a.clips.n == 0) == !a.inputs || (a.inputs && a.save_inputs)) {
        fprintf(stderr, "meld predict: needs --model-file and either clips or --inputs (not both)\n");
        return 2;
    }
    Style st = {a.json, a.full_precision, a.model_file};
    LoadedModel lm;
    if (checkpoint_load_model(a.model_file, &lm)) return report_error("predict");
    int status = a.inputs ? predict_inputs(&lm, a.inputs, &st)
                          : predict_clips(&lm, a.clips.items, a.clips.n, &st, a.save_inputs);
    loaded_model_free(&lm);
    return status;
}
