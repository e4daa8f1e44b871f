/* libFuzzer target: the feature cache reader (pipeline/data/cache.h). The
 * reader maps a file, so the bytes go to an in-memory file (memfd) opened
 * by its /proc/self/fd path; every entry it accepts is then read whole, as
 * batch building does. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"
#include "pipeline/data/cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz.meldcache", 0);
        if (fd < 0) abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size) abort();
    Cache c;
    int rc = cache_open(path, 0, &c, NULL);
    if (rc == MELD_OK) {
        volatile float sum = 0;
        size_t fb = (size_t)c.cfg.n_frames * c.cfg.frame_size * c.cfg.frame_size * c.cfg.frame_channels;
        for (int i = 0; i < c.n; i++) {
            size_t mel = (size_t)c.entries[i].n_mel_frames * c.cfg.n_mels;
            if (mel) sum += cache_mel(&c, i)[mel - 1];
            if (c.cfg.functional_dim) sum += cache_functional(&c, i)[c.cfg.functional_dim - 1];
            if (fb) sum += cache_frames(&c, i)[fb - 1];
        }
        (void)sum;
        cache_close(&c);
    }
    fuzz_check_error(rc);
    return 0;
}
