/* ./bench eltwise: the vectorised exp / tanh / sigmoid against libm, and the
 * fused LSTM / GRU cell updates against their scalar references.
 *
 *   ./bench eltwise [--n N] [--batch B] [--hidden H] [--isa X] [--reps N]
 *   ./bench eltwise --accuracy      max relative error over every float input
 *
 * Element-wise kernels are single-threaded (memory bound; the callers run
 * them per time step). Medians of --reps samples (default 7). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchmarks/bench.h"
#include "benchmarks/kernel_timing.h"
#include "tensor/cpu.h"
#include "tensor/eltwise.h"
#include "tensor/error.h"
#include "tensor/rng.h"
#include "tensor/rnn_cell.h"

typedef void (*ArrayFn)(const float *, float *, size_t);

typedef struct {
    ArrayFn fn;
    const float *x;
    float *y;
    size_t n;
} ArrayCall;

static void run_array(void *ctx)
{
    ArrayCall *c = ctx;
    c->fn(c->x, c->y, c->n);
}

typedef struct {
    int B, H, which, scalar;
    float *G, *cp, *c, *h, *acts, *tc, *dh, *dc, *dG, *dcp;
    float *gx, *gh, *save, *dgx, *dgh;
} CellCall;

static void run_cell(void *ctx)
{
    CellCall *k = ctx;
    int B = k->B, H = k->H;
    switch (k->which * 2 + k->scalar) {
    case 0: lstm_cell_forward(B, H, k->G, k->cp, k->c, k->h, k->acts, k->tc); break;
    case 1: lstm_cell_forward_scalar(B, H, k->G, k->cp, k->c, k->h, k->acts, k->tc); break;
    case 2: lstm_cell_backward(B, H, k->dh, k->dc, k->acts, k->tc, k->cp, k->dG, k->dcp); break;
    case 3:
        lstm_cell_backward_scalar(B, H, k->dh, k->dc, k->acts, k->tc, k->cp, k->dG, k->dcp);
        break;
    case 4: gru_cell_forward(B, H, k->gx, k->gh, k->cp, k->h, k->save); break;
    case 5: gru_cell_forward_scalar(B, H, k->gx, k->gh, k->cp, k->h, k->save); break;
    case 6: gru_cell_backward(B, H, k->dh, k->save, k->cp, k->dgx, k->dgh, k->dcp); break;
    default: gru_cell_backward_scalar(B, H, k->dh, k->save, k->cp, k->dgx, k->dgh, k->dcp);
    }
}

static double ref_exp(double x) { return exp(x); }
static double ref_tanh(double x) { return tanh(x); }
static double ref_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

/* Max relative error of fn over all finite floats whose exact result is a
 * normal float, and max absolute error where it is subnormal. */
static void accuracy(const char *name, ArrayFn fn, double (*ref)(double))
{
    enum { CHUNK = 1 << 16 };
    static float x[CHUNK], y[CHUNK];
    double max_rel = 0, max_sub = 0;
    float worst = 0;
    long bad_inf = 0;
    uint64_t u = 0;
    while (u <= 0xffffffffu) {
        int n = 0;
        for (; n < CHUNK && u <= 0xffffffffu; u++) {
            uint32_t bits = (uint32_t)u;
            float v;
            memcpy(&v, &bits, sizeof v);
            if (isfinite(v)) x[n++] = v;
        }
        fn(x, y, (size_t)n);
        for (int i = 0; i < n; i++) {
            double r = ref((double)x[i]);
            if (fabs(r) > FLT_MAX) {
                bad_inf += !isinf(y[i]);
                continue;
            }
            double e = fabs((double)y[i] - r);
            if (fabs(r) >= FLT_MIN) {
                if (e / fabs(r) > max_rel) max_rel = e / fabs(r), worst = x[i];
            } else if (e > max_sub) {
                max_sub = e;
            }
        }
    }
    printf("%-8s %-7s max rel error %.3e (%.2f eps) at x = %.9g; subnormal results: max abs "
           "error %.3g; overflow not inf: %ld\n", name, cpu_isa_name(cpu_isa()), max_rel,
           max_rel / FLT_EPSILON, worst, max_sub, bad_inf);
    fflush(stdout);
}

static int run_accuracy(void)
{
    const char *names[3] = {"exp", "tanh", "sigmoid"};
    ArrayFn fns[3] = {eltwise_exp, eltwise_tanh, eltwise_sigmoid};
    double (*refs[3])(double) = {ref_exp, ref_tanh, ref_sigmoid};
    for (int f = 0; f < 3; f++) accuracy(names[f], fns[f], refs[f]);
    return 0;
}

static float *filled(Rng *g, size_t n, float lo, float hi)
{
    float *v = meld_aligned_alloc(n * sizeof(float), "bench eltwise buffer");
    if (v)
        for (size_t i = 0; i < n; i++) v[i] = rng_uniform_range(g, lo, hi);
    return v;
}

