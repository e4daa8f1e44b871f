/* Element-wise functions y = f(x). Backward: dL/dx = g * f'(x), where f'
 * is written in terms of x or of the output y when that is cheaper:
 *     exp:     y' = y              log:   1/x            sqrt: 1/(2y)
 *     tanh:    1 - y^2             sigmoid: y(1-y)
 *     relu:    [x > 0]             leaky_relu: x > 0 ? 1 : slope
 * (relu and leaky_relu take the derivative 0 / slope at exactly x = 0,
 * as PyTorch does.)
 */
#include <math.h>

#include "tensor/op_table.h"
#include "tensor/ops.h"
#include "tensor/threadpool.h"

/* Each op is written once by UNARY_OP(OpDef, name, y = f(x), dy/dx): the macro
 * expands to its forward loop, its backward loop and its OpDef, with the
 * expressions inlined so the compiler can vectorise both loops. Both loops
 * run over ranges of the elements on the thread pool (large tensors).
 * In the expressions: x = input, y = output, p = the op's parameter. */
typedef struct {
    const float *xs, *ys, *gy;
    float *out;     /* forward: y; backward: dL/dx */
    float p;
    bool assign;    /* backward: store (first writer of dL/dx) instead of add */
} UnaryJob;

#define UNARY_OP(DEF, NAME, FORWARD, DERIVATIVE)                                      \
    static void NAME##_backward_range(void *ctx, size_t lo, size_t hi)              \
    {                                                                               \
        const UnaryJob *j = ctx;                                                    \
        const float p = j->p;                                                       \
        (void)p;                                                                    \
        if (j->assign)                                                              \
            for (size_t i = lo; i < hi; i++) {                                      \
                const float x = j->xs[i], y = j->ys[i];                             \
                (void)x, (void)y;                                                   \
                j->out[i] = j->gy[i] * (DERIVATIVE);                                \
            }                                                                       \
        else                                                                        \
            for (size_t i = lo; i < hi; i++) {                                      \
                const float x = j->xs[i], y = j->ys[i];                             \
                (void)x, (void)y;                                                   \
                j->out[i] += j->gy[i] * (DERIVATIVE);                               \
            }                                                                       \
    }                                                                               \
    static void NAME##_backward(Tensor *out)                                        \
    {                                                                               \
        Tensor *in = out->src[0];                                                   \
        bool assign;                                                                \
        float *gx = tensor_grad_assign(in, &assign);                                \
        if (!gx) return;                                                            \
        UnaryJob j = {in->data, out->data, out->grad, gx, out->args.f[0], assign};  \
        threadpool_parallel_range(out->size, THREADPOOL_ELTWISE_CHUNK,              \
                                  NAME##_backward_range, &j);                       \
    }                                                                               \
    const OpDef OPDEF_##DEF = {#NAME, NAME##_backward};                            \
    static void NAME##_forward_range(void *ctx, size_t lo, size_t hi)               \
    {                                                                               \
        const UnaryJob *j = ctx;                                                    \
        const float p = j->p;                                                       \
        (void)p;                                                                    \
        for (size_t i = lo; i < hi; i++) {                                          \
            const float x = j->xs[i];                                               \
            j->out[i] = (FORWARD);                                                  \
        }                                                                           \
    }                                                                               \
    static Tensor *NAME##_forward(Graph *g, Tensor *in, float p)                    \
    {                                                                               \
        if (!in) return NULL;                                                       \
        Tensor *out = graph_op_output_uninit(g, &OPDEF_##DEF, in->ndim, in->shape,  \
                                             &in, 1);                               \
        if (!out) return NULL;                                                      \
        out->args.f[0] = p;                                                         \
        UnaryJob j = {in->data, NULL, NULL, out->data, p, false};                   \
        threadpool_parallel_range(in->size, THREADPOOL_ELTWISE_CHUNK,               \
                                  NAME##_forward_range, &j);                        \
        return out;                                                                 \
    }

/* Overflow-free logistic: split by sign so exp never overflows. */
static inline float logistic(float x)
{
    if (x >= 0) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

/*       OpDef       name        forward             derivative           */
UNARY_OP(EXP,        exp,        expf(x),            y)
UNARY_OP(LOG,        log,        logf(x),            1.0f / x)
UNARY_OP(SQRT,       sqrt,       sqrtf(x),           0.5f / y)
UNARY_OP(TANH,       tanh,       tanhf(x),           1.0f - y * y)
UNARY_OP(SIGMOID,    sigmoid,    logistic(x),        y * (1.0f - y))
UNARY_OP(RELU,       relu,       x > 0 ? x : 0.0f,   x > 0 ? 1.0f : 0.0f)
UNARY_OP(LEAKY_RELU, leaky_relu, x > 0 ? x : p * x,  x > 0 ? 1.0f : p)

Tensor *op_exp(Graph *g, Tensor *x) { return exp_forward(g, x, 0); }
Tensor *op_log(Graph *g, Tensor *x) { return log_forward(g, x, 0); }
Tensor *op_sqrt(Graph *g, Tensor *x) { return sqrt_forward(g, x, 0); }
Tensor *op_tanh(Graph *g, Tensor *x) { return tanh_forward(g, x, 0); }
Tensor *op_sigmoid(Graph *g, Tensor *x) { return sigmoid_forward(g, x, 0); }
Tensor *op_relu(Graph *g, Tensor *x) { return relu_forward(g, x, 0); }
Tensor *op_leaky_relu(Graph *g, Tensor *x, float slope) { return leaky_relu_forward(g, x, slope); }
