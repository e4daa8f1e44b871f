/* The GEMM micro-kernel and packing (tensor/gemm_kernel_body.inc) on
 * AVX2: a 6 x 16 tile, 12 ymm accumulators + 2 for B + 1 broadcast of the
 * 16 registers. */
#include "tensor/vec_avx2.h"
#define GEMM_MR 6
#include "tensor/gemm_kernel_body.inc"
