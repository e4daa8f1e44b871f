/* ./meld: the command-line front end. Dispatches argv[1] to the command
 * table below; every command is in pipeline/cli/cmd_NAME.c. */
#include <stdio.h>
#include <string.h>

#include "pipeline/cli/commands.h"

typedef struct {
    const char *name;
    CommandFn run;          /* NULL: not built yet */
    const char *synopsis;
} Command;

static const Command COMMANDS[] = {
    {"train",    cmd_train, "train a model (default: fusion on the built-in synthetic corpus)"},
    {"eval",     cmd_eval, "evaluate a checkpoint on dev or test: accuracy, F1, confusion"},
    {"predict",  cmd_predict, "emotion and sentiment for clips"},
    {"export",   cmd_export, "a trained model as PyTorch code + weights, or as ONNX"},
    {"prepare",  cmd_prepare, "decode clips and build the feature cache"},
    {"synth",    cmd_synth, "write the built-in synthetic MELD-shaped corpus"},
    {"eda",      cmd_eda, "exploratory analysis of the MELD annotations"},
    {"features", cmd_features, "audio features of one WAV (log-Mel, MFCC, LLD, functionals)"},
    {"frames",   cmd_frames, "the face crops the CNN sees for one clip or image"},
    {"models",   cmd_models, "list the models with parameter counts"},
    {"summary",  cmd_summary, "layer table of one model"},
};
enum { N_COMMANDS = sizeof COMMANDS / sizeof COMMANDS[0] };

static void usage(FILE *out)
{
    fprintf(out, "usage: meld COMMAND [OPTIONS]   (meld COMMAND --help for its options)\n\ncommands:\n");
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-9s %s%s\n", COMMANDS[i].name, COMMANDS[i].synopsis,
                COMMANDS[i].run ? "" : "  [not built yet]");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (int i = 0; i < N_COMMANDS; i++) {
        if (strcmp(argv[1], COMMANDS[i].name) != 0) continue;
        if (!COMMANDS[i].run) {
            fprintf(stderr, "meld %s: not built yet\n", argv[1]);
            return 2;
        }
        return COMMANDS[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "meld: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
