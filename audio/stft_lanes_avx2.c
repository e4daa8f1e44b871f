/* The lane kernels compiled with AVX2 (one ymm register per 8-lane vector).
 * Only called after lane_kernels() has checked cpu_isa(). */
#define LANES_SUFFIX(name) name##_avx2
#include "audio/stft_lanes.inc"

const LaneKernels *lane_kernels_avx2(void) { return &table_avx2; }
