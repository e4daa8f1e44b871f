/* The GRU op: forward over every step, backward through time.
 *
 * Forward (compact layout of tensor/rnn_op.h, N valid steps):
 *     gx = xc W_ih^T + b_ih                 one GEMM [N, F] x [F, 3H]
 *     for each time t in walk order, on the n rows valid at t:
 *         h_prev = gathered from the carried state            [n, H]
 *         gh = h_prev W_hh^T + b_hh         the only per-step GEMM
 *         h = cell(gx_t, gh, h_prev)        fused; saves (r, z, n, gh_n)
 *         scatter h into the carried state; emit the outputs
 * The input and recurrent halves stay apart because r gates gh_n only.
 *
 * Backward through time, carrying dh per sequence ([B, H]). At time t:
 *     dh += dy[:, t]                        (sequence output)
 *     dgx_t, dgh_t, dh_prev = cell_backward(dh)   (direct path h_prev -> h)
 *     dh_prev += dgh_t W_hh                 (path through the recurrent GEMM)
 * Padded rows pass dh through untouched and get no gradient. Every
 * RNN_GRAD_CHUNK steps, over those steps (rnn_backward_params):
 *     dW_ih = dgx^T xc,  dW_hh = dgh^T h_prev,  db_ih = sum dgx,
 *     db_hh = sum dgh,  dx = dgx W_ih.
 */
#include "tensor/eltwise.h"
#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/op_table.h"
#include "tensor/ops.h"
#include "tensor/rnn_cell.h"
#include "tensor/rnn_op.h"

/* What the backward needs (in the graph's arena). */
typedef struct {
    RnnRun run;
    float *gx;      /* [N, 3H] input-side pre-activations */
    float *save;    /* [N, 4H] (r, z, n, gh_n) of each step */
    float *gh;      /* [B, 3H] one step's recurrent pre-activations */
    float *dgx;     /* [N, 3H] backward: dL/d gx */
    float *dgh;     /* [N, 3H] backward: dL/d gh */
} GruSaved;

static void gru_forward(void *saved, const Tensor *w_ih, const Tensor *w_hh, const Tensor *bias,
                        float *y)
{
    GruSaved *sv = saved;
    RnnRun *run = &sv->run;
    int H = run->H, GH = 3 * H;
    const float *b_hh = bias ? bias->data + GH : NULL;
    rnn_input_projection(run, w_ih, bias ? bias->data : NULL, NULL, sv->gx);
    rnn_transpose_recurrent(run, w_hh);
    for (int k = 0; k < run->s.T; k++) {
        int t = rnn_time(run, k), o = run->s.off[t], n = run->s.off[t + 1] - o;
        const int *rows = run->s.rows + o;
        float *hp = run->hprev + (size_t)o * H;
        bool prefix = rnn_rows_prefix(rows, n);   /* new h straight into the state */
        rnn_gather(run->state, rows, n, H, hp);
        gemm(GEMM_N, GEMM_N, n, GH, H, 1.0f, hp, H, run->w_hh_t, GH, 0.0f, sv->gh, GH);   /* gh = h W_hh^T */
        if (b_hh)
            for (int i = 0; i < n; i++) eltwise_add(sv->gh + (size_t)i * GH, b_hh, (size_t)GH);
        gru_cell_forward(n, H, sv->gx + (size_t)o * GH, sv->gh, hp, prefix ? run->state : run->step,
                         sv->save + (size_t)o * 4 * H);
        if (!prefix) rnn_scatter(run->step, rows, n, H, run->state);
        rnn_emit(run, k, y);
    }
}

/* Backpropagation through time from dy (the output's gradient). */
static void gru_backward_walk(void *saved, const float *dy, Tensor *x, Tensor *w_ih, Tensor *w_hh,
                              Tensor *bias)
{
    GruSaved *sv = saved;
    RnnRun *run = &sv->run;
    int H = run->H, GH = 3 * H;
    rnn_backward_start(run, dy);   /* run->state = dL/dh */
    int k_hi = run->s.T - 1;   /* first walk step of the current gradient chunk */
    for (int k = run->s.T - 1; k >= 0; k--) {
        int t = rnn_time(run, k), o = run->s.off[t], n = run->s.off[t + 1] - o;
        const int *rows = run->s.rows + o;
        bool prefix = rnn_rows_prefix(rows, n);   /* work on the carried rows in place */
        float *dgx = sv->dgx + (size_t)o * GH, *dgh = sv->dgh + (size_t)o * GH;
        float *dh = prefix ? run->state : run->step;
        rnn_collect(run, t, dy);
        if (!prefix) rnn_gather(run->state, rows, n, H, dh);
        gru_cell_backward(n, H, dh, sv->save + (size_t)o * 4 * H, run->hprev + (size_t)o * H,
                          dgx, dgh, dh);
        gemm(GEMM_N, GEMM_N, n, H, GH, 1.0f, dgh, GH, w_hh->data, H, 1.0f, dh, H);
        if (!prefix) rnn_scatter(dh, rows, n, H, run->state);
        if (rnn_chunk_done(k, k_hi)) {
            rnn_backward_params(run, sv->dgx, sv->dgh, k, k_hi, x, w_ih, w_hh, bias);
            k_hi = k - 1;
        }
    }
}


static int gru_saved_init(Graph *g, void *saved, const Tensor *x, const Tensor *mask, int H,
                          bool reverse, bool sequences, bool grad)
{
    GruSaved *sv = saved;
    if (rnn_run_init(g, &sv->run, x, mask, H, 3, reverse, sequences, grad, x->requires_grad))
        return MELD_ERR;
    size_t N = (size_t)sv->run.s.N, B = (size_t)sv->run.s.B, GH = 3 * (size_t)H;
    sv->gx = rnn_alloc(g, N, GH);
    sv->save = rnn_alloc(g, N, 4 * (size_t)H);
    sv->gh = rnn_alloc(g, B, GH);
    sv->dgx = grad ? rnn_alloc(g, N, GH) : NULL;
    sv->dgh = grad ? rnn_alloc(g, N, GH) : NULL;
    if (!sv->gx || !sv->save || !sv->gh || (grad && (!sv->dgx || !sv->dgh))) return MELD_ERR;
    return MELD_OK;
}

static const RnnCellKind GRU_KIND = {3, sizeof(GruSaved),
                                      gru_saved_init, gru_forward, gru_backward_walk,
                                      &OPDEF_GRU, &OPDEF_GRU_BIDIR};

const OpDef OPDEF_GRU = {"gru", rnn_dir_backward};
const OpDef OPDEF_GRU_BIDIR = {"gru_bidir", rnn_bidir_backward};

Tensor *op_gru(Graph *g, Tensor *x, Tensor *w_ih, Tensor *w_hh, Tensor *bias, const Tensor *mask,
               bool reverse, bool sequences)
{
    return op_rnn_dir(&GRU_KIND, g, x, w_ih, w_hh, bias, mask, reverse, sequences);
}

Tensor *op_gru_bidir(Graph *g, Tensor *x, Tensor *const w_ih[2], Tensor *const w_hh[2],
                     Tensor *const bias[2], const Tensor *mask, bool sequences)
{
    return op_rnn_bidir(&GRU_KIND, g, x, w_ih, w_hh, bias, mask, sequences);
}
