/* The op table: every differentiable op of the engine by number (OpId),
 * its OpDef (name + backward rule, defined beside the op's forward in the
 * file named below) and OP_TABLE, which lists them in OpId order
 * (op_table.c; how to add an op is at its head). */
#ifndef MELD_OP_TABLE_H
#define MELD_OP_TABLE_H

#include "tensor/tensor.h"

typedef enum {
    /* ops_arith.c */   OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_NEG, OP_SCALE, OP_ADD_SCALAR,
    /* ops_unary.c */   OP_EXP, OP_LOG, OP_SQRT, OP_TANH, OP_SIGMOID, OP_RELU, OP_LEAKY_RELU,
    /* ops_matmul.c */  OP_MATMUL, OP_LINEAR,
    /* ops_shape.c */   OP_RESHAPE, OP_PERMUTE, OP_SLICE, OP_CONCAT, OP_GATHER_ROWS,
    /* ops_reduce.c */  OP_SUM, OP_MEAN, OP_MAX, OP_MASKED_MEAN,
    /* ops_softmax.c */ OP_SOFTMAX, OP_LOG_SOFTMAX, OP_CROSS_ENTROPY,
    /* ops_dropout.c */ OP_DROPOUT, OP_DROPOUT2D,
    /* ops_conv2d.c */  OP_CONV2D,
    /* ops_pool.c */    OP_MAXPOOL2D,
    /* ops_batchnorm.c */ OP_BATCHNORM,
    /* ops_lstm.c */    OP_LSTM, OP_LSTM_BIDIR,
    /* ops_gru.c */     OP_GRU, OP_GRU_BIDIR,
    OP_COUNT
} OpId;

extern const OpDef OPDEF_ADD, OPDEF_SUB, OPDEF_MUL, OPDEF_DIV, OPDEF_NEG, OPDEF_SCALE, OPDEF_ADD_SCALAR;
extern const OpDef OPDEF_EXP, OPDEF_LOG, OPDEF_SQRT, OPDEF_TANH, OPDEF_SIGMOID, OPDEF_RELU, OPDEF_LEAKY_RELU;
extern const OpDef OPDEF_MATMUL, OPDEF_LINEAR;
extern const OpDef OPDEF_RESHAPE, OPDEF_PERMUTE, OPDEF_SLICE, OPDEF_CONCAT, OPDEF_GATHER_ROWS;
extern const OpDef OPDEF_SUM, OPDEF_MEAN, OPDEF_MAX, OPDEF_MASKED_MEAN;
extern const OpDef OPDEF_SOFTMAX, OPDEF_LOG_SOFTMAX, OPDEF_CROSS_ENTROPY;
extern const OpDef OPDEF_DROPOUT, OPDEF_DROPOUT2D;
extern const OpDef OPDEF_CONV2D, OPDEF_MAXPOOL2D, OPDEF_BATCHNORM;
extern const OpDef OPDEF_LSTM, OPDEF_LSTM_BIDIR, OPDEF_GRU, OPDEF_GRU_BIDIR;

/* OP_TABLE[id] is the OpDef of op id, for id < OP_COUNT. (Declared
 * without its size, so that op_table.c's count check sees the size of its
 * initialiser.) */
extern const OpDef *const OP_TABLE[];

/* The OpDef with this name, or NULL. */
const OpDef *op_find(const char *name);

#endif
