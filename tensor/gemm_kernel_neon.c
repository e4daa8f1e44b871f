/* The GEMM micro-kernel and packing (tensor/gemm_kernel_body.inc) on NEON:
 * a 12 x 8 tile, 24 accumulators + 2 for B + 3 for the A values (four
 * rows each) of the 32 vector registers. */
#include "tensor/vec_neon.h"
#define GEMM_MR 12
#include "tensor/gemm_kernel_body.inc"
