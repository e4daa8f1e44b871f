/* Masks, the schedule of valid steps, the whole-sequence op bookkeeping and
 * the one- and two-direction ops over a cell kind (see rnn_op.h). */
#include "tensor/rnn_op.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "tensor/eltwise.h"
#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/ops.h"
#include "tensor/threadpool.h"

/* ---- masks ------------------------------------------------------------- */

Tensor *rnn_mask_from_values(Arena *arena, const Tensor *x, float mask_value)
{
    char sx[64];
    if (x->ndim != 3) {
        meld_errorf("masking: input %s, expected [B, T, F]", shape_str(x, sx, sizeof sx));
        return NULL;
    }
    int B = x->shape[0], T = x->shape[1], F = x->shape[2];
    Tensor *m = tensor_new(arena, 2, (int[]){B, T});
    if (!m) return NULL;
    /* Keras: mask = any(x != mask_value, axis=-1). */
    for (size_t bt = 0; bt < (size_t)B * T; bt++) {
        const float *v = x->data + bt * F;
        bool any = false;
        for (int f = 0; f < F && !any; f++) any = v[f] != mask_value;
        m->data[bt] = any ? 1.0f : 0.0f;
    }
    return m;
}

Tensor *rnn_mask_from_lengths(Arena *arena, const int *lengths, int B, int T)
{
    if (B < 0 || T < 0) {
        meld_errorf("mask from lengths: negative size B=%d T=%d", B, T);
        return NULL;
    }
    for (int b = 0; b < B; b++)
        if (lengths[b] < 0 || lengths[b] > T) {
            meld_errorf("mask from lengths: length %d of sequence %d outside 0..%d", lengths[b], b, T);
            return NULL;
        }
    Tensor *m = tensor_new(arena, 2, (int[]){B, T});
    if (!m) return NULL;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < lengths[b]; t++) m->data[(size_t)b * T + t] = 1.0f;
    return m;
}

/* ---- argument checks ----------------------------------------------------- */

static int check_mask(const char *op, const Tensor *x, const Tensor *mask)
{
    char sm[64], sx[64];
    int B = x->shape[0], T = x->shape[1];
    if (mask->ndim != 2 || mask->shape[0] != B || mask->shape[1] != T)
        return meld_errorf("%s: mask %s does not match input %s (expected [B, T])", op,
                           shape_str(mask, sm, sizeof sm), shape_str(x, sx, sizeof sx));
    for (size_t i = 0; i < mask->size; i++)
        if (mask->data[i] != 0.0f && mask->data[i] != 1.0f)
            return meld_errorf("%s: mask[%zu, %zu] = %g, expected 0 or 1", op, i / (size_t)T,
                               i % (size_t)T, mask->data[i]);
    return MELD_OK;
}

int rnn_check_args(const char *op, int G, const Tensor *x, const Tensor *w_ih,
                   const Tensor *w_hh, const Tensor *bias, const Tensor *mask, int *H)
{
    char sx[64], si[64], sh[64], sb[64];
    bool ok = x->ndim == 3 && w_ih->ndim == 2 && w_hh->ndim == 2;
    int h = ok ? w_hh->shape[1] : 0;
    ok = ok && h > 0 && w_hh->shape[0] == G * h && w_ih->shape[0] == G * h &&
         w_ih->shape[1] == x->shape[2] && (!bias || (bias->ndim == 1 && bias->shape[0] == 2 * G * h));
    if (!ok)
        return meld_errorf("%s: x %s, W_ih %s, W_hh %s, bias %s: expected x [B, T, F], "
                           "W_ih [%d*H, F], W_hh [%d*H, H], bias [2*%d*H]",
                           op, shape_str(x, sx, sizeof sx), shape_str(w_ih, si, sizeof si),
                           shape_str(w_hh, sh, sizeof sh), bias ? shape_str(bias, sb, sizeof sb) : "none",
                           G, G, G);
    /* Compact row indices and GEMM sizes are ints. */
    if ((size_t)x->shape[0] * (size_t)x->shape[1] > INT_MAX)
        return meld_errorf("%s: input %s has more than %d steps", op, shape_str(x, sx, sizeof sx), INT_MAX);
    if (mask && check_mask(op, x, mask)) return MELD_ERR;
    *H = h;
    return MELD_OK;
}

