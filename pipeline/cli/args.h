/* Small helpers for parsing subcommand options ("--epochs 5"). Each prints
 * "meld CMD: ..." to stderr on a bad value and returns -1. */
#ifndef MELD_CLI_ARGS_H
#define MELD_CLI_ARGS_H

#include <stdbool.h>

/* Returns argv[i+1] and advances *i, or prints "OPT needs a value" and returns NULL. */
const char *arg_value(int argc, char **argv, int *i, const char *cmd);
int arg_int(const char *cmd, const char *opt, const char *text, long lo, long hi, int *out);
int arg_float(const char *cmd, const char *opt, const char *text, double lo, double hi, float *out);
/* Prints the library's error message as "meld CMD: MESSAGE" and returns 1. */
int report_error(const char *cmd);
/* Prints pending library warnings to stderr, each as "meld CMD: warning: ...". */
void report_warnings(const char *cmd);

#endif
