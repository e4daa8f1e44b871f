/* The lane kernels (audio/stft_lanes_body.inc) on avx512. */
#include "tensor/vec_avx512.h"
#include "audio/stft_lanes_body.inc"
