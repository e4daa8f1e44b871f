/* Lane kernels for any x86-64 (8-wide vectors lowered to SSE2 pairs), the
 * run-time choice between them and the AVX2 build, and the work sizes. */
#define LANES_SUFFIX(name) name##_generic
#include "audio/stft_lanes.inc"

#include "tensor/cpu.h"

const LaneKernels *lane_kernels_generic(void) { return &table_generic; }

const LaneKernels *lane_kernels(void)
{
    return cpu_isa() >= CPU_ISA_AVX2 ? lane_kernels_avx2() : lane_kernels_generic();
}

size_t lanes_power_work_floats(const RfftPlan *plan) { return 4 * (size_t)plan->c->n * LANES; }

size_t lanes_yin_work_floats(const YinShape *shape)
{
    return (4 * (size_t)shape->fft_n + (size_t)(shape->win + shape->max_lag) + 1) * LANES;
}
