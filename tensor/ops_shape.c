/* Shape and data movement. Outputs are copies (contiguous row-major), so
 * every tensor has one simple layout. The backward of a data movement is
 * the inverse movement of the gradient:
 *     reshape  -> the gradient reshaped back (same element order)
 *     permute  -> permute by the inverse permutation
 *     slice    -> the gradient added into the sliced window
 *     concat   -> the gradient cut back into the inputs' pieces
 */
#include <stdio.h>
#include <string.h>

#include "tensor/error.h"
#include "tensor/op_table.h"
#include "tensor/ops.h"

static void reshape_backward(Tensor *y)
{
    float *gx = tensor_grad(y->src[0]);
    if (!gx) return;
    for (size_t i = 0; i < y->size; i++) gx[i] += y->grad[i];
}

const OpDef OPDEF_RESHAPE = {"reshape", reshape_backward};

Tensor *op_reshape(Graph *g, Tensor *x, int ndim, const int *shape)
{
    if (!x) return NULL;
    if (ndim < 0 || ndim > TENSOR_MAX_DIMS) {
        meld_errorf("reshape: rank %d outside 0..%d", ndim, TENSOR_MAX_DIMS);
        return NULL;
    }
    int s[TENSOR_MAX_DIMS], infer = -1;
    size_t known = 1;
    for (int d = 0; d < ndim; d++) {
        s[d] = shape[d];
        if (s[d] == -1 && infer < 0) infer = d;
        else if (s[d] < 0) { meld_errorf("reshape: bad dimension %d", s[d]); return NULL; }
        else known *= (size_t)s[d];
    }
    if (infer >= 0) s[infer] = known ? (int)(x->size / known) : 0;
    size_t total = 1;
    for (int d = 0; d < ndim; d++) total *= (size_t)s[d];
    if (total != x->size) {
        char sx[64];
        meld_errorf("reshape: %s has %zu elements, the new shape has %zu",
                    shape_str(x, sx, sizeof sx), x->size, total);
        return NULL;
    }
    Tensor *y = graph_op_output(g, &OPDEF_RESHAPE, ndim, s, &x, 1);
    if (y) memcpy(y->data, x->data, x->size * sizeof(float));
    return y;
}

/* args.i[0..ndim) = perm */
static void permute_backward(Tensor *y)
{
    Tensor *x = y->src[0];
    float *gx = tensor_grad(x);
    if (!gx) return;
    /* dL/dx = permute(dL/dy, inverse perm); accumulate through a temporary. */
    int inv[TENSOR_MAX_DIMS];
    for (int d = 0; d < y->ndim; d++) inv[y->args.i[d]] = d;
    Tensor gy = *y, tmp = *x;
    gy.data = y->grad;
    tmp.data = graph_alloc(y->graph, x->size * sizeof(float));
    if (!tmp.data) {
        graph_backward_fail(y->graph);
        return;
    }
    tensor_permute_into(&gy, inv, &tmp);
    for (size_t i = 0; i < x->size; i++) gx[i] += tmp.data[i];
}

const OpDef OPDEF_PERMUTE = {"permute", permute_backward};

Tensor *op_permute(Graph *g, Tensor *x, const int *perm)
{
    if (!x) return NULL;
    int seen[TENSOR_MAX_DIMS] = {0}, shape[TENSOR_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) {
        if (perm[d] < 0 || perm[d] >= x->ndim || seen[perm[d]]++) {
            meld_errorf("permute: not a permutation of %d axes", x->ndim);
            return NULL;
        }
        shape[d] = x->shape[perm[d]];
    }
    Tensor *y = graph_op_output(g, &OPDEF_PERMUTE, x->ndim, shape, &x, 1);
    if (!y) return NULL;
    for (int d = 0; d < x->ndim; d++) y->args.i[d] = perm[d];
    tensor_permute_into(x, perm, y);
    return y;
}

Tensor *op_transpose(Graph *g, Tensor *x, int axis0, int axis1)
{
    if (!x) return NULL;
    int a0, a1, perm[TENSOR_MAX_DIMS];
    if (axis_check(x, axis0, &a0, "transpose") || axis_check(x, axis1, &a1, "transpose")) return NULL;
    for (int d = 0; d < x->ndim; d++) perm[d] = d;
    perm[a0] = a1;
    perm[a1] = a0;
    return op_permute(g, x, perm);
}

/* Views x as [outer, n, inner] around `axis`. */
static void split_axis(const Tensor *x, int axis, size_t *outer, size_t *inner)
{
    *outer = 1, *inner = 1;
    for (int d = 0; d < axis; d++) *outer *= (size_t)x->shape[d];
    for (int d = axis + 1; d < x->ndim; d++) *inner *= (size_t)x->shape[d];
}

/* args.i[0] = axis, [1] = start */
static void slice_backward(Tensor *y)
{
    Tensor *x = y->src[0];
    float *gx = tensor_grad(x);
    if (!gx) return;
    int axis = y->args.i[0], start = y->args.i[1], len = y->shape[axis];
    size_t outer, inner, n = (size_t)x->shape[axis];
    split_axis(x, axis, &outer, &inner);
    for (size_t o = 0; o < outer; o++) {
        float *dst = gx + (o * n + (size_t)start) * inner;
        const float *src = y->grad + o * (size_t)len * inner;
        for (size_t i = 0; i < (size_t)len * inner; i++) dst[i] += src[i];
    }
}

const OpDef OPDEF_SLICE = {"slice", slice_backward};

