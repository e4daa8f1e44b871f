/* Conv2D: the differentiable op over tensor/conv.h's kernels, and the layer.
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
#include <string.h>

#include "layers/layer_init.h"
#include "layers/layer_ops.h"
#include "layers/layers.h"
#include "tensor/conv.h"
#include "tensor/op_defs.h"
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

/* ---- the layer ------------------------------------------------------------ */

typedef struct {
    Layer base;
    Tensor *w;   /* [out_ch, in_ch, kh, kw] */
    Tensor *b;   /* [out_ch] or NULL */
    Conv2dSpec spec;
} Conv2D;

/* The four pads for an input of H x W (CONV2D_SAME depends on the size). */
static int pads_for(const Conv2D *c, int H, int W, int pads[4])
{
    const Conv2dSpec *sp = &c->spec;
    if (sp->padding == CONV2D_EXPLICIT) {
        pads[0] = pads[2] = sp->pad_h;
        pads[1] = pads[3] = sp->pad_w;
        return MELD_OK;
    }
    Conv2dShape s = {.H = H, .W = W, .KH = sp->kh, .KW = sp->kw, .stride_h = sp->stride_h, .stride_w = sp->stride_w};
    if (conv2d_set_padding(&s, sp->padding == CONV2D_SAME ? CONV_PAD_SAME : CONV_PAD_VALID) != MELD_OK)
        return MELD_ERR;
    pads[0] = s.pad_top, pads[1] = s.pad_left, pads[2] = s.pad_bottom, pads[3] = s.pad_right;
    return MELD_OK;
}

static Tensor *conv2d_layer_forward(Layer *l, Graph *g, Tensor *x, const Tensor *mask)
{
    (void)mask;
    Conv2D *c = (Conv2D *)l;
    if (!x) return NULL;
    int pads[4] = {0, 0, 0, 0};   /* a wrong rank is reported by op_conv2d */
    if (x->ndim == 4 && pads_for(c, x->shape[2], x->shape[3], pads) != MELD_OK) {
        meld_error_context("Conv2D '%s'", l->name);
        return NULL;
    }
    Tensor *y = op_conv2d(g, x, c->w, c->b, c->spec.stride_h, c->spec.stride_w, pads[0], pads[1], pads[2], pads[3]);
    if (!y) meld_error_context("Conv2D '%s'", l->name);
    return y;
}

static const LayerOps CONV2D_OPS = {"Conv2D", conv2d_layer_forward, NULL};

Layer *conv2d_new(const char *name, int in_ch, int out_ch, Conv2dSpec spec, Rng *r)
{
    if (spec.stride_h == 0) spec.stride_h = 1;
    if (spec.stride_w == 0) spec.stride_w = 1;
    bool explicit_ok = spec.padding != CONV2D_EXPLICIT ||
                       (spec.pad_h >= 0 && spec.pad_h < spec.kh && spec.pad_w >= 0 && spec.pad_w < spec.kw);
    if (in_ch <= 0 || out_ch <= 0 || spec.kh <= 0 || spec.kw <= 0 || spec.stride_h < 0 || spec.stride_w < 0 ||
        spec.padding < CONV2D_VALID || spec.padding > CONV2D_EXPLICIT || !explicit_ok) {
        meld_errorf("Conv2D '%s': bad configuration (channels %d -> %d, kernel %dx%d, stride %dx%d, "
                    "padding mode %d, pad %dx%d)", name ? name : "", in_ch, out_ch, spec.kh, spec.kw,
                    spec.stride_h, spec.stride_w, (int)spec.padding, spec.pad_h, spec.pad_w);
        return NULL;
    }
    Conv2D *c = layer_alloc(sizeof *c, &CONV2D_OPS, name);
    if (!c) return NULL;
    c->spec = spec;
    c->w = layer_add_param(&c->base, "weight", 4, (int[]){out_ch, in_ch, spec.kh, spec.kw});
    c->b = spec.bias ? layer_add_param(&c->base, "bias", 1, (int[]){out_ch}) : NULL;
    if (!c->w || (spec.bias && !c->b)) {
        layer_free(&c->base);
        return NULL;
    }
    int fan_in = in_ch * spec.kh * spec.kw;
    layer_init_fan_in(c->w, r, fan_in);
    if (c->b) layer_init_fan_in(c->b, r, fan_in);
    return &c->base;
}
