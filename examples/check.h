/* The two ways an example stops, shared by the programs in examples/.
 *
 * The engine never prints or exits: a call that fails returns NULL or
 * MELD_ERR and leaves one line in the error buffer (tensor/error.h).
 * A program decides what to do with it; these examples print it and exit.
 *
 *     need(p, "what")     p is NULL: print meld_error(), exit 1
 *     need_ok(s, "what")  status s is not MELD_OK: the same
 *     check(ok, fmt...)  a claim the example makes (it learned, the kernel
 *                        agrees with the reference): print why not, exit 1
 *
 * `make test` runs every example, so a claim that stops holding fails it.
 * (Not assert(): that vanishes under -DNDEBUG.)
 */
#ifndef MELD_EXAMPLES_CHECK_H
#define MELD_EXAMPLES_CHECK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "tensor/error.h"

#define need(p, what) need_at((p) != NULL, what, __FILE__, __LINE__)
#define need_ok(s, what) need_at((s) == MELD_OK, what, __FILE__, __LINE__)

static inline void need_at(int ok, const char *what, const char *file, int line)
{
    if (ok) return;
    fprintf(stderr, "%s:%d: %s failed: %s\n", file, line, what, meld_error());
    exit(1);
}

static inline void check(int ok, const char *fmt, ...)
{
    if (ok) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("check failed: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

#endif
