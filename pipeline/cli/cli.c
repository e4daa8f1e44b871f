/* ./meld: dispatches argv[1] to the command table below; every command is
 * in pipeline/cli/cmd_NAME.c. */
#include <stdio.h>
#include <string.h>

#include "pipeline/cli/commands.h"
#include "pipeline/cli/version.h"

const CommandSpec *const CLI_COMMANDS[] = {
    &CMD_TRAIN, &CMD_EVAL, &CMD_PREDICT, &CMD_EXPORT, &CMD_PREPARE, &CMD_SYNTH,
    &CMD_EDA, &CMD_FEATURES, &CMD_FRAMES, &CMD_MODELS, &CMD_SUMMARY,
};
const int CLI_N_COMMANDS = OPT_COUNT(CLI_COMMANDS);

static void usage(FILE *out)
{
    fprintf(out, "usage: meld COMMAND [OPTIONS]   (meld COMMAND --help for its options)\n"
                 "       meld --version\n\ncommands:\n");
    for (int i = 0; i < CLI_N_COMMANDS; i++) fprintf(out, "  %-9s %s\n", CLI_COMMANDS[i]->name, CLI_COMMANDS[i]->summary);
}

int cli_main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("%s\n", meld_version_string());
        return 0;
    }
    for (int i = 0; i < CLI_N_COMMANDS; i++)
        if (!strcmp(argv[1], CLI_COMMANDS[i]->name)) return CLI_COMMANDS[i]->run(argc - 1, argv + 1);
    int near = 0;
    for (int i = 1; i < CLI_N_COMMANDS; i++)
        if (options_edit_distance(argv[1], CLI_COMMANDS[i]->name) < options_edit_distance(argv[1], CLI_COMMANDS[near]->name))
            near = i;
    fprintf(stderr, "meld: unknown command '%s'", argv[1]);
    if (options_edit_distance(argv[1], CLI_COMMANDS[near]->name) <= 2)
        fprintf(stderr, " (did you mean %s?)", CLI_COMMANDS[near]->name);
    fprintf(stderr, "\n");
    usage(stderr);
    return 2;
}
