#include "pipeline/cli/messages.h"

#include <stdio.h>
#include <string.h>

#include "pipeline/dist/comm.h"
#include "tensor/error.h"

int report_error(const char *cmd)
{
    report_warnings(cmd);
    const Comm *c = comm_world();
    if (c->size > 1) fprintf(stderr, "meld %s: rank %d of %d: %s\n", cmd, c->rank, c->size, meld_error());
    else fprintf(stderr, "meld %s: %s\n", cmd, meld_error());
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
