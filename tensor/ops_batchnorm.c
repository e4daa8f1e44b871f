/* Batch normalisation (Ioffe & Szegedy 2015), as torch.nn.BatchNorm1d/2d.
 *
 * x is viewed as [N, C, S]: channel c is normalised over the m = N*S values
 * x[n,c,s] (S = product of the axes after the channel axis, 1 for [N, C]).
 *
 * Forward, per channel (mu, var over the batch in training; the running
 * estimates in eval):
 *     inv   = 1 / sqrt(var + eps)
 *     xhat  = (x - mu) * inv
 *     y     = gamma * xhat + beta
 * var is the biased variance (divide by m), as used for normalising; the
 * running variance is fed the unbiased one, var * m / (m - 1), as torch:
 *     running_mean = (1 - momentum) * running_mean + momentum * mu
 *     running_var  = (1 - momentum) * running_var  + momentum * var * m/(m-1)
 * Sums: 16-lane float partial sums per row, rows accumulated in double.
 *
 * Backward. dbeta = sum dy, dgamma = sum dy * xhat (sums over n, s).
 * In eval mu and var are constants, so dx = dy * gamma * inv.
 * In training mu and var depend on every x of the channel. Let g = gamma * dy
 * (the gradient w.r.t. xhat) and mean() run over the channel's m values.
 * From dmu/dx_j = 1/m and dvar/dx_j = 2 (x_j - mu) / m,
 *     dinv/dx_j   = -inv^3 (x_j - mu) / m = -inv^2 xhat_j / m
 *     dxhat_i/dx_j = inv (delta_ij - 1/m) - inv xhat_i xhat_j / m
 * and summing g_i dxhat_i/dx_j over i:
 *     dx_j = inv * (g_j - mean(g) - xhat_j * mean(g * xhat)).
 * The running statistics are not differentiated (torch neither).
 *
 * Saved: saved[0] = xhat [N*C*S], saved[1] = inv [C];
 * args.i[0] = 1 if batch statistics were used, [1] = C, [2] = S.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>

#include "tensor/eltwise.h"
#include "tensor/error.h"
#include "tensor/op_table.h"
#include "tensor/ops.h"
#include "tensor/threadpool.h"

/* Index of x[n, c, s] in the [N, C, S] view. */
#define BN_AT(n, c, s) (((size_t)(n) * C + (size_t)(c)) * S + (size_t)(s))

/* Channels are independent, so each is one task on the thread pool (when
 * the tensor is big enough to pay for waking a worker). Within a channel
 * every sum runs in a fixed order: the result is the same for any thread
 * count. */
enum { BN_PARALLEL_MIN = 1 << 16 };

typedef struct {
    size_t N, C, S;
    double momentum, eps;
    int batch_stats, update_running;
    bool assign_gx;   /* backward: first writer of dL/dx, store instead of add */
    const float *x, *dy, *gamma, *beta;
    float *y, *xhat, *inv, *gx, *gg, *gb, *running_mean, *running_var;
} BnJob;

static void bn_run(BnJob *j, ThreadpoolFn fn)
{
    int big = j->N * j->C * j->S >= BN_PARALLEL_MIN;
    threadpool_parallel_for_n((int)j->C, big ? threadpool_threads() : 1, fn, j);
}

/* sum_i a[i] and sum_i a[i] * b[i] (b may be NULL) over channel c's N rows
 * of S values: each row summed by the 16-lane float kernels, the rows
 * accumulated in double (m = N*S reaches 32K for a conv feature map). */
static void channel_sums(const BnJob *j, const float *a, const float *b, size_t c, double *sa, double *sab)
{
    const size_t C = j->C, S = j->S;
    double ta = 0, tab = 0;
    for (size_t n = 0; n < j->N; n++) {
        const float *ar = a + BN_AT(n, c, 0);
        ta += eltwise_sum(ar, S);
        if (b) tab += eltwise_dot(ar, b + BN_AT(n, c, 0), S);
    }
    *sa = ta;
    *sab = tab;
}

