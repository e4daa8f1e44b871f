/* The element-wise kernels (tensor/eltwise_body.inc) on avx512. */
#include "tensor/vec_avx512.h"
#include "tensor/eltwise_body.inc"
