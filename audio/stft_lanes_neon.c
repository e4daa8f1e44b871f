/* The lane kernels (audio/stft_lanes_body.inc) on neon. */
#include "tensor/vec_neon.h"
#include "audio/stft_lanes_body.inc"
