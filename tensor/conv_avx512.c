/* Max pooling and im2col (tensor/conv_body.inc) on avx512. */
#include "tensor/vec_avx512.h"
#include "tensor/conv_body.inc"
