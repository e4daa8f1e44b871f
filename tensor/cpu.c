#include "tensor/cpu.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"

#if defined(__x86_64__)
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
#elif defined(__aarch64__)
#include <sys/auxv.h>

static CpuIsa detect(void)
{
    return getauxval(AT_HWCAP) & HWCAP_ASIMD ? CPU_ISA_NEON : CPU_ISA_SCALAR;
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

int cpu_isa_level(CpuIsa isa)
{
    switch (isa) {
    case CPU_ISA_AVX512: return 2;
    case CPU_ISA_AVX2:
    case CPU_ISA_NEON: return 1;
    default: return 0;
    }
}

/* The paths of this CPU form a chain (scalar < avx2 < avx512 on x86-64,
 * scalar < neon on aarch64): a path is there when it belongs to this
 * architecture and is not above the detected one. */
int cpu_isa_supported(CpuIsa isa)
{
    CpuIsa hw = cpu_isa_detected();
    switch (isa) {
    case CPU_ISA_SCALAR: return 1;
    case CPU_ISA_AVX2:
    case CPU_ISA_AVX512: return (hw == CPU_ISA_AVX2 || hw == CPU_ISA_AVX512) && isa <= hw;
    case CPU_ISA_NEON: return hw == CPU_ISA_NEON;
    default: return 0;
    }
}

/* The best supported path whose level is at most want's. */
CpuIsa cpu_isa_clamp(CpuIsa want)
{
    CpuIsa best = CPU_ISA_SCALAR;
    for (int i = 0; i < CPU_ISA_COUNT; i++) {
        CpuIsa isa = (CpuIsa)i;
        if (cpu_isa_supported(isa) && cpu_isa_level(isa) <= cpu_isa_level(want) &&
            cpu_isa_level(isa) > cpu_isa_level(best))
            best = isa;
    }
    return best;
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
            isa = cpu_isa_clamp(want);
        } else {
            meld_warnf("MELD_ISA=%s is not avx512, avx2, neon or scalar; using %s", env,
                       cpu_isa_name(isa));
        }
    }
    atomic_store_explicit(&active_isa, (int)isa, memory_order_relaxed);
    return isa;
}

CpuIsa cpu_set_isa(CpuIsa isa)
{
    isa = cpu_isa_clamp(isa);
    atomic_store_explicit(&active_isa, (int)isa, memory_order_relaxed);
    return isa;
}

const char *cpu_isa_name(CpuIsa isa)
{
    switch (isa) {
    case CPU_ISA_AVX512: return "avx512";
    case CPU_ISA_AVX2: return "avx2";
    case CPU_ISA_NEON: return "neon";
    default: return "scalar";
    }
}

int cpu_isa_parse(const char *name, CpuIsa *out)
{
    for (int i = 0; i < CPU_ISA_COUNT; i++) {
        if (strcmp(name, cpu_isa_name((CpuIsa)i)) == 0) {
            *out = (CpuIsa)i;
            return MELD_OK;
        }
    }
    return meld_errorf("unknown ISA '%s' (expected avx512, avx2, neon or scalar)", name);
}
