/* OpenBLAS and oneDNN SGEMM behind one interface, for `make bench-compare`.
 * Both are called row-major: cblas_sgemm(CblasRowMajor, ...) and
 * dnnl_sgemm (row-major by definition). OpenBLAS (Debian's pthread build)
 * takes its thread count from openblas_set_num_threads, oneDNN (OpenMP
 * build) from omp_set_num_threads. */
#include "benchmarks/compare.h"

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

void compare_fix_openblas_core(int sub_argc, char **sub_argv)
{
    if (getenv("OPENBLAS_CORETYPE") || strcmp(openblas_get_corename(), "Prescott") != 0) return;
    CpuIsa isa = cpu_isa_detected();
    if (isa == CPU_ISA_SCALAR) return;
    const char *core = isa == CPU_ISA_AVX512 ? "SkylakeX" : "Haswell";
    fprintf(stderr, "bench-compare: OpenBLAS does not know this CPU and chose its Prescott "
                    "(SSE3) kernels; re-running with OPENBLAS_CORETYPE=%s\n", core);
    char **args = calloc((size_t)sub_argc + 2, sizeof *args);
    if (!args) return;
    args[0] = "bench-compare";
    for (int i = 0; i < sub_argc; i++) args[i + 1] = sub_argv[i];
    setenv("OPENBLAS_CORETYPE", core, 1);
    fflush(stdout);
    execv("/proc/self/exe", args);
    fprintf(stderr, "bench-compare: re-exec failed; OpenBLAS stays on Prescott kernels\n");
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
