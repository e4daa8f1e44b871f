/* The differentiable operations. Each op is one function here plus one
 * OpDef (name + backward rule) in the file that implements it; op_table.c
 * lists every OpDef in one table, so the whole op set reads on one screen.
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

/* ---- the table (op_table.c) -------------------------------------------- */
extern const OpDef *const OP_TABLE[];
extern const int OP_TABLE_COUNT;
/* The OpDef with this name, or NULL. */
const OpDef *op_find(const char *name);

#endif
