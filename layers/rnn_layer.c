/* The stacked / bidirectional recurrent layer (see rnn_layer.h). */
#include "layers/rnn_layer.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>

#include "layers/layer_init.h"
#include "tensor/error.h"
#include "tensor/ops.h"

/* Adds "<prefix>_l<k>[_reverse]" with PyTorch's default init U(-a, a),
 * a = 1/sqrt(H). */
static Tensor *add_param(RnnLayer *l, const char *prefix, int k, int d, int ndim, const int *shape, Rng *r)
{
    char suffix[48];
    snprintf(suffix, sizeof suffix, "%s_l%d%s", prefix, k, d ? "_reverse" : "");
    Tensor *t = layer_add_param(&l->base, suffix, ndim, shape);
    if (t) {
        float a = 1.0f / sqrtf((float)l->hidden);
        tensor_fill_uniform(t, r, -a, a);
    }
    return t;
}

static int check_config(const char *name, int G, int input_size, int hidden, int num_layers,
                        int dirs, bool bias, float dropout, const Rng *r)
{
    if (input_size < 1 || hidden < 1)
        return meld_errorf("%s: input_size %d and hidden %d must be >= 1", name, input_size, hidden);
    /* G*H rows per weight, 2*G*H biases, dirs*H features out: all ints. */
    if ((long long)hidden * G * 2 > INT_MAX)
        return meld_errorf("%s: hidden size %d is too large", name, hidden);
    int per_level = dirs * (bias ? 4 : 2);
    if (num_layers < 1 || num_layers > RNN_MAX_LEVELS || num_layers * per_level > LAYER_MAX_PARAMS)
        return meld_errorf("%s: %d layers outside 1..%d (%d parameters per layer, at most %d in all)",
                           name, num_layers, RNN_MAX_LEVELS, per_level, LAYER_MAX_PARAMS);
    if (!(dropout >= 0.0f && dropout < 1.0f))
        return meld_errorf("%s: dropout %g outside [0, 1)", name, dropout);
    if (!r) return meld_errorf("%s: no random generator for the initialisation", name);
    return MELD_OK;
}

Layer *rnn_layer_new(const RnnLayerKind *kind, const char *name, int input_size, int hidden,
                     int num_layers, bool bidirectional, bool bias, float dropout,
                     bool return_sequences, Rng *r)
{
    int G = kind->gates, dirs = bidirectional ? 2 : 1;
    RnnLayer *l = layer_alloc(sizeof *l, &kind->ops, name);
    if (!l) return NULL;
    if (check_config(name, G, input_size, hidden, num_layers, dirs, bias, dropout, r)) {
        layer_free(&l->base);
        return NULL;
    }
    l->kind = kind;
    l->input_size = input_size, l->hidden = hidden, l->num_layers = num_layers, l->dirs = dirs;
    l->bias = bias, l->return_sequences = return_sequences, l->dropout = dropout;
    /* PyTorch's parameter order (and so our draw order from r). */
    for (int k = 0; k < num_layers; k++)
        for (int d = 0; d < dirs; d++) {
            int in = k == 0 ? input_size : dirs * hidden;
            int wi[2] = {G * hidden, in}, wh[2] = {G * hidden, hidden}, b[1] = {G * hidden};
            bool ok = (l->w_ih[k][d] = add_param(l, "weight_ih", k, d, 2, wi, r)) &&
                      (l->w_hh[k][d] = add_param(l, "weight_hh", k, d, 2, wh, r)) &&
                      (!bias || ((l->b_ih[k][d] = add_param(l, "bias_ih", k, d, 1, b, r)) &&
                                 (l->b_hh[k][d] = add_param(l, "bias_hh", k, d, 1, b, r))));
            if (!ok) {
                meld_error_context("%s", name);
                layer_free(&l->base);
                return NULL;
            }
        }
    return &l->base;
}

/* One level: one whole-sequence op (both directions in one for a
 * bidirectional level). The ops take the two biases of a direction as one
 * input, concat(b_ih, b_hh). */
static Tensor *run_level(RnnLayer *l, Graph *g, Tensor *x, const Tensor *mask, int k, bool sequences)
{
    Tensor *bias[2] = {NULL, NULL};
    for (int d = 0; d < l->dirs && l->bias; d++) {
        Tensor *pair[2] = {l->b_ih[k][d], l->b_hh[k][d]};
        if (!(bias[d] = op_concat(g, pair, 2, 0))) return NULL;
    }
    if (l->dirs == 2) return l->kind->bidir(g, x, l->w_ih[k], l->w_hh[k], bias, mask, sequences);
    return l->kind->dir(g, x, l->w_ih[k][0], l->w_hh[k][0], bias[0], mask, false, sequences);
}

Tensor *rnn_layer_forward(Layer *base, Graph *g, Tensor *x, const Tensor *mask)
{
    RnnLayer *l = (RnnLayer *)base;
    if (!x) return NULL;
    if (x->ndim != 3 || x->shape[2] != l->input_size) {
        char sx[64];
        meld_errorf("%s: input %s, expected [B, T, %d]", base->name, shape_str(x, sx, sizeof sx), l->input_size);
        return NULL;
    }
    Tensor *h = x;
    for (int k = 0; k < l->num_layers && h; k++) {
        bool last = k == l->num_layers - 1;
        h = run_level(l, g, h, mask, k, !last || l->return_sequences);
        /* PyTorch: dropout on every layer's output but the last, in training. */
        if (h && !last && l->dropout > 0.0f && g->training) h = op_dropout(g, h, l->dropout);
    }
    if (!h) meld_error_context("%s", base->name);
    return h;
}
