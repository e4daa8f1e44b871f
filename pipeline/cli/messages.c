#include "pipeline/cli/messages.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "tensor/utf8.h"

const char *cli_shown(const char *s, char *buf, size_t cap)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), at = 0;
    while (n && cap > 0) {
        size_t len = utf8_sequence(p, n);
        char esc[8] = "";
        if (len == 1 && *p == '\n') strcpy(esc, "\\n");
        else if (len == 1 && *p == '\t') strcpy(esc, "\\t");
        else if (len == 0 || (len == 1 && (*p < 0x20 || *p == 0x7F))) snprintf(esc, sizeof esc, "\\x%02x", *p);
        size_t need = esc[0] ? strlen(esc) : len;
        if (at + need + 1 > cap) break;   /* cut before a whole character */
        memcpy(buf + at, esc[0] ? esc : (const char *)p, need);
        at += need;
        len = len ? len : 1;
        p += len;
        n -= len;
    }
    if (cap > 0) buf[at] = '\0';
    return buf;
}

void cli_errorf(const char *cmd, const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    char shown[4 * sizeof text];
    fprintf(stderr, "meld%s%s: %s\n", cmd ? " " : "", cmd ? cmd : "", cli_shown(text, shown, sizeof shown));
}

int report_error(const char *cmd)
{
    report_warnings(cmd);
    cli_errorf(cmd, "%s", meld_error());
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
        cli_errorf(cmd, "warning: %.*s", len, line);
        line += len + (nl ? 1 : 0);
    }
}

int cli_check_stdout(const char *cmd)
{
    errno = 0;
    int flushed = fflush(stdout) == 0;
    int saved = errno;
    if (flushed && !ferror(stdout)) return 0;
    /* An earlier write may have failed and left errno long since changed. */
    cli_errorf(cmd, "standard output: write failed: %s", saved ? strerror(saved) : "write error");
    clearerr(stdout);
    return 1;
}
