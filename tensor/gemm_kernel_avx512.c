/* AVX-512F GEMM micro-kernel: a 14 x 32 tile of C in 28 zmm registers.
 * Contract in tensor/gemm_impl.h. Compiled with -mavx512f (file name);
 * gemm.c calls it only when cpu_isa() == CPU_ISA_AVX512.
 *
 * Per k: two 16-float loads of B, then for each row a broadcast of A and
 * two FMAs. A ragged tile (nr < 32) masks its B loads to the nr valid
 * columns (a masked load touches nothing outside its mask, so it never
 * reads past the end of B); a full tile uses plain loads, because a masked
 * load costs more even with an all-ones mask (the 14 x 32 tile on packed
 * data: 8 % slower, measured). A tile of at most 16 columns uses only the
 * first vector and does half the FMAs (1650x48x1611: 2.16 -> 1.85 ms).
 * The tile height and these choices are compile-time constants in each
 * instance of tile() (chosen by a switch), so the compiler unrolls the row
 * loop and keeps the accumulator arrays in registers. The _copy entry point is the same tile that also stores what
 * it loads into packed buffers (gemm.c's fused packing): each A value it
 * broadcasts (A read in place) and/or each B row (packed A, B read in
 * place; the stored row is the loaded vector, zeros beyond nr). */
#include <immintrin.h>

#include "tensor/gemm_impl.h"

#define MR GEMM_AVX512_MR
#define NR GEMM_AVX512_NR
/* Software prefetch distance for B, in k steps (measured: 8 doubles the
 * speed of the short-M shapes that read B in place; 4..16 are all close). */
#define PF_DIST 8
/* The same for A rows when the A-copying tile reads A by columns. */
#define A_PF_DIST 16

/* Tile widths: the last B sliver of a block is often narrower than NR
 * (N = 1200 leaves 16 columns, N = 1611 leaves 11). */
enum { HALF, RAGGED, FULL };   /* nr <= 16: one vector; 16 < nr < 32; nr = 32 */

/* The compile-time flags: packed A (constant offsets), width (FULL: plain
 * loads; RAGGED: masked loads; HALF: only the first vector, so a tile of
 * at most 16 columns costs half the FMAs of a 32-wide one), copy_a (store
 * each A value broadcast into a_copy), copy_b (store each B row loaded
 * into b_copy). */
static inline __attribute__((always_inline)) void
tile(const int mr, const int packed, const int width, const int copy_a, const int copy_b, int nr,
     int kc, const float *a, size_t a_rs, size_t a_cs, float *a_copy, const float *b,
     size_t ldb_k, float *b_copy, __mmask16 m0, __mmask16 m1, float *c, size_t ldc, float alpha,
     float beta)
{
    __m512 c0[MR], c1[MR];
#pragma GCC unroll 14
    for (int i = 0; i < mr; i++) {
        c0[i] = c1[i] = _mm512_setzero_ps();
        /* the C tile is needed at the end: start fetching its lines */
        _mm_prefetch((const char *)(c + (size_t)i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + (size_t)i * ldc + nr - 1), _MM_HINT_T0);
    }
    for (int k = 0; k < kc; k++) {
        /* B rows come from L2 (packed) or from wherever B lives (read in
         * place): ask for the row PF_DIST steps ahead now. Prefetches never
         * fault, so running past the end of B is harmless. */
        _mm_prefetch((const char *)(b + PF_DIST * ldb_k), _MM_HINT_T0);
        _mm_prefetch((const char *)(b + PF_DIST * ldb_k + 16), _MM_HINT_T0);
        if (copy_a && a_rs == 1) {
            /* A read down its columns (TN): each k is a new row of the
             * stored A, on another page; fetch the row A_PF_DIST ahead
             * into L2, where the hardware prefetcher would not. */
            _mm_prefetch((const char *)(a + A_PF_DIST * a_cs), _MM_HINT_T1);
            _mm_prefetch((const char *)(a + A_PF_DIST * a_cs + mr - 1), _MM_HINT_T1);
        }
        __m512 b0 = width == FULL ? _mm512_loadu_ps(b) : _mm512_maskz_loadu_ps(m0, b);
        __m512 b1 = width == FULL ? _mm512_loadu_ps(b + 16) : _mm512_maskz_loadu_ps(m1, b + 16);
        if (copy_b) {
            _mm512_storeu_ps(b_copy, b0);
            if (width != HALF) _mm512_storeu_ps(b_copy + 16, b1);
            b_copy += NR;
        }
#pragma GCC unroll 14
        for (int i = 0; i < mr; i++) {
            __m512 ai = _mm512_set1_ps(packed ? a[i] : a[i * a_rs]);
            if (copy_a) _mm_store_ss(a_copy + i, _mm512_castps512_ps128(ai));
            c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
            if (width != HALF) c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
        }
        if (copy_a) a_copy += MR;
        a += packed ? MR : a_cs;
        b += ldb_k;
    }
    /* C = alpha * acc + beta * C; beta == 0 never reads C (NaNs in C are
     * overwritten, as in BLAS). */
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 14
    for (int i = 0; i < mr; i++) {
        float *ci = c + (size_t)i * ldc;
        __m512 r0 = _mm512_mul_ps(va, c0[i]), r1 = _mm512_mul_ps(va, c1[i]);
        if (beta != 0.0f) {
            r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, ci), r0);
            if (width != HALF) r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, ci + 16), r1);
        }
        _mm512_mask_storeu_ps(ci, m0, r0);
        if (width != HALF) _mm512_mask_storeu_ps(ci + 16, m1, r1);
    }
}

