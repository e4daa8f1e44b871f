/* ./meld: dispatches argv[1] to the command table below; every command is
 * in pipeline/cli/cmd_NAME.c. */
#include <stdio.h>
#include <string.h>

#include "pipeline/cli/commands.h"
#include "pipeline/cli/messages.h"
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

static int run(int argc, char **argv)
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
    bool near_enough = options_edit_distance(argv[1], CLI_COMMANDS[near]->name) <= 2;
    cli_errorf(NULL, "unknown command '%s'%s%s%s", argv[1], near_enough ? " (did you mean " : "",
               near_enough ? CLI_COMMANDS[near]->name : "", near_enough ? "?)" : "");
    usage(stderr);
    return 2;
}

/* Whatever a command printed must have reached stdout: `meld eval > FILE`
 * on a full disk is a failure, not an exit 0 with nothing written. */
int cli_main(int argc, char **argv)
{
    int status = run(argc, argv);
    const char *cmd = NULL;
    for (int i = 0; argc >= 2 && i < CLI_N_COMMANDS; i++)
        if (!strcmp(argv[1], CLI_COMMANDS[i]->name)) cmd = CLI_COMMANDS[i]->name;
    if (cli_check_stdout(cmd) && status == 0) status = 1;
    return status;
}
