/* .npy reading and writing for float32 matrices; format in npy.h. */
#include "audio/npy.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/atomic_file.h"
#include "tensor/error.h"
#include "tensor/input_file.h"

static const char MAGIC[8] = {'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0};

int npy_write_f32(const char *path, const float *data, size_t rows, size_t cols)
{
    char header[256];
    int len = snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }",
                       rows, cols);
    /* Pad with spaces so magic (8) + length (2) + header ends on a 64-byte boundary. */
    int total = ((10 + len + 1 + 63) / 64) * 64, hlen = total - 10;
    memset(header + len, ' ', (size_t)(hlen - len - 1));
    header[hlen - 1] = '\n';
    uint8_t lenbytes[2] = {(uint8_t)(hlen & 0xff), (uint8_t)(hlen >> 8)};
    AtomicFile f;
    if (atomic_file_open(&f, path)) return MELD_ERR;
    /* float32 is stored as-is: x86-64 and every other target we build for
     * is little-endian. */
    if (atomic_file_write(&f, MAGIC, 8) || atomic_file_write(&f, lenbytes, 2) ||
        atomic_file_write(&f, header, (size_t)hlen) ||
        atomic_file_write(&f, data, rows * cols * sizeof(float))) {
        atomic_file_abort(&f);
        return MELD_ERR;
    }
    return atomic_file_commit(&f);
}

/* Finds "'key':" in the header and returns the text after it, or NULL. */
static const char *field(const char *h, const char *key)
{
    const char *p = strstr(h, key);
    if (!p) return NULL;
    p += strlen(key);
    while (*p == ' ' || *p == ':') p++;
    return p;
}

static int parse_shape(const char *s, size_t *rows, size_t *cols, const char *path)
{
    if (*s != '(') return meld_errorf("%s: malformed shape", path);
    s++;
    size_t dims[2] = {0, 0};
    int nd = 0;
    while (*s == ' ') s++;
    while (*s != ')') {
        char *end;
        errno = 0;
        /* strtoull would read "-1" as 2^64 - 1: digits only. */
        unsigned long long v = *s >= '0' && *s <= '9' ? strtoull(s, &end, 10) : 0;
        if (!(*s >= '0' && *s <= '9') || errno || nd == 2)
            return meld_errorf("%s: only 1-D and 2-D shapes of non-negative sizes are supported", path);
        dims[nd++] = (size_t)v;
        s = end;
        while (*s == ' ' || *s == ',') s++;
    }
    if (nd == 0) return meld_errorf("%s: 0-D arrays are not supported", path);
    *rows = nd == 1 ? 1 : dims[0];
    *cols = nd == 1 ? dims[0] : dims[1];
    return MELD_OK;
}

int npy_parse_f32(const uint8_t *bytes, size_t size, const char *name, float **data, size_t *rows, size_t *cols)
{
    *data = NULL;
    *rows = *cols = 0;
    if (size < 10 || memcmp(bytes, MAGIC, 6) != 0 || bytes[6] != 1)
        return meld_errorf("%s: not a version-1 .npy file", name);
    size_t hlen = (size_t)bytes[8] | ((size_t)bytes[9] << 8);
    if (hlen > size - 10) return meld_errorf("%s: truncated .npy header", name);
    char header[1 << 16];
    memcpy(header, bytes + 10, hlen);
    header[hlen] = '\0';
    if (strlen(header) != hlen) return meld_errorf("%s: NUL byte in the .npy header", name);
    const char *descr = field(header, "'descr'"), *order = field(header, "'fortran_order'");
    const char *shape = field(header, "'shape'");
    if (!descr || strncmp(descr, "'<f4'", 5) != 0)
        return meld_errorf("%s: only little-endian float32 ('<f4') arrays are supported", name);
    if (!order || strncmp(order, "False", 5) != 0) return meld_errorf("%s: Fortran-order arrays are not supported", name);
    size_t r = 0, c = 0;
    if (!shape) return meld_errorf("%s: the .npy header has no 'shape'", name);
    if (parse_shape(shape, &r, &c, name)) return MELD_ERR;
    /* The data must be in the file before anything is allocated for it. */
    size_t have = (size - 10 - hlen) / sizeof(float);
    if (c && r > have / c) return meld_errorf("%s: shape (%zu, %zu) needs more data than the file holds (%zu values)", name, r, c, have);
    size_t count = r * c;
    float *d = meld_malloc((count ? count : 1) * sizeof(float), "npy data");
    if (!d) return meld_error_context("%s", name);
    memcpy(d, bytes + 10 + hlen, count * sizeof(float));
    *data = d;
    *rows = r;
    *cols = c;
    return MELD_OK;
}

int npy_read_f32(const char *path, float **data, size_t *rows, size_t *cols)
{
    *data = NULL;
    uint8_t *bytes;
    size_t size;
    if (input_file_read_all(path, SIZE_MAX, &bytes, &size)) return MELD_ERR;
    int rc = npy_parse_f32(bytes, size, path, data, rows, cols);
    free(bytes);
    return rc;
}
