/* The lane kernels (audio/stft_lanes_body.inc) on avx2. */
#include "tensor/vec_avx2.h"
#include "audio/stft_lanes_body.inc"
