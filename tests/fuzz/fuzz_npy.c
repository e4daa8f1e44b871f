/* libFuzzer target: the .npy reader (audio/npy.h) from memory. */
#include "tests/fuzz/fuzz.h"
#include "audio/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    float *m;
    size_t rows, cols;
    int rc = npy_parse_f32(data, size, "fuzz.npy", &m, &rows, &cols);
    if (rc == MELD_OK) {
        if (cols && rows > size / 4 / cols) abort();
        volatile float sink = rows * cols ? m[rows * cols - 1] : 0;
        (void)sink;
        free(m);
    }
    fuzz_check_error(rc);
    return 0;
}
