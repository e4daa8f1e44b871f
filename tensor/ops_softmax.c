/* Softmax, log-softmax and cross-entropy over the last axis (rows of C).
 *
 * Stability: subtract the row maximum m before exponentiating:
 *     softmax(x)_c = exp(x_c - m) / sum_k exp(x_k - m)
 *     log_softmax(x)_c = x_c - m - log sum_k exp(x_k - m)
 * Backward, with g = dL/dy and p = softmax(x):
 *     softmax:      dx_c = y_c (g_c - sum_k g_k y_k)
 *     log_softmax:  dx_c = g_c - p_c sum_k g_k
 *     cross-entropy of row i with label t and weight w_i / D:
 *                   dx_ic = (w_i / D) (p_ic - [c = t]) * dL
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tensor/error.h"
#include "tensor/op_table.h"
#include "tensor/ops.h"

/* Writes log_softmax of one row of C values into out. */
static void row_log_softmax(const float *x, int c, float *out)
{
    float m = x[0];
    for (int k = 1; k < c; k++) m = x[k] > m ? x[k] : m;
    double s = 0;
    for (int k = 0; k < c; k++) s += exp((double)x[k] - m);
    float lse = m + (float)log(s);
    for (int k = 0; k < c; k++) out[k] = x[k] - lse;
}

static int rows_cols(const Tensor *x, const char *who, size_t *rows, int *cols)
{
    if (x->ndim < 1 || x->shape[x->ndim - 1] == 0) {
        char s[64];
        return meld_errorf("%s: %s: needs a non-empty last axis", who, shape_str(x, s, sizeof s));
    }
    *cols = x->shape[x->ndim - 1];
    *rows = x->size / (size_t)*cols;
    return MELD_OK;
}

static void softmax_backward(Tensor *y)
{
    float *gx = tensor_grad(y->src[0]);
    if (!gx) return;
    size_t rows = 0;
    int c = 0;
    rows_cols(y, "softmax", &rows, &c);
    for (size_t r = 0; r < rows; r++) {
        const float *yr = y->data + r * c, *gr = y->grad + r * c;
        double dot = 0;
        for (int k = 0; k < c; k++) dot += (double)gr[k] * yr[k];
        for (int k = 0; k < c; k++) gx[r * c + k] += yr[k] * (gr[k] - (float)dot);
    }
}

const OpDef OPDEF_SOFTMAX = {"softmax", softmax_backward};

Tensor *op_softmax(Graph *g, Tensor *x)
{
    size_t rows = 0;
    int c = 0;
    if (!x || rows_cols(x, "softmax", &rows, &c)) return NULL;
    Tensor *y = graph_op_output(g, &OPDEF_SOFTMAX, x->ndim, x->shape, &x, 1);
    if (!y) return NULL;
    for (size_t r = 0; r < rows; r++) {
        float *yr = y->data + r * c;
        row_log_softmax(x->data + r * c, c, yr);
        for (int k = 0; k < c; k++) yr[k] = expf(yr[k]);
    }
    return y;
}

static void log_softmax_backward(Tensor *y)
{
    float *gx = tensor_grad(y->src[0]);
    if (!gx) return;
    size_t rows = 0;
    int c = 0;
    rows_cols(y, "log_softmax", &rows, &c);
    for (size_t r = 0; r < rows; r++) {
        const float *yr = y->data + r * c, *gr = y->grad + r * c;
        double gsum = 0;
        for (int k = 0; k < c; k++) gsum += gr[k];
        for (int k = 0; k < c; k++) gx[r * c + k] += gr[k] - expf(yr[k]) * (float)gsum;
    }
}

const OpDef OPDEF_LOG_SOFTMAX = {"log_softmax", log_softmax_backward};

Tensor *op_log_softmax(Graph *g, Tensor *x)
{
    size_t rows = 0;
    int c = 0;
    if (!x || rows_cols(x, "log_softmax", &rows, &c)) return NULL;
    Tensor *y = graph_op_output(g, &OPDEF_LOG_SOFTMAX, x->ndim, x->shape, &x, 1);
    if (!y) return NULL;
    for (size_t r = 0; r < rows; r++) row_log_softmax(x->data + r * c, c, y->data + r * c);
    return y;
}

/* saved[0] = softmax probabilities [N,C], saved[1] = labels (int[N]),
 * saved[2] = per-row weight s_i / D (float[N]). */
static void cross_entropy_backward(Tensor *y)
{
    Tensor *x = y->src[0];
    float *gx = tensor_grad(x);
    if (!gx) return;
    int n = x->shape[0], c = x->shape[1];
    const float *p = y->args.saved[0], *w = y->args.saved[2];
    const int *t = y->args.saved[1];
    float gl = y->grad[0];
    for (int i = 0; i < n; i++) {
        if (w[i] == 0.0f) continue;
        for (int k = 0; k < c; k++)
            gx[(size_t)i * c + k] += gl * w[i] * (p[(size_t)i * c + k] - (k == t[i] ? 1.0f : 0.0f));
    }
}

const OpDef OPDEF_CROSS_ENTROPY = {"cross_entropy", cross_entropy_backward};

Tensor *op_cross_entropy(Graph *g, Tensor *x, const int *labels, const float *class_weight, const float *mask)
{
    if (!x) return NULL;
    char s[64];
    if (x->ndim != 2 || x->shape[1] < 1) {
        meld_errorf("cross_entropy: logits %s: expected [N,C]", shape_str(x, s, sizeof s));
        return NULL;
    }
    int n = x->shape[0], c = x->shape[1];
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= c) {
            meld_errorf("cross_entropy: label %d of row %d outside 0..%d", labels[i], i, c - 1);
            return NULL;
        }
    Tensor *y = graph_op_output(g, &OPDEF_CROSS_ENTROPY, 0, NULL, &x, 1);
    float *p = graph_alloc(g, x->size * sizeof(float) + 1);
    int *t = graph_alloc(g, (size_t)n * sizeof(int) + 1);
    float *w = graph_alloc(g, (size_t)n * sizeof(float) + 1);
    if (!y || !p || !t || !w) return NULL;
    memcpy(t, labels, (size_t)n * sizeof(int));
    int nonzero = 0;
    for (int i = 0; i < n; i++) {
        w[i] = (mask ? mask[i] : 1.0f) * (class_weight ? class_weight[t[i]] : 1.0f);
        nonzero += w[i] != 0.0f;
    }
    double loss = 0;
    for (int i = 0; i < n; i++) {
        float *pr = p + (size_t)i * c;
        row_log_softmax(x->data + (size_t)i * c, c, pr);
        if (w[i] != 0.0f) loss -= (double)w[i] * pr[t[i]];
        for (int k = 0; k < c; k++) pr[k] = expf(pr[k]);
        w[i] = nonzero ? w[i] / (float)nonzero : 0.0f;
    }
    y->data[0] = nonzero ? (float)(loss / nonzero) : 0.0f;
    y->args.saved[0] = p, y->args.saved[1] = t, y->args.saved[2] = w;
    return y;
}
