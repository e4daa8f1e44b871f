/* The command line as text: provenance records the one that started a
 * run, and an interrupted run prints the one that resumes it. */
#ifndef MELD_CLI_COMMAND_LINE_H
#define MELD_CLI_COMMAND_LINE_H

/* program followed by argv[0..argc), each word quoted for a POSIX shell
 * when it needs it ("--out 'my runs/a'"), joined by spaces. Allocated;
 * NULL when out of memory. */
char *command_line_text(const char *program, int argc, char *const *argv);

/* The program as the user invoked it ("./meld"), for commands to copy. */
const char *cli_program_name(void);

#endif
