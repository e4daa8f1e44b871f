/* Reductions over one axis (which disappears) or over all elements.
 * x is viewed as [outer, n, inner]; y as [outer, inner].
 *     sum:  dx[o,j,i] = dy[o,i]
 *     mean: dx[o,j,i] = dy[o,i] / n
 *     max:  dx[o,j,i] = dy[o,i] if j is the (first) argmax, else 0
 * args.i[0] = axis (-1 for all), args.saved[0] = argmax indices (max).
 *
 * masked_mean, the pooling of variable-length sequences: x [N, T, D], a
 * constant 0/1 mask m [N, T], count_n = sum_t m[n,t]:
 *     y[n,:]    = sum_t m[n,t] x[n,t,:] / count_n     (0 when count_n = 0)
 *     dx[n,t,:] = m[n,t] dy[n,:] / count_n
 * One pass each way over the valid rows (a mask multiply, a sum and a
 * divide would be three ops and six passes). saved[0] = a copy of m.
 */
#include <stdio.h>
#include <string.h>

#include "tensor/eltwise.h"
#include "tensor/error.h"
#include "tensor/op_table.h"
#include "tensor/ops.h"

typedef struct {
    size_t outer, n, inner;
} ReducePlan;

static ReducePlan plan_of(const Tensor *x, int axis)
{
    ReducePlan p = {1, x->size, 1};
    if (axis < 0) return p;
    p.n = (size_t)x->shape[axis];
    p.outer = 1;
    for (int d = 0; d < axis; d++) p.outer *= (size_t)x->shape[d];
    for (int d = axis + 1; d < x->ndim; d++) p.inner *= (size_t)x->shape[d];
    return p;
}

static Tensor *reduce_output(Graph *g, const OpDef *def, Tensor *x, int axis, int *resolved)
{
    if (!x) return NULL;
    int a = -1;
    if (axis != OP_ALL_AXES && axis_check(x, axis, &a, def->name)) return NULL;
    if (a >= 0 && x->shape[a] == 0 && def == &OPDEF_MAX) {
        meld_errorf("max: empty axis %d", a);
        return NULL;
    }
    int shape[TENSOR_MAX_DIMS], nd = 0;
    for (int d = 0; a >= 0 && d < x->ndim; d++)
        if (d != a) shape[nd++] = x->shape[d];
    Tensor *y = graph_op_output(g, def, nd, shape, &x, 1);
    if (y) y->args.i[0] = a;
    *resolved = a;
    return y;
}

static void sum_mean_backward(Tensor *y, float scale)
{
    Tensor *x = y->src[0];
    float *gx = tensor_grad(x);
    if (!gx) return;
    ReducePlan p = plan_of(x, y->args.i[0]);
    for (size_t o = 0; o < p.outer; o++)
        for (size_t j = 0; j < p.n; j++)
            for (size_t i = 0; i < p.inner; i++)
                gx[(o * p.n + j) * p.inner + i] += scale * y->grad[o * p.inner + i];
}

static void sum_backward(Tensor *y) { sum_mean_backward(y, 1.0f); }
static void mean_backward(Tensor *y)
{
    ReducePlan p = plan_of(y->src[0], y->args.i[0]);
    sum_mean_backward(y, p.n ? 1.0f / (float)p.n : 0.0f);
}

const OpDef OPDEF_SUM = {"sum", sum_backward};
const OpDef OPDEF_MEAN = {"mean", mean_backward};

static Tensor *sum_like(Graph *g, const OpDef *def, Tensor *x, int axis, int divide)
{
    int a;
    Tensor *y = reduce_output(g, def, x, axis, &a);
    if (!y) return NULL;
    ReducePlan p = plan_of(x, a);
    for (size_t o = 0; o < p.outer; o++)
        for (size_t i = 0; i < p.inner; i++) {
            double acc = 0;   /* double: sums of many floats stay exact enough */
            for (size_t j = 0; j < p.n; j++) acc += x->data[(o * p.n + j) * p.inner + i];
            y->data[o * p.inner + i] = (float)(divide && p.n ? acc / (double)p.n : acc);
        }
    return y;
}

Tensor *op_sum(Graph *g, Tensor *x, int axis) { return sum_like(g, &OPDEF_SUM, x, axis, 0); }
Tensor *op_mean(Graph *g, Tensor *x, int axis) { return sum_like(g, &OPDEF_MEAN, x, axis, 1); }

