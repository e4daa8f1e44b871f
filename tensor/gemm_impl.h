/* Internal: the GEMM micro-kernels behind tensor/gemm.c.
 *
 * A micro-kernel computes one register tile of C (mr x nr, mr <= MR,
 * nr <= NR):
 *
 *     C[mr x nr] = alpha * Ap[mr x kc] * B[kc x nr] + beta * C   (beta == 0: C write-only)
 *
 *   a    A sliver, op(A)[i][k] = a[i*a_rs + k*a_cs]. Packed (a_rs = 1,
 *        a_cs = MR): for each k, MR consecutive floats (rows 0..mr-1 used),
 *        so the k-th column of the tile is one short contiguous read,
 *        broadcast one row at a time; the kernels have separate instances
 *        for this case. Or op(A) read in place: (lda, 1) for A as stored
 *        (NN), (1, lda) for a transposed A.
 *   b    row k of the B tile starts at b + k*ldb_k: either a packed sliver
 *        (ldb_k = NR, contiguous) or op(B) read in place (NN case, ldb_k = ldb).
 *        Only columns 0..nr-1 are read.
 *   c    C tile, row stride ldc; only the mr x nr tile is read/written.
 *
 * The tile lives in registers for the whole k loop: per k the kernel loads
 * NR/W vectors of B (W = vector width) and, for each of the mr rows,
 * broadcasts one A value and does NR/W FMAs. With MR*NR/W accumulators the
 * FMA units never wait on one another (FMA latency 4 cycles, 2 units: at
 * least 8 independent chains are needed, the kernels have 12 to 28).
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
    GemmMicroKernel kernel;
} GemmKernelInfo;

/* AVX-512F: 14 x 32 tile = 28 zmm accumulators + 2 for B + 1 broadcast. */
enum { GEMM_AVX512_MR = 14, GEMM_AVX512_NR = 32 };
/* AVX2+FMA: 6 x 16 tile = 12 ymm accumulators + 2 for B + 1 broadcast. */
enum { GEMM_AVX2_MR = 6, GEMM_AVX2_NR = 16 };
/* Portable C: 4 x 16 tile in local arrays (the compiler may vectorise it). */
enum { GEMM_SCALAR_MR = 4, GEMM_SCALAR_NR = 16 };

void gemm_kernel_avx512(int mr, int nr, int kc, const float *a, size_t a_rs, size_t a_cs,
                   const float *b, size_t ldb_k, float *c, size_t ldc, float alpha,
                   float beta);
void gemm_kernel_avx2(int mr, int nr, int kc, const float *a, size_t a_rs, size_t a_cs,
                   const float *b, size_t ldb_k, float *c, size_t ldc, float alpha,
                   float beta);
void gemm_kernel_scalar(int mr, int nr, int kc, const float *a, size_t a_rs, size_t a_cs,
                   const float *b, size_t ldb_k, float *c, size_t ldc, float alpha,
                   float beta);

/* The AVX-512 kernel with packing on the side: with a_copy, A is read in
 * place (strides a_rs, a_cs) and each A value broadcast is also stored
 * into a_copy (the packed sliver, k-major, MR floats per k); with b_copy,
 * op(B) = B is read in place (row stride ldb_k) and each B row loaded is
 * also stored into b_copy (NR floats per k; only the first 16 when
 * nr <= 16, as the tiles reading them back are that narrow too); A is
 * then packed unless a_copy is given too. gemm.c's fused packing. */
void gemm_kernel_avx512_copy(int mr, int nr, int kc, const float *a, size_t a_rs, size_t a_cs,
                             float *a_copy, const float *b, size_t ldb_k, float *b_copy,
                             float *c, size_t ldc, float alpha, float beta);

/* dst[c * dst_stride + r] = src[r * ld + c] for r < rows (1..16), c < cols:
 * the transposing copy of the NN-A and NT-B packing, 16 x 16 in registers.
 * rows <= dst_stride. When dst_stride < 16 the padding rows rows..dst_stride-1
 * of each column may be written (as zeros); nothing outside the cols
 * columns is. AVX-512 only (gemm_pack_avx512.c). */
void gemm_pack_transpose_avx512(const float *src, size_t ld, int rows, int cols, float *dst,
                                size_t dst_stride);

/* dst[r * dst_stride + c] = src[r * ld + c] for r < rows, c < cols <= 32:
 * the NN-B and TN-A packing copies (a memcpy per 56- or 128-byte row costs
 * a call each). */
void gemm_pack_rows_avx512(const float *src, size_t ld, int rows, int cols, float *dst,
                           size_t dst_stride);

#endif
