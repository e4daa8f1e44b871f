/* AVX-512 transposing copy for GEMM packing (tensor/gemm.c): the NN case
 * of A and the NT case of B store the packed operand's rows as columns, so
 * packing them is a transpose. Done 16 x 16 at a time in registers instead
 * of element by element. Compiled with -mavx512f (file name); gemm.c calls
 * it only when cpu_isa() == CPU_ISA_AVX512. */
#include <immintrin.h>

#include "tensor/gemm_impl.h"

/* In-register transpose of r[0..15] (row i = r[i]) into r[c] = column c.
 * Stage 1 interleaves row pairs (unpack ps), stage 2 row quads (unpack pd):
 * then 128-bit lane L of r[4g + j] holds rows 4g..4g+3 of column 4L + j.
 * Stages 3-4 gather, for each column, its four lanes from the four row
 * groups (shuffle_f32x4 picks 128-bit lanes: 0x88 = lanes 0,2 of each
 * source, 0xdd = lanes 1,3). */
static inline void transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int j = 0; j < 4; j++) {
        t[j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);
        t[4 + j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xdd);
        t[8 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
        t[12 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xdd);
    }
    for (int j = 0; j < 4; j++) {
        r[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);
        r[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xdd);
        r[4 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0x88);
        r[12 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0xdd);
    }
}

void gemm_pack_transpose_avx512(const float *src, size_t ld, int rows, int cols, float *dst,
                                size_t dst_stride)
{
    const __mmask16 row_mask = (__mmask16)((1u << rows) - 1);
    for (int c0 = 0; c0 < cols; c0 += 16) {
        int w = cols - c0 < 16 ? cols - c0 : 16;
        __mmask16 col_mask = (__mmask16)((1u << w) - 1);
        __m512 r[16];
        for (int i = 0; i < 16; i++)
            r[i] = i < rows ? _mm512_maskz_loadu_ps(col_mask, src + (size_t)i * ld + c0)
                            : _mm512_setzero_ps();
        transpose16(r);
        /* Masked stores that cross cache lines are slow. With 16 rows a
         * column is exactly one plain store. With a destination stride
         * under 16 (the A slivers, 14), a plain store of column c spills
         * zeros (rows >= `rows`) into the start of column c+1, which is
         * stored next and overwrites them; only the last column, whose
         * spill would leave the destination, needs the mask. */
        for (int c = 0; c < w; c++) {
            float *d = dst + (size_t)(c0 + c) * dst_stride;
            int plain = rows == 16 || (dst_stride < 16 && c0 + c + 1 < cols);
            if (plain) _mm512_storeu_ps(d, r[c]);
            else _mm512_mask_storeu_ps(d, row_mask, r[c]);
        }
    }
}

void gemm_pack_rows_avx512(const float *src, size_t ld, int rows, int cols, float *dst,
                           size_t dst_stride)
{
    /* cols <= 32: two vectors per row, masked only for a ragged width */
    __mmask16 m0 = cols >= 16 ? 0xffff : (__mmask16)((1u << cols) - 1);
    __mmask16 m1 = cols >= 32 ? 0xffff : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
    for (int r = 0; r < rows; r++, src += ld, dst += dst_stride) {
        __m512 v0 = _mm512_maskz_loadu_ps(m0, src), v1 = _mm512_maskz_loadu_ps(m1, src + 16);
        _mm512_mask_storeu_ps(dst, m0, v0);
        _mm512_mask_storeu_ps(dst + 16, m1, v1);
    }
}
