/* The LSTM op: forward over every step, backward through time.
 *
 * Forward (compact layout of tensor/rnn_op.h, N valid steps):
 *     A = xc W_ih^T + b_ih + b_hh         one GEMM [N, F] x [F, 4H]
 *     for each time t in walk order, on the n rows valid at t:
 *         h_prev, c_prev = gathered from the carried state    [n, H]
 *         A_t += h_prev W_hh^T            the only per-step GEMM
 *         (c, h) = cell(A_t, c_prev)      fused; A_t becomes (i, f, g, o)
 *         scatter c, h into the carried state; emit the outputs
 *
 * Backward through time: dh and dc are carried per sequence ([B, H]),
 * exactly like h and c, but walked the other way. At time t:
 *     dh += dy[:, t]                       (sequence output)
 *     dA_t, dc_prev = cell_backward(dh, dc)  (tensor/rnn_cell.h)
 *     dh_prev = dA_t W_hh                  [n, 4H] x [4H, H]
 * Rows padded at t pass dh and dc through unchanged (their state was), and
 * get no dA, so nothing reaches their input or the weights. Every
 * RNN_GRAD_CHUNK steps, over those steps (rnn_backward_params):
 *     dW_ih += dA^T xc,  dW_hh += dA^T h_prev,  db_ih = db_hh = sum dA,
 *     dx = dA W_ih.
 */
#include <string.h>

#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/op_table.h"
#include "tensor/ops.h"
#include "tensor/rnn_cell.h"
#include "tensor/rnn_op.h"

/* What the backward needs (in the graph's arena). */
typedef struct {
    RnnRun run;
    float *acts;    /* [N, 4H] pre-activations, then (i, f, g, o) */
    float *tc;      /* [N, H]  tanh(c) of each step */
    float *cprev;   /* [N, H]  c entering each step */
    float *cstate;  /* [B, H]  carried c (forward), dL/dc (backward) */
    float *cstep;   /* [B, H]  one step's compact c, or its gradient */
    float *dA;      /* [N, 4H] backward: dL/d pre-activations */
} LstmSaved;

static void lstm_forward(void *saved, const Tensor *w_ih, const Tensor *w_hh, const Tensor *bias,
                         float *y)
{
    LstmSaved *sv = saved;
    RnnRun *run = &sv->run;
    int H = run->H, GH = 4 * H;
    const float *b_ih = bias ? bias->data : NULL, *b_hh = bias ? bias->data + GH : NULL;
    rnn_input_projection(run, w_ih, b_ih, b_hh, sv->acts);
    rnn_transpose_recurrent(run, w_hh);
    for (int k = 0; k < run->s.T; k++) {
        int t = rnn_time(run, k), o = run->s.off[t], n = run->s.off[t + 1] - o;
        const int *rows = run->s.rows + o;
        float *A = sv->acts + (size_t)o * GH, *hp = run->hprev + (size_t)o * H;
        float *cp = sv->cprev + (size_t)o * H;
        bool prefix = rnn_rows_prefix(rows, n);   /* new c, h straight into the state */
        float *c_out = prefix ? sv->cstate : sv->cstep, *h_out = prefix ? run->state : run->step;
        rnn_gather(run->state, rows, n, H, hp);
        rnn_gather(sv->cstate, rows, n, H, cp);
        gemm(GEMM_N, GEMM_N, n, GH, H, 1.0f, hp, H, run->w_hh_t, GH, 1.0f, A, GH);   /* A += h W_hh^T */
        lstm_cell_forward(n, H, A, cp, c_out, h_out, A, sv->tc + (size_t)o * H);
        if (!prefix) {
            rnn_scatter(run->step, rows, n, H, run->state);
            rnn_scatter(sv->cstep, rows, n, H, sv->cstate);
        }
        rnn_emit(run, k, y);
    }
}

