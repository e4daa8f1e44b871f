/* The differentiable operations, every one of the engine. Each op is one
 * function here plus one OpDef (name + backward rule) in the file that
 * implements it; op_table.c lists every OpDef in one table, so the whole op
 * set reads on one screen. Layers (layers/) own parameters and call these.
 *
 * Conventions
 *   - First argument: the Graph that records the op (autograd.h).
 *   - Inputs may be NULL: the op then returns NULL without touching the
 *     error message, so a chain of ops can be checked once at the end.
 *   - A shape error returns NULL with a message naming the op and shapes:
 *     "matmul: [50,1611] x [300,1200]: inner dimensions differ".
 *   - Element-wise binary ops broadcast as NumPy: shapes are right-aligned
 *     and a dimension of 1 stretches. Their backward sums the gradient over
 *     the stretched dimensions.
 */
#ifndef MELD_OPS_H
#define MELD_OPS_H

#include <limits.h>
#include <stdbool.h>

#include "tensor/autograd.h"

/* Axis value meaning "all axes" for the reductions. */
#define OP_ALL_AXES INT_MIN

/* ---- element-wise arithmetic (ops_arith.c) ----------------------------- */
Tensor *op_add(Graph *g, Tensor *a, Tensor *b);
Tensor *op_sub(Graph *g, Tensor *a, Tensor *b);
Tensor *op_mul(Graph *g, Tensor *a, Tensor *b);
Tensor *op_div(Graph *g, Tensor *a, Tensor *b);
Tensor *op_neg(Graph *g, Tensor *a);
Tensor *op_scale(Graph *g, Tensor *a, float s);       /* s * a */
Tensor *op_add_scalar(Graph *g, Tensor *a, float s);  /* a + s */

/* ---- unary functions (ops_unary.c) ------------------------------------- */
Tensor *op_exp(Graph *g, Tensor *a);
Tensor *op_log(Graph *g, Tensor *a);
Tensor *op_sqrt(Graph *g, Tensor *a);
Tensor *op_tanh(Graph *g, Tensor *a);
Tensor *op_sigmoid(Graph *g, Tensor *a);
Tensor *op_relu(Graph *g, Tensor *a);
Tensor *op_leaky_relu(Graph *g, Tensor *a, float slope);

/* ---- products (ops_matmul.c) ------------------------------------------- */
/* [M,K] x [K,N] -> [M,N];  [B,M,K] x [B,K,N] -> [B,M,N];
 * [B,M,K] x [K,N] -> [B,M,N] (one matrix shared by the batch). */
Tensor *op_matmul(Graph *g, Tensor *a, Tensor *b);
/* y = x W^T + b, PyTorch's Linear: x [..., in], W [out, in], b [out] or NULL. */
Tensor *op_linear(Graph *g, Tensor *x, Tensor *w, Tensor *b);

/* ---- shape and data movement (ops_shape.c) ----------------------------- */
/* One dimension may be -1 (inferred). */
Tensor *op_reshape(Graph *g, Tensor *a, int ndim, const int *shape);
Tensor *op_permute(Graph *g, Tensor *a, const int *perm);
Tensor *op_transpose(Graph *g, Tensor *a, int axis0, int axis1);
Tensor *op_slice(Graph *g, Tensor *a, int axis, int start, int len);
/* Up to TENSOR_MAX_SRC inputs, equal shapes except along axis. */
Tensor *op_concat(Graph *g, Tensor *const *xs, int n, int axis);
/* y[i] = x[index[i]] along the first axis, a zero row where index[i] < 0:
 * x [N, ...] -> y [m, ...]. index is copied. */
Tensor *op_gather_rows(Graph *g, Tensor *x, const int *index, int m);

/* ---- reductions (ops_reduce.c): the axis disappears; OP_ALL_AXES -> scalar */
Tensor *op_sum(Graph *g, Tensor *a, int axis);
Tensor *op_mean(Graph *g, Tensor *a, int axis);
Tensor *op_max(Graph *g, Tensor *a, int axis);
/* Mean over the valid steps: x [N, T, D], mask [N, T] of 0/1 (a constant)
 * -> [N, D]; a row with no valid step gives zeros. */
Tensor *op_masked_mean(Graph *g, Tensor *x, const Tensor *mask);

/* ---- softmax family and the loss (ops_softmax.c), over the last axis ---- */
Tensor *op_softmax(Graph *g, Tensor *a);
Tensor *op_log_softmax(Graph *g, Tensor *a);
/* Cross-entropy from logits [N,C] and labels[N] in 0..C-1.
 * Each row i gets the sample weight s_i = mask[i] * class_weight[label_i]
 * (mask or class_weight NULL = 1). The loss is
 *     L = sum_i s_i * (-log softmax(logits_i)[label_i]) / #{i : s_i != 0}
 * i.e. Keras's normalisation for sample_weight_mode='temporal' (mean over the
 * elements whose weight is non-zero), which the MELD baseline used; with no
 * mask and no class weights this is the plain mean. L = 0 when every weight
 * is 0. The labels, weights and mask are copied. */
Tensor *op_cross_entropy(Graph *g, Tensor *logits, const int *labels,
                         const float *class_weight, const float *mask);