/* ---- the schedule and the shared buffers -------------------------------- */

float *rnn_alloc(Graph *g, size_t rows, size_t width)
{
    if (width && rows > SIZE_MAX / sizeof(float) / width) {
        meld_errorf("rnn: buffer of %zu x %zu floats is too large", rows, width);
        return NULL;
    }
    return graph_alloc(g, rows * width * sizeof(float));
}

static bool step_valid(const Tensor *mask, int T, int b, int t)
{
    return !mask || mask->data[(size_t)b * T + t] != 0.0f;
}

/* Groups the valid (b, t) by time; within a time, in increasing b. */
static int schedule_build(Graph *g, const Tensor *mask, int B, int T, RnnSchedule *s)
{
    s->B = B, s->T = T;
    s->off = graph_alloc(g, sizeof(int) * ((size_t)T + 1));
    if (!s->off) return MELD_ERR;
    int n = 0;
    for (int t = 0; t < T; t++) {
        s->off[t] = n;
        for (int b = 0; b < B; b++) n += step_valid(mask, T, b, t);
    }
    s->off[T] = s->N = n;
    s->rows = graph_alloc(g, sizeof(int) * (size_t)n);
    if (!s->rows) return MELD_ERR;
    for (int t = 0, i = 0; t < T; t++)
        for (int b = 0; b < B; b++)
            if (step_valid(mask, T, b, t)) s->rows[i++] = b;
    return MELD_OK;
}

int rnn_run_init(Graph *g, RnnRun *run, const Tensor *x, const Tensor *mask,
                 int H, int G, bool reverse, bool sequences, bool grad, bool grad_x)
{
    memset(run, 0, sizeof *run);
    int B = x->shape[0], T = x->shape[1], F = x->shape[2];
    run->F = F, run->H = H, run->G = G;
    run->reverse = reverse, run->sequences = sequences;
    run->y_stride = H, run->y_offset = 0;
    if (schedule_build(g, mask, B, T, &run->s)) return MELD_ERR;
    size_t N = (size_t)run->s.N;
    run->xc = rnn_alloc(g, N, F);
    run->hprev = rnn_alloc(g, N, H);
    run->state = rnn_alloc(g, B, H);
    run->step = rnn_alloc(g, B, H);
    run->w_hh_t = rnn_alloc(g, (size_t)H, (size_t)G * H);
    run->bias_sum = rnn_alloc(g, 1, (size_t)G * H);
    if (!run->xc || !run->hprev || !run->state || !run->step || !run->w_hh_t || !run->bias_sum)
        return MELD_ERR;
    if (grad && grad_x && !(run->dxc = rnn_alloc(g, N, F))) return MELD_ERR;
    memset(run->state, 0, sizeof(float) * (size_t)B * H);   /* h_0 = 0 */
    /* x [B, T, F]: row (b, t) is b*T + t. */
    for (int t = 0; t < T; t++)
        for (int i = run->s.off[t]; i < run->s.off[t + 1]; i++)
            memcpy(run->xc + (size_t)i * F, x->data + ((size_t)run->s.rows[i] * T + t) * F,
                   sizeof(float) * (size_t)F);
    return MELD_OK;
}

void rnn_transpose_recurrent(RnnRun *run, const Tensor *w_hh)
{
    /* 32 x 32 tiles: both the rows read and the rows written stay in L1. */
    enum { TILE = 32 };
    const int H = run->H, GH = run->G * run->H;
    const float *w = w_hh->data;
    for (int r0 = 0; r0 < GH; r0 += TILE)
        for (int c0 = 0; c0 < H; c0 += TILE)
            for (int r = r0; r < r0 + TILE && r < GH; r++)
                for (int c = c0; c < c0 + TILE && c < H; c++)
                    run->w_hh_t[(size_t)c * GH + r] = w[(size_t)r * H + c];
}

void rnn_gather(const float *src, const int *rows, int n, int width, float *dst)
{
    if (rnn_rows_prefix(rows, n)) {
        memcpy(dst, src, sizeof(float) * (size_t)n * (size_t)width);
        return;
    }
    for (int i = 0; i < n; i++)
        memcpy(dst + (size_t)i * width, src + (size_t)rows[i] * width, sizeof(float) * (size_t)width);
}

