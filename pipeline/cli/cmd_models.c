/* meld models / meld summary: the model table and one model's layers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/functionals.h"
#include "pipeline/cli/args.h"
#include "pipeline/cli/commands.h"
#include "pipeline/models/models.h"
#include "tensor/error.h"

/* The configuration `meld train` uses by default, with MELD-like feature
 * sizes (40 log-Mel bands, 64x64 RGB frames, 4 per utterance) and the
 * functional vector of this build. */
static MeldModelConfig default_config(const char *kind, int context, int functionals)
{
    MeldModelConfig c = {0};
    c.func_dim = functionals_dim();
    c.n_mels = 40;
    c.frame_size = 64;
    c.frame_channels = 3;
    c.frames_used = 4;
    c.rnn_hidden = 300;
    c.mel_hidden = strcmp(kind, "melstm") ? 64 : 128;
    c.mel_pool = 4;
    c.mel_max_frames = 200;
    c.context = context;
    c.audio_functionals = functionals;
    return c;
}

int cmd_models(int argc, char **argv)
{
    if (argc > 1) {
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
            printf("usage: meld models\n\nLists the models with their parameter counts and inputs.\n");
            return 0;
        }
        fprintf(stderr, "meld models: unexpected argument '%s'\n", argv[1]);
        return 2;
    }
    printf("%-8s %12s  %-9s %-48s %s\n", "model", "parameters", "optimiser", "input", "description");
    for (int i = 0; i < N_MELD_MODEL_KINDS; i++) {
        const MeldModelKind *k = MELD_MODEL_KINDS[i];
        MeldModelConfig c = default_config(k->name, 0, 1);
        Rng r;
        rng_seed(&r, 1, 1);
        MeldModel *m = meld_model_create(k->name, &c, &r);
        if (!m) return report_error("models");
        printf("%-8s %12zu  %-9s %-48s %s\n", k->name, meld_model_param_count(m), k->default_optim, k->inputs, k->description);
        meld_model_free(m);
    }
    printf("(fusion: functional-vector audio branch; --audio mel uses the melstm encoder, --context adds a\n"
           " dialogue-level BiLSTM; counts for 40 Mel bands, 64x64 frames, %d functionals)\n",
           functionals_dim());
    return 0;
}

int cmd_summary(int argc, char **argv)
{
    const char *kind = NULL;
    int context = 0, functionals = 1;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: meld summary --model gru|lstm|melstm|cnn|fusion [--context] [--audio functionals|mel]\n");
            return 0;
        }
        if (!strcmp(argv[i], "--context")) { context = 1; continue; }
        if (!(v = arg_value(argc, argv, &i, "summary"))) return 2;
        if (!strcmp(argv[i - 1], "--model")) kind = v;
        else if (!strcmp(argv[i - 1], "--audio")) functionals = strcmp(v, "mel") != 0;
        else { fprintf(stderr, "meld summary: unknown option '%s'\n", argv[i - 1]); return 2; }
    }
    if (!kind) { fprintf(stderr, "meld summary: --model is required\n"); return 2; }
    MeldModelConfig c = default_config(kind, context, functionals);
    Rng r;
    rng_seed(&r, 1, 1);
    MeldModel *m = meld_model_create(kind, &c, &r);
    if (!m) return report_error("summary");
    char *text = NULL;
    int rc = meld_model_summary(m, &text);
    if (rc == MELD_OK) fputs(text, stdout);
    free(text);
    meld_model_free(m);
    return rc ? report_error("summary") : 0;
}
