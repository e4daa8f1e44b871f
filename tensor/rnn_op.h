/* The machinery the whole-sequence recurrent ops (op_lstm, op_gru and
 * their two-direction forms, tensor/ops.h) share: masks, the per-step
 * schedule of valid rows, the bookkeeping of one direction over the whole
 * sequence, and the one- and two-direction ops built on a cell kind
 * (tensor/ops_lstm.c, tensor/ops_gru.c). The layers over these ops are in
 * layers/rnn_layer.h.
 *
 * Masking (Keras semantics, as the MELD baseline's Masking(mask_value=0)):
 * mask[b, t] = 1 marks a valid step, 0 a padded one. At a padded step the
 * recurrent state is left unchanged and the step emits the previous output
 * (zeros before the sequence's first valid step); its input is never read,
 * so it gets no gradient. A reversed direction walks t = T-1 .. 0 with the
 * same rule, so it effectively starts at each sequence's own last valid step
 * (right padding is skipped, as PyTorch's packed sequences do).
 *
 * Packing: at time t only the rows valid at t do any work. They are gathered
 * into a compact block (like the shrinking batch of a packed sequence), so a
 * padded batch costs what its real steps cost. All the per-step buffers of
 * an op use one "compact" layout:
 *
 *     compact row  off[t] + i   <->   (sequence rows[off[t] + i], time t)
 *
 * for i < off[t+1] - off[t]; N = off[T] rows in total (the valid steps).
 * This lets the input projection of every step be ONE GEMM [N, F] x [F, GH]
 * and the weight gradients GEMMs over the rows of a few steps at a time
 * (RNN_GRAD_CHUNK); only the recurrent product h W_hh^T runs per step, on
 * that step's rows.
 *
 * Ops: each direction of each stacked layer is ONE op (op_lstm, op_gru):
 * its forward runs every step and its backward rule runs backpropagation
 * through time, so the tape holds one node per direction, not one per step.
 * A bidirectional level is one op over both directions (op_lstm_bidir,
 * op_gru_bidir, built on op_rnn_bidir below): the directions are
 * independent, so with two or more threads each runs on its own thread
 * (its GEMMs then single-threaded), forward and backward; each writes its
 * half of the [.., 2H] output directly. Biases enter an op as one input,
 * concat(b_ih, b_hh).
 */
#ifndef MELD_RNN_OP_H
#define MELD_RNN_OP_H

#include <stdbool.h>

#include "tensor/autograd.h"

/* The masks themselves are made by rnn_mask_from_values and
 * rnn_mask_from_lengths (tensor/ops.h). */

/* ---- the schedule of valid steps (see the compact layout above) ---------- */

typedef struct {
    int B, T;
    int N;        /* valid steps in the batch */
    int *off;     /* [T + 1]: time t owns compact rows off[t] .. off[t+1]-1 */
    int *rows;    /* [N]: the sequence (batch index) of each compact row */
} RnnSchedule;

/* ---- one direction of one layer, over the whole sequence ------------------
 * What the LSTM and GRU ops have in common: shapes, the schedule, the
 * gathered inputs and the states entering each step. The ops keep their
 * cell-specific saved values beside it. */
typedef struct {
    RnnSchedule s;
    int F, H, G;        /* input features, hidden size, gates (4 LSTM, 3 GRU) */
    bool reverse;       /* walk t = T-1 .. 0 */
    bool sequences;     /* output [B, T, H] (else the final state [B, H]) */
    float *xc;          /* [N, F]  input of each valid step */
    float *hprev;       /* [N, H]  state entering each valid step */
    float *state;       /* [B, H]  running state h (forward), dL/dh (backward) */
    float *step;        /* [B, H]  one step's compact new h, or its gradient */
    float *dxc;         /* [N, F]  backward: dL/d xc (NULL when x needs none) */
    float *w_hh_t;      /* [H, G*H] the recurrent weights transposed (rnn_transpose_recurrent) */
    float *bias_sum;    /* [G*H] b_ih + b_hh (rnn_input_projection); backward scratch */
    int y_stride;       /* floats between output rows: H, or 2H in a two-direction op */
    int y_offset;       /* this direction's first column in an output row: 0 or H */
    bool defer_dx;      /* leave dL/dx in dxc (rnn_add_dx adds it later) */
} RnnRun;

