/* .npy reading and writing for float32 matrices; format in npy.h. */
#include "audio/npy.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/atomic_file.h"
#include "tensor/error.h"

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
        unsigned long long v = strtoull(s, &end, 10);
        if (end == s || errno || nd == 2) return meld_errorf("%s: only 1-D and 2-D shapes are supported", path);
        dims[nd++] = (size_t)v;
        s = end;
        while (*s == ' ' || *s == ',') s++;
    }
    if (nd == 0) return meld_errorf("%s: 0-D arrays are not supported", path);
    *rows = nd == 1 ? 1 : dims[0];
    *cols = nd == 1 ? dims[0] : dims[1];
    return MELD_OK;
}

int npy_read_f32(const char *path, float **data, size_t *rows, size_t *cols)
{
    *data = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) return meld_errorf("%s: cannot open: %s", path, strerror(errno));
    uint8_t pre[10];
    char header[4096];
    int rc = MELD_ERR;
    if (fread(pre, 1, 10, fp) != 10 || memcmp(pre, MAGIC, 6) != 0 || pre[6] != 1) {
        meld_errorf("%s: not a version-1 .npy file", path);
        goto done;
    }
    size_t hlen = (size_t)pre[8] | ((size_t)pre[9] << 8);
    if (hlen >= sizeof header || fread(header, 1, hlen, fp) != hlen) {
        meld_errorf("%s: truncated or oversized .npy header", path);
        goto done;
    }
    header[hlen] = '\0';
    const char *descr = field(header, "'descr'"), *order = field(header, "'fortran_order'");
    const char *shape = field(header, "'shape'");
    if (!descr || strncmp(descr, "'<f4'", 5) != 0) {
        meld_errorf("%s: only little-endian float32 ('<f4') arrays are supported", path);
        goto done;
    }
    if (!order || strncmp(order, "False", 5) != 0) {
        meld_errorf("%s: Fortran-order arrays are not supported", path);
        goto done;
    }
    if (!shape || parse_shape(shape, rows, cols, path)) goto done;
    if (*cols && *rows > SIZE_MAX / sizeof(float) / *cols) {
        meld_errorf("%s: shape too large", path);
        goto done;
    }
    size_t count = *rows * *cols;
    /* Check the file really holds the data before allocating for it. */
    long here = ftell(fp);
    if (here < 0 || fseek(fp, 0, SEEK_END) != 0) {
        meld_errorf("%s: cannot seek", path);
        goto done;
    }
    long end = ftell(fp);
    if (end < here || (unsigned long long)(end - here) < (unsigned long long)count * sizeof(float)) {
        meld_errorf("%s: data truncated (%zu values expected)", path, count);
        goto done;
    }
    if (fseek(fp, here, SEEK_SET) != 0) {
        meld_errorf("%s: cannot seek", path);
        goto done;
    }
    float *d = meld_malloc((count ? count : 1) * sizeof(float), "npy data");
    if (!d) goto done;
    if (fread(d, sizeof(float), count, fp) != count) {
        free(d);
        meld_errorf("%s: read error", path);
        goto done;
    }
    *data = d;
    rc = MELD_OK;
done:
    fclose(fp);
    return rc;
}
