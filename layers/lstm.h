/* LSTM layer, as torch.nn.LSTM(batch_first=True) plus Keras masking.
 *
 * Per step, gate order i, f, g, o (PyTorch's):
 *     G = x W_ih^T + b_ih + h_prev W_hh^T + b_hh        [B, 4H]
 *     i = s(G_i)  f = s(G_f)  g = tanh(G_g)  o = s(G_o)  (s = sigmoid)
 *     c = f * c_prev + i * g
 *     h = o * tanh(c)
 * with h_0 = c_0 = 0. The derivatives are in tensor/rnn_cell.h; the op
 * (forward over the sequence, backward through time) is op_lstm in
 * tensor/ops_lstm.c, the masking rule in tensor/rnn_op.h.
 *
 *     Layer *l = lstm_new("lstm", 300, 128, 2, true, true, 0.2f, false, &rng);
 *     Tensor *y = layer_forward(l, g, x, mask);   // x [B,T,300] -> y [B,256]
 *
 * input_size F, hidden H, num_layers stacked layers (layer k > 0 reads the
 * dirs*H outputs of layer k-1, through inverted dropout of probability
 * `dropout` in training), bidirectional: a second direction reads the
 * sequence backwards and its outputs are concatenated after the forward
 * ones, [fwd, bwd]. bias false: no b_ih / b_hh.
 *
 * Output: return_sequences true: [B, T, dirs*H], the last layer's output at
 * every step (a padded step repeats the previous output; zeros before the
 * first valid step). false: [B, dirs*H], each direction's final state, i.e.
 * the forward output at the sequence's last valid step and the reverse
 * output at its first valid step (PyTorch's h_n with packed sequences).
 * Masks: see tensor/rnn_op.h. At most 8 layers, 4 when bidirectional with bias.
 *
 * Parameters, named and shaped as PyTorch's, so a checkpoint loads into
 * torch.nn.LSTM: "<name>.weight_ih_l{k}[_reverse]" [4H, in],
 * ".weight_hh_l{k}..." [4H, H], ".bias_ih_l{k}...", ".bias_hh_l{k}..." [4H].
 * Initialisation (PyTorch's default): every parameter U(-1/sqrt(H), 1/sqrt(H))
 * drawn from r in that order (per layer, per direction: w_ih, w_hh, b_ih,
 * b_hh), each tensor in row-major order.
 */
#ifndef MELD_LSTM_H
#define MELD_LSTM_H

#include <stdbool.h>

#include "layers/layer.h"

Layer *lstm_new(const char *name, int input_size, int hidden, int num_layers, bool bidirectional,
                bool bias, float dropout, bool return_sequences, Rng *r);

#endif
