/* Command lines as text (see command_line.h). */
#define _GNU_SOURCE   /* program_invocation_name: argv[0], kept by the C library */
#include "pipeline/cli/command_line.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Words made only of these need no quotes. */
static bool plain(const char *w)
{
    if (!*w) return false;
    for (; *w; w++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=,+@%", *w)) return false;
    return true;
}

/* Appends w, single-quoted unless plain ("it's" -> 'it'\''s'). */
static char *append_word(char *out, const char *w)
{
    if (plain(w)) return strcpy(out, w) + strlen(w);
    *out++ = '\'';
    for (; *w; w++) {
        if (*w == '\'') out = strcpy(out, "'\\''") + 4;
        else *out++ = *w;
    }
    *out++ = '\'';
    *out = '\0';
    return out;
}

char *command_line_text(const char *program, int argc, char *const *argv)
{
    size_t cap = 4 * strlen(program) + 3;   /* every character may become '\'' */
    for (int i = 0; i < argc; i++) cap += 4 * strlen(argv[i]) + 3;
    char *text = malloc(cap), *at = text;
    if (!text) return NULL;
    at = append_word(at, program);
    for (int i = 0; i < argc; i++) {
        *at++ = ' ';
        at = append_word(at, argv[i]);
    }
    *at = '\0';
    return text;
}

const char *cli_program_name(void)
{
    return program_invocation_name && *program_invocation_name ? program_invocation_name : "meld";
}
