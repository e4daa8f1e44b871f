/* The MaxPool2D layer (layers.h): its window, stride and padding, and the
 * call of op_maxpool2d (tensor/ops_pool.c). */
#include <stdio.h>

#include "layers/layer_init.h"
#include "layers/layers.h"
#include "tensor/ops.h"

typedef struct {
    Layer base;
    int kh, kw, sh, sw, ph, pw;
} MaxPool2D;

static Tensor *maxpool_layer_forward(Layer *l, Graph *g, Tensor *x, const Tensor *mask)
{
    (void)mask;
    MaxPool2D *p = (MaxPool2D *)l;
    Tensor *y = op_maxpool2d(g, x, p->kh, p->kw, p->sh, p->sw, p->ph, p->pw);
    if (!y && x) meld_error_context("MaxPool2D '%s'", l->name);
    return y;
}

static const LayerOps MAXPOOL2D_OPS = {"MaxPool2D", maxpool_layer_forward, NULL};

Layer *maxpool2d_new(const char *name, int kh, int kw, int stride_h, int stride_w, int pad_h, int pad_w)
{
    if (stride_h == 0) stride_h = kh;
    if (stride_w == 0) stride_w = kw;
    if (kh <= 0 || kw <= 0 || stride_h <= 0 || stride_w <= 0 || pad_h < 0 || pad_w < 0 ||
        pad_h > kh / 2 || pad_w > kw / 2) {
        meld_errorf("MaxPool2D '%s': kernel %dx%d, stride %dx%d, pad %dx%d: sizes must be positive "
                    "and pad <= kernel/2", name ? name : "", kh, kw, stride_h, stride_w, pad_h, pad_w);
        return NULL;
    }
    MaxPool2D *p = layer_alloc(sizeof *p, &MAXPOOL2D_OPS, name);
    if (!p) return NULL;
    p->kh = kh, p->kw = kw;
    p->sh = stride_h, p->sw = stride_w;
    p->ph = pad_h, p->pw = pad_w;
    return &p->base;
}
