/* The Conv2D layer (layers.h): its weight and bias, PyTorch's
 * initialisation, the padding of each input size, and the call of
 * op_conv2d (tensor/ops_conv2d.c). */
#include <stdio.h>

#include "layers/layer_init.h"
#include "layers/layers.h"
#include "tensor/conv.h"
#include "tensor/ops.h"

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
