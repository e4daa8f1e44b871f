/* Every differentiable op of the engine, in one list, in OpId order. An
 * op's forward, shape rule and backward live together in the file named
 * beside it in op_table.h.
 *
 * Adding an op:
 *   1. ops_FAMILY.c: the forward (check the shapes first and name the op
 *      and the shapes in the error; a NULL input gives NULL), its backward
 *      rule beside it (add into tensor_grad() of each input), and
 *      `const OpDef OPDEF_X = {"x", x_backward};`. The maths goes in the
 *      comment above them.
 *   2. ops.h: the declaration, with the shapes it takes and returns.
 *   3. op_table.h: OP_X in the enum (before OP_COUNT) and the OPDEF_X
 *      extern; here: `[OP_X] = &OPDEF_X`. The build fails while the table
 *      is one entry short of OP_COUNT.
 *   4. tests/test_tensor_ops_grad.c: a finite-difference case named "x";
 *      the suite fails for an op in this table without one.
 *   5. A SIMD kernel under it gets a plain-C reference beside it, a test
 *      comparing the two on every ISA path, and a ./bench entry.
 */
#include "tensor/op_table.h"

#include <string.h>

const OpDef *const OP_TABLE[] = {
    [OP_ADD] = &OPDEF_ADD, [OP_SUB] = &OPDEF_SUB, [OP_MUL] = &OPDEF_MUL, [OP_DIV] = &OPDEF_DIV,
    [OP_NEG] = &OPDEF_NEG, [OP_SCALE] = &OPDEF_SCALE, [OP_ADD_SCALAR] = &OPDEF_ADD_SCALAR,
    [OP_EXP] = &OPDEF_EXP, [OP_LOG] = &OPDEF_LOG, [OP_SQRT] = &OPDEF_SQRT, [OP_TANH] = &OPDEF_TANH,
    [OP_SIGMOID] = &OPDEF_SIGMOID, [OP_RELU] = &OPDEF_RELU, [OP_LEAKY_RELU] = &OPDEF_LEAKY_RELU,
    [OP_MATMUL] = &OPDEF_MATMUL, [OP_LINEAR] = &OPDEF_LINEAR,
    [OP_RESHAPE] = &OPDEF_RESHAPE, [OP_PERMUTE] = &OPDEF_PERMUTE, [OP_SLICE] = &OPDEF_SLICE,
    [OP_CONCAT] = &OPDEF_CONCAT, [OP_GATHER_ROWS] = &OPDEF_GATHER_ROWS,
    [OP_SUM] = &OPDEF_SUM, [OP_MEAN] = &OPDEF_MEAN, [OP_MAX] = &OPDEF_MAX, [OP_MASKED_MEAN] = &OPDEF_MASKED_MEAN,
    [OP_SOFTMAX] = &OPDEF_SOFTMAX, [OP_LOG_SOFTMAX] = &OPDEF_LOG_SOFTMAX, [OP_CROSS_ENTROPY] = &OPDEF_CROSS_ENTROPY,
    [OP_DROPOUT] = &OPDEF_DROPOUT, [OP_DROPOUT2D] = &OPDEF_DROPOUT2D,
    [OP_CONV2D] = &OPDEF_CONV2D,
    [OP_MAXPOOL2D] = &OPDEF_MAXPOOL2D,
    [OP_BATCHNORM] = &OPDEF_BATCHNORM,
    [OP_LSTM] = &OPDEF_LSTM, [OP_LSTM_BIDIR] = &OPDEF_LSTM_BIDIR,
    [OP_GRU] = &OPDEF_GRU, [OP_GRU_BIDIR] = &OPDEF_GRU_BIDIR,
};
/* One entry per OpId (as ggml checks GGML_OP_COUNT): an op added at the end
 * of the enum but not here makes the table short and stops the build; a
 * hole left in the middle is a NULL entry, which the op-table test finds. */
_Static_assert(sizeof OP_TABLE / sizeof OP_TABLE[0] == OP_COUNT, "OP_TABLE needs one entry per OpId");

const OpDef *op_find(const char *name)
{
    for (int i = 0; i < OP_COUNT; i++)
        if (!strcmp(OP_TABLE[i]->name, name)) return OP_TABLE[i];
    return NULL;
}
