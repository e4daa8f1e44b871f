#include "tensor/cpu.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* XCR0: the register-state components the OS saves (xgetbv, ecx = 0).
 * Inline asm so this file needs no -mxsave. */
static unsigned long long read_xcr0(void)
{
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

static CpuIsa detect(void)
{
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return CPU_ISA_SCALAR;
    const unsigned fma = 1u << 12, osxsave = 1u << 27, avx = 1u << 28;
    if ((c & (fma | osxsave | avx)) != (fma | osxsave | avx)) return CPU_ISA_SCALAR;
    unsigned long long xcr0 = read_xcr0();
    if ((xcr0 & 0x6) != 0x6) return CPU_ISA_SCALAR;          /* SSE + AVX state */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return CPU_ISA_SCALAR;
    if (!(b & (1u << 5))) return CPU_ISA_SCALAR;              /* AVX2 */
    const unsigned f = 1u << 16, dq = 1u << 17, bw = 1u << 30, vl = 1u << 31;
    if ((b & (f | dq | bw | vl)) != (f | dq | bw | vl)) return CPU_ISA_AVX2;
    if ((xcr0 & 0xe0) != 0xe0) return CPU_ISA_AVX2;           /* opmask + ZMM */
    return CPU_ISA_AVX512;
}
#else
static CpuIsa detect(void) { return CPU_ISA_SCALAR; }
#endif

/* -1 = not decided yet. Both are set once and only ever lowered/replaced
 * by whole values, so relaxed atomics suffice. */
static atomic_int detected_isa = -1;
static atomic_int active_isa = -1;

CpuIsa cpu_isa_detected(void)
{
    int d = atomic_load_explicit(&detected_isa, memory_order_relaxed);
    if (d < 0) {
        d = (int)detect();
        atomic_store_explicit(&detected_isa, d, memory_order_relaxed);
    }
    return (CpuIsa)d;
}

CpuIsa cpu_isa(void)
{
    int a = atomic_load_explicit(&active_isa, memory_order_relaxed);
    if (a >= 0) return (CpuIsa)a;
    CpuIsa isa = cpu_isa_detected();
    const char *env = getenv("MELD_ISA");
    CpuIsa want;
    if (env && *env) {
        if (cpu_isa_parse(env, &want) == MELD_OK) {
            if (want < isa) isa = want;
        } else {
            meld_warnf("MELD_ISA=%s is not avx512, avx2 or scalar; using %s", env,
                       cpu_isa_name(isa));
        }
    }
    atomic_store_explicit(&active_isa, (int)isa, memory_order_relaxed);
    return isa;
}

CpuIsa cpu_set_isa(CpuIsa isa)
{
    CpuIsa hw = cpu_isa_detected();
    if (isa > hw) isa = hw;
    if (isa < CPU_ISA_SCALAR) isa = CPU_ISA_SCALAR;
    atomic_store_explicit(&active_isa, (int)isa, memory_order_relaxed);
    return isa;
}

const char *cpu_isa_name(CpuIsa isa)
{
    switch (isa) {
    case CPU_ISA_AVX512: return "avx512";
    case CPU_ISA_AVX2: return "avx2";
    default: return "scalar";
    }
}

int cpu_isa_parse(const char *name, CpuIsa *out)
{
    static const CpuIsa all[] = {CPU_ISA_SCALAR, CPU_ISA_AVX2, CPU_ISA_AVX512};
    for (int i = 0; i < 3; i++) {
        if (strcmp(name, cpu_isa_name(all[i])) == 0) {
            *out = all[i];
            return MELD_OK;
        }
    }
    return meld_errorf("unknown ISA '%s' (expected avx512, avx2 or scalar)", name);
}