/* gx += k * (dy - mean(dy) - xhat * mean(dy * xhat)), as three vector passes:
 * gx += k dy (gx = k dy for its first writer); gx += (-k mean(dy xhat))
 * xhat; gx += -k mean(dy). */
static void backward_channel(void *ctx, int ci, int thread)
{
    (void)thread;
    const BnJob *j = ctx;
    const size_t C = j->C, S = j->S, c = (size_t)ci, m = j->N * S;
    double sum_dy, sum_dy_xhat;
    channel_sums(j, j->dy, j->xhat, c, &sum_dy, &sum_dy_xhat);
    if (j->gg) j->gg[c] += (float)sum_dy_xhat;
    if (j->gb) j->gb[c] += (float)sum_dy;
    if (!j->gx) return;
    float k = (j->gamma ? j->gamma[c] : 1.0f) * j->inv[c];
    float mean_dy = j->batch_stats ? (float)(sum_dy / (double)m) : 0.0f;
    float mean_dy_xhat = j->batch_stats ? (float)(sum_dy_xhat / (double)m) : 0.0f;
    for (size_t n = 0; n < j->N; n++) {
        float *gx = j->gx + BN_AT(n, c, 0);
        if (j->assign_gx) eltwise_scale_shift(j->dy + BN_AT(n, c, 0), k, 0.0f, gx, S);
        else eltwise_axpy(gx, k, j->dy + BN_AT(n, c, 0), S);
        if (!j->batch_stats) continue;
        eltwise_axpy(gx, -k * mean_dy_xhat, j->xhat + BN_AT(n, c, 0), S);
        eltwise_add_const(gx, -k * mean_dy, S);
    }
}

static void batchnorm_backward(Tensor *y)
{
    Tensor *x = y->src[0];
    Tensor *gamma = y->nsrc > 1 ? y->src[1] : NULL, *beta = y->nsrc > 2 ? y->src[2] : NULL;
    BnJob j = {.N = (size_t)x->shape[0], .C = (size_t)y->args.i[1], .S = (size_t)y->args.i[2],
               .batch_stats = y->args.i[0], .dy = y->grad, .gamma = gamma ? gamma->data : NULL,
               .xhat = y->args.saved[0], .inv = y->args.saved[1],
               .gg = gamma ? tensor_grad(gamma) : NULL, .gb = beta ? tensor_grad(beta) : NULL};
    j.gx = tensor_grad_assign(x, &j.assign_gx);
    bn_run(&j, backward_channel);
}

const OpDef OPDEF_BATCHNORM = {"batchnorm", batchnorm_backward};

static int check_vec(const Tensor *t, int C, const char *what)
{
    if (!t || (t->ndim == 1 && t->shape[0] == C)) return MELD_OK;
    char s[64];
    return meld_errorf("batchnorm: %s has shape %s, expected [%d]", what, shape_str(t, s, sizeof s), C);
}

/* Channel c: batch mean and biased variance (two passes) or the
 * running estimates; inv; xhat and y; the running statistics. */
static void forward_channel(void *ctx, int ci, int thread)
{
    (void)thread;
    BnJob *j = ctx;
    const size_t C = j->C, S = j->S, c = (size_t)ci, m = j->N * S;
    double mu, var;
    if (j->batch_stats) {
        double sum, unused;
        channel_sums(j, j->x, NULL, c, &sum, &unused);
        mu = sum / (double)m;
    } else {
        mu = j->running_mean[c];
    }
    /* xhat = x - mu first; in training var = mean(xhat^2) (the two-pass
     * variance, no cancellation); then xhat *= inv and y = gamma xhat + beta. */
    float muf = (float)mu;
    for (size_t n = 0; n < j->N; n++)
        eltwise_scale_shift(j->x + BN_AT(n, c, 0), 1.0f, -muf, j->xhat + BN_AT(n, c, 0), S);
    if (j->batch_stats) {
        double sq = 0;
        for (size_t n = 0; n < j->N; n++) {
            const float *xh = j->xhat + BN_AT(n, c, 0);
            sq += eltwise_dot(xh, xh, S);
        }
        var = sq / (double)m;
    } else {
        var = j->running_var[c];
    }
    float ic = (float)(1.0 / sqrt(var + j->eps));
    j->inv[c] = ic;
    float ga = j->gamma ? j->gamma[c] : 1.0f, be = j->beta ? j->beta[c] : 0.0f;
    for (size_t n = 0; n < j->N; n++) {
        float *xh = j->xhat + BN_AT(n, c, 0);
        eltwise_scale_shift(xh, ic, 0.0f, xh, S);
        eltwise_scale_shift(xh, ga, be, j->y + BN_AT(n, c, 0), S);
    }
    if (j->update_running) {
        double unbiased = var * (double)m / (double)(m - 1), mo = j->momentum;
        j->running_mean[c] = (float)((1.0 - mo) * j->running_mean[c] + mo * mu);
        j->running_var[c] = (float)((1.0 - mo) * j->running_var[c] + mo * unbiased);
    }
}

