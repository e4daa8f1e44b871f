/* libFuzzer target: the PGM/PPM reader (video/image.h) from memory. */
#include "tests/fuzz/fuzz.h"
#include "video/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Image im;
    int rc = pnm_read_memory(data, size, "fuzz.pnm", &im);
    if (rc == MELD_OK) {
        if ((size_t)im.width * im.height * im.channels > size) abort();
        image_free(&im);
    }
    fuzz_check_error(rc);
    return 0;
}
