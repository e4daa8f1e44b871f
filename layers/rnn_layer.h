/* The stacked, optionally bidirectional recurrent layer that LSTM and GRU
 * share (layers/lstm.h, layers/gru.h): parameters in PyTorch's names and
 * order, their initialisation, and the call, one whole-sequence op per
 * level (tensor/ops.h; the op machinery and the masking rule are in
 * tensor/rnn_op.h).
 */
#ifndef MELD_RNN_LAYER_H
#define MELD_RNN_LAYER_H

#include <stdbool.h>

#include "layers/layer.h"

/* A recurrent layer kind: its LayerOps (kind name "LSTM", "GRU"; forward =
 * rnn_layer_forward), its gates per unit and its two ops, one direction
 * (op_lstm) and both directions of a level at once (op_lstm_bidir). */
typedef struct {
    LayerOps ops;
    int gates;   /* G: 4, 3 */
    Tensor *(*dir)(Graph *g, Tensor *x, Tensor *w_ih, Tensor *w_hh, Tensor *bias,
                   const Tensor *mask, bool reverse, bool sequences);
    Tensor *(*bidir)(Graph *g, Tensor *x, Tensor *const w_ih[2], Tensor *const w_hh[2],
                     Tensor *const bias[2], const Tensor *mask, bool sequences);
} RnnLayerKind;

#define RNN_MAX_LEVELS 8

/* Fields are read-only after rnn_layer_new. Parameters (also in base.params,
 * in PyTorch's order: per layer k, per direction, weight_ih, weight_hh,
 * bias_ih, bias_hh; "_reverse" suffix for the reversed direction):
 *     weight_ih_l{k}  [G*H, in_k]  (in_0 = input_size, else dirs*H)
 *     weight_hh_l{k}  [G*H, H]
 *     bias_ih_l{k}, bias_hh_l{k}  [G*H]  (when bias) */
typedef struct {
    Layer base;
    const RnnLayerKind *kind;
    int input_size, hidden, num_layers, dirs;
    bool bias, return_sequences;
    float dropout;
    Tensor *w_ih[RNN_MAX_LEVELS][2], *w_hh[RNN_MAX_LEVELS][2];
    Tensor *b_ih[RNN_MAX_LEVELS][2], *b_hh[RNN_MAX_LEVELS][2];
} RnnLayer;

/* The layer's forward (LayerOps.forward of both kinds): x [B, T, in],
 * mask [B, T] or NULL -> [B, T, dirs*H] (return_sequences) or [B, dirs*H]. */
Tensor *rnn_layer_forward(Layer *l, Graph *g, Tensor *x, const Tensor *mask);
/* See lstm_new / gru_new. */
Layer *rnn_layer_new(const RnnLayerKind *kind, const char *name, int input_size, int hidden,
                     int num_layers, bool bidirectional, bool bias, float dropout,
                     bool return_sequences, Rng *r);

#endif
