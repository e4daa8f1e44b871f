/* libFuzzer target: the Haar cascade loader (video/haar.h, video/xml.h) and
 * the detector running whatever loaded.
 *
 * The input is a cascade file. Anything the loader accepts must also run:
 * it is applied to a few small images (a textured one, a flat one, one
 * smaller than most windows) with and without grouping. A crash, a
 * sanitizer report, a leak or an accepted cascade that fails to run is a
 * bug; a refused cascade must come with a message naming the file.
 *
 * Built by `make fuzz` with the other targets; run for a bounded time:
 *   sh tests/fuzz/run.sh 60 cascade
 *
 * Seeds (tests/fuzz/corpus/cascade/): hand-made cascades of stumps and of
 * trees, the first two stages of OpenCV's frontal-face cascade, and the
 * minimised crashers of tests/fixtures/video/ (regressions).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"
#include "tensor/threadpool.h"
#include "video/haar.h"
#include "video/image.h"

static void fill(Image *im, int w, int h, uint32_t seed, int flat)
{
    if (image_alloc(im, w, h, 1)) abort();
    for (int i = 0; i < w * h; i++) {
        seed = seed * 1664525u + 1013904223u;
        im->pixels[i] = flat ? 90 : (uint8_t)((i % w) * 7 + (seed >> 26));
    }
}

static void run(const HaarCascade *c, const Image *im, int neighbours)
{
    HaarOptions o = haar_default_options();
    o.min_neighbours = neighbours;
    HaarDetection *d = NULL;
    int n = 0;
    if (haar_detect(c, im, &o, &d, &n) != MELD_OK) abort();   /* a loaded cascade always runs */
    for (int i = 0; i < n; i++)
        if (d[i].box.width < 1 || d[i].box.x < 0 || d[i].box.x + d[i].box.width > im->width) abort();
    free(d);
}

/* One thread: the runs are tiny, and a fuzzer process should not spread. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    threadpool_set_threads(1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    HaarCascade *c = haar_load_memory((const char *)data, size, "fuzz.xml");
    if (!c) {
        if (strncmp(meld_error(), "fuzz.xml: ", 10)) abort();   /* every refusal names the file */
        return 0;
    }
    Image textured, flat, small;
    fill(&textured, 48, 40, (uint32_t)size, 0);
    fill(&flat, 30, 30, 0, 1);
    fill(&small, 9, 7, 1, 0);
    run(c, &textured, 0);
    run(c, &textured, 3);
    run(c, &flat, 0);
    run(c, &small, 0);
    image_free(&textured);
    image_free(&flat);
    image_free(&small);
    haar_free(c);
    return 0;
}
