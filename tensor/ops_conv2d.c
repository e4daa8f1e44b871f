/* op_conv2d: the differentiable 2-D convolution over tensor/conv.h's kernels.
 *
 * The maths (im2col, the three GEMMs) is documented in tensor/conv.h; this
 * file connects it to autograd. For y = conv(x, w) + b:
 *     dL/dx = conv2d_backward_input(dy, w)    (the transposed convolution)
 *     dL/dw = conv2d_backward_weight(x, dy)   (dy correlated with x)
 *     dL/db[o] = sum over n, i, j of dy[n,o,i,j]
 * all accumulated (+=), as autograd expects.
 *
 * Saved: saved[0] = the Conv2dShape (sizes, strides, the four pads).
 */
#include <stdio.h>

#include "tensor/conv.h"
#include "tensor/error.h"
#include "tensor/op_table.h"
#include "tensor/ops.h"

/* db[o] += sum of dy over the batch and the output plane. */
static void bias_grad(const Conv2dShape *s, const float *dy, float *db)
{
    size_t plane = (size_t)conv2d_out_h(s) * (size_t)conv2d_out_w(s);
    for (int n = 0; n < s->N; n++)
        for (int o = 0; o < s->OC; o++) {
            const float *p = dy + ((size_t)n * s->OC + (size_t)o) * plane;
            double acc = 0;
            for (size_t i = 0; i < plane; i++) acc += p[i];
            db[o] += (float)acc;
        }
}

/* A kernel error (an allocation for its column buffers) stops backward
 * through graph_backward_fail. */
static void conv2d_backward(Tensor *y)
{
    const Conv2dShape *s = y->args.saved[0];
    Tensor *x = y->src[0], *w = y->src[1], *b = y->nsrc > 2 ? y->src[2] : NULL;
    float *gx = tensor_grad(x), *gw = tensor_grad(w), *gb = b ? tensor_grad(b) : NULL;
    int rc = MELD_OK;
    if (gx) rc = conv2d_backward_input(s, y->grad, w->data, gx);
    if (rc == MELD_OK && gw) rc = conv2d_backward_weight(s, x->data, y->grad, gw, gb);
    else if (rc == MELD_OK && gb) bias_grad(s, y->grad, gb);
    if (rc != MELD_OK) graph_backward_fail(y->graph);
}

const OpDef OPDEF_CONV2D = {"conv2d", conv2d_backward};

Tensor *op_conv2d(Graph *g, Tensor *x, Tensor *w, Tensor *b, int sh, int sw,
                  int pad_top, int pad_left, int pad_bottom, int pad_right)
{
    if (!x || !w) return NULL;
    char sx[64], sw_[64], sb[64];
    if (x->ndim != 4 || w->ndim != 4 || x->shape[1] != w->shape[1] ||
        (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))) {
        meld_errorf("conv2d: x %s, w %s, b %s: expected x [N,C,H,W], w [O,C,kh,kw], b [O]",
                    shape_str(x, sx, sizeof sx), shape_str(w, sw_, sizeof sw_),
                    b ? shape_str(b, sb, sizeof sb) : "none");
        return NULL;
    }
    Conv2dShape s = {
        .N = x->shape[0], .C = x->shape[1], .H = x->shape[2], .W = x->shape[3],
        .OC = w->shape[0], .KH = w->shape[2], .KW = w->shape[3],
        .stride_h = sh, .stride_w = sw,
        .pad_top = pad_top, .pad_left = pad_left, .pad_bottom = pad_bottom, .pad_right = pad_right,
    };
    if (conv2d_check(&s) != MELD_OK) {
        meld_error_context("x %s, w %s", shape_str(x, sx, sizeof sx), shape_str(w, sw_, sizeof sw_));
        return NULL;
    }
    Conv2dShape *saved = graph_alloc(g, sizeof *saved);
    if (!saved) return NULL;
    *saved = s;
    Tensor *src[3] = {x, w, b};
    int shape[4] = {s.N, s.OC, conv2d_out_h(&s), conv2d_out_w(&s)};
    Tensor *y = graph_op_output_uninit(g, &OPDEF_CONV2D, 4, shape, src, b ? 3 : 2);
    if (!y) return NULL;
    y->args.saved[0] = saved;
    if (conv2d_forward(&s, x->data, w->data, b ? b->data : NULL, y->data) != MELD_OK) return NULL;
    return y;
}
