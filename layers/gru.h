/* GRU layer, as torch.nn.GRU(batch_first=True) plus Keras masking.
 *
 * Per step, gate order r, z, n (PyTorch's), s = sigmoid:
 *     r  = s(x W_ir^T + b_ir + h_prev W_hr^T + b_hr)
 *     z  = s(x W_iz^T + b_iz + h_prev W_hz^T + b_hz)
 *     n  = tanh(x W_in^T + b_in + r * (h_prev W_hn^T + b_hn))
 *     h  = (1 - z) * n + z * h_prev
 * with h_0 = 0. Note r multiplies the recurrent product *and its bias* b_hn
 * (PyTorch's form; the original Cho et al. GRU and Keras's reset_after=False
 * put r inside, on h_prev), which is why b_ih and b_hh are not
 * interchangeable here as they are in an LSTM. Derivatives: tensor/rnn_cell.h.
 *
 *     Layer *l = gru_new("gru", 300, 128, 1, false, true, 0.0f, true, &rng);
 *     Tensor *y = layer_forward(l, g, x, mask);   // x [B,T,300] -> y [B,T,128]
 *
 * Arguments, output, stacking, bidirectional concatenation, masks and the
 * initialisation are as lstm_new (layers/lstm.h), with 3H gate rows:
 * "<name>.weight_ih_l{k}[_reverse]" [3H, in], ".weight_hh_l{k}..." [3H, H],
 * ".bias_ih_l{k}...", ".bias_hh_l{k}..." [3H], so a checkpoint loads into
 * torch.nn.GRU.
 */
#ifndef MELD_GRU_H
#define MELD_GRU_H

#include "layers/rnn_common.h"

Layer *gru_new(const char *name, int input_size, int hidden, int num_layers, bool bidirectional,
               bool bias, float dropout, bool return_sequences, Rng *r);

/* One direction of one GRU layer over a whole sequence, as one op:
 * x [B, T, F], w_ih [3H, F], w_hh [3H, H], bias [6H] = concat(b_ih, b_hh) or
 * NULL, mask [B, T] (0/1) or NULL, reverse: walk t = T-1 .. 0.
 * Returns [B, T, H] (sequences) or the final state [B, H]. */
Tensor *op_gru(Graph *g, Tensor *x, Tensor *w_ih, Tensor *w_hh, Tensor *bias,
               const Tensor *mask, bool reverse, bool sequences);

/* Both directions of one bidirectional GRU level as one op (see
 * op_rnn_bidir in rnn_common.h): [B, T, 2H] or [B, 2H], forward then reverse. */
Tensor *op_gru_bidir(Graph *g, Tensor *x, Tensor *const w_ih[2], Tensor *const w_hh[2],
                     Tensor *const bias[2], const Tensor *mask, bool sequences);

#endif
