/* Element-wise arithmetic with NumPy broadcasting.
 *
 * Broadcasting: shapes are right-aligned; each output dimension is the
 * larger of the two, and an input dimension of 1 (or a missing leading one)
 * is read with stride 0. For y = f(a, b) the chain rule gives
 *     dL/da[j] = sum over the output elements i that read a[j] of g[i] * df/da
 * so the backward walks the same index map and accumulates.
 */
#include <stdio.h>
#include <string.h>

#include "tensor/error.h"
#include "tensor/op_table.h"
#include "tensor/ops.h"

/* Index map of a broadcast: output shape and each input's strides (0 on a
 * stretched dimension). */
typedef struct {
    int ndim;
    int shape[TENSOR_MAX_DIMS];
    size_t stride_a[TENSOR_MAX_DIMS], stride_b[TENSOR_MAX_DIMS];
} Broadcast;

static void input_strides(const Tensor *t, int ndim, size_t *stride)
{
    size_t s = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        int td = d - (ndim - t->ndim);   /* aligned dimension of t, <0 if missing */
        int n = td >= 0 ? t->shape[td] : 1;
        stride[d] = n == 1 ? 0 : s;
        s *= (size_t)n;
    }
}

static int broadcast_plan(const char *op, const Tensor *a, const Tensor *b, Broadcast *bc)
{
    bc->ndim = a->ndim > b->ndim ? a->ndim : b->ndim;
    for (int d = 0; d < bc->ndim; d++) {
        int da = d - (bc->ndim - a->ndim), db = d - (bc->ndim - b->ndim);
        int na = da >= 0 ? a->shape[da] : 1, nb = db >= 0 ? b->shape[db] : 1;
        if (na != nb && na != 1 && nb != 1) {
            char sa[64], sb[64];
            return meld_errorf("%s: %s and %s: shapes do not broadcast", op,
                               shape_str(a, sa, sizeof sa), shape_str(b, sb, sizeof sb));
        }
        bc->shape[d] = na == 1 ? nb : na;
    }
    input_strides(a, bc->ndim, bc->stride_a);
    input_strides(b, bc->ndim, bc->stride_b);
    return MELD_OK;
}

/* The scalar rule of one binary op: value, and both partial derivatives. */
typedef struct {
    float (*f)(float a, float b);
    float (*dfa)(float a, float b);
    float (*dfb)(float a, float b);
} BinaryRule;

static float add_f(float a, float b) { return a + b; }
static float sub_f(float a, float b) { return a - b; }
static float mul_f(float a, float b) { return a * b; }
static float div_f(float a, float b) { return a / b; }
static float one(float a, float b) { (void)a; (void)b; return 1.0f; }
static float minus_one(float a, float b) { (void)a; (void)b; return -1.0f; }
static float take_b(float a, float b) { (void)a; return b; }
static float take_a(float a, float b) { (void)b; return a; }
static float div_da(float a, float b) { (void)a; return 1.0f / b; }        /* d(a/b)/da */
static float div_db(float a, float b) { return -a / (b * b); }             /* d(a/b)/db */

static const BinaryRule RULE_ADD = {add_f, one, one};
static const BinaryRule RULE_SUB = {sub_f, one, minus_one};
static const BinaryRule RULE_MUL = {mul_f, take_b, take_a};
static const BinaryRule RULE_DIV = {div_f, div_da, div_db};

/* Visits every output element i with its input offsets (oa, ob), row-major. */
#define FOR_BROADCAST(bc, i, oa, ob, BODY)                                        \
    do {                                                                          \
        int idx_[TENSOR_MAX_DIMS] = {0};                                          \
        size_t oa = 0, ob = 0, total_ = 1;                                        \
        for (int d_ = 0; d_ < (bc)->ndim; d_++) total_ *= (size_t)(bc)->shape[d_]; \
        for (size_t i = 0; i < total_; i++) {                                     \
            BODY;                                                                 \
            for (int d_ = (bc)->ndim - 1; d_ >= 0; d_--) {                        \
                if (++idx_[d_] < (bc)->shape[d_]) {                               \
                    oa += (bc)->stride_a[d_];                                     \
                    ob += (bc)->stride_b[d_];                                     \
                    break;                                                        \
                }                                                                 \
                oa -= (bc)->stride_a[d_] * (size_t)((bc)->shape[d_] - 1);         \
                ob -= (bc)->stride_b[d_] * (size_t)((bc)->shape[d_] - 1);         \
                idx_[d_] = 0;                                                     \
            }                                                                     \
        }                                                                         \
    } while (0)

