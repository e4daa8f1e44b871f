/* Internal: per-ISA pieces of tensor/conv.c. */
#ifndef MELD_CONV_IMPL_H
#define MELD_CONV_IMPL_H

#include <stdint.h>

/* One (n,c) plane of a 2x2, stride 2, unpadded max pool: y, arg are
 * [H/2, W/2]; same values and argmax as the scalar loop. AVX-512 only. */
void maxpool2x2s2_plane_avx512(const float *x, int H, int W, float *y, int32_t *arg);
/* Its backward: dx[arg[o]] += dy[o] over the plane's outputs, the same sums
 * as the scalar scatter (arg inside the plane); assign: dx is uninitialised
 * and ends as those sums alone. AVX-512 only. */
void maxpool2x2s2_backward_plane_avx512(const float *dy, const int32_t *arg, int H, int W, float *dx,
                                        int assign);

/* One (c, p, q) plane of a stride-1 im2col: OH rows of OW, row i holding
 * input row ih = i + row_shift (zeros if outside [0, H)), dst[i][j] =
 * plane[ih][j + col_shift] for j in [lo, hi), 0 for the other j (padding).
 * OW <= 32 and lo <= 16. Reads only inside the plane. Same values as the
 * scalar loop. AVX-512 only. */
void im2col_plane_s1_avx512(float *dst, const float *plane, int H, int W, int OH, int OW,
                            int row_shift, int col_shift, int lo, int hi);

#endif