static void max_backward(Tensor *y)
{
    Tensor *x = y->src[0];
    float *gx = tensor_grad(x);
    if (!gx) return;
    ReducePlan p = plan_of(x, y->args.i[0]);
    const int *arg = y->args.saved[0];
    for (size_t o = 0; o < p.outer; o++)
        for (size_t i = 0; i < p.inner; i++)
            gx[(o * p.n + (size_t)arg[o * p.inner + i]) * p.inner + i] += y->grad[o * p.inner + i];
}

const OpDef OPDEF_MAX = {"max", max_backward};

Tensor *op_max(Graph *g, Tensor *x, int axis)
{
    int a;
    if (x && axis == OP_ALL_AXES && x->size == 0) {
        meld_errorf("max: empty tensor");
        return NULL;
    }
    Tensor *y = reduce_output(g, &OPDEF_MAX, x, axis, &a);
    if (!y) return NULL;
    ReducePlan p = plan_of(x, a);
    int *arg = graph_alloc(g, (y->size ? y->size : 1) * sizeof(int));
    if (!arg) return NULL;
    y->args.saved[0] = arg;
    for (size_t o = 0; o < p.outer; o++)
        for (size_t i = 0; i < p.inner; i++) {
            size_t best = 0;
            float v = x->data[o * p.n * p.inner + i];
            for (size_t j = 1; j < p.n; j++) {
                float c = x->data[(o * p.n + j) * p.inner + i];
                if (c > v) v = c, best = j;
            }
            y->data[o * p.inner + i] = v;
            arg[o * p.inner + i] = (int)best;
        }
    return y;
}

/* ---- masked mean over time ----------------------------------------------- */

static void masked_mean_backward(Tensor *y)
{
    Tensor *x = y->src[0];
    float *gx = tensor_grad(x);
    if (!gx) return;
    const float *m = y->args.saved[0];
    size_t N = (size_t)x->shape[0], T = (size_t)x->shape[1], D = (size_t)x->shape[2];
    for (size_t n = 0; n < N; n++) {
        float count = 0;
        for (size_t t = 0; t < T; t++) count += m[n * T + t];
        if (count == 0.0f) continue;
        for (size_t t = 0; t < T; t++)
            if (m[n * T + t] != 0.0f) eltwise_axpy(gx + (n * T + t) * D, 1.0f / count, y->grad + n * D, D);
    }
}

const OpDef OPDEF_MASKED_MEAN = {"masked_mean", masked_mean_backward};

Tensor *op_masked_mean(Graph *g, Tensor *x, const Tensor *mask)
{
    if (!x || !mask) return NULL;
    char sx[64], sm[64];
    if (x->ndim != 3 || mask->ndim != 2 || mask->shape[0] != x->shape[0] || mask->shape[1] != x->shape[1]) {
        meld_errorf("masked_mean: x %s, mask %s: expected x [N, T, D] and mask [N, T]",
                    shape_str(x, sx, sizeof sx), shape_str(mask, sm, sizeof sm));
        return NULL;
    }
    for (size_t i = 0; i < mask->size; i++)
        if (mask->data[i] != 0.0f && mask->data[i] != 1.0f) {
            meld_errorf("masked_mean: mask value %g at %zu, expected 0 or 1", mask->data[i], i);
            return NULL;
        }
    int shape[2] = {x->shape[0], x->shape[2]};
    Tensor *y = graph_op_output(g, &OPDEF_MASKED_MEAN, 2, shape, &x, 1);   /* zeros */
    if (!y) return NULL;
    size_t N = (size_t)x->shape[0], T = (size_t)x->shape[1], D = (size_t)x->shape[2];
    for (size_t n = 0; n < N; n++) {
        float count = 0, *yn = y->data + n * D;
        for (size_t t = 0; t < T; t++)
            if (mask->data[n * T + t] != 0.0f) {
                eltwise_add(yn, x->data + (n * T + t) * D, D);
                count += 1.0f;
            }
        if (count > 0.0f) eltwise_scale_shift(yn, 1.0f / count, 0.0f, yn, D);
    }
    float *m = graph_alloc(g, mask->size * sizeof(float) + 1);
    if (!m) return NULL;
    memcpy(m, mask->data, mask->size * sizeof(float));
    y->args.saved[0] = m;
    return y;
}
