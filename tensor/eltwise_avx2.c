/* The element-wise kernels (tensor/eltwise_body.inc) on avx2. */
#include "tensor/vec_avx2.h"
#include "tensor/eltwise_body.inc"
