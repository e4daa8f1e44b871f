#include "video/sample.h"

#include "tensor/error.h"

int frame_sample_indices(long n, int k, long *idx)
{
    if (n < 1 || k < 1) return meld_errorf("frame sampling: %ld frames, %d samples (both must be >= 1)", n, k);
    for (int i = 0; i < k; i++) {
        /* (2i + 1) n / 2k in integers: exact floor, no float rounding */
        idx[i] = (long)(((2 * (long long)i + 1) * n) / (2 * (long long)k));
    }
    return MELD_OK;
}
