/* Inverted dropout: y = x * m / (1 - p), m ~ Bernoulli(1 - p), drawn from
 * the graph's rng in row-major order (so a seeded run is reproducible).
 * dL/dx = g * m / (1 - p). In eval mode, or for p = 0, y = x (a copy, still
 * differentiable with the identity backward). saved[0] = the scaled mask. */
#include <stdio.h>

#include "tensor/error.h"
#include "tensor/op_defs.h"
#include "tensor/ops.h"

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
