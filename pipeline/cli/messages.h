/* How the CLI prints: the library's errors and warnings (tensor/error.h) as
 * "meld CMD: MESSAGE" on stderr, and text that came from outside (file
 * names, CSV fields, arguments) escaped so that it cannot break a line or
 * drive the terminal.
 *
 * Escaping: a newline shows as \n, a tab as \t, any other control byte or
 * a byte that is not part of valid UTF-8 as \xNN; valid UTF-8 (accents,
 * CJK, emoji) is printed as it is. */
#ifndef MELD_CLI_MESSAGES_H
#define MELD_CLI_MESSAGES_H

#include <stdio.h>

#include "tensor/error.h"

/* Prints the library's error message as "meld CMD: MESSAGE" and returns 1. */
int report_error(const char *cmd);
/* Prints pending library warnings to stderr, each as "meld CMD: warning: ...". */
void report_warnings(const char *cmd);
/* Prints "meld CMD: TEXT\n" on stderr ("meld: TEXT" when cmd is NULL), TEXT
 * formatted then escaped. */
void cli_errorf(const char *cmd, const char *fmt, ...) MELD_PRINTF(2, 3);
/* s escaped into buf (cut at a character boundary when cap is too small):
 * printf("wrote %s\n", cli_shown(path, buf, sizeof buf)). Returns buf. */
const char *cli_shown(const char *s, char *buf, size_t cap);
/* Flushes stdout; on a write error (a full disk, a closed descriptor)
 * prints it as "meld CMD: standard output: ..." and returns 1, else 0. */
int cli_check_stdout(const char *cmd);

#endif
