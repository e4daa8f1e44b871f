/* Shared by the libFuzzer targets (tests/fuzz/fuzz_*.c, built by `make fuzz`).
 *
 * Every target feeds the bytes to one parser and checks the contract every
 * parser has: a result the parser vouches for, or MELD_ERR with a one-line
 * message; never a crash, an over-read (ASan), undefined behaviour (UBSan),
 * a leak, a hang or an allocation the input cannot justify (libFuzzer's
 * -rss_limit_mb / -malloc_limit_mb and -timeout catch those). */
#ifndef MELD_FUZZ_H
#define MELD_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"

/* A failure must come with a message of one line. */
static inline void fuzz_check_error(int rc)
{
    if (rc == MELD_OK) return;
    const char *msg = meld_error();
    if (rc != MELD_ERR || !msg[0] || strchr(msg, '\n')) abort();
    meld_error_clear();
    (void)meld_take_warning();
}

#endif
