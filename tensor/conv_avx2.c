/* Max pooling and im2col (tensor/conv_body.inc) on avx2. */
#include "tensor/vec_avx2.h"
#include "tensor/conv_body.inc"
