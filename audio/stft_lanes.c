/* The lane kernels compiled for the scalar path (no ISA flags: on x86-64 the
 * 8-wide vectors are lowered to SSE2 pairs, on aarch64 to NEON pairs), the
 * run-time choice among the ISA builds, and the work sizes. */
#define VEC_FN(name) name##_scalar
#include "audio/stft_lanes_body.inc"

#include "tensor/cpu.h"

static const LaneKernels *const KERNELS[CPU_ISA_COUNT] = CPU_ISA_TABLE(lane_kernels);

const LaneKernels *lane_kernels(void) { return KERNELS[cpu_isa()]; }

size_t lanes_power_work_floats(const RfftPlan *plan) { return 4 * (size_t)plan->c->n * LANES; }

size_t lanes_yin_work_floats(const YinShape *shape)
{
    return (4 * (size_t)shape->fft_n + (size_t)(shape->win + shape->max_lag) + 1) * LANES;
}
