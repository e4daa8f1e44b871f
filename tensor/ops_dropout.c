/* Dropout, element-wise and spatial.
 *
 * Inverted dropout: y = x * m / (1 - p), m ~ Bernoulli(1 - p), drawn from
 * the graph's rng in row-major order (so a seeded run is reproducible).
 * dL/dx = g * m / (1 - p). In eval mode, or for p = 0, y = x (a copy, still
 * differentiable with the identity backward). saved[0] = the scaled mask.
 *
 * Spatial dropout (Tompson et al. 2015; torch.nn.Dropout2d, Keras
 * SpatialDropout2D) drops whole feature maps: neighbouring pixels of one map
 * are strongly correlated, so element-wise dropout barely regularises them.
 * For x [N, C, S...] (S = the trailing positions, flattened to one axis):
 *     m[n,c] ~ Bernoulli(1 - p) / (1 - p)          one draw per map
 *     y[n,c,s] = x[n,c,s] * m[n,c]
 *     dL/dx[n,c,s] = dL/dy[n,c,s] * m[n,c]
 * saved[0] = m [N*C] (NULL in eval: identity); args.i[0] = S.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "tensor/eltwise.h"
#include "tensor/error.h"
#include "tensor/op_table.h"
#include "tensor/ops.h"
#include "tensor/threadpool.h"

/* ---- element-wise ---------------------------------------------------------- */

static void dropout_backward(Tensor *y)
{
    float *gx = tensor_grad(y->src[0]);
    if (!gx) return;
    const float *m = y->args.saved[0];
    if (!m) {
        for (size_t i = 0; i < y->size; i++) gx[i] += y->grad[i];
        return;
    }
    for (size_t i = 0; i < y->size; i++) gx[i] += y->grad[i] * m[i];
}

const OpDef OPDEF_DROPOUT = {"dropout", dropout_backward};

Tensor *op_dropout(Graph *g, Tensor *x, float p)
{
    if (!x) return NULL;
    if (!(p >= 0.0f && p < 1.0f)) {
        meld_errorf("dropout: probability %g outside [0, 1)", p);
        return NULL;
    }
    Tensor *y = graph_op_output(g, &OPDEF_DROPOUT, x->ndim, x->shape, &x, 1);
    if (!y) return NULL;
    if (!g->training || p == 0.0f) {
        for (size_t i = 0; i < x->size; i++) y->data[i] = x->data[i];
        return y;
    }
    float *m = graph_alloc(g, x->size * sizeof(float) + 1);
    if (!m) return NULL;
    float keep_scale = 1.0f / (1.0f - p);
    rng_fill_uniform(&g->rng, m, x->size);   /* the draws, then vector loops */
    for (size_t i = 0; i < x->size; i++) m[i] = m[i] >= p ? keep_scale : 0.0f;
    for (size_t i = 0; i < x->size; i++) y->data[i] = x->data[i] * m[i];
    y->args.saved[0] = m;
    return y;
}

/* ---- spatial: whole feature maps ------------------------------------------ */

/* Maps [lo, hi) of dst = src * m (forward; backward as the first writer of
 * dL/dx) or dst += src * m (backward, accumulating); the maps go to the
 * thread pool in ranges. */
typedef struct {
    const float *src, *m;
    float *dst;
    size_t s;
    bool accumulate;
} MapJob;

static void maps_range(void *ctx, size_t lo, size_t hi)
{
    const MapJob *j = ctx;
    for (size_t k = lo; k < hi; k++) {
        float mk = j->m ? j->m[k] : 1.0f;
        if (!j->accumulate) eltwise_scale_shift(j->src + k * j->s, mk, 0.0f, j->dst + k * j->s, j->s);
        else if (mk != 0.0f) eltwise_axpy(j->dst + k * j->s, mk, j->src + k * j->s, j->s);
    }
}

static void run_maps(MapJob *j, size_t maps)
{
    if (j->s == 0) return;   /* empty feature maps */
    size_t per = THREADPOOL_ELTWISE_CHUNK / j->s;
    threadpool_parallel_range(maps, per ? per : 1, maps_range, j);
}

static void dropout2d_backward(Tensor *y)
{
    bool assign;
    float *gx = tensor_grad_assign(y->src[0], &assign);
    if (!gx) return;
    MapJob j = {y->grad, y->args.saved[0], gx, (size_t)y->args.i[0], !assign};
    run_maps(&j, y->size / j.s);
}

const OpDef OPDEF_DROPOUT2D = {"dropout2d", dropout2d_backward};

Tensor *op_dropout2d(Graph *g, Tensor *x, float p)
{
    if (!x) return NULL;
    if (!(p >= 0.0f && p < 1.0f)) {
        meld_errorf("dropout2d: probability %g outside [0, 1)", p);
        return NULL;
    }
    if (x->ndim < 3) {
        char s[64];
        meld_errorf("dropout2d: x %s: expected [N, C, ...] of rank >= 3", shape_str(x, s, sizeof s));
        return NULL;
    }
    Tensor *y = graph_op_output_uninit(g, &OPDEF_DROPOUT2D, x->ndim, x->shape, &x, 1);
    if (!y) return NULL;
    size_t maps = (size_t)x->shape[0] * (size_t)x->shape[1];
    size_t s = maps ? x->size / maps : 1;
    if (s > INT_MAX) {
        meld_errorf("dropout2d: %zu positions per feature map do not fit an int", s);
        return NULL;
    }
    y->args.i[0] = (int)(s ? s : 1);
    if (!g->training || p == 0.0f) {
        memcpy(y->data, x->data, x->size * sizeof(float));
        return y;
    }
    float *m = graph_alloc(g, maps * sizeof(float) + 1);
    if (!m) return NULL;
    float keep_scale = 1.0f / (1.0f - p);
    for (size_t k = 0; k < maps; k++) m[k] = rng_uniform(&g->rng) >= p ? keep_scale : 0.0f;
    MapJob j = {x->data, m, y->data, s, false};
    run_maps(&j, maps);
    y->args.saved[0] = m;
    return y;
}
