/* OpenBLAS and oneDNN SGEMM behind one interface, for `make bench-compare`.
 * Both are called row-major: cblas_sgemm(CblasRowMajor, ...) and
 * dnnl_sgemm (row-major by definition). OpenBLAS (Debian's pthread build)
 * takes its thread count from openblas_set_num_threads, oneDNN (OpenMP
 * build) from omp_set_num_threads. */
#include "benchmarks/compare.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>
#include <dnnl.h>

#include "tensor/cpu.h"

/* libgomp, pulled in by libdnnl; declared here so this file needs no -fopenmp. */
void omp_set_num_threads(int n);
/* OpenBLAS extension (not in every cblas.h). */
char *openblas_get_corename(void);

const char *compare_openblas_core(void) { return openblas_get_corename(); }

/* The kernels each library may use on the ISA path we run on. */
static void wanted_kernels(CpuIsa isa, const char **core, const char **onednn)
{
    *core = isa == CPU_ISA_AVX512 ? "SkylakeX" : isa == CPU_ISA_AVX2 ? "Haswell" : NULL;
    *onednn = isa == CPU_ISA_AVX512 ? "AVX512_CORE" : isa == CPU_ISA_AVX2 ? "AVX2" : NULL;
}

static bool env_is(const char *name, const char *want)
{
    const char *v = getenv(name);
    return want ? v && !strcmp(v, want) : true;
}

void compare_match_isa(int sub_argc, char **sub_argv)
{
    const char *core, *onednn;
    wanted_kernels(cpu_isa(), &core, &onednn);
    bool ok = env_is("OPENBLAS_CORETYPE", core) && env_is("ONEDNN_MAX_CPU_ISA", onednn) &&
              env_is("DNNL_MAX_CPU_ISA", onednn);
    if (ok || getenv("MELD_COMPARE_REEXEC")) return;
    fprintf(stderr, "bench-compare: re-running with OPENBLAS_CORETYPE=%s ONEDNN_MAX_CPU_ISA=%s (the %s path; "
                    "both libraries read them when they load)\n", core, onednn, cpu_isa_name(cpu_isa()));
    char **args = calloc((size_t)sub_argc + 2, sizeof *args);
    if (!args) return;
    args[0] = "bench-compare";
    for (int i = 0; i < sub_argc; i++) args[i + 1] = sub_argv[i];
    setenv("OPENBLAS_CORETYPE", core, 1);
    setenv("ONEDNN_MAX_CPU_ISA", onednn, 1);
    setenv("DNNL_MAX_CPU_ISA", onednn, 1);
    setenv("MELD_COMPARE_REEXEC", "1", 1);
    fflush(stdout);
    execv("/proc/self/exe", args);
    fprintf(stderr, "bench-compare: re-exec failed; the libraries keep their own kernel choice\n");
    free(args);
}

const char *compare_lib_name(int lib)
{
    static char names[COMPARE_N_LIBS][64];
    if (lib == COMPARE_OPENBLAS) {
        /* the config string starts "OpenBLAS 0.3.21 ...": keep two words */
        snprintf(names[0], sizeof names[0], "%s", openblas_get_config());
        int spaces = 0;
        for (char *p = names[0]; *p; p++)
            if (*p == ' ' && ++spaces == 2) {
                *p = '\0';
                break;
            }
        return names[0];
    }
    const dnnl_version_t *v = dnnl_version();
    snprintf(names[1], sizeof names[1], "oneDNN %d.%d.%d", v->major, v->minor, v->patch);
    return names[1];
}

void compare_set_threads(int lib, int threads)
{
    if (lib == COMPARE_OPENBLAS) openblas_set_num_threads(threads);
    else omp_set_num_threads(threads);
}

void compare_sgemm(int lib, GemmTrans ta, GemmTrans tb, int M, int N, int K, float alpha,
                   const float *A, int lda, const float *B, int ldb, float beta, float *C,
                   int ldc)
{
    if (lib == COMPARE_OPENBLAS) {
        cblas_sgemm(CblasRowMajor, ta == GEMM_T ? CblasTrans : CblasNoTrans,
                    tb == GEMM_T ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb,
                    beta, C, ldc);
    } else {
        dnnl_sgemm(ta == GEMM_T ? 'T' : 'N', tb == GEMM_T ? 'T' : 'N', M, N, K, alpha, A, lda,
                   B, ldb, beta, C, ldc);
    }
}
