/* The subcommands of ./meld. Each lives in pipeline/cli/cmd_NAME.c as a
 * CommandSpec (its options table, help text and run function) and is
 * listed once in CLI_COMMANDS (cli.c). A command returns the process exit
 * status: 0 on success, 1 on an error it has printed, 2 on bad usage. */
#ifndef MELD_CLI_COMMANDS_H
#define MELD_CLI_COMMANDS_H

#include "pipeline/cli/options.h"

extern const CommandSpec CMD_TRAIN, CMD_EVAL, CMD_PREDICT, CMD_EXPORT, CMD_PREPARE, CMD_SYNTH, CMD_EDA,
    CMD_FEATURES, CMD_FRAMES, CMD_MODELS, CMD_SUMMARY;

extern const CommandSpec *const CLI_COMMANDS[];
extern const int CLI_N_COMMANDS;

/* The models as the variants of train and summary: the words of
 * MODEL_CHOICES are MELD_MODEL_KINDS' names in order (a test checks), and
 * bit k of Option.only is model k. */
#define MODEL_CHOICES "gru|lstm|melstm|cnn|fusion"
enum { MODEL_GRU, MODEL_LSTM, MODEL_MELSTM, MODEL_CNN, MODEL_FUSION, N_MODEL_CHOICES };
enum {
    ONLY_GRU = 1u << MODEL_GRU, ONLY_LSTM = 1u << MODEL_LSTM, ONLY_MELSTM = 1u << MODEL_MELSTM,
    ONLY_CNN = 1u << MODEL_CNN, ONLY_FUSION = 1u << MODEL_FUSION,
};

/* `meld ARGS`: the program (main.c calls it). */
int cli_main(int argc, char **argv);

/* options_parse's outcome as the command's exit status: -1 to go on. */
static inline int options_exit_status(int rc)
{
    return rc == OPTIONS_OK ? -1 : rc == OPTIONS_DONE ? 0 : 2;
}

#endif
