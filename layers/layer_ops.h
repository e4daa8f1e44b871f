/* Differentiable ops added by the layers (same conventions as tensor/ops.h:
 * Graph first, NULL inputs give NULL without touching the error, shape
 * errors name the op and the shapes). Their OpDefs are in op_defs.h and the
 * engine's OP_TABLE. The layers in layers.h are thin wrappers that own the
 * parameters; call these directly for functional use.
 */
#ifndef MELD_LAYER_OPS_H
#define MELD_LAYER_OPS_H

#include "tensor/autograd.h"

/* Spatial dropout (layers/dropout.c): x [N, C, ...], rank >= 3. In training
 * one keep/drop draw per (n, c) from g->rng in row-major order, kept maps
 * scaled by 1/(1-p); identity in eval or for p = 0. */
Tensor *op_dropout2d(Graph *g, Tensor *x, float p);

/* Batch normalisation over axis 1 (layers/batchnorm.c). x [N, C, ...];
 * gamma, beta [C] or NULL (1 and 0); running_mean, running_var [C] or NULL.
 *   g->training or no running stats: batch statistics over all axes but 1;
 *       running stats (if given and g->training) are updated in place with
 *       momentum, running_var with the unbiased variance. Needs more than
 *       one value per channel (as torch).
 *   otherwise: the running statistics.
 * See batchnorm.c for the derivation of the backward. */
Tensor *op_batchnorm(Graph *g, Tensor *x, Tensor *gamma, Tensor *beta,
                     Tensor *running_mean, Tensor *running_var, float momentum, float eps);

/* 2-D convolution (layers/conv2d.c), cross-correlation as torch:
 *     y[n,o,i,j] = b[o] + sum_{c,u,v} w[o,c,u,v] * xp[n, c, i*sh + u, j*sw + v]
 * where xp is x with pad_top rows of zeros above, pad_bottom below, pad_left
 * and pad_right columns at the sides (each in [0, kernel)).
 * x [N, C, H, W], w [O, C, kh, kw], b [O] or NULL; the output size is
 *     OH = (H + pad_top + pad_bottom - kh) / sh + 1   (likewise OW). */
Tensor *op_conv2d(Graph *g, Tensor *x, Tensor *w, Tensor *b, int sh, int sw,
                  int pad_top, int pad_left, int pad_bottom, int pad_right);

/* 2-D max pooling (layers/maxpool2d.c): x [N, C, H, W] ->
 * [N, C, (H + 2ph - kh)/sh + 1, (W + 2pw - kw)/sw + 1], padding never wins.
 * The gradient goes to the first maximum of each window (row-major). */
Tensor *op_maxpool2d(Graph *g, Tensor *x, int kh, int kw, int sh, int sw, int ph, int pw);

#endif