Tensor *op_slice(Graph *g, Tensor *x, int axis, int start, int len)
{
    if (!x) return NULL;
    int a;
    if (axis_check(x, axis, &a, "slice")) return NULL;
    if (start < 0 || len < 0 || start > x->shape[a] - len) {
        char sx[64];
        meld_errorf("slice: [%d, %d) outside axis %d of %s", start, start + len, a, shape_str(x, sx, sizeof sx));
        return NULL;
    }
    int shape[TENSOR_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[a] = len;
    Tensor *y = graph_op_output(g, &OPDEF_SLICE, x->ndim, shape, &x, 1);
    if (!y) return NULL;
    y->args.i[0] = a, y->args.i[1] = start;
    tensor_slice_into(x, a, start, len, y);
    return y;
}

/* args.i[0] = axis */
static void concat_backward(Tensor *y)
{
    int axis = y->args.i[0];
    size_t outer, inner, n = (size_t)y->shape[axis], offset = 0;
    split_axis(y, axis, &outer, &inner);
    for (int s = 0; s < y->nsrc; s++) {
        Tensor *x = y->src[s];
        size_t len = (size_t)x->shape[axis];
        float *gx = tensor_grad(x);
        if (gx)
            for (size_t o = 0; o < outer; o++) {
                const float *src = y->grad + (o * n + offset) * inner;
                float *dst = gx + o * len * inner;
                for (size_t i = 0; i < len * inner; i++) dst[i] += src[i];
            }
        offset += len;
    }
}

const OpDef OPDEF_CONCAT = {"concat", concat_backward};

Tensor *op_concat(Graph *g, Tensor *const *xs, int n, int axis)
{
    if (n < 1 || n > TENSOR_MAX_SRC) {
        meld_errorf("concat: %d inputs, expected 1..%d", n, TENSOR_MAX_SRC);
        return NULL;
    }
    for (int s = 0; s < n; s++)
        if (!xs[s]) return NULL;
    int a;
    if (axis_check(xs[0], axis, &a, "concat")) return NULL;
    int shape[TENSOR_MAX_DIMS];
    memcpy(shape, xs[0]->shape, sizeof shape);
    shape[a] = 0;
    for (int s = 0; s < n; s++) {
        bool ok = xs[s]->ndim == xs[0]->ndim;
        for (int d = 0; ok && d < xs[0]->ndim; d++) ok = d == a || xs[s]->shape[d] == xs[0]->shape[d];
        if (!ok) {
            char s0[64], s1[64];
            meld_errorf("concat: %s and %s differ outside axis %d", shape_str(xs[0], s0, sizeof s0),
                        shape_str(xs[s], s1, sizeof s1), a);
            return NULL;
        }
        shape[a] += xs[s]->shape[a];
    }
    Tensor *y = graph_op_output(g, &OPDEF_CONCAT, xs[0]->ndim, shape, xs, n);
    if (!y) return NULL;
    y->args.i[0] = a;
    size_t outer, inner, total = (size_t)shape[a], offset = 0;
    split_axis(y, a, &outer, &inner);
    for (int s = 0; s < n; s++) {
        size_t len = (size_t)xs[s]->shape[a];
        for (size_t o = 0; o < outer; o++)
            memcpy(y->data + (o * total + offset) * inner, xs[s]->data + o * len * inner, len * inner * sizeof(float));
        offset += len;
    }
    return y;
}

/* ---- gather_rows: y[i] = x[index[i]] (a zero row where index[i] < 0) ----
 * Rows are the first axis; x [N, ...] -> y [m, ...]. Used to place the
 * encodings of a batch's real utterances into a padded dialogue grid.
 * Backward scatters: dx[index[i]] += dy[i]. saved[0] = the index copy. */
static void gather_rows_backward(Tensor *y)
{
    Tensor *x = y->src[0];
    float *gx = tensor_grad(x);
    if (!gx) return;
    const int *index = y->args.saved[0];
    size_t row = x->shape[0] ? x->size / (size_t)x->shape[0] : 0;
    for (int i = 0; i < y->shape[0]; i++) {
        if (index[i] < 0) continue;
        float *dst = gx + (size_t)index[i] * row;
        const float *src = y->grad + (size_t)i * row;
        for (size_t k = 0; k < row; k++) dst[k] += src[k];
    }
}

const OpDef OPDEF_GATHER_ROWS = {"gather_rows", gather_rows_backward};

Tensor *op_gather_rows(Graph *g, Tensor *x, const int *index, int m)
{
    if (!x) return NULL;
    if (x->ndim < 1 || m < 0) {
        meld_errorf("gather_rows: needs a tensor with a row axis and m >= 0");
        return NULL;
    }
    for (int i = 0; i < m; i++)
        if (index[i] >= x->shape[0]) {
            char s[64];
            meld_errorf("gather_rows: index %d outside the %d rows of %s", index[i], x->shape[0], shape_str(x, s, sizeof s));
            return NULL;
        }
    int shape[TENSOR_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[0] = m;
    Tensor *y = graph_op_output(g, &OPDEF_GATHER_ROWS, x->ndim, shape, &x, 1);
    int *saved = graph_alloc(g, sizeof(int) * (size_t)(m ? m : 1));
    if (!y || !saved) return NULL;
    memcpy(saved, index, sizeof(int) * (size_t)m);
    y->args.saved[0] = saved;
    size_t row = x->shape[0] ? x->size / (size_t)x->shape[0] : 0;
    for (int i = 0; i < m; i++)
        if (index[i] >= 0) memcpy(y->data + (size_t)i * row, x->data + (size_t)index[i] * row, row * sizeof(float));
    return y;
}
