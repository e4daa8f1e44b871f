#include "tests/pickle_stream.h"

#include <stdio.h>
#include <stdlib.h>

const uint8_t *pickle_stream(const char *spec, size_t *len)
{
    static uint8_t buf[8192];
    size_t n = 0;
    for (const char *c = spec; *c && n < sizeof buf; c++) {
        if (*c != '`') {
            buf[n++] = (uint8_t)*c;
            continue;
        }
        for (c++; *c && *c != '`' && n < sizeof buf; c += 2) {
            unsigned byte;
            if (sscanf(c, "%2x", &byte) != 1) abort();   /* a typo in a test's stream */
            buf[n++] = (uint8_t)byte;
        }
        if (!*c) abort();
    }
    *len = n;
    return buf;
}