Tensor *op_batchnorm(Graph *g, Tensor *x, Tensor *gamma, Tensor *beta,
                     Tensor *running_mean, Tensor *running_var, float momentum, float eps)
{
    if (!x) return NULL;
    char sx[64];
    if (x->ndim < 2) {
        meld_errorf("batchnorm: x %s: expected [N, C, ...]", shape_str(x, sx, sizeof sx));
        return NULL;
    }
    int Ci = x->shape[1];
    if (check_vec(gamma, Ci, "weight") || check_vec(beta, Ci, "bias") ||
        check_vec(running_mean, Ci, "running_mean") || check_vec(running_var, Ci, "running_var"))
        return NULL;
    if (beta && !gamma) {
        meld_errorf("batchnorm: bias without weight is not supported (pass both or neither)");
        return NULL;
    }
    if (!running_mean != !running_var) {
        meld_errorf("batchnorm: running_mean and running_var must both be given or both NULL");
        return NULL;
    }
    if (!(eps > 0.0f) || !(momentum >= 0.0f && momentum <= 1.0f)) {
        meld_errorf("batchnorm: eps %g must be > 0 and momentum %g in [0, 1]", eps, momentum);
        return NULL;
    }
    size_t N = (size_t)x->shape[0], C = (size_t)Ci, S = 1;
    for (int d = 2; d < x->ndim; d++) S *= (size_t)x->shape[d];
    size_t m = N * S;
    int batch_stats = g->training || !running_mean;
    if (batch_stats && m <= 1) {
        meld_errorf("batchnorm: x %s: expected more than 1 value per channel when training",
                    shape_str(x, sx, sizeof sx));
        return NULL;
    }
    if (S > INT_MAX) {
        meld_errorf("batchnorm: x %s: too many positions per channel", shape_str(x, sx, sizeof sx));
        return NULL;
    }
    /* Sources: x, then gamma and beta when present. */
    Tensor *src[3] = {x, gamma, beta};
    int nsrc = beta ? 3 : gamma ? 2 : 1;
    Tensor *y = graph_op_output_uninit(g, &OPDEF_BATCHNORM, x->ndim, x->shape, src, nsrc);
    if (!y) return NULL;
    float *xhat = graph_alloc(g, x->size * sizeof(float) + 1);
    float *inv = graph_alloc(g, C * sizeof(float) + 1);
    if (!xhat || !inv) return NULL;
    BnJob j = {.N = N, .C = C, .S = S, .momentum = momentum, .eps = eps, .batch_stats = batch_stats,
               .update_running = batch_stats && g->training && running_mean, .x = x->data,
               .gamma = gamma ? gamma->data : NULL, .beta = beta ? beta->data : NULL, .y = y->data,
               .xhat = xhat, .inv = inv, .running_mean = running_mean ? running_mean->data : NULL,
               .running_var = running_var ? running_var->data : NULL};
    bn_run(&j, forward_channel);
    y->args.saved[0] = xhat;
    y->args.saved[1] = inv;
    y->args.i[0] = batch_stats;
    y->args.i[1] = (int)C;
    y->args.i[2] = (int)S;
    return y;
}