int bench_eltwise(int argc, char **argv)
{
    size_t n = 1 << 20;
    int B = 50, H = 300, reps = 7, acc = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: bench eltwise [--n N] [--batch B] [--hidden H] "
                   "[--isa avx512|avx2|neon|scalar] [--reps N] [--accuracy]\n");
            return 0;
        } else if (!strcmp(a, "--accuracy")) {
            acc = 1;
        } else if (!strcmp(a, "--n") && v) {
            long x = atol(v);
            i++;
            if (x < 1 || x > (1L << 28)) {
                fprintf(stderr, "bench eltwise: --n wants 1..2^28\n");
                return 2;
            }
            n = (size_t)x;
        } else if ((!strcmp(a, "--batch") || !strcmp(a, "--hidden")) && v) {
            int x = atoi(v);
            i++;
            if (x < 1 || x > 8192) {
                fprintf(stderr, "bench eltwise: %s wants 1..8192\n", a);
                return 2;
            }
            if (a[2] == 'b') B = x;
            else H = x;
        } else if (!strcmp(a, "--isa") && v) {
            CpuIsa isa;
            if (cpu_isa_parse(v, &isa) != MELD_OK) {
                fprintf(stderr, "bench eltwise: %s\n", meld_error());
                return 2;
            }
            cpu_set_isa(isa), i++;
        } else if (!strcmp(a, "--reps") && v) {
            reps = atoi(v), i++;
            if (reps < 1 || reps > 101) {
                fprintf(stderr, "bench eltwise: --reps wants 1..101\n");
                return 2;
            }
        } else {
            fprintf(stderr, "bench eltwise: unknown or incomplete option '%s'\n", a);
            return 2;
        }
    }
    if (acc) return run_accuracy();

    Rng g;
    rng_seed(&g, 5, 5);
    float *x = filled(&g, n, -10, 10), *y = filled(&g, n, 0, 1);
    if (!x || !y) {
        free(x), free(y);
        fprintf(stderr, "bench eltwise: %s\n", meld_error());
        return 1;
    }
    printf("element-wise kernels on %s, 1 thread, median of %d\n", cpu_isa_name(cpu_isa()), reps);
    printf("%-30s %12s %12s %8s\n", "kernel", "ours ns/elt", "libm ns/elt", "speedup");
    const char *names[3] = {"exp", "tanh", "sigmoid"};
    ArrayFn vec[3] = {eltwise_exp, eltwise_tanh, eltwise_sigmoid};
    ArrayFn ref[3] = {eltwise_exp_scalar, eltwise_tanh_scalar, eltwise_sigmoid_scalar};
    for (int f = 0; f < 3; f++) {
        ArrayCall a = {vec[f], x, y, n}, r = {ref[f], x, y, n};
        double t_ours = bench_median_seconds(run_array, &a, reps, 0.02) / (double)n * 1e9;
        double t_ref = bench_median_seconds(run_array, &r, reps, 0.02) / (double)n * 1e9;
        char label[64];
        snprintf(label, sizeof label, "%s (n=%zu)", names[f], n);
        printf("%-30s %12.3f %12.3f %7.1fx\n", label, t_ours, t_ref, t_ref / t_ours);
    }
    free(x), free(y);

    size_t bh = (size_t)B * H;
    CellCall k = {.B = B, .H = H};
    k.G = filled(&g, 4 * bh, -3, 3), k.cp = filled(&g, bh, -1, 1), k.c = filled(&g, bh, 0, 1);
    k.h = filled(&g, bh, 0, 1), k.acts = filled(&g, 4 * bh, 0, 1), k.tc = filled(&g, bh, 0, 1);
    k.dh = filled(&g, bh, -1, 1), k.dc = filled(&g, bh, -1, 1), k.dG = filled(&g, 4 * bh, 0, 1);
    k.dcp = filled(&g, bh, 0, 1), k.gx = filled(&g, 3 * bh, -3, 3);
    k.gh = filled(&g, 3 * bh, -3, 3), k.save = filled(&g, 4 * bh, 0, 1);
    k.dgx = filled(&g, 3 * bh, 0, 1), k.dgh = filled(&g, 3 * bh, 0, 1);
    int rc = 0;
    if (!k.G || !k.cp || !k.c || !k.h || !k.acts || !k.tc || !k.dh || !k.dc || !k.dG || !k.dcp ||
        !k.gx || !k.gh || !k.save || !k.dgx || !k.dgh) {
        fprintf(stderr, "bench eltwise: %s\n", meld_error());
        rc = 1;
    } else {
        printf("%-30s %12s %12s %8s\n", "fused cell", "ours us", "scalar us", "speedup");
        const char *cells[4] = {"lstm forward", "lstm backward", "gru forward", "gru backward"};
        for (k.which = 0; k.which < 4; k.which++) {
            k.scalar = 0;
            double t_ours = bench_median_seconds(run_cell, &k, reps, 0.02) * 1e6;
            k.scalar = 1;
            double t_ref = bench_median_seconds(run_cell, &k, reps, 0.02) * 1e6;
            char label[64];
            snprintf(label, sizeof label, "%s B=%d H=%d", cells[k.which], B, H);
            printf("%-30s %12.2f %12.2f %7.1fx\n", label, t_ours, t_ref, t_ref / t_ours);
        }
    }
    free(k.G), free(k.cp), free(k.c), free(k.h), free(k.acts), free(k.tc), free(k.dh);
    free(k.dc), free(k.dG), free(k.dcp), free(k.gx), free(k.gh), free(k.save), free(k.dgx);
    free(k.dgh);
    return rc;
}
