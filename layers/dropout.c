/* The Dropout and Dropout2d layers (layers.h): the probability, and the
 * call of op_dropout / op_dropout2d (tensor/ops_dropout.c). */
#include "layers/layer_init.h"
#include "layers/layers.h"
#include "tensor/ops.h"

typedef struct {
    Layer base;
    float p;
} Dropout;

static Tensor *dropout_forward(Layer *l, Graph *g, Tensor *x, const Tensor *mask)
{
    (void)mask;
    return op_dropout(g, x, ((Dropout *)l)->p);
}

static Tensor *dropout2d_forward(Layer *l, Graph *g, Tensor *x, const Tensor *mask)
{
    (void)mask;
    Tensor *y = op_dropout2d(g, x, ((Dropout *)l)->p);
    if (!y && x) meld_error_context("Dropout2d '%s'", l->name);
    return y;
}

static const LayerOps DROPOUT_OPS = {"Dropout", dropout_forward, NULL};
static const LayerOps DROPOUT2D_OPS = {"Dropout2d", dropout2d_forward, NULL};

static Layer *make(const LayerOps *ops, const char *name, float p)
{
    if (!(p >= 0.0f && p < 1.0f)) {
        meld_errorf("%s '%s': probability %g outside [0, 1)", ops->kind, name ? name : "", p);
        return NULL;
    }
    Dropout *d = layer_alloc(sizeof *d, ops, name);
    if (d) d->p = p;
    return d ? &d->base : NULL;
}

Layer *dropout_new(const char *name, float p) { return make(&DROPOUT_OPS, name, p); }
Layer *dropout2d_new(const char *name, float p) { return make(&DROPOUT2D_OPS, name, p); }
