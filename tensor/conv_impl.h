/* Internal: the per-ISA pieces of tensor/conv.c, one table per ISA (the
 * pattern is described in tensor/cpu.h). The SIMD tables come from
 * tensor/conv_body.inc; the scalar entries are NULL and conv.c runs its
 * own loops instead. */
#ifndef MELD_CONV_IMPL_H
#define MELD_CONV_IMPL_H

#include <stdint.h>

/* Rows up to this wide go through the vector plane copy of im2col (a few
 * vectors per row): for 8 to 32 floats the memset/memcpy calls per row
 * cost more than the copy (AVX-512, the frame CNN's 32x32, 16x16 and 8x8
 * layers: 1.25x, 2.3x, 2x faster), while for 64-float rows libc's copy
 * was faster (0.61 vs 0.74 ms per 32 images). */
enum { IM2COL_PLANE_MAX_OW = 32 };

typedef struct {
    /* One (n,c) plane of a 2x2, stride 2, unpadded max pool: y, arg are
     * [H/2, W/2]; same values and argmax as the scalar loop. */
    void (*maxpool2x2s2_plane)(const float *x, int H, int W, float *y, int32_t *arg);
    /* Its backward: dx[arg[o]] += dy[o] over the plane's outputs, the same
     * sums as the scalar scatter (arg inside the plane); assign: dx is
     * uninitialised and ends as those sums alone. */
    void (*maxpool2x2s2_backward_plane)(const float *dy, const int32_t *arg, int H, int W,
                                        float *dx, int assign);
    /* One (c, p, q) plane of a stride-1 im2col: OH rows of OW
     * (OW <= IM2COL_PLANE_MAX_OW), row i holding input row ih = i +
     * row_shift (zeros if outside [0, H)), dst[i][j] = plane[ih][j +
     * col_shift] for j in [lo, hi), 0 for the other j (padding). Reads only
     * inside the plane. Same values as the scalar loop. */
    void (*im2col_plane_s1)(float *dst, const float *plane, int H, int W, int OH, int OW,
                            int row_shift, int col_shift, int lo, int hi);
} ConvKernels;

extern const ConvKernels conv_kernels_scalar, conv_kernels_avx2, conv_kernels_avx512,
    conv_kernels_neon;

#endif
