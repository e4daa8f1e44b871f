/* Parameter-free element-wise layers: ReLU, LeakyReLU, Tanh, and Flatten.
 * Each is a thin wrapper over the engine op of the same name. */
#include <limits.h>

#include "layers/layer_init.h"
#include "layers/layers.h"
#include "tensor/ops.h"

typedef struct {
    Layer base;
    float slope;   /* LeakyReLU only */
} Activation;

static Tensor *relu_forward(Layer *l, Graph *g, Tensor *x, const Tensor *mask)
{
    (void)l, (void)mask;
    return op_relu(g, x);
}

static Tensor *leaky_forward(Layer *l, Graph *g, Tensor *x, const Tensor *mask)
{
    (void)mask;
    return op_leaky_relu(g, x, ((Activation *)l)->slope);
}

static Tensor *tanh_forward(Layer *l, Graph *g, Tensor *x, const Tensor *mask)
{
    (void)l, (void)mask;
    return op_tanh(g, x);
}

/* [N, d1, d2, ...] -> [N, d1*d2*...]; the element order is unchanged. */
static Tensor *flatten_forward(Layer *l, Graph *g, Tensor *x, const Tensor *mask)
{
    (void)mask;
    if (!x) return NULL;
    if (x->ndim < 1) {
        meld_errorf("Flatten '%s': needs a batch axis, got a scalar", l->name);
        return NULL;
    }
    size_t rest = 1;
    for (int d = 1; d < x->ndim; d++) rest *= (size_t)x->shape[d];
    if (rest > INT_MAX) {
        meld_errorf("Flatten '%s': %zu features per item do not fit an int", l->name, rest);
        return NULL;
    }
    return op_reshape(g, x, 2, (int[]){x->shape[0], (int)rest});
}

static const LayerOps RELU_OPS = {"ReLU", relu_forward, NULL};
static const LayerOps LEAKY_OPS = {"LeakyReLU", leaky_forward, NULL};
static const LayerOps TANH_OPS = {"Tanh", tanh_forward, NULL};
static const LayerOps FLATTEN_OPS = {"Flatten", flatten_forward, NULL};

Layer *relu_new(const char *name) { return layer_alloc(sizeof(Activation), &RELU_OPS, name); }
Layer *tanh_new(const char *name) { return layer_alloc(sizeof(Activation), &TANH_OPS, name); }
Layer *flatten_new(const char *name) { return layer_alloc(sizeof(Activation), &FLATTEN_OPS, name); }

Layer *leaky_relu_new(const char *name, float slope)
{
    if (!(slope == slope)) {   /* NaN */
        meld_errorf("LeakyReLU '%s': slope is NaN", name ? name : "");
        return NULL;
    }
    Activation *a = layer_alloc(sizeof *a, &LEAKY_OPS, name);
    if (a) a->slope = slope;
    return a ? &a->base : NULL;
}