/* ---- regularisation (ops_dropout.c) ------------------------------------ */
/* Inverted dropout: in training keep each element with probability 1-p and
 * scale it by 1/(1-p); identity in eval (g->training false). Mask from g->rng. */
Tensor *op_dropout(Graph *g, Tensor *a, float p);
/* Spatial dropout: x [N, C, ...], rank >= 3. In training one keep/drop draw
 * per (n, c) from g->rng in row-major order, kept maps scaled by 1/(1-p);
 * identity in eval or for p = 0. */
Tensor *op_dropout2d(Graph *g, Tensor *x, float p);

/* ---- images, NCHW (ops_conv2d.c, ops_pool.c, ops_batchnorm.c) ---------- */
/* 2-D convolution, cross-correlation as torch:
 *     y[n,o,i,j] = b[o] + sum_{c,u,v} w[o,c,u,v] * xp[n, c, i*sh + u, j*sw + v]
 * where xp is x with pad_top rows of zeros above, pad_bottom below, pad_left
 * and pad_right columns at the sides (each in [0, kernel)).
 * x [N, C, H, W], w [O, C, kh, kw], b [O] or NULL; the output size is
 *     OH = (H + pad_top + pad_bottom - kh) / sh + 1   (likewise OW). */
Tensor *op_conv2d(Graph *g, Tensor *x, Tensor *w, Tensor *b, int sh, int sw,
                  int pad_top, int pad_left, int pad_bottom, int pad_right);
/* 2-D max pooling: x [N, C, H, W] ->
 * [N, C, (H + 2ph - kh)/sh + 1, (W + 2pw - kw)/sw + 1], padding never wins.
 * The gradient goes to the first maximum of each window (row-major). */
Tensor *op_maxpool2d(Graph *g, Tensor *x, int kh, int kw, int sh, int sw, int ph, int pw);
/* Batch normalisation over axis 1. x [N, C, ...]; gamma, beta [C] or NULL
 * (1 and 0); running_mean, running_var [C] or NULL.
 *   g->training or no running stats: batch statistics over all axes but 1;
 *       running stats (if given and g->training) are updated in place with
 *       momentum, running_var with the unbiased variance. Needs more than
 *       one value per channel (as torch).
 *   otherwise: the running statistics.
 * See ops_batchnorm.c for the derivation of the backward. */
Tensor *op_batchnorm(Graph *g, Tensor *x, Tensor *gamma, Tensor *beta,
                     Tensor *running_mean, Tensor *running_var, float momentum, float eps);

/* ---- recurrent, over whole sequences (ops_lstm.c, ops_gru.c) ----------- */
/* One op runs one direction of one layer over every step, forward and, in
 * its backward rule, backpropagation through time. The cell equations and
 * their derivatives are in rnn_cell.h, the masking rule (Keras semantics)
 * and the packed schedule of valid steps in rnn_op.h.
 *
 * x [B, T, F]; w_ih [G*H, F], w_hh [G*H, H] (G = 4 gates i, f, g, o for
 * the LSTM, 3 gates r, z, n for the GRU, PyTorch's layouts); bias [2*G*H] =
 * concat(b_ih, b_hh) or NULL; mask [B, T] of 0/1 or NULL; reverse: walk
 * t = T-1 .. 0. Returns [B, T, H] (sequences) or the final state [B, H]. */
Tensor *op_lstm(Graph *g, Tensor *x, Tensor *w_ih, Tensor *w_hh, Tensor *bias,
                const Tensor *mask, bool reverse, bool sequences);
Tensor *op_gru(Graph *g, Tensor *x, Tensor *w_ih, Tensor *w_hh, Tensor *bias,
               const Tensor *mask, bool reverse, bool sequences);
/* Both directions of one bidirectional level as one op, direction d = 0
 * forward, 1 reverse, each with its own weights and biases:
 * [B, T, 2H] or [B, 2H], forward then reverse (the values of two
 * one-direction ops and a concat). */
Tensor *op_lstm_bidir(Graph *g, Tensor *x, Tensor *const w_ih[2], Tensor *const w_hh[2],
                      Tensor *const bias[2], const Tensor *mask, bool sequences);
Tensor *op_gru_bidir(Graph *g, Tensor *x, Tensor *const w_ih[2], Tensor *const w_hh[2],
                     Tensor *const bias[2], const Tensor *mask, bool sequences);
/* The masks of those ops (not ops: constants, no gradient), in `arena`
 * (NULL = heap, free with tensor_free); NULL on error.
 * Keras Masking(mask_value): 1 where any feature of x[b, t, :] (x is
 * [B, T, F]) differs from mask_value, else 0. (Keras's layer also zeroes
 * the masked steps of x; the ops never read them, so x can be passed on
 * as it is.) */
Tensor *rnn_mask_from_values(Arena *arena, const Tensor *x, float mask_value);
/* Right-padded sequences: mask[b, t] = t < lengths[b], lengths in 0..T. */
Tensor *rnn_mask_from_lengths(Arena *arena, const int *lengths, int B, int T);

/* The table of every op (OpId, OP_TABLE, op_find) is in op_table.h. */

#endif
