/* op_maxpool2d: 2-D max pooling, differentiable, over tensor/conv.h's
 * pooling kernels.
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

#include "tensor/conv.h"
#include "tensor/error.h"
#include "tensor/op_table.h"
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
