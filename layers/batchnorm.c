/* The BatchNorm1d / BatchNorm2d layers (layers.h): gamma and beta, the
 * running statistics as buffers, and the call of op_batchnorm
 * (tensor/ops_batchnorm.c, where the maths is). */
#include <stdio.h>

#include "layers/layer_init.h"
#include "layers/layers.h"
#include "tensor/ops.h"

typedef struct {
    Layer base;
    Tensor *gamma, *beta;            /* params "weight", "bias" [C] */
    Tensor *running_mean, *running_var, *num_batches_tracked;   /* buffers */
    float eps, momentum;
    int min_rank, max_rank;          /* accepted input ranks */
} BatchNorm;

static Tensor *bn_forward(Layer *l, Graph *g, Tensor *x, const Tensor *mask)
{
    (void)mask;
    BatchNorm *bn = (BatchNorm *)l;
    if (!x) return NULL;
    if (x->ndim < bn->min_rank || x->ndim > bn->max_rank) {
        char s[64];
        meld_errorf("%s '%s': x %s: expected %s", l->ops->kind, l->name, shape_str(x, s, sizeof s),
                    bn->max_rank == 4 ? "[N, C, H, W]" : "[N, C] or [N, C, L]");
        return NULL;
    }
    if (x->shape[1] != bn->gamma->shape[0]) {
        char s[64];
        meld_errorf("%s '%s': x %s has %d channels, the layer has %d", l->ops->kind, l->name,
                    shape_str(x, s, sizeof s), x->shape[1], bn->gamma->shape[0]);
        return NULL;
    }
    Tensor *y = op_batchnorm(g, x, bn->gamma, bn->beta, bn->running_mean, bn->running_var,
                             bn->momentum, bn->eps);
    if (!y) {
        meld_error_context("%s '%s'", l->ops->kind, l->name);
        return NULL;
    }
    if (g->training) bn->num_batches_tracked->data[0] += 1.0f;
    return y;
}

static const LayerOps BN1D_OPS = {"BatchNorm1d", bn_forward, NULL};
static const LayerOps BN2D_OPS = {"BatchNorm2d", bn_forward, NULL};

static Layer *bn_new(const LayerOps *ops, const char *name, int channels, float eps, float momentum)
{
    if (channels <= 0 || !(eps > 0.0f) || !(momentum >= 0.0f && momentum <= 1.0f)) {
        meld_errorf("%s '%s': channels %d must be > 0, eps %g > 0, momentum %g in [0, 1]",
                    ops->kind, name ? name : "", channels, eps, momentum);
        return NULL;
    }
    BatchNorm *bn = layer_alloc(sizeof *bn, ops, name);
    if (!bn) return NULL;
    Layer *l = &bn->base;
    int c[1] = {channels};
    bn->gamma = layer_add_param(l, "weight", 1, c);
    bn->beta = layer_add_param(l, "bias", 1, c);
    bn->running_mean = layer_add_buffer(l, "running_mean", 1, c);
    bn->running_var = layer_add_buffer(l, "running_var", 1, c);
    bn->num_batches_tracked = layer_add_buffer(l, "num_batches_tracked", 0, c);
    if (!bn->gamma || !bn->beta || !bn->running_mean || !bn->running_var || !bn->num_batches_tracked) {
        layer_free(l);
        return NULL;
    }
    tensor_fill(bn->gamma, 1.0f);
    tensor_fill(bn->running_var, 1.0f);
    bn->eps = eps;
    bn->momentum = momentum;
    bn->min_rank = ops == &BN2D_OPS ? 4 : 2;
    bn->max_rank = ops == &BN2D_OPS ? 4 : 3;
    return l;
}

Layer *batchnorm1d_new(const char *name, int channels, float eps, float momentum)
{
    return bn_new(&BN1D_OPS, name, channels, eps, momentum);
}

Layer *batchnorm2d_new(const char *name, int channels, float eps, float momentum)
{
    return bn_new(&BN2D_OPS, name, channels, eps, momentum);
}
