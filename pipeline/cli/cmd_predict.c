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

#include "pipeline/cli/args.h"
#include "pipeline/cli/commands.h"
#include "pipeline/cli/corpus.h"
#include "pipeline/data/dataset.h"
#include "pipeline/train/train.h"
#include "tensor/error.h"
#include "video/haar.h"

static const char *USAGE =
    "usage: meld predict --model-file F [--json] CLIP...\n"
    "\n"
    "CLIP is an MP4 (decoded by ffmpeg), a WAV with a Y4M of the same stem, or a\n"
    "folder of PGM/PPM frames with a WAV. Prints the emotion and sentiment of each\n"
    "clip with their probabilities; --json prints one JSON object per clip.\n";

static void print_clip(const char *path, const float *pe, const float *ps, int json)
{
    int be = 0, bs = 0;
    for (int k = 1; k < N_EMOTIONS; k++) be = pe[k] > pe[be] ? k : be;
    for (int k = 1; k < N_SENTIMENTS; k++) bs = ps[k] > ps[bs] ? k : bs;
    if (json) {
        printf("{\"clip\": \"");
        for (const char *c = path; *c; c++) {
            if (*c == '"' || *c == '\\') putchar('\\');
            if ((unsigned char)*c >= 0x20) putchar(*c);
        }
        printf("\", \"emotion\": \"%s\", \"sentiment\": \"%s\", \"emotion_probs\": {", emotion_name(be), sentiment_name(bs));
        for (int k = 0; k < N_EMOTIONS; k++) printf("%s\"%s\": %.4f", k ? ", " : "", emotion_name(k), pe[k]);
        printf("}, \"sentiment_probs\": {");
        for (int k = 0; k < N_SENTIMENTS; k++) printf("%s\"%s\": %.4f", k ? ", " : "", sentiment_name(k), ps[k]);
        printf("}}\n");
        return;
    }
    printf("%s: emotion %s (%.2f), sentiment %s (%.2f)   [", path, emotion_name(be), pe[be], sentiment_name(bs), ps[bs]);
    for (int k = 0; k < N_EMOTIONS; k++) printf("%s%s %.2f", k ? ", " : "", emotion_name(k), pe[k]);
    printf("]\n");
}

int cmd_predict(int argc, char **argv)
{
    const char *model_file = NULL;
    int json = 0, first_clip = argc;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { fputs(USAGE, stdout); return 0; }
        if (!strcmp(argv[i], "--json")) { json = 1; continue; }
        if (!strcmp(argv[i], "--model-file")) {
            if (!(model_file = arg_value(argc, argv, &i, "predict"))) return 2;
            continue;
        }
        if (!strncmp(argv[i], "--", 2)) { fprintf(stderr, "meld predict: unknown option '%s'\n%s", argv[i], USAGE); return 2; }
        first_clip = i;
        break;
    }
    if (!model_file || first_clip >= argc) { fprintf(stderr, "meld predict: needs --model-file and at least one clip\n%s", USAGE); return 2; }
    int n = argc - first_clip;
    LoadedModel lm;
    if (checkpoint_load_model(model_file, &lm)) return report_error("predict");
    PrepareOptions po = prepare_default_options();
    HaarCascade *cascade = NULL;
    if (corpus_features_from_config(lm.cache_config, &po)) { loaded_model_free(&lm); return report_error("predict"); }
    const char *cpath = po.cascade ? NULL : haar_default_cascade_path();
    if (cpath && !(cascade = haar_load(cpath))) { loaded_model_free(&lm); return report_error("predict"); }

    ClipFeatures *feat = calloc((size_t)n, sizeof *feat);
    CacheItem *items = calloc((size_t)n, sizeof *items);
    CacheSource *rows = calloc((size_t)n, sizeof *rows);   /* the cache's source table: one used row each */
    int *clip_of = calloc((size_t)n, sizeof *clip_of), m = 0, status = 0;
    if (!feat || !items || !rows || !clip_of) { fprintf(stderr, "meld predict: out of memory\n"); status = 1; n = 0; }
    for (int i = 0; i < n; i++) {
        const char *path = argv[first_clip + i];
        if (clip_features(path, &po, cascade, &feat[m]) != MELD_OK) {
            fprintf(stderr, "meld predict: %s\n", meld_error());
            status = 1;
            continue;
        }
        items[m] = (CacheItem){.dialogue_id = 0, .utterance_id = m, .n_mel_frames = feat[m].n_mel_frames,
                               .mel = feat[m].mel, .functional = feat[m].functional, .frames = feat[m].frames};
        rows[m] = (CacheSource){.dialogue_id = 0, .utterance_id = m, .clip_name = "", .reason = ""};
        clip_of[m++] = first_clip + i;
    }
    char dir[] = "/tmp/meld-predict-XXXXXX", path[64];
    if (m > 0 && mkdtemp(dir)) {
        snprintf(path, sizeof path, "%s/clips.meldcache", dir);
        CacheConfig cfg = {.n_mels = po.n_mels, .functional_dim = lm.model->cfg.func_dim, .n_frames = po.frames,
                           .frame_size = po.size, .frame_channels = 3};
        snprintf(cfg.config, sizeof cfg.config, "%s", lm.cache_config);
        SplitData s;
        EvalResult r;
        float *pe = malloc(sizeof(float) * (size_t)m * N_EMOTIONS), *ps = malloc(sizeof(float) * (size_t)m * N_SENTIMENTS);
        CacheProvenance src = {.rows = rows, .n_rows = m};
        if (pe && ps && cache_write(path, &cfg, &src, items, m) == MELD_OK && split_data_open(&s, path, 0, NULL) == MELD_OK) {
            if (evaluate_split(lm.model, &s, &lm.norm, 32, &r, NULL, NULL, pe, ps) == MELD_OK)
                for (int i = 0; i < m; i++) print_clip(argv[clip_of[i]], pe + (size_t)i * N_EMOTIONS, ps + (size_t)i * N_SENTIMENTS, json);
            else status = report_error("predict");
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
    free(feat), free(items), free(rows), free(clip_of);
    haar_free(cascade);
    loaded_model_free(&lm);
    return status;
}
