/* Every differentiable op of the engine, in one list. An op's forward,
 * shape rule and backward live together in the file named beside it. */
#include <string.h>

#include "tensor/op_defs.h"
#include "tensor/ops.h"

const OpDef *const OP_TABLE[] = {
    /* ops_arith.c */  &OPDEF_ADD, &OPDEF_SUB, &OPDEF_MUL, &OPDEF_DIV, &OPDEF_NEG,
                       &OPDEF_SCALE, &OPDEF_ADD_SCALAR,
    /* ops_unary.c */  &OPDEF_EXP, &OPDEF_LOG, &OPDEF_SQRT, &OPDEF_TANH, &OPDEF_SIGMOID,
                       &OPDEF_RELU, &OPDEF_LEAKY_RELU,
    /* ops_matmul.c */ &OPDEF_MATMUL, &OPDEF_LINEAR,
    /* ops_shape.c */  &OPDEF_RESHAPE, &OPDEF_PERMUTE, &OPDEF_SLICE, &OPDEF_CONCAT,
                       &OPDEF_GATHER_ROWS,
    /* ops_reduce.c */ &OPDEF_SUM, &OPDEF_MEAN, &OPDEF_MAX, &OPDEF_MASKED_MEAN,
    /* ops_softmax.c */&OPDEF_SOFTMAX, &OPDEF_LOG_SOFTMAX, &OPDEF_CROSS_ENTROPY,
    /* ops_dropout.c */&OPDEF_DROPOUT, &OPDEF_DROPOUT2D,
    /* ops_conv2d.c */ &OPDEF_CONV2D,
    /* ops_pool.c */   &OPDEF_MAXPOOL2D,
    /* ops_batchnorm.c */ &OPDEF_BATCHNORM,
    /* ops_lstm.c */   &OPDEF_LSTM, &OPDEF_LSTM_BIDIR,
    /* ops_gru.c */    &OPDEF_GRU, &OPDEF_GRU_BIDIR,
};
const int OP_TABLE_COUNT = (int)(sizeof OP_TABLE / sizeof OP_TABLE[0]);

const OpDef *op_find(const char *name)
{
    for (int i = 0; i < OP_TABLE_COUNT; i++)
        if (!strcmp(OP_TABLE[i]->name, name)) return OP_TABLE[i];
    return NULL;
}
