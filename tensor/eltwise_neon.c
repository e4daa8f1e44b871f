/* The element-wise kernels (tensor/eltwise_body.inc) on neon. */
#include "tensor/vec_neon.h"
#include "tensor/eltwise_body.inc"
