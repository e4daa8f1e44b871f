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
 * interchangeable here as they are in an LSTM. Derivatives: tensor/rnn_cell.h;
 * the op: op_gru in tensor/ops_gru.c.
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

#include <stdbool.h>

#include "layers/layer.h"

Layer *gru_new(const char *name, int input_size, int hidden, int num_layers, bool bidirectional,
               bool bias, float dropout, bool return_sequences, Rng *r);

#endif