static Tensor *binary_forward(Graph *g, const OpDef *def, const BinaryRule *rule, Tensor *a, Tensor *b)
{
    if (!a || !b) return NULL;
    Broadcast bc;
    if (broadcast_plan(def->name, a, b, &bc) != MELD_OK) return NULL;
    Tensor *src[2] = {a, b};
    Tensor *y = graph_op_output(g, def, bc.ndim, bc.shape, src, 2);
    if (!y) return NULL;
    const float *pa = a->data, *pb = b->data;
    float *py = y->data;
    if (shape_equal(a, b)) {
        for (size_t i = 0; i < y->size; i++) py[i] = rule->f(pa[i], pb[i]);
    } else {
        FOR_BROADCAST(&bc, i, oa, ob, py[i] = rule->f(pa[oa], pb[ob]));
    }
    return y;
}

static void binary_backward(Tensor *y, const BinaryRule *rule)
{
    Tensor *a = y->src[0], *b = y->src[1];
    float *ga = tensor_grad(a), *gb = tensor_grad(b);
    const float *pa = a->data, *pb = b->data, *gy = y->grad;
    Broadcast bc;
    broadcast_plan(y->op->name, a, b, &bc);   /* succeeded in forward */
    FOR_BROADCAST(&bc, i, oa, ob, {
        if (ga) ga[oa] += gy[i] * rule->dfa(pa[oa], pb[ob]);
        if (gb) gb[ob] += gy[i] * rule->dfb(pa[oa], pb[ob]);
    });
}

static void add_backward(Tensor *y) { binary_backward(y, &RULE_ADD); }
static void sub_backward(Tensor *y) { binary_backward(y, &RULE_SUB); }
static void mul_backward(Tensor *y) { binary_backward(y, &RULE_MUL); }
static void div_backward(Tensor *y) { binary_backward(y, &RULE_DIV); }

const OpDef OPDEF_ADD = {"add", add_backward};
const OpDef OPDEF_SUB = {"sub", sub_backward};
const OpDef OPDEF_MUL = {"mul", mul_backward};
const OpDef OPDEF_DIV = {"div", div_backward};

Tensor *op_add(Graph *g, Tensor *a, Tensor *b) { return binary_forward(g, &OPDEF_ADD, &RULE_ADD, a, b); }
Tensor *op_sub(Graph *g, Tensor *a, Tensor *b) { return binary_forward(g, &OPDEF_SUB, &RULE_SUB, a, b); }
Tensor *op_mul(Graph *g, Tensor *a, Tensor *b) { return binary_forward(g, &OPDEF_MUL, &RULE_MUL, a, b); }
Tensor *op_div(Graph *g, Tensor *a, Tensor *b) { return binary_forward(g, &OPDEF_DIV, &RULE_DIV, a, b); }

/* ---- y = s*a + c: neg (s=-1,c=0), scale (s,0), add_scalar (1,c) ---------
 * dL/da = s * g. args.f[0] = s, args.f[1] = c. */
static Tensor *affine_forward(Graph *g, const OpDef *def, Tensor *a, float s, float c)
{
    if (!a) return NULL;
    Tensor *y = graph_op_output(g, def, a->ndim, a->shape, &a, 1);
    if (!y) return NULL;
    y->args.f[0] = s;
    y->args.f[1] = c;
    for (size_t i = 0; i < a->size; i++) y->data[i] = s * a->data[i] + c;
    return y;
}

static void affine_backward(Tensor *y)
{
    float *ga = tensor_grad(y->src[0]);
    if (!ga) return;
    float s = y->args.f[0];
    for (size_t i = 0; i < y->size; i++) ga[i] += s * y->grad[i];
}

const OpDef OPDEF_NEG = {"neg", affine_backward};
const OpDef OPDEF_SCALE = {"scale", affine_backward};
const OpDef OPDEF_ADD_SCALAR = {"add_scalar", affine_backward};

Tensor *op_neg(Graph *g, Tensor *a) { return affine_forward(g, &OPDEF_NEG, a, -1.0f, 0.0f); }
Tensor *op_scale(Graph *g, Tensor *a, float s) { return affine_forward(g, &OPDEF_SCALE, a, s, 0.0f); }
Tensor *op_add_scalar(Graph *g, Tensor *a, float c) { return affine_forward(g, &OPDEF_ADD_SCALAR, a, 1.0f, c); }
