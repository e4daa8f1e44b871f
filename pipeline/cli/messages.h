/* The library's errors and warnings (tensor/error.h) as the CLI prints
 * them: "meld CMD: MESSAGE" on stderr. */
#ifndef MELD_CLI_MESSAGES_H
#define MELD_CLI_MESSAGES_H

/* Prints the library's error message as "meld CMD: MESSAGE" ("meld CMD:
 * rank R of N: MESSAGE" in a job of several processes) and returns 1. */
int report_error(const char *cmd);
/* Prints pending library warnings to stderr, each as "meld CMD: warning: ...". */
void report_warnings(const char *cmd);

#endif
