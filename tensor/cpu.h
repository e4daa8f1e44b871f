/* Which SIMD instruction set the kernels may use, decided at run time.
 *
 * Detection (x86-64): cpuid says what the CPU implements, xgetbv says what
 * the operating system saves on a context switch. A path is usable only
 * when both agree:
 *   AVX2   : cpuid.1:ECX FMA, AVX, OSXSAVE and cpuid.7:EBX AVX2,
 *            XCR0 bits 1-2 (SSE and AVX state).
 *   AVX512 : AVX2 above plus cpuid.7:EBX AVX512F, DQ, BW, VL,
 *            XCR0 bits 5-7 (opmask and the upper ZMM state).
 * Other architectures get CPU_ISA_SCALAR.
 *
 * The active ISA is the detected one, lowered by the MELD_ISA environment
 * variable (avx512 | avx2 | scalar) or by cpu_set_isa() (--isa flags), so
 * every path can be tested on one machine. A request above what the CPU
 * supports is clamped down to it.
 */
#ifndef MELD_CPU_H
#define MELD_CPU_H

typedef enum { CPU_ISA_SCALAR = 0, CPU_ISA_AVX2 = 1, CPU_ISA_AVX512 = 2 } CpuIsa;

/* The best ISA this CPU + OS supports (cached after the first call). */
CpuIsa cpu_isa_detected(void);
/* The ISA kernels use now: min(detected, MELD_ISA, cpu_set_isa()). */
CpuIsa cpu_isa(void);
/* Forces a path (clamped to the detected one); returns the ISA in effect. */
CpuIsa cpu_set_isa(CpuIsa isa);
/* "scalar", "avx2", "avx512". */
const char *cpu_isa_name(CpuIsa isa);
/* Parses one of those names; MELD_ERR (with a message) for anything else. */
int cpu_isa_parse(const char *name, CpuIsa *out);

#endif
