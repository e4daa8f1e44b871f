/* Max pooling and im2col (tensor/conv_body.inc) on neon. */
#include "tensor/vec_neon.h"
#include "tensor/conv_body.inc"
