/* Element-wise functions y = f(x). Backward: dL/dx = g * f'(x), where f'
 * is written in terms of x or of the output y when that is cheaper:
 *     exp:     y' = y              log:   1/x            sqrt: 1/(2y)
 *     tanh:    1 - y^2             sigmoid: y(1-y)
 *     relu:    [x > 0]             leaky_relu: x > 0 ? 1 : slope
 * (relu and leaky_relu take the derivative 0 / slope at exactly x = 0,
 * as PyTorch does.)
 */
#include <math.h>

#include "tensor/op_defs.h"
#include "tensor/ops.h"

typedef struct {
    float (*f)(float x, float param);
    float (*df)(float x, float y, float param);   /* dy/dx */
} UnaryRule;

static float exp_f(float x, float p) { (void)p; return expf(x); }
static float exp_df(float x, float y, float p) { (void)x; (void)p; return y; }
static float log_f(float x, float p) { (void)p; return logf(x); }
static float log_df(float x, float y, float p) { (void)y; (void)p; return 1.0f / x; }
static float sqrt_f(float x, float p) { (void)p; return sqrtf(x); }
static float sqrt_df(float x, float y, float p) { (void)x; (void)p; return 0.5f / y; }
static float tanh_f(float x, float p) { (void)p; return tanhf(x); }
static float tanh_df(float x, float y, float p) { (void)x; (void)p; return 1.0f - y * y; }
static float sigmoid_f(float x, float p)
{
    (void)p;
    /* Split by sign so exp never overflows. */
    if (x >= 0) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}
static float sigmoid_df(float x, float y, float p) { (void)x; (void)p; return y * (1.0f - y); }
static float relu_f(float x, float p) { (void)p; return x > 0 ? x : 0.0f; }
static float relu_df(float x, float y, float p) { (void)y; (void)p; return x > 0 ? 1.0f : 0.0f; }
static float leaky_f(float x, float slope) { return x > 0 ? x : slope * x; }
static float leaky_df(float x, float y, float slope) { (void)y; return x > 0 ? 1.0f : slope; }

static const UnaryRule RULE_EXP = {exp_f, exp_df}, RULE_LOG = {log_f, log_df},
                       RULE_SQRT = {sqrt_f, sqrt_df}, RULE_TANH = {tanh_f, tanh_df},
                       RULE_SIGMOID = {sigmoid_f, sigmoid_df}, RULE_RELU = {relu_f, relu_df},
                       RULE_LEAKY = {leaky_f, leaky_df};

/* args.f[0] = the rule's parameter (leaky slope). */
static Tensor *unary_forward(Graph *g, const OpDef *def, const UnaryRule *rule, Tensor *x, float param)
{
    if (!x) return NULL;
    Tensor *y = graph_op_output(g, def, x->ndim, x->shape, &x, 1);
    if (!y) return NULL;
    y->args.f[0] = param;
    for (size_t i = 0; i < x->size; i++) y->data[i] = rule->f(x->data[i], param);
    return y;
}

static void unary_backward(Tensor *y, const UnaryRule *rule)
{
    Tensor *x = y->src[0];
    float *gx = tensor_grad(x);
    if (!gx) return;
    for (size_t i = 0; i < y->size; i++) gx[i] += y->grad[i] * rule->df(x->data[i], y->data[i], y->args.f[0]);
}

static void exp_backward(Tensor *y) { unary_backward(y, &RULE_EXP); }
static void log_backward(Tensor *y) { unary_backward(y, &RULE_LOG); }
static void sqrt_backward(Tensor *y) { unary_backward(y, &RULE_SQRT); }
static void tanh_backward(Tensor *y) { unary_backward(y, &RULE_TANH); }
static void sigmoid_backward(Tensor *y) { unary_backward(y, &RULE_SIGMOID); }
static void relu_backward(Tensor *y) { unary_backward(y, &RULE_RELU); }
static void leaky_backward(Tensor *y) { unary_backward(y, &RULE_LEAKY); }

const OpDef OPDEF_EXP = {"exp", exp_backward};
const OpDef OPDEF_LOG = {"log", log_backward};
const OpDef OPDEF_SQRT = {"sqrt", sqrt_backward};
const OpDef OPDEF_TANH = {"tanh", tanh_backward};
const OpDef OPDEF_SIGMOID = {"sigmoid", sigmoid_backward};
const OpDef OPDEF_RELU = {"relu", relu_backward};
const OpDef OPDEF_LEAKY_RELU = {"leaky_relu", leaky_backward};

Tensor *op_exp(Graph *g, Tensor *x) { return unary_forward(g, &OPDEF_EXP, &RULE_EXP, x, 0); }
Tensor *op_log(Graph *g, Tensor *x) { return unary_forward(g, &OPDEF_LOG, &RULE_LOG, x, 0); }
Tensor *op_sqrt(Graph *g, Tensor *x) { return unary_forward(g, &OPDEF_SQRT, &RULE_SQRT, x, 0); }
Tensor *op_tanh(Graph *g, Tensor *x) { return unary_forward(g, &OPDEF_TANH, &RULE_TANH, x, 0); }
Tensor *op_sigmoid(Graph *g, Tensor *x) { return unary_forward(g, &OPDEF_SIGMOID, &RULE_SIGMOID, x, 0); }
Tensor *op_relu(Graph *g, Tensor *x) { return unary_forward(g, &OPDEF_RELU, &RULE_RELU, x, 0); }
Tensor *op_leaky_relu(Graph *g, Tensor *x, float slope)
{
    return unary_forward(g, &OPDEF_LEAKY_RELU, &RULE_LEAKY, x, slope);
}
