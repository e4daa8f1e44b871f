/* Which SIMD instruction set the kernels may use, decided at run time, and
 * how per-ISA code is written.
 *
 * ---- the paths ------------------------------------------------------------
 *   scalar  portable C, every CPU; the kernels' references
 *   avx2    x86-64, AVX2 + FMA (Haswell, Zen 1 and later), 8 floats a vector
 *   avx512  x86-64, AVX-512 F/DQ/BW/VL (Skylake-SP, Zen 4 and later), 16
 *   neon    aarch64, Advanced SIMD with FMA (every ARMv8-A core), 4
 *
 * Detection. x86-64: cpuid says what the CPU implements, xgetbv what the
 * operating system saves on a context switch; a path is usable only when
 * both agree:
 *   avx2   : cpuid.1:ECX FMA, AVX, OSXSAVE and cpuid.7:EBX AVX2,
 *            XCR0 bits 1-2 (SSE and AVX state).
 *   avx512 : avx2 above plus cpuid.7:EBX AVX512F, DQ, BW, VL,
 *            XCR0 bits 5-7 (opmask and the upper ZMM state).
 * aarch64: the kernel's HWCAP_ASIMD bit (Advanced SIMD is part of ARMv8-A,
 * so in practice always there). Other architectures: scalar.
 *
 * The active path is the detected one, lowered by the MELD_ISA environment
 * variable or by cpu_set_isa() (the --isa flags), so every path of this CPU
 * can be tested and timed on it. Paths have levels: scalar 0, avx2 and neon
 * 1, avx512 2. A request is served by the best path this CPU has at or
 * below the request's level (MELD_ISA=avx512 on an AVX2 CPU gives avx2,
 * MELD_ISA=avx2 on an ARM CPU gives neon).
 *
 * ---- how per-ISA code is written (one pattern for every kernel) -----------
 * A kernel family (element-wise maths and RNN cells, GEMM micro-kernel and
 * packing, pooling and im2col, the audio STFT lanes, the FMA-peak loop) is
 * written ONCE, in a body file NAME_body.inc, against a small vector
 * vocabulary: the type vf (VL floats), vf_load/vf_store, vf_fmadd, vf_exp2i,
 * masks and tails, ... Each ISA has one header defining that vocabulary with
 * its intrinsics: tensor/vec_avx2.h, tensor/vec_avx512.h, tensor/vec_neon.h
 * (a function VL wide that the ISA lacks is built from what it has, so the
 * body never needs an #if). A translation unit per ISA is two lines:
 *
 *     tensor/eltwise_avx2.c:    #include "tensor/vec_avx2.h"
 *                               #include "tensor/eltwise_body.inc"
 *
 * The file name picks the compiler flags (the Makefile: *_avx2.c gets
 * -mavx2 -mfma, *_avx512.c -mavx512f..., *_neon.c nothing on aarch64; files
 * of another architecture are not compiled). VEC_FN(name) appends the ISA
 * suffix, so the body defines eltwise_exp_avx2 in one unit and
 * eltwise_exp_avx512 in the other, and ends with one table of function
 * pointers (EltwiseKernels eltwise_kernels_avx2 = {...}). The plain-C
 * reference is the scalar entry of the same table. The dispatcher (the
 * public function in NAME.c) indexes the table by cpu_isa():
 *
 *     static const EltwiseKernels *const KERNELS[CPU_ISA_COUNT] =
 *         CPU_ISA_TABLE(eltwise_kernels);
 *     KERNELS[cpu_isa()]->exp(x, y, n);
 *
 * cpu_isa() only ever returns a path this CPU has, and the build compiles
 * every path of its architecture, so the entry exists. What an ISA does
 * better than the vocabulary's common ground (AVX-512's vscalefps and mask
 * registers, NEON's lane-indexed FMA) lives inside its vocabulary header,
 * not in the bodies: the results stay the same on every path where the
 * header says so (tensor/eltwise.h states which ones are bitwise equal).
 */
#ifndef MELD_CPU_H
#define MELD_CPU_H

typedef enum {
    CPU_ISA_SCALAR = 0,
    CPU_ISA_AVX2 = 1,
    CPU_ISA_AVX512 = 2,
    CPU_ISA_NEON = 3,
    CPU_ISA_COUNT
} CpuIsa;

/* The best ISA this CPU + OS supports (cached after the first call). */
CpuIsa cpu_isa_detected(void);
/* The ISA kernels use now: the detected one, lowered by MELD_ISA and
 * cpu_set_isa(). */
CpuIsa cpu_isa(void);
/* Forces a path (the best this CPU has at the request's level, see above);
 * returns the ISA in effect. */
CpuIsa cpu_set_isa(CpuIsa isa);
/* The path a request for isa gets on this CPU (see the levels above). */
CpuIsa cpu_isa_clamp(CpuIsa isa);
/* 1 when this CPU (and this build) can run the path. */
int cpu_isa_supported(CpuIsa isa);
/* 0 scalar, 1 avx2 / neon, 2 avx512. */
int cpu_isa_level(CpuIsa isa);
/* "scalar", "avx2", "avx512", "neon". */
const char *cpu_isa_name(CpuIsa isa);
/* Parses one of those names; MELD_ERR (with a message) for anything else. */
int cpu_isa_parse(const char *name, CpuIsa *out);

/* The table of a kernel family's instances, indexed by CpuIsa: the scalar
 * reference NAME_scalar and the SIMD instances this architecture compiles
 * (NAME_avx2, NAME_avx512 / NAME_neon), as pointers. */
#if defined(__x86_64__)
#define CPU_ISA_TABLE(name) \
    {[CPU_ISA_SCALAR] = &name##_scalar, [CPU_ISA_AVX2] = &name##_avx2, [CPU_ISA_AVX512] = &name##_avx512}
#elif defined(__aarch64__)
#define CPU_ISA_TABLE(name) {[CPU_ISA_SCALAR] = &name##_scalar, [CPU_ISA_NEON] = &name##_neon}
#else
#define CPU_ISA_TABLE(name) {[CPU_ISA_SCALAR] = &name##_scalar}
#endif

#endif