/* Checks the arguments of a whole-sequence op named `op` with G gates:
 * x [B, T, F], w_ih [G*H, F], w_hh [G*H, H], bias [2*G*H] (b_ih then b_hh)
 * or NULL, mask [B, T] of 0/1 or NULL. Sets *H. */
int rnn_check_args(const char *op, int G, const Tensor *x, const Tensor *w_ih,
                   const Tensor *w_hh, const Tensor *bias, const Tensor *mask, int *H);

/* Builds run->s from the mask, allocates the shared buffers in the graph's
 * arena (the backward's too when `grad`), gathers x into run->xc and zeroes
 * run->state. */
int rnn_run_init(Graph *g, RnnRun *run, const Tensor *x, const Tensor *mask,
                 int H, int G, bool reverse, bool sequences, bool grad, bool grad_x);

/* run->w_hh_t = w_hh^T: [G*H, H] (torch's layout) -> [H, G*H], once per
 * call. Each step's product h_prev [n, H] x W_hh^T then reads a row-major
 * matrix in place (gemm's NN case with a short A panel) instead of
 * transposing W_hh into a packed panel at every time step (that copy was
 * about 9 % of the melstm training step). */
void rnn_transpose_recurrent(RnnRun *run, const Tensor *w_hh);

/* The time processed at step k (0 = first) of the walk. */
static inline int rnn_time(const RnnRun *run, int k)
{
    return run->reverse ? run->s.T - 1 - k : k;
}

/* True when a step's rows are 0 .. n-1 (rows increase, so it is enough to
 * look at the last): every sequence valid so far, as with no padding or
 * sequences sorted by length. The carried state's first n rows then are
 * the step's compact rows, and the ops work on them in place. */
static inline bool rnn_rows_prefix(const int *rows, int n)
{
    return n == 0 || rows[n - 1] == n - 1;
}

/* Rows of the batch: dst[i] = src[rows[i]] (gather) / dst[rows[i]] = src[i]
 * (scatter), each row `width` floats; one copy when the rows are a prefix. */
void rnn_gather(const float *src, const int *rows, int n, int width, float *dst);
void rnn_scatter(const float *src, const int *rows, int n, int width, float *dst);

/* Scratch in the graph's arena: rows x width floats (overflow-checked). */
float *rnn_alloc(Graph *g, size_t rows, size_t width);

/* Forward, after walk step k (time t): with the sequence output,
 * y[b, t, :] = state[b, :] for every b (a padded row emits its carried
 * state); with the final-state output, y = state after the last step.
 * "y[b, t, :]" is the H floats at (b*T + t) * y_stride + y_offset (and
 * b * y_stride + y_offset for the final state); dy likewise. */
void rnn_emit(const RnnRun *run, int k, float *y);
/* Backward. The output's share of dL/dh enters the carried gradient
 * run->state: all of it before the walk for the final-state output
 * (rnn_backward_start), and dy[:, t] at each time t for the sequence output
 * (rnn_collect, since y[b, t] is the state after time t). */
void rnn_backward_start(const RnnRun *run, const float *dy);
void rnn_collect(const RnnRun *run, int t, const float *dy);

