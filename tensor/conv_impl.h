/* Internal: per-ISA pieces of tensor/conv.c. */
#ifndef MELD_CONV_IMPL_H
#define MELD_CONV_IMPL_H

#include <stdint.h>

/* One (n,c) plane of a 2x2, stride 2, unpadded max pool: y, arg are
 * [H/2, W/2]; same values and argmax as the scalar loop. AVX-512 only. */
void maxpool2x2s2_plane_avx512(const float *x, int H, int W, float *y, int32_t *arg);

#endif
