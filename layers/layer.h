/* The layer interface. A layer is a small struct of its own (Dense, LSTM,
 * Conv2D, ...) whose first member is a Layer; the Layer carries a pointer to
 * its kind's function table, its name and its parameters. There is no
 * all-purpose layer struct and no switch on the layer type: code that walks
 * layers (summary, checkpoints, optimisers) only uses this interface.
 *
 * Parameters are heap tensors (tensor_new_param) owned by the layer, named
 * PyTorch-style "<layer name>.<param>" ("lstm.weight_ih_l0_reverse") so a
 * checkpoint loads into the equivalent torch.nn module. Buffers are
 * non-trainable state that checkpoints keep too (BatchNorm running stats).
 */
#ifndef MELD_LAYER_H
#define MELD_LAYER_H

#include "tensor/autograd.h"

#define LAYER_MAX_PARAMS 32
#define LAYER_MAX_BUFFERS 4
#define LAYER_NAME_CAP 64

typedef struct Layer Layer;

typedef struct {
    const char *kind;   /* "Dense", "LSTM", ... as the summary prints it */
    /* y = layer(x). mask: [B, T] of 0/1 for sequence layers (step t of
     * sequence b is padding when mask[b,t] = 0), NULL = all valid; layers
     * that have no time axis ignore it. Returns NULL (error set) on failure. */
    Tensor *(*forward)(Layer *l, Graph *g, Tensor *x, const Tensor *mask);
    /* Frees what the concrete layer allocated beyond params/buffers (may be NULL). */
    void (*destroy)(Layer *l);
} LayerOps;

struct Layer {
    const LayerOps *ops;
    char name[LAYER_NAME_CAP];
    Tensor *params[LAYER_MAX_PARAMS];
    int n_params;
    Tensor *buffers[LAYER_MAX_BUFFERS];
    int n_buffers;
};

static inline Tensor *layer_forward(Layer *l, Graph *g, Tensor *x, const Tensor *mask)
{
    return x ? l->ops->forward(l, g, x, mask) : NULL;
}

/* Creates a parameter named "<layer name>.<suffix>" and appends it. NULL on
 * error. The name string is owned by the layer's storage. */
Tensor *layer_add_param(Layer *l, const char *suffix, int ndim, const int *shape);
/* Same for a non-trainable buffer (no gradient; requires_grad false). */
Tensor *layer_add_buffer(Layer *l, const char *suffix, int ndim, const int *shape);
/* Total number of trainable scalars. */
size_t layer_param_count(const Layer *l);
/* Frees params, buffers, the concrete layer's extras and the layer itself. */
void layer_free(Layer *l);

#endif
