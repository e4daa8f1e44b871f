/* The GRU layer: the shared recurrent layer (rnn_layer.h) over op_gru. */
#include "layers/gru.h"

#include "layers/rnn_layer.h"
#include "tensor/ops.h"

static const RnnLayerKind GRU_LAYER = {{"GRU", rnn_layer_forward, NULL}, 3, op_gru, op_gru_bidir};

Layer *gru_new(const char *name, int input_size, int hidden, int num_layers, bool bidirectional,
               bool bias, float dropout, bool return_sequences, Rng *r)
{
    return rnn_layer_new(&GRU_LAYER, name, input_size, hidden, num_layers, bidirectional, bias,
                         dropout, return_sequences, r);
}
