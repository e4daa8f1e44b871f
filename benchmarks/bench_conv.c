/* ./bench conv: Conv2D (forward, input gradient, weight gradient) and
 * MaxPool2D (forward, backward) on the frame CNN's layers: batch 32,
 * 64x64 RGB frames, 3x3 'same' convolutions 3->16->32->64->128 channels,
 * each followed by a 2x2 max pool.
 *
 *   ./bench conv [--batch N] [--threads N] [--isa X] [--reps N]
 *
 * Medians of --reps samples (default 7), each >= 20 ms of back-to-back calls;
 * GFLOP/s counts 2 * N * OC * OH * OW * C * KH * KW per convolution pass. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchmarks/bench.h"
#include "benchmarks/kernel_timing.h"
#include "tensor/conv.h"
#include "tensor/cpu.h"
#include "tensor/error.h"
#include "tensor/rng.h"
#include "tensor/threadpool.h"

typedef struct {
    Conv2dShape cs;
    Pool2dShape ps;
    float *x, *w, *b, *y, *dy, *dx, *dw, *db, *py, *pdy;
    int32_t *arg;
    int which;   /* 0 fwd, 1 dinput, 2 dweight, 3 pool fwd, 4 pool bwd */
} Layer;

static void run_layer(void *ctx)
{
    Layer *l = ctx;
    switch (l->which) {
    case 0: conv2d_forward(&l->cs, l->x, l->w, l->b, l->y); break;
    case 1: conv2d_backward_input(&l->cs, l->dy, l->w, l->dx); break;
    case 2: conv2d_backward_weight(&l->cs, l->x, l->dy, l->dw, l->db); break;
    case 3: maxpool2d_forward(&l->ps, l->y, l->py, l->arg); break;
    default: maxpool2d_backward(&l->ps, l->pdy, l->arg, l->dy); break;
    }
}

static float *filled(Rng *g, size_t n)
{
    float *v = meld_aligned_alloc(n * sizeof(float), "bench conv tensor");
    if (v)
        for (size_t i = 0; i < n; i++) v[i] = rng_uniform_range(g, -1, 1);
    return v;
}

static void layer_free(Layer *l)
{
    free(l->x), free(l->w), free(l->b), free(l->y), free(l->dy), free(l->dx);
    free(l->dw), free(l->db), free(l->py), free(l->pdy), free(l->arg);
}

static int layer_init(Layer *l, int N, int C, int HW, int OC)
{
    memset(l, 0, sizeof *l);
    l->cs = (Conv2dShape){N, C, HW, HW, OC, 3, 3, 1, 1, 0, 0, 0, 0};
    conv2d_set_padding(&l->cs, CONV_PAD_SAME);
    l->ps = (Pool2dShape){N, OC, HW, HW, 2, 2, 2, 2, 0, 0};
    if (conv2d_check(&l->cs) || pool2d_check(&l->ps)) return MELD_ERR;
    Rng g;
    rng_seed(&g, 3, (uint64_t)C);
    size_t nx = (size_t)N * C * HW * HW, ny = (size_t)N * OC * HW * HW, nw = (size_t)OC * C * 9;
    size_t np = ny / 4;
    l->x = filled(&g, nx), l->w = filled(&g, nw), l->b = filled(&g, (size_t)OC);
    l->y = filled(&g, ny), l->dy = filled(&g, ny), l->dx = filled(&g, nx);
    l->dw = filled(&g, nw), l->db = filled(&g, (size_t)OC), l->py = filled(&g, np);
    l->pdy = filled(&g, np);
    l->arg = meld_calloc(np, sizeof(int32_t), "bench conv argmax");
    if (!l->x || !l->w || !l->b || !l->y || !l->dy || !l->dx || !l->dw || !l->db || !l->py ||
        !l->pdy || !l->arg)
        return MELD_ERR;
    return maxpool2d_forward(&l->ps, l->y, l->py, l->arg);   /* valid argmax for backward */
}

int bench_conv(int argc, char **argv)
{
    int batch = 32, want_threads = 0, reps = 7;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: bench conv [--batch N] [--threads N] [--isa avx512|avx2|neon|scalar] "
                   "[--reps N]\n");
            return 0;
        } else if (!strcmp(a, "--batch") && v) {
            batch = atoi(v), i++;
            if (batch < 1 || batch > 1024) {
                fprintf(stderr, "bench conv: --batch wants 1..1024\n");
                return 2;
            }
        } else if (!strcmp(a, "--threads") && v) {
            want_threads = atoi(v), i++;
            if (want_threads < 1 || want_threads > 256) {
                fprintf(stderr, "bench conv: --threads wants 1..256\n");
                return 2;
            }
        } else if (!strcmp(a, "--isa") && v) {
            CpuIsa isa;
            if (cpu_isa_parse(v, &isa) != MELD_OK) {
                fprintf(stderr, "bench conv: %s\n", meld_error());
                return 2;
            }
            cpu_set_isa(isa), i++;
        } else if (!strcmp(a, "--reps") && v) {
            reps = atoi(v), i++;
            if (reps < 1 || reps > 101) {
                fprintf(stderr, "bench conv: --reps wants 1..101\n");
                return 2;
            }
        } else {
            fprintf(stderr, "bench conv: unknown or incomplete option '%s'\n", a);
            return 2;
        }
    }
    int all = want_threads ? want_threads : threadpool_threads();
    int threads[2] = {1, all}, n_threads = all > 1 ? 2 : 1;
    static const int chans[5] = {3, 16, 32, 64, 128};
    static const char *pass[5] = {"conv fwd", "conv dinput", "conv dweight", "pool fwd",
                                  "pool bwd"};
    printf("frame CNN layers, batch %d, 3x3 same conv + 2x2 max pool, %s; median of %d\n",
           batch, cpu_isa_name(cpu_isa()), reps);
    printf("%-24s %-13s %3s %9s %8s\n", "layer", "pass", "thr", "ms", "GFLOP/s");
    int rc = 0;
    for (int k = 0, hw = 64; k < 4 && rc == 0; k++, hw /= 2) {
        Layer l;
        if (layer_init(&l, batch, chans[k], hw, chans[k + 1]) != MELD_OK) {
            fprintf(stderr, "bench conv: %s\n", meld_error());
            layer_free(&l);
            return 1;
        }
        char name[64];
        snprintf(name, sizeof name, "%dx%dx%d -> %d", chans[k], hw, hw, chans[k + 1]);
        double flops = 2.0 * batch * chans[k + 1] * hw * hw * chans[k] * 9;
        for (l.which = 0; l.which < 5; l.which++)
            for (int t = 0; t < n_threads; t++) {
                threadpool_set_threads(threads[t]);
                double sec = bench_median_seconds(run_layer, &l, reps, 0.02);
                if (meld_error()[0]) {
                    fprintf(stderr, "bench conv: %s\n", meld_error());
                    rc = 1;
                }
                printf("%-24s %-13s %3d %9.3f", name, pass[l.which], threads[t], sec * 1e3);
                if (l.which < 3) printf(" %8.1f", flops / sec * 1e-9);
                printf("\n");
                fflush(stdout);
            }
        layer_free(&l);
    }
    threadpool_set_threads(0);
    return rc;
}
