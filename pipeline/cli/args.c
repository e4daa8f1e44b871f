#include "pipeline/cli/args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"

const char *arg_value(int argc, char **argv, int *i, const char *cmd)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "meld %s: %s needs a value\n", cmd, argv[*i]);
        return NULL;
    }
    *i += 1;
    return argv[*i];
}

int arg_int(const char *cmd, const char *opt, const char *text, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi) {
        fprintf(stderr, "meld %s: %s expects an integer in [%ld, %ld], got '%s'\n", cmd, opt, lo, hi, text);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int arg_float(const char *cmd, const char *opt, const char *text, double lo, double hi, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "meld %s: %s expects a number in [%g, %g], got '%s'\n", cmd, opt, lo, hi, text);
        return -1;
    }
    *out = (float)v;
    return 0;
}

int report_error(const char *cmd)
{
    report_warnings(cmd);
    fprintf(stderr, "meld %s: %s\n", cmd, meld_error());
    return 1;
}

void report_warnings(const char *cmd)
{
    const char *w = meld_take_warning();
    if (!w) return;
    /* One "warning:" prefix per line. */
    const char *line = w;
    while (*line) {
        const char *nl = strchr(line, '\n');
        int len = nl ? (int)(nl - line) : (int)strlen(line);
        fprintf(stderr, "meld %s: warning: %.*s\n", cmd, len, line);
        line += len + (nl ? 1 : 0);
    }
}
