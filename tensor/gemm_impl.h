/* Internal: the GEMM micro-kernels and packing copies behind tensor/gemm.c,
 * one table per ISA (the pattern is described in tensor/cpu.h). The SIMD
 * tables come from tensor/gemm_kernel_body.inc, the scalar one from
 * tensor/gemm_kernel_scalar.c.
 *
 * A micro-kernel computes one register tile of C (mr x nr, mr <= MR,
 * nr <= NR):
 *
 *     C[mr x nr] = alpha * Ap[mr x kc] * B[kc x nr] + beta * C   (beta == 0: C write-only)
 *
 *   a    A sliver, op(A)[i][k] = a[i*a_rs + k*a_cs]. Packed (a_rs = 1,
 *        a_cs = MR): for each k, MR consecutive floats (rows 0..mr-1 used;
 *        the kernel may read all MR of them), so the k-th column of the
 *        tile is one short contiguous read, broadcast one row at a time;
 *        the kernels have separate instances for this case. Or op(A) read
 *        in place: (lda, 1) for A as stored (NN), (1, lda) for a transposed
 *        A.
 *   b    row k of the B tile starts at b + k*ldb_k: either a packed sliver
 *        (ldb_k = NR, contiguous) or op(B) read in place (NN case, ldb_k = ldb).
 *        Only columns 0..nr-1 are read.
 *   c    C tile, row stride ldc; only the mr x nr tile is read/written.
 *
 * The tile lives in registers for the whole k loop: per k the kernel loads
 * NR/VL vectors of B and, for each of the mr rows, takes one A value and
 * does NR/VL FMAs. With MR*NR/VL accumulators the FMA units never wait on
 * one another (FMA latency 4 cycles, 2 units: at least 8 independent
 * chains are needed; the SIMD kernels have 12 to 28).
 */
#ifndef MELD_GEMM_IMPL_H
#define MELD_GEMM_IMPL_H

#include <stddef.h>

typedef void (*GemmMicroKernel)(int mr, int nr, int kc, const float *a, size_t a_rs,
                                size_t a_cs, const float *b, size_t ldb_k, float *c, size_t ldc,
                                float alpha, float beta);

typedef struct {
    const char *name;
    int MR, NR;               /* register tile */
    int VL;                   /* floats per vector (1: scalar) */
    GemmMicroKernel kernel;
    /* The kernel with packing on the side (NULL: scalar): with a_copy, A
     * is read in place (strides a_rs, a_cs) and each A value used is also
     * stored into a_copy (the packed sliver, k-major, MR floats per k);
     * with b_copy, op(B) = B is read in place (row stride ldb_k) and each B
     * row loaded is also stored into b_copy (NR floats per k; only the
     * first VL when nr <= VL, as the tiles reading them back are that
     * narrow too); A is then packed unless a_copy is given too. gemm.c's
     * fused packing. */
    void (*kernel_copy)(int mr, int nr, int kc, const float *a, size_t a_rs, size_t a_cs,
                        float *a_copy, const float *b, size_t ldb_k, float *b_copy, float *c,
                        size_t ldc, float alpha, float beta);
    /* dst[c * dst_stride + r] = src[r * ld + c] for r < rows (1..VL),
     * c < cols: the transposing copy of the NN-A and NT-B packing, VL x VL
     * in registers. Either dst_stride < VL (one call per column: the
     * padding rows rows..dst_stride-1 of each column may be written, as
     * zeros), or dst_stride >= VL and dst + VL floats stays inside the
     * column. Nothing outside the cols columns is written. NULL: scalar. */
    void (*pack_transpose)(const float *src, size_t ld, int rows, int cols, float *dst,
                           size_t dst_stride);
    /* dst[r * dst_stride + c] = src[r * ld + c] for r < rows, c < cols:
     * the NN-B and TN-A packing copies (a memcpy per row costs a call
     * each). NULL: scalar. */
    void (*pack_rows)(const float *src, size_t ld, int rows, int cols, float *dst,
                      size_t dst_stride);
} GemmKernels;

extern const GemmKernels gemm_kernels_scalar, gemm_kernels_avx2, gemm_kernels_avx512,
    gemm_kernels_neon;

#endif
