/* The LSTM layer: the shared recurrent layer (rnn_layer.h) over op_lstm. */
#include "layers/lstm.h"

#include "layers/rnn_layer.h"
#include "tensor/ops.h"

static const RnnLayerKind LSTM_LAYER = {{"LSTM", rnn_layer_forward, NULL}, 4, op_lstm, op_lstm_bidir};

Layer *lstm_new(const char *name, int input_size, int hidden, int num_layers, bool bidirectional,
                bool bias, float dropout, bool return_sequences, Rng *r)
{
    return rnn_layer_new(&LSTM_LAYER, name, input_size, hidden, num_layers, bidirectional, bias,
                         dropout, return_sequences, r);
}