/* Backpropagation through time from dy (the output's gradient). */
static void lstm_backward_walk(void *saved, const float *dy, Tensor *x, Tensor *w_ih, Tensor *w_hh,
                               Tensor *bias)
{
    LstmSaved *sv = saved;
    RnnRun *run = &sv->run;
    int H = run->H, GH = 4 * H;
    rnn_backward_start(run, dy);                               /* run->state = dL/dh */
    memset(sv->cstate, 0, sizeof(float) * (size_t)run->s.B * H);  /* dL/dc */
    int k_hi = run->s.T - 1;   /* first walk step of the current gradient chunk */
    for (int k = run->s.T - 1; k >= 0; k--) {
        int t = rnn_time(run, k), o = run->s.off[t], n = run->s.off[t + 1] - o;
        const int *rows = run->s.rows + o;
        bool prefix = rnn_rows_prefix(rows, n);   /* work on the carried rows in place */
        float *dA = sv->dA + (size_t)o * GH;
        float *dh = prefix ? run->state : run->step, *dc = prefix ? sv->cstate : sv->cstep;
        rnn_collect(run, t, dy);
        if (!prefix) {
            rnn_gather(run->state, rows, n, H, dh);
            rnn_gather(sv->cstate, rows, n, H, dc);
        }
        lstm_cell_backward(n, H, dh, dc, sv->acts + (size_t)o * GH, sv->tc + (size_t)o * H,
                           sv->cprev + (size_t)o * H, dA, dc);
        gemm(GEMM_N, GEMM_N, n, H, GH, 1.0f, dA, GH, w_hh->data, H, 0.0f, dh, H);
        if (!prefix) {
            rnn_scatter(dh, rows, n, H, run->state);
            rnn_scatter(dc, rows, n, H, sv->cstate);
        }
        if (rnn_chunk_done(k, k_hi)) {
            rnn_backward_params(run, sv->dA, sv->dA, k, k_hi, x, w_ih, w_hh, bias);
            k_hi = k - 1;
        }
    }
}


static int lstm_saved_init(Graph *g, void *saved, const Tensor *x, const Tensor *mask, int H,
                           bool reverse, bool sequences, bool grad)
{
    LstmSaved *sv = saved;
    if (rnn_run_init(g, &sv->run, x, mask, H, 4, reverse, sequences, grad, x->requires_grad))
        return MELD_ERR;
    size_t N = (size_t)sv->run.s.N, B = (size_t)sv->run.s.B;
    sv->acts = rnn_alloc(g, N, 4 * (size_t)H);
    sv->tc = rnn_alloc(g, N, H);
    sv->cprev = rnn_alloc(g, N, H);
    sv->cstate = rnn_alloc(g, B, H);
    sv->cstep = rnn_alloc(g, B, H);
    sv->dA = grad ? rnn_alloc(g, N, 4 * (size_t)H) : NULL;
    if (!sv->acts || !sv->tc || !sv->cprev || !sv->cstate || !sv->cstep || (grad && !sv->dA))
        return MELD_ERR;
    memset(sv->cstate, 0, sizeof(float) * B * (size_t)H);   /* c_0 = 0 */
    return MELD_OK;
}

static const RnnCellKind LSTM_KIND = {4, sizeof(LstmSaved),
                                      lstm_saved_init, lstm_forward, lstm_backward_walk,
                                      &OPDEF_LSTM, &OPDEF_LSTM_BIDIR};

const OpDef OPDEF_LSTM = {"lstm", rnn_dir_backward};
const OpDef OPDEF_LSTM_BIDIR = {"lstm_bidir", rnn_bidir_backward};

Tensor *op_lstm(Graph *g, Tensor *x, Tensor *w_ih, Tensor *w_hh, Tensor *bias, const Tensor *mask,
                bool reverse, bool sequences)
{
    return op_rnn_dir(&LSTM_KIND, g, x, w_ih, w_hh, bias, mask, reverse, sequences);
}

Tensor *op_lstm_bidir(Graph *g, Tensor *x, Tensor *const w_ih[2], Tensor *const w_hh[2],
                      Tensor *const bias[2], const Tensor *mask, bool sequences)
{
    return op_rnn_bidir(&LSTM_KIND, g, x, w_ih, w_hh, bias, mask, sequences);
}