/* Picks the tile() instance: the tile height, packed A or not, the width
 * class, and whether A (read in place) or B rows are copied out. The
 * A-copying tiles are the first of each sliver, rarely narrow: no HALF
 * instances for them (RAGGED is correct for any nr). */
static void run_tile(int mr, int nr, int kc, const float *a, size_t a_rs, size_t a_cs,
                     float *a_copy, const float *b, size_t ldb_k, float *b_copy, float *c,
                     size_t ldc, float alpha, float beta)
{
    /* column masks: lanes [0, nr) of the two vectors */
    __mmask16 m0 = nr >= 16 ? 0xffff : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? 0xffff : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
    /* packed slivers get their own instances (constant offsets, no row
     * pointers), and so does each width class */
    const int packed = a_rs == 1 && a_cs == MR;
    const int full = nr == NR, half = nr <= 16;
#define TILE(n, p, w, ca, cb) tile(n, p, w, ca, cb, nr, kc, a, p ? 1 : a_rs, p ? MR : a_cs, \
                                   a_copy, b, ldb_k, b_copy, m0, m1, c, ldc, alpha, beta)
#define WIDTHS(n, p, cb)                                                                 \
    if (full) TILE(n, p, FULL, 0, cb);                                                   \
    else if (half) TILE(n, p, HALF, 0, cb);                                              \
    else TILE(n, p, RAGGED, 0, cb)
#define T(n)                                                                             \
    case n:                                                                              \
        if (a_copy && b_copy && full) TILE(n, 0, FULL, 1, 1);                            \
        else if (a_copy && b_copy) TILE(n, 0, RAGGED, 1, 1);                             \
        else if (a_copy && full) TILE(n, 0, FULL, 1, 0);                                 \
        else if (a_copy) TILE(n, 0, RAGGED, 1, 0);                                       \
        else if (b_copy) { WIDTHS(n, 1, 1); }                                            \
        else if (packed) { WIDTHS(n, 1, 0); }                                            \
        else { WIDTHS(n, 0, 0); }                                                        \
        break
    switch (mr) {
        T(1); T(2); T(3); T(4); T(5); T(6); T(7);
        T(8); T(9); T(10); T(11); T(12); T(13); T(14);
    default: break;
    }
#undef T
#undef WIDTHS
#undef TILE
}

void gemm_kernel_avx512(int mr, int nr, int kc, const float *a, size_t a_rs, size_t a_cs,
                        const float *b, size_t ldb_k, float *c, size_t ldc, float alpha,
                        float beta)
{
    run_tile(mr, nr, kc, a, a_rs, a_cs, NULL, b, ldb_k, NULL, c, ldc, alpha, beta);
}

void gemm_kernel_avx512_copy(int mr, int nr, int kc, const float *a, size_t a_rs, size_t a_cs,
                             float *a_copy, const float *b, size_t ldb_k, float *b_copy,
                             float *c, size_t ldc, float alpha, float beta)
{
    run_tile(mr, nr, kc, a, a_rs, a_cs, a_copy, b, ldb_k, b_copy, c, ldc, alpha, beta);
}