void rnn_scatter(const float *src, const int *rows, int n, int width, float *dst)
{
    if (rnn_rows_prefix(rows, n)) {
        memcpy(dst, src, sizeof(float) * (size_t)n * (size_t)width);
        return;
    }
    for (int i = 0; i < n; i++)
        memcpy(dst + (size_t)rows[i] * width, src + (size_t)i * width, sizeof(float) * (size_t)width);
}

void rnn_emit(const RnnRun *run, int k, float *y)
{
    int B = run->s.B, T = run->s.T, H = run->H;
    size_t ys = (size_t)run->y_stride;
    y += run->y_offset;
    if (!run->sequences) {
        if (k == T - 1)
            for (int b = 0; b < B; b++)
                memcpy(y + (size_t)b * ys, run->state + (size_t)b * H, sizeof(float) * (size_t)H);
        return;
    }
    int t = rnn_time(run, k);
    for (int b = 0; b < B; b++)
        memcpy(y + ((size_t)b * T + t) * ys, run->state + (size_t)b * H, sizeof(float) * (size_t)H);
}

void rnn_backward_start(const RnnRun *run, const float *dy)
{
    int B = run->s.B, H = run->H;
    if (run->sequences) {
        memset(run->state, 0, sizeof(float) * (size_t)B * H);
        return;
    }
    for (int b = 0; b < B; b++)
        memcpy(run->state + (size_t)b * H, dy + (size_t)b * run->y_stride + run->y_offset,
               sizeof(float) * (size_t)H);
}

void rnn_collect(const RnnRun *run, int t, const float *dy)
{
    if (!run->sequences) return;
    int B = run->s.B, T = run->s.T, H = run->H;
    for (int b = 0; b < B; b++)
        eltwise_add(run->state + (size_t)b * H, dy + ((size_t)b * T + t) * run->y_stride + run->y_offset,
                    (size_t)H);
}

/* ---- the GEMMs over all steps ------------------------------------------- */

void rnn_input_projection(const RnnRun *run, const Tensor *w_ih, const float *b_ih,
                          const float *b_hh, float *gates)
{
    int N = run->s.N, F = run->F, GH = run->G * run->H;
    /* [N, F] x [F, GH]: W_ih is stored [GH, F], hence GEMM_T. */
    if (!b_ih && !b_hh) {
        gemm(GEMM_N, GEMM_T, N, GH, F, 1.0f, run->xc, F, w_ih->data, F, 0.0f, gates, GH);
        return;
    }
    /* Every row starts as b = b_ih + b_hh and the GEMM adds onto it (beta 1):
     * one pass over gates instead of a GEMM pass and an add pass. */
    float *b = run->bias_sum;
    for (int j = 0; j < GH; j++) b[j] = (b_ih ? b_ih[j] : 0.0f) + (b_hh ? b_hh[j] : 0.0f);
    for (int r = 0; r < N; r++) memcpy(gates + (size_t)r * GH, b, sizeof(float) * (size_t)GH);
    gemm(GEMM_N, GEMM_T, N, GH, F, 1.0f, run->xc, F, w_ih->data, F, 1.0f, gates, GH);
}

/* gx[b, t] += dxc[row of (b, t)] for the times t0 .. t1-1. */
static void add_dx_times(const RnnRun *run, int t0, int t1, float *gx)
{
    int F = run->F, T = run->s.T;
    for (int t = t0; t < t1; t++)
        for (int i = run->s.off[t]; i < run->s.off[t + 1]; i++)
            eltwise_add(gx + ((size_t)run->s.rows[i] * T + t) * F, run->dxc + (size_t)i * F, (size_t)F);
}

