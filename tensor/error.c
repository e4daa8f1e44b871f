#include "tensor/error.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_CAP 1024

static _Thread_local char error_buf[MSG_CAP];
static _Thread_local char warn_buf[MSG_CAP];
static _Thread_local char warn_out[MSG_CAP];

/* Formats into out (cap bytes) as one line: a control character that came
 * in with a name (a file called "a<newline>b", a CSV field with a tab) is
 * written \n, \t or \xNN, so a message stays the one line callers print. */
static void format_line(char *out, size_t cap, const char *fmt, va_list ap)
{
    char raw[MSG_CAP];
    vsnprintf(raw, sizeof raw, fmt, ap);
    size_t at = 0;
    for (const unsigned char *p = (const unsigned char *)raw; *p; p++) {
        char esc[5] = {(char)*p, 0};
        if (*p == '\n') strcpy(esc, "\\n");
        else if (*p == '\t') strcpy(esc, "\\t");
        else if (*p < 0x20 || *p == 0x7F) snprintf(esc, sizeof esc, "\\x%02x", *p);
        size_t n = strlen(esc);
        if (at + n >= cap) break;
        memcpy(out + at, esc, n);
        at += n;
    }
    out[at] = '\0';
}

int meld_errorf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    format_line(error_buf, sizeof error_buf, fmt, ap);
    va_end(ap);
    return MELD_ERR;
}

int meld_error_context(const char *fmt, ...)
{
    char prefix[MSG_CAP], old[MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    format_line(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, error_buf, sizeof old);
    /* Truncation is acceptable: the message stays one bounded line. */
    size_t n = strlen(prefix);
    if (n > MSG_CAP - 3) n = MSG_CAP - 3;
    memcpy(error_buf, prefix, n);
    memcpy(error_buf + n, ": ", 2);
    size_t room = MSG_CAP - n - 3, m = strlen(old);
    if (m > room) m = room;
    memcpy(error_buf + n + 2, old, m);
    error_buf[n + 2 + m] = '\0';
    return MELD_ERR;
}

const char *meld_error(void) { return error_buf; }
void meld_error_clear(void) { error_buf[0] = '\0'; }

void meld_warnf(const char *fmt, ...)
{
    size_t used = strlen(warn_buf);
    if (used + 2 >= sizeof warn_buf) return;
    if (used) warn_buf[used++] = '\n';   /* warnings are one line each */
    va_list ap;
    va_start(ap, fmt);
    format_line(warn_buf + used, sizeof warn_buf - used, fmt, ap);
    va_end(ap);
}

const char *meld_take_warning(void)
{
    if (!warn_buf[0]) return NULL;
    memcpy(warn_out, warn_buf, sizeof warn_out);
    warn_buf[0] = '\0';
    return warn_out;
}

void *meld_malloc(size_t bytes, const char *what)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) meld_errorf("out of memory allocating %zu bytes for %s", bytes, what);
    return p;
}

void *meld_calloc(size_t count, size_t size, const char *what)
{
    if (size && count > SIZE_MAX / size) {
        meld_errorf("allocation size overflow (%zu x %zu) for %s", count, size, what);
        return NULL;
    }
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) meld_errorf("out of memory allocating %zu bytes for %s", count * size, what);
    return p;
}

void *meld_aligned_alloc(size_t bytes, const char *what)
{
    void *p = NULL;
    size_t rounded = (bytes + 63) & ~(size_t)63;
    if (posix_memalign(&p, 64, rounded ? rounded : 64) != 0) {
        meld_errorf("out of memory allocating %zu bytes for %s", bytes, what);
        return NULL;
    }
    return p;
}
