/* Every OpDef of the engine, declared in one place so op_table.c can list
 * them. The definitions sit beside each op's forward function. */
#ifndef MELD_OP_DEFS_H
#define MELD_OP_DEFS_H

#include "tensor/tensor.h"

extern const OpDef OPDEF_ADD, OPDEF_SUB, OPDEF_MUL, OPDEF_DIV, OPDEF_NEG,
    OPDEF_SCALE, OPDEF_ADD_SCALAR;
extern const OpDef OPDEF_EXP, OPDEF_LOG, OPDEF_SQRT, OPDEF_TANH, OPDEF_SIGMOID,
    OPDEF_RELU, OPDEF_LEAKY_RELU;
extern const OpDef OPDEF_MATMUL, OPDEF_LINEAR;
extern const OpDef OPDEF_RESHAPE, OPDEF_PERMUTE, OPDEF_SLICE, OPDEF_CONCAT, OPDEF_GATHER_ROWS;
extern const OpDef OPDEF_SUM, OPDEF_MEAN, OPDEF_MAX, OPDEF_MASKED_MEAN;
extern const OpDef OPDEF_SOFTMAX, OPDEF_LOG_SOFTMAX, OPDEF_CROSS_ENTROPY;
extern const OpDef OPDEF_DROPOUT;
extern const OpDef OPDEF_DROPOUT2D;
extern const OpDef OPDEF_CONV2D, OPDEF_MAXPOOL2D, OPDEF_BATCHNORM;
extern const OpDef OPDEF_LSTM, OPDEF_LSTM_BIDIR, OPDEF_GRU, OPDEF_GRU_BIDIR;

#endif
