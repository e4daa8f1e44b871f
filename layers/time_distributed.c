/* TimeDistributed: one layer applied to every time step.
 *
 * x [B, T, f...] is reshaped (same memory order) to [B*T, f...], so every
 * step of every sequence becomes one item of a bigger batch; the inner layer
 * runs once on it and the result [B*T, g...] is reshaped to [B, T, g...].
 * Both reshapes are ops, so gradients flow back through them unchanged.
 *
 * The wrapper shares the inner layer's parameter and buffer tensors (same
 * pointers, same names): its Layer lists them so a Model, an optimiser or a
 * checkpoint sees them, and it frees them exactly once (layer_free frees the
 * wrapper's list; destroy then empties the inner lists before freeing it).
 */
#include <limits.h>
#include <stdio.h>

#include "layers/layer_init.h"
#include "layers/layers.h"
#include "tensor/ops.h"

typedef struct {
    Layer base;
    Layer *inner;
    LayerOps ops;                       /* own copy: the kind names the inner kind */
    char kind[LAYER_NAME_CAP + 24];     /* "TimeDistributed(Dense)" */
} TimeDistributed;

static Tensor *td_forward(Layer *l, Graph *g, Tensor *x, const Tensor *mask)
{
    (void)mask;
    TimeDistributed *td = (TimeDistributed *)l;
    if (!x) return NULL;
    char s[64];
    if (x->ndim < 2 || x->ndim > TENSOR_MAX_DIMS) {
        meld_errorf("TimeDistributed '%s': x %s: expected [B, T, ...]", l->name, shape_str(x, s, sizeof s));
        return NULL;
    }
    int B = x->shape[0], T = x->shape[1];
    if ((long long)B * T > INT_MAX) {
        meld_errorf("TimeDistributed '%s': B*T = %lld is too large", l->name, (long long)B * T);
        return NULL;
    }
    /* [B, T, f...] -> [B*T, f...] */
    int folded[TENSOR_MAX_DIMS];
    folded[0] = B * T;
    for (int d = 2; d < x->ndim; d++) folded[d - 1] = x->shape[d];
    Tensor *y = layer_forward(td->inner, g, op_reshape(g, x, x->ndim - 1, folded), NULL);
    if (!y) return NULL;
    if (y->ndim < 1 || y->shape[0] != B * T || y->ndim + 1 > TENSOR_MAX_DIMS) {
        meld_errorf("TimeDistributed '%s': inner output %s cannot be unfolded to [%d, %d, ...]",
                    l->name, shape_str(y, s, sizeof s), B, T);
        return NULL;
    }
    /* [B*T, g...] -> [B, T, g...] */
    int unfolded[TENSOR_MAX_DIMS] = {B, T};
    for (int d = 1; d < y->ndim; d++) unfolded[d + 1] = y->shape[d];
    return op_reshape(g, y, y->ndim + 1, unfolded);
}

static void td_destroy(Layer *l)
{
    TimeDistributed *td = (TimeDistributed *)l;
    /* The shared tensors were freed through the wrapper's lists already. */
    td->inner->n_params = 0;
    td->inner->n_buffers = 0;
    layer_free(td->inner);
}

Layer *time_distributed_new(Layer *inner)
{
    if (!inner) return NULL;   /* the inner constructor set the error */
    TimeDistributed *td = meld_calloc(1, sizeof *td, "TimeDistributed");
    if (!td) {
        layer_free(inner);
        return NULL;
    }
    snprintf(td->kind, sizeof td->kind, "TimeDistributed(%s)", inner->ops->kind);
    td->ops = (LayerOps){td->kind, td_forward, td_destroy};
    td->inner = inner;
    Layer *l = &td->base;
    l->ops = &td->ops;
    memcpy(l->name, inner->name, sizeof l->name);
    memcpy(l->params, inner->params, sizeof l->params);
    memcpy(l->buffers, inner->buffers, sizeof l->buffers);
    l->n_params = inner->n_params;
    l->n_buffers = inner->n_buffers;
    return l;
}
