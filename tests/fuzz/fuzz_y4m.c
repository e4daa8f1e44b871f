/* libFuzzer target: the Y4M reader (video/y4m.h) through its streaming
 * interface, as ffmpeg's pipe feeds it: header, then every frame as RGB. */
#include "tests/fuzz/fuzz.h"
#include "video/y4m.h"

typedef struct {
    const uint8_t *p;
    size_t left;
} Bytes;

static long read_bytes(void *ctx, void *buf, size_t n)
{
    Bytes *b = ctx;
    if (n > b->left) n = b->left;
    memcpy(buf, b->p, n);
    b->p += n;
    b->left -= n;
    return (long)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Bytes b = {data, size};
    Y4mReader r;
    int rc = y4m_open_source(&r, read_bytes, &b, "fuzz.y4m");
    if (rc == MELD_OK) {
        Image im = {0};
        int got;
        while ((got = y4m_read_frame(&r, &im, 3)) > 0) {}
        if (got < 0) rc = MELD_ERR;
        image_free(&im);
    }
    fuzz_check_error(rc);
    y4m_close(&r);
    return 0;
}
