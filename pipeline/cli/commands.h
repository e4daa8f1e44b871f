/* The subcommands of ./meld. Each lives in pipeline/cli/cmd_NAME.c and is
 * listed once in the table in main.c. A command returns the process exit
 * status: 0 on success, 1 on an error it has printed, 2 on bad usage. */
#ifndef MELD_CLI_COMMANDS_H
#define MELD_CLI_COMMANDS_H

typedef int (*CommandFn)(int argc, char **argv);

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_prepare(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_eda(int argc, char **argv);
int cmd_features(int argc, char **argv);
int cmd_frames(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_summary(int argc, char **argv);

#endif
