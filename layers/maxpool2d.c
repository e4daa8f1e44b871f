/* MaxPool2D: the differentiable op over tensor/conv.h's pooling kernels,
 * and the layer.
 *
 * y[n,c,i,j] = max of x over its window; the forward records which input
 * won (argmax, first on ties). The max is locally the identity on the
 * winner and constant in the others, so
 *     dL/dx[n,c,argmax[n,c,i,j]] += dL/dy[n,c,i,j]
 * and every other input gets nothing from that window.
 *
 * Saved: saved[0] = argmax (int32, [N*C*OH*OW]), saved[1] = the Pool2dShape.
 */
#include <stdint.h>
#include <stdio.h>

#include "layers/layer_init.h"
#include "layers/layer_ops.h"
#include "layers/layers.h"
#include "tensor/conv.h"
#include "tensor/op_defs.h"
#include "tensor/ops.h"

static void maxpool2d_backward_rule(Tensor *y)
{
    bool assign;
    float *gx = tensor_grad_assign(y->src[0], &assign);
    if (!gx) return;
    int rc = assign ? maxpool2d_backward_assign(y->args.saved[1], y->grad, y->args.saved[0], gx)
                    : maxpool2d_backward(y->args.saved[1], y->grad, y->args.saved[0], gx);
    if (rc != MELD_OK) graph_backward_fail(y->graph);
}

const OpDef OPDEF_MAXPOOL2D = {"maxpool2d", maxpool2d_backward_rule};

Tensor *op_maxpool2d(Graph *g, Tensor *x, int kh, int kw, int sh, int sw, int ph, int pw)
{
    if (!x) return NULL;
    char sx[64];
    if (x->ndim != 4) {
        meld_errorf("maxpool2d: x %s: expected [N, C, H, W]", shape_str(x, sx, sizeof sx));
        return NULL;
    }
    Pool2dShape s = {.N = x->shape[0], .C = x->shape[1], .H = x->shape[2], .W = x->shape[3],
                     .KH = kh, .KW = kw, .stride_h = sh, .stride_w = sw, .pad_h = ph, .pad_w = pw};
    if (pool2d_check(&s) != MELD_OK) {
        meld_error_context("x %s", shape_str(x, sx, sizeof sx));
        return NULL;
    }
    int shape[4] = {s.N, s.C, pool2d_out_h(&s), pool2d_out_w(&s)};
    Tensor *y = graph_op_output_uninit(g, &OPDEF_MAXPOOL2D, 4, shape, &x, 1);
    if (!y) return NULL;
    Pool2dShape *saved = graph_alloc(g, sizeof *saved);
    int32_t *argmax = graph_alloc(g, y->size * sizeof(int32_t) + 1);
    if (!saved || !argmax) return NULL;
    *saved = s;
    if (maxpool2d_forward(&s, x->data, y->data, argmax) != MELD_OK) return NULL;
    y->args.saved[0] = argmax;
    y->args.saved[1] = saved;
    return y;
}

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
