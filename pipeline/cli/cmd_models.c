/* meld models / meld summary: the model table and one model's layers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/functionals.h"
#include "pipeline/cli/commands.h"
#include "pipeline/cli/messages.h"
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

static int run_models(int argc, char **argv);
static int run_summary(int argc, char **argv);

const CommandSpec CMD_MODELS = {
    .name = "models",
    .summary = "list the models with parameter counts",
    .about = "Lists the models with their parameter counts and inputs.\n",
    .run = run_models,
};

typedef struct {
    const char *model, *audio;
    bool context;
} SummaryArgs;

#define A(f, T) OPT_AT(SummaryArgs, f, T)
static const Option SUMMARY_OPTIONS[] = {
    {"--model", OPT_CHOICE, A(model, const char *), MODEL_CHOICES, .help = "the model", .def_text = "none: required"},
    {"--context", OPT_FLAG, A(context, bool), .help = "with the dialogue-level context BiLSTM", .only = ONLY_FUSION},
    {"--audio", OPT_CHOICE, A(audio, const char *), "functionals|mel", .help = "audio branch", .def = "functionals", .only = ONLY_FUSION},
};
#undef A

const CommandSpec CMD_SUMMARY = {
    .name = "summary",
    .summary = "layer table of one model",
    .about = "The layers of one model with their output shapes and parameter counts, for\n"
             "the configuration `meld train` uses by default (40 Mel bands, 64x64 frames).\n",
    .run = run_summary,
    .options = SUMMARY_OPTIONS,
    .n_options = OPT_COUNT(SUMMARY_OPTIONS),
    .variant_option = "--model",
    .args_size = sizeof(SummaryArgs),
};

static int run_models(int argc, char **argv)
{
    int rc = options_exit_status(options_parse(&CMD_MODELS, argc, argv, NULL, NULL));
    if (rc >= 0) return rc;
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

static int run_summary(int argc, char **argv)
{
    SummaryArgs a = {0};
    int rc = options_exit_status(options_parse(&CMD_SUMMARY, argc, argv, &a, NULL));
    if (rc >= 0) return rc;
    if (!a.model) {
        fprintf(stderr, "meld summary: --model is required\n");
        return 2;
    }
    const char *kind = a.model;
    int context = a.context, functionals = strcmp(a.audio, "mel") != 0;
    MeldModelConfig c = default_config(kind, context, functionals);
    Rng r;
    rng_seed(&r, 1, 1);
    MeldModel *m = meld_model_create(kind, &c, &r);
    if (!m) return report_error("summary");
    char *text = NULL;
    rc = meld_model_summary(m, &text);
    if (rc == MELD_OK) fputs(text, stdout);
    free(text);
    meld_model_free(m);
    return rc ? report_error("summary") : 0;
}