void rnn_backward_params(const RnnRun *run, const float *dgx, const float *dgh, int k_lo, int k_hi,
                         Tensor *x, Tensor *w_ih, Tensor *w_hh, Tensor *bias)
{
    int F = run->F, H = run->H, GH = run->G * run->H;
    int ta = rnn_time(run, k_lo), tb = rnn_time(run, k_hi);
    int t0 = ta < tb ? ta : tb, t1 = (ta < tb ? tb : ta) + 1;
    int r0 = run->s.off[t0], n = run->s.off[t1] - r0;
    if (n == 0) return;
    dgx += (size_t)r0 * GH, dgh += (size_t)r0 * GH;
    const float *xc = run->xc + (size_t)r0 * F, *hprev = run->hprev + (size_t)r0 * H;
    float *gwi = tensor_grad(w_ih), *gwh = tensor_grad(w_hh);
    float *gb = bias ? tensor_grad(bias) : NULL, *gx = tensor_grad(x);
    /* dW_ih [GH, F] += dgx^T [GH, n] x xc [n, F]; dW_hh likewise with hprev. */
    if (gwi) gemm(GEMM_T, GEMM_N, GH, F, n, 1.0f, dgx, GH, xc, F, 1.0f, gwi, F);
    if (gwh) gemm(GEMM_T, GEMM_N, GH, H, n, 1.0f, dgh, GH, hprev, H, 1.0f, gwh, H);
    if (gb && dgx == dgh) {   /* LSTM: db_ih = db_hh = the rows' sum, summed once */
        float *sum = run->bias_sum;   /* free after the forward */
        memcpy(sum, dgx, sizeof(float) * (size_t)GH);
        for (int r = 1; r < n; r++) eltwise_add(sum, dgx + (size_t)r * GH, (size_t)GH);
        eltwise_add(gb, sum, (size_t)GH);
        eltwise_add(gb + GH, sum, (size_t)GH);
    } else if (gb) {
        for (int r = 0; r < n; r++) {
            eltwise_add(gb, dgx + (size_t)r * GH, (size_t)GH);
            eltwise_add(gb + GH, dgh + (size_t)r * GH, (size_t)GH);
        }
    }
    if (!gx || !run->dxc) return;
    /* dxc [n, F] = dgx [n, GH] x W_ih [GH, F], then back to x's layout. */
    float *dxc = run->dxc + (size_t)r0 * F;
    gemm(GEMM_N, GEMM_N, n, F, GH, 1.0f, dgx, GH, w_ih->data, F, 0.0f, dxc, F);
    if (!run->defer_dx) add_dx_times(run, t0, t1, gx);
}

void rnn_add_dx(const RnnRun *run, float *gx)
{
    if (gx && run->dxc) add_dx_times(run, 0, run->s.T, gx);
}

/* ---- one direction as one op ---------------------------------------------- */

/* saved[0] = the kind's saved values, saved[1] = the kind. */
void rnn_dir_backward(Tensor *y)
{
    const RnnCellKind *kind = y->args.saved[1];
    kind->backward(y->args.saved[0], y->grad, y->src[0], y->src[1], y->src[2],
                   y->nsrc > 3 ? y->src[3] : NULL);
}

/* The output: every (b, t) of a sequence output is emitted; the final
 * state of an empty sequence (T = 0) is never written and must read as
 * zeros. */
static Tensor *rnn_output(Graph *g, const OpDef *op, int B, int T, int width, bool sequences,
                          Tensor *const *src, int nsrc)
{
    int shape[3] = {B, T, width}, fshape[2] = {B, width};
    return sequences ? graph_op_output_uninit(g, op, 3, shape, src, nsrc)
                     : graph_op_output(g, op, 2, fshape, src, nsrc);
}

Tensor *op_rnn_dir(const RnnCellKind *kind, Graph *g, Tensor *x, Tensor *w_ih, Tensor *w_hh,
                   Tensor *bias, const Tensor *mask, bool reverse, bool sequences)
{
    const char *name = kind->dir_op->name;
    if (!x || !w_ih || !w_hh) return NULL;
    int H;
    if (rnn_check_args(name, kind->gates, x, w_ih, w_hh, bias, mask, &H)) return NULL;
    Tensor *src[4] = {x, w_ih, w_hh, bias};
    Tensor *y = rnn_output(g, kind->dir_op, x->shape[0], x->shape[1], H, sequences, src, bias ? 4 : 3);
    if (!y) return NULL;
    void *saved = graph_alloc(g, kind->saved_size);
    if (!saved || kind->saved_init(g, saved, x, mask, H, reverse, sequences, y->requires_grad)) {
        meld_error_context("%s", name);
        return NULL;
    }
    kind->forward(saved, w_ih, w_hh, bias, y->data);
    y->args.saved[0] = saved;
    y->args.saved[1] = (void *)kind;
    return y;
}

/* ---- both directions as one op ------------------------------------------ */

typedef struct {
    const RnnCellKind *kind;
    void *saved[2];
    Tensor *x, *w_ih[2], *w_hh[2], *bias[2];
    float *y, *dy;
} BidirJob;