/* The GEMMs over many steps. Forward: gates[N, GH] = xc W_ih^T, plus b_ih
 * and b_hh when not NULL (LSTM adds both here, GRU only b_ih), over all
 * steps. Backward, from the gradients of the input-side and the hidden-side
 * pre-activations dgx, dgh [N, GH] (the same buffer for LSTM), over the
 * rows of walk steps k_lo .. k_hi:
 *     dW_ih += dgx^T xc        dW_hh += dgh^T hprev
 *     db_ih += sum_rows dgx    db_hh += sum_rows dgh   (bias = [b_ih, b_hh])
 *     dx[b, t] += (dgx W_ih)[row of (b, t)]
 * Each term only when that tensor requires a gradient. The backward walk
 * calls it every RNN_GRAD_CHUNK steps, while those rows of dgx and dgh are
 * still in L2: over the whole sequence at the end (melstm: 20 MB per
 * direction) each of the four terms would read them back from memory. */
enum { RNN_GRAD_CHUNK = 8 };
void rnn_input_projection(const RnnRun *run, const Tensor *w_ih, const float *b_ih,
                          const float *b_hh, float *gates);
void rnn_backward_params(const RnnRun *run, const float *dgx, const float *dgh, int k_lo, int k_hi,
                         Tensor *x, Tensor *w_ih, Tensor *w_hh, Tensor *bias);
/* gx[b, t] += dxc[row of (b, t)] for every valid step (the deferred dx). */
void rnn_add_dx(const RnnRun *run, float *gx);

/* True when the backward walk, going down from step k_hi, has finished a
 * chunk of steps for rnn_backward_params at step k. */
static inline bool rnn_chunk_done(int k, int k_hi)
{
    return k == 0 || k_hi - k + 1 == RNN_GRAD_CHUNK;
}

/* ---- the ops over a cell kind ----------------------------------------------- */

/* A cell kind: the pieces the whole-sequence ops drive. `saved` is the
 * kind's saved-values struct (saved_size bytes), whose first member is the
 * RnnRun; dir_op and bidir_op are the kind's one- and two-direction ops
 * ("lstm", "lstm_bidir"). */
typedef struct RnnCellKind {
    int gates;            /* G: 4, 3 */
    size_t saved_size;
    int (*saved_init)(Graph *g, void *saved, const Tensor *x, const Tensor *mask, int H,
                      bool reverse, bool sequences, bool grad);
    void (*forward)(void *saved, const Tensor *w_ih, const Tensor *w_hh, const Tensor *bias,
                    float *y);
    void (*backward)(void *saved, const float *dy, Tensor *x, Tensor *w_ih, Tensor *w_hh,
                     Tensor *bias);
    const OpDef *dir_op, *bidir_op;
} RnnCellKind;

/* One direction of one level over the whole sequence as one op (op_lstm,
 * op_gru): x [B, T, F], w_ih [G*H, F], w_hh [G*H, H], bias [2*G*H] =
 * concat(b_ih, b_hh) or NULL, mask [B, T] (0/1) or NULL, reverse: walk
 * t = T-1 .. 0. Returns [B, T, H] (sequences) or the final state [B, H]. */
Tensor *op_rnn_dir(const RnnCellKind *kind, Graph *g, Tensor *x, Tensor *w_ih, Tensor *w_hh,
                   Tensor *bias, const Tensor *mask, bool reverse, bool sequences);
/* Its backward rule (the kinds' OpDefs use it). */
void rnn_dir_backward(Tensor *y);

/* Both directions of one level as one op: x [B, T, F]; per direction d
 * (0 forward, 1 reverse) w_ih[d], w_hh[d], bias[d] (concat(b_ih, b_hh) or
 * both NULL). Returns [B, T, 2H] (sequences) or [B, 2H], forward then
 * reverse, the same values as two one-direction ops and a concat. Sources:
 * x, then w_ih, w_hh[, bias] of direction 0, then of direction 1. */
Tensor *op_rnn_bidir(const RnnCellKind *kind, Graph *g, Tensor *x, Tensor *const w_ih[2],
                     Tensor *const w_hh[2], Tensor *const bias[2], const Tensor *mask,
                     bool sequences);
/* Its backward rule (the kinds' OpDefs use it). */
void rnn_bidir_backward(Tensor *y);

#endif
