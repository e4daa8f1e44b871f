/* The GEMM micro-kernel and packing (tensor/gemm_kernel_body.inc) on
 * AVX-512: a 14 x 32 tile, 28 zmm accumulators + 2 for B + 1 broadcast of
 * the 32 registers. */
#include "tensor/vec_avx512.h"
#define GEMM_MR 14
#include "tensor/gemm_kernel_body.inc"
