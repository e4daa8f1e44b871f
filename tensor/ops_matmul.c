/* Matrix products, all through the one GEMM entry point (gemm.h).
 *
 * For C = A B (A [M,K], B [K,N]) the gradients are
 *     dA = dC B^T      [M,N] x [N,K]   (gemm N,T)
 *     dB = A^T dC      [K,M] x [M,N]   (gemm T,N)
 * and they are accumulated (beta = 1) because a tensor may feed several ops.
 */
#include <stdio.h>

#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/op_table.h"
#include "tensor/ops.h"

/* Problem layout saved in args.i: [0]=batch, [1]=M, [2]=K, [3]=N,
 * [4]=1 when B is shared by the batch. */
static int matmul_plan(const Tensor *a, const Tensor *b, int *batch, int *m, int *k, int *n, int *shared)
{
    char sa[64], sb[64];
    shape_str(a, sa, sizeof sa);
    shape_str(b, sb, sizeof sb);
    if (a->ndim == 2 && b->ndim == 2) {
        *batch = 1, *m = a->shape[0], *k = a->shape[1], *n = b->shape[1], *shared = 1;
        if (b->shape[0] != *k) return meld_errorf("matmul: %s x %s: inner dimensions differ", sa, sb);
        return MELD_OK;
    }
    if (a->ndim == 3 && (b->ndim == 2 || b->ndim == 3)) {
        *batch = a->shape[0], *m = a->shape[1], *k = a->shape[2];
        *shared = b->ndim == 2;
        int bk = b->shape[b->ndim - 2];
        *n = b->shape[b->ndim - 1];
        if (bk != *k) return meld_errorf("matmul: %s x %s: inner dimensions differ", sa, sb);
        if (!*shared && b->shape[0] != *batch) return meld_errorf("matmul: %s x %s: batch sizes differ", sa, sb);
        return MELD_OK;
    }
    return meld_errorf("matmul: %s x %s: expected [M,K]x[K,N], [B,M,K]x[B,K,N] or [B,M,K]x[K,N]", sa, sb);
}

static void matmul_backward(Tensor *y)
{
    Tensor *a = y->src[0], *b = y->src[1];
    int batch = y->args.i[0], m = y->args.i[1], k = y->args.i[2], n = y->args.i[3], shared = y->args.i[4];
    float *ga = tensor_grad(a), *gb = tensor_grad(b);
    if (shared) {
        /* Fold the batch into rows: [batch*M, K] x [K, N]. */
        int rows = batch * m;
        if (ga) gemm(GEMM_N, GEMM_T, rows, k, n, 1.0f, y->grad, n, b->data, n, 1.0f, ga, k);
        if (gb) gemm(GEMM_T, GEMM_N, k, n, rows, 1.0f, a->data, k, y->grad, n, 1.0f, gb, n);
        return;
    }
    for (int s = 0; s < batch; s++) {
        const float *as = a->data + (size_t)s * m * k, *bs = b->data + (size_t)s * k * n;
        const float *gy = y->grad + (size_t)s * m * n;
        if (ga) gemm(GEMM_N, GEMM_T, m, k, n, 1.0f, gy, n, bs, n, 1.0f, ga + (size_t)s * m * k, k);
        if (gb) gemm(GEMM_T, GEMM_N, k, n, m, 1.0f, as, k, gy, n, 1.0f, gb + (size_t)s * k * n, n);
    }
}

const OpDef OPDEF_MATMUL = {"matmul", matmul_backward};

Tensor *op_matmul(Graph *g, Tensor *a, Tensor *b)
{
    if (!a || !b) return NULL;
    int batch = 0, m = 0, k = 0, n = 0, shared = 0;
    if (matmul_plan(a, b, &batch, &m, &k, &n, &shared) != MELD_OK) return NULL;
    int shape[3] = {batch, m, n};
    Tensor *src[2] = {a, b};
    Tensor *y = a->ndim == 2 ? graph_op_output(g, &OPDEF_MATMUL, 2, shape + 1, src, 2)
                             : graph_op_output(g, &OPDEF_MATMUL, 3, shape, src, 2);
    if (!y) return NULL;
    int plan[5] = {batch, m, k, n, shared};
    for (int i = 0; i < 5; i++) y->args.i[i] = plan[i];
    if (shared) {
        gemm(GEMM_N, GEMM_N, batch * m, n, k, 1.0f, a->data, k, b->data, n, 0.0f, y->data, n);
    } else {
        for (int s = 0; s < batch; s++)
            gemm(GEMM_N, GEMM_N, m, n, k, 1.0f, a->data + (size_t)s * m * k, k,
                 b->data + (size_t)s * k * n, n, 0.0f, y->data + (size_t)s * m * n, n);
    }
    return y;
}

/* ---- linear: y = x W^T + b ---------------------------------------------
 * x is folded to R = (all leading dims) rows of `in` features.
 *     dx = dy W        [R,out] x [out,in]   (gemm N,N)
 *     dW = dy^T x      [out,R] x [R,in]     (gemm T,N)
 *     db = sum_rows dy
 * args.i[0] = R, [1] = in, [2] = out. */
static void linear_backward(Tensor *y)
{
    Tensor *x = y->src[0], *w = y->src[1], *b = y->nsrc > 2 ? y->src[2] : NULL;
    int rows = y->args.i[0], in = y->args.i[1], out = y->args.i[2];
    float *gx = tensor_grad(x), *gw = tensor_grad(w), *gb = b ? tensor_grad(b) : NULL;
    if (gx) gemm(GEMM_N, GEMM_N, rows, in, out, 1.0f, y->grad, out, w->data, in, 1.0f, gx, in);
    if (gw) gemm(GEMM_T, GEMM_N, out, in, rows, 1.0f, y->grad, out, x->data, in, 1.0f, gw, in);
    if (gb)
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < out; o++) gb[o] += y->grad[(size_t)r * out + o];
}

const OpDef OPDEF_LINEAR = {"linear", linear_backward};

Tensor *op_linear(Graph *g, Tensor *x, Tensor *w, Tensor *b)
{
    if (!x || !w) return NULL;
    char sx[64], sw[64], sb[64];
    if (x->ndim < 1 || w->ndim != 2 || x->shape[x->ndim - 1] != w->shape[1] ||
        (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))) {
        meld_errorf("linear: x %s, W %s, b %s: expected x [...,in], W [out,in], b [out]",
                    shape_str(x, sx, sizeof sx), shape_str(w, sw, sizeof sw),
                    b ? shape_str(b, sb, sizeof sb) : "none");
        return NULL;
    }
    int in = w->shape[1], out = w->shape[0];
    int shape[TENSOR_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) shape[d] = x->shape[d];
    shape[x->ndim - 1] = out;
    Tensor *src[3] = {x, w, b};
    Tensor *y = graph_op_output(g, &OPDEF_LINEAR, x->ndim, shape, src, b ? 3 : 2);
    if (!y) return NULL;
    int rows = in ? (int)(x->size / (size_t)in) : 0;
    if (!in) { /* no inputs: rows from the leading dims */
        rows = 1;
        for (int d = 0; d < x->ndim - 1; d++) rows *= x->shape[d];
    }
    y->args.i[0] = rows, y->args.i[1] = in, y->args.i[2] = out;
    gemm(GEMM_N, GEMM_T, rows, out, in, 1.0f, x->data, in, w->data, in, 0.0f, y->data, out);
    if (b)
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < out; o++) y->data[(size_t)r * out + o] += b->data[o];
    return y;
}
