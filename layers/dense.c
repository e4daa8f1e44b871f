/* Dense (torch.nn.Linear): y = x W^T + b on the last axis of x [..., in].
 * A thin layer over op_linear, which holds the maths and the backward. */
#include "layers/layer_init.h"
#include "layers/layers.h"
#include "tensor/ops.h"

typedef struct {
    Layer base;
    Tensor *w;   /* [out, in] */
    Tensor *b;   /* [out] or NULL */
} Dense;

static Tensor *dense_forward(Layer *l, Graph *g, Tensor *x, const Tensor *mask)
{
    (void)mask;
    Dense *d = (Dense *)l;
    Tensor *y = op_linear(g, x, d->w, d->b);
    if (!y) meld_error_context("Dense '%s'", l->name);
    return y;
}

static const LayerOps DENSE_OPS = {"Dense", dense_forward, NULL};

Layer *dense_new(const char *name, int in, int out, bool bias, Rng *r)
{
    if (in <= 0 || out <= 0) {
        meld_errorf("Dense '%s': sizes in=%d out=%d must be positive", name ? name : "", in, out);
        return NULL;
    }
    Dense *d = layer_alloc(sizeof *d, &DENSE_OPS, name);
    if (!d) return NULL;
    d->w = layer_add_param(&d->base, "weight", 2, (int[]){out, in});
    d->b = bias ? layer_add_param(&d->base, "bias", 1, (int[]){out}) : NULL;
    if (!d->w || (bias && !d->b)) {
        layer_free(&d->base);
        return NULL;
    }
    layer_init_fan_in(d->w, r, in);
    if (d->b) layer_init_fan_in(d->b, r, in);
    return &d->base;
}