static void bidir_forward_task(void *ctx, int d, int thread)
{
    (void)thread;
    BidirJob *j = ctx;
    j->kind->forward(j->saved[d], j->w_ih[d], j->w_hh[d], j->bias[d], j->y);
}

static void bidir_backward_task(void *ctx, int d, int thread)
{
    (void)thread;
    BidirJob *j = ctx;
    j->kind->backward(j->saved[d], j->dy, j->x, j->w_ih[d], j->w_hh[d], j->bias[d]);
}

/* The sources in op order (x; w_ih, w_hh[, bias] per direction) back into
 * the job; args.i[0] = 1 when the biases are present. */
static void bidir_unpack(Tensor *y, BidirJob *j)
{
    int per = y->args.i[0] ? 3 : 2;
    j->kind = y->args.saved[2];
    j->saved[0] = y->args.saved[0], j->saved[1] = y->args.saved[1];
    j->x = y->src[0];
    for (int d = 0; d < 2; d++) {
        j->w_ih[d] = y->src[1 + per * d];
        j->w_hh[d] = y->src[2 + per * d];
        j->bias[d] = per == 3 ? y->src[3 + per * d] : NULL;
    }
}

/* Both walks at once (two tasks). Each leaves its dL/dx in its dxc
 * (defer_dx), because both would add into the same dL/dx; the reverse
 * direction's is added first, then the forward's, the order a tape of two
 * one-direction ops would use. */
void rnn_bidir_backward(Tensor *y)
{
    BidirJob j;
    bidir_unpack(y, &j);
    j.dy = y->grad;
    float *gx = tensor_grad(j.x);   /* zeroed here, not by both tasks at once */
    threadpool_parallel_for(2, bidir_backward_task, &j);
    rnn_add_dx(j.saved[1], gx);
    rnn_add_dx(j.saved[0], gx);
}

Tensor *op_rnn_bidir(const RnnCellKind *kind, Graph *g, Tensor *x, Tensor *const w_ih[2],
                     Tensor *const w_hh[2], Tensor *const bias[2], const Tensor *mask,
                     bool sequences)
{
    const char *name = kind->bidir_op->name;
    if (!x || !w_ih[0] || !w_hh[0] || !w_ih[1] || !w_hh[1]) return NULL;
    int H, H1;
    if (rnn_check_args(name, kind->gates, x, w_ih[0], w_hh[0], bias[0], mask, &H) ||
        rnn_check_args(name, kind->gates, x, w_ih[1], w_hh[1], bias[1], mask, &H1))
        return NULL;
    if (H1 != H || !bias[0] != !bias[1]) {
        meld_errorf("%s: the directions differ (hidden %d and %d, bias %s and %s)", name, H, H1,
                    bias[0] ? "yes" : "no", bias[1] ? "yes" : "no");
        return NULL;
    }
    Tensor *src[TENSOR_MAX_SRC];
    int nsrc = 0;
    src[nsrc++] = x;
    for (int d = 0; d < 2; d++) {
        src[nsrc++] = w_ih[d];
        src[nsrc++] = w_hh[d];
        if (bias[d]) src[nsrc++] = bias[d];
    }
    Tensor *y = rnn_output(g, kind->bidir_op, x->shape[0], x->shape[1], 2 * H, sequences, src, nsrc);
    if (!y) return NULL;
    BidirJob j = {.kind = kind, .x = x, .y = y->data};
    for (int d = 0; d < 2; d++) {
        j.saved[d] = graph_alloc(g, kind->saved_size);
        if (!j.saved[d] ||
            kind->saved_init(g, j.saved[d], x, mask, H, d == 1, sequences, y->requires_grad)) {
            meld_error_context("%s", name);
            return NULL;
        }
        RnnRun *run = j.saved[d];   /* the saved struct starts with its RnnRun */
        run->y_stride = 2 * H, run->y_offset = d * H, run->defer_dx = true;
        j.w_ih[d] = w_ih[d], j.w_hh[d] = w_hh[d], j.bias[d] = bias[d];
    }
    threadpool_parallel_for(2, bidir_forward_task, &j);
    y->args.saved[0] = j.saved[0];
    y->args.saved[1] = j.saved[1];
    y->args.saved[2] = (void *)kind;
    y->args.i[0] = bias[0] != NULL;
    return y;
}
