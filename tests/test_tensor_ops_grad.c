/* Finite-difference gradient checks of every op in the op table
 * (tensor/op_table.c), with random shapes, broadcasting cases and fixed
 * seeds. Each case names the op it covers, and
 * every_op_in_the_table_has_a_case walks OP_TABLE, so an op added without
 * a case fails the suite. Plus a proof that the checker catches a wrong
 * backward rule.
 *
 * Tolerances: the default (eps 1e-3, tol 2e-3, see tests/gradcheck.h) for
 * smooth ops; log/div/sqrt get inputs in [0.5, 2] so the curvature term
 * eps^2 f''' stays small. relu/leaky_relu/max/maxpool2d use inputs away
 * from the kink. The layers' tests check the same ops again in more
 * configurations (tests/test_layers_*.c). Each case prints its max error.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tensor/error.h"
#include "tensor/op_table.h"
#include "tensor/ops.h"
#include "tests/gradcheck.h"

enum { MAX_IN = 7 };

typedef struct {
    const char *op;     /* table name this case covers */
    GradcheckFn f;
    int n_in;
    int ndim[MAX_IN];
    int shape[MAX_IN][4];
    float lo, hi;       /* input range */
    double tol;
} Case;

static Tensor *f_add(Graph *g, Tensor *const *x, void *c) { (void)c; return op_add(g, x[0], x[1]); }
static Tensor *f_sub(Graph *g, Tensor *const *x, void *c) { (void)c; return op_sub(g, x[0], x[1]); }
static Tensor *f_mul(Graph *g, Tensor *const *x, void *c) { (void)c; return op_mul(g, x[0], x[1]); }
static Tensor *f_div(Graph *g, Tensor *const *x, void *c) { (void)c; return op_div(g, x[0], x[1]); }
static Tensor *f_neg(Graph *g, Tensor *const *x, void *c) { (void)c; return op_neg(g, x[0]); }
static Tensor *f_scale(Graph *g, Tensor *const *x, void *c) { (void)c; return op_scale(g, x[0], -1.7f); }
static Tensor *f_add_scalar(Graph *g, Tensor *const *x, void *c) { (void)c; return op_add_scalar(g, x[0], 0.3f); }
static Tensor *f_exp(Graph *g, Tensor *const *x, void *c) { (void)c; return op_exp(g, x[0]); }
static Tensor *f_log(Graph *g, Tensor *const *x, void *c) { (void)c; return op_log(g, x[0]); }
static Tensor *f_sqrt(Graph *g, Tensor *const *x, void *c) { (void)c; return op_sqrt(g, x[0]); }
static Tensor *f_tanh(Graph *g, Tensor *const *x, void *c) { (void)c; return op_tanh(g, x[0]); }
static Tensor *f_sigmoid(Graph *g, Tensor *const *x, void *c) { (void)c; return op_sigmoid(g, x[0]); }
static Tensor *f_relu(Graph *g, Tensor *const *x, void *c) { (void)c; return op_relu(g, x[0]); }
static Tensor *f_leaky(Graph *g, Tensor *const *x, void *c) { (void)c; return op_leaky_relu(g, x[0], 0.1f); }
static Tensor *f_matmul(Graph *g, Tensor *const *x, void *c) { (void)c; return op_matmul(g, x[0], x[1]); }
static Tensor *f_linear(Graph *g, Tensor *const *x, void *c) { (void)c; return op_linear(g, x[0], x[1], x[2]); }
static Tensor *f_reshape(Graph *g, Tensor *const *x, void *c)
{
    (void)c;
    int s[2] = {-1, 2};
    return op_reshape(g, x[0], 2, s);
}
static Tensor *f_permute(Graph *g, Tensor *const *x, void *c)
{
    (void)c;
    int p[3] = {2, 0, 1};
    return op_permute(g, x[0], p);
}
static Tensor *f_transpose(Graph *g, Tensor *const *x, void *c) { (void)c; return op_transpose(g, x[0], 0, -1); }
static Tensor *f_slice(Graph *g, Tensor *const *x, void *c) { (void)c; return op_slice(g, x[0], 1, 1, 2); }
static Tensor *f_concat(Graph *g, Tensor *const *x, void *c) { (void)c; return op_concat(g, x, 3, 1); }
static Tensor *f_gather(Graph *g, Tensor *const *x, void *c)
{
    (void)c;
    static const int index[5] = {2, -1, 0, 2, 3};   /* row 2 twice, row 1 never, a zero row */
    return op_gather_rows(g, x[0], index, 5);
}
static Tensor *f_sum_axis(Graph *g, Tensor *const *x, void *c) { (void)c; return op_sum(g, x[0], 1); }
static Tensor *f_sum_all(Graph *g, Tensor *const *x, void *c) { (void)c; return op_sum(g, x[0], OP_ALL_AXES); }
static Tensor *f_mean(Graph *g, Tensor *const *x, void *c) { (void)c; return op_mean(g, x[0], -1); }
static Tensor *f_max(Graph *g, Tensor *const *x, void *c) { (void)c; return op_max(g, x[0], 0); }
static Tensor *f_masked_mean(Graph *g, Tensor *const *x, void *c)
{
    (void)c;
    /* [3, 4] steps: a full row, a row with holes, an empty row (zeros) */
    static float m[12] = {1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0};
    Tensor mask = {.ndim = 2, .shape = {3, 4}, .size = 12, .data = m};
    return op_masked_mean(g, x[0], &mask);
}
static Tensor *f_softmax(Graph *g, Tensor *const *x, void *c) { (void)c; return op_softmax(g, x[0]); }
static Tensor *f_log_softmax(Graph *g, Tensor *const *x, void *c) { (void)c; return op_log_softmax(g, x[0]); }
static Tensor *f_ce(Graph *g, Tensor *const *x, void *c)
{
    (void)c;
    static const int labels[5] = {0, 3, 2, 3, 1};
    static const float cw[4] = {1.0f, 2.5f, 0.5f, 1.5f};
    static const float mask[5] = {1, 1, 0, 1, 1};
    return op_cross_entropy(g, x[0], labels, cw, mask);
}
static Tensor *f_dropout(Graph *g, Tensor *const *x, void *c) { (void)c; return op_dropout(g, x[0], 0.4f); }
static Tensor *f_dropout2d(Graph *g, Tensor *const *x, void *c) { (void)c; return op_dropout2d(g, x[0], 0.4f); }
/* stride 1 with padding 1 all round; stride 2 with uneven padding, no bias */
static Tensor *f_conv2d(Graph *g, Tensor *const *x, void *c) { (void)c; return op_conv2d(g, x[0], x[1], x[2], 1, 1, 1, 1, 1, 1); }
static Tensor *f_conv2d_strided(Graph *g, Tensor *const *x, void *c)
{
    (void)c;
    return op_conv2d(g, x[0], x[1], NULL, 2, 2, 0, 1, 1, 0);
}
static Tensor *f_maxpool(Graph *g, Tensor *const *x, void *c) { (void)c; return op_maxpool2d(g, x[0], 2, 2, 2, 2, 0, 0); }
static Tensor *f_maxpool_padded(Graph *g, Tensor *const *x, void *c) { (void)c; return op_maxpool2d(g, x[0], 3, 3, 2, 2, 1, 1); }
/* batch statistics (training, no running statistics) */
static Tensor *f_batchnorm(Graph *g, Tensor *const *x, void *c)
{
    (void)c;
    return op_batchnorm(g, x[0], x[1], x[2], NULL, NULL, 0.1f, 1e-5f);
}

/* The recurrent ops: x [3, 4, 3], H = 2; masks with right padding (an
 * empty sequence included) and with holes. */
static float RIGHT_PAD[12] = {1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0};
static float HOLES[12] = {0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0};
static Tensor RIGHT_PAD_MASK = {.ndim = 2, .shape = {3, 4}, .size = 12, .data = RIGHT_PAD};
static Tensor HOLES_MASK = {.ndim = 2, .shape = {3, 4}, .size = 12, .data = HOLES};

static Tensor *f_lstm(Graph *g, Tensor *const *x, void *c)
{
    (void)c;
    return op_lstm(g, x[0], x[1], x[2], x[3], &RIGHT_PAD_MASK, false, true);
}
static Tensor *f_lstm_last(Graph *g, Tensor *const *x, void *c)   /* reverse, final state, no bias */
{
    (void)c;
    return op_lstm(g, x[0], x[1], x[2], NULL, &HOLES_MASK, true, false);
}
static Tensor *f_lstm_bidir(Graph *g, Tensor *const *x, void *c)
{
    (void)c;
    Tensor *const w_ih[2] = {x[1], x[4]}, *const w_hh[2] = {x[2], x[5]}, *const bias[2] = {x[3], x[6]};
    return op_lstm_bidir(g, x[0], w_ih, w_hh, bias, &HOLES_MASK, true);
}
static Tensor *f_gru(Graph *g, Tensor *const *x, void *c)
{
    (void)c;
    return op_gru(g, x[0], x[1], x[2], x[3], &HOLES_MASK, false, true);
}
static Tensor *f_gru_last(Graph *g, Tensor *const *x, void *c)
{
    (void)c;
    return op_gru(g, x[0], x[1], x[2], NULL, &RIGHT_PAD_MASK, true, false);
}
static Tensor *f_gru_bidir(Graph *g, Tensor *const *x, void *c)
{
    (void)c;
    Tensor *const w_ih[2] = {x[1], x[4]}, *const w_hh[2] = {x[2], x[5]}, *const bias[2] = {x[3], x[6]};
    return op_gru_bidir(g, x[0], w_ih, w_hh, bias, &RIGHT_PAD_MASK, false);
}

#define S1(a) {a}
static const Case CASES[] = {
    {"add", f_add, 2, {3, 2}, {{2, 3, 4}, {3, 1}}, -1, 1, 0},          /* broadcast b over rows */
    {"add", f_add, 2, {2, 2}, {{3, 4}, {3, 4}}, -1, 1, 0},
    {"sub", f_sub, 2, {2, 3}, {{1, 4}, {2, 3, 4}}, -1, 1, 0},          /* broadcast a */
    {"mul", f_mul, 2, {3, 3}, {{2, 1, 4}, {1, 3, 4}}, -1, 1, 0},       /* both stretch */
    {"div", f_div, 2, {2, 1}, {{3, 4}, {4}}, 0.5f, 2, 0},
    {"neg", f_neg, 1, {2}, {{3, 5}}, -1, 1, 0},
    {"scale", f_scale, 1, {3}, {{2, 2, 3}}, -1, 1, 0},
    {"add_scalar", f_add_scalar, 1, {1}, {{7}}, -1, 1, 0},
    {"exp", f_exp, 1, {2}, {{3, 4}}, -2, 2, 0},
    {"log", f_log, 1, {2}, {{3, 4}}, 0.5f, 2, 0},
    {"sqrt", f_sqrt, 1, {2}, {{3, 4}}, 0.5f, 2, 0},
    {"tanh", f_tanh, 1, {2}, {{3, 4}}, -2, 2, 0},
    {"sigmoid", f_sigmoid, 1, {2}, {{3, 4}}, -4, 4, 0},
    {"relu", f_relu, 1, {2}, {{3, 4}}, -1, 1, 0},
    {"leaky_relu", f_leaky, 1, {2}, {{3, 4}}, -1, 1, 0},
    {"matmul", f_matmul, 2, {2, 2}, {{3, 5}, {5, 4}}, -1, 1, 0},
    {"matmul", f_matmul, 2, {3, 3}, {{2, 3, 4}, {2, 4, 2}}, -1, 1, 0},
    {"matmul", f_matmul, 2, {3, 2}, {{2, 3, 4}, {4, 5}}, -1, 1, 0},
    {"linear", f_linear, 3, {3, 2, 1}, {{2, 3, 4}, {5, 4}, {5}}, -1, 1, 0},
    {"reshape", f_reshape, 1, {3}, {{2, 3, 2}}, -1, 1, 0},
    {"permute", f_permute, 1, {3}, {{2, 3, 4}}, -1, 1, 0},
    {"permute", f_transpose, 1, {2}, {{3, 5}}, -1, 1, 0},
    {"slice", f_slice, 1, {3}, {{2, 4, 3}}, -1, 1, 0},
    {"concat", f_concat, 3, {2, 2, 2}, {{2, 1}, {2, 3}, {2, 2}}, -1, 1, 0},
    {"gather_rows", f_gather, 1, {3}, {{4, 2, 3}}, -1, 1, 0},
    {"sum", f_sum_axis, 1, {3}, {{2, 3, 4}}, -1, 1, 0},
    {"sum", f_sum_all, 1, {2}, {{3, 4}}, -1, 1, 0},
    {"mean", f_mean, 1, {3}, {{2, 3, 4}}, -1, 1, 0},
    {"max", f_max, 1, {2}, {{4, 3}}, -1, 1, 0},
    {"masked_mean", f_masked_mean, 1, {3}, {{3, 4, 5}}, -1, 1, 0},
    {"softmax", f_softmax, 1, {2}, {{3, 5}}, -2, 2, 0},
    {"log_softmax", f_log_softmax, 1, {3}, {{2, 2, 5}}, -2, 2, 0},
    {"cross_entropy", f_ce, 1, {2}, {{5, 4}}, -2, 2, 0},
    {"dropout", f_dropout, 1, {2}, {{4, 5}}, -1, 1, 0},
    {"dropout2d", f_dropout2d, 1, {4}, {{2, 3, 2, 2}}, -1, 1, 0},
    {"conv2d", f_conv2d, 3, {4, 4, 1}, {{2, 2, 4, 4}, {3, 2, 3, 3}, {3}}, -1, 1, 0},
    {"conv2d", f_conv2d_strided, 2, {4, 4}, {{1, 2, 5, 4}, {2, 2, 2, 3}}, -1, 1, 0},
    {"maxpool2d", f_maxpool, 1, {4}, {{2, 2, 4, 4}}, -1, 1, 0},
    {"maxpool2d", f_maxpool_padded, 1, {4}, {{1, 2, 5, 5}}, -1, 1, 0},
    {"batchnorm", f_batchnorm, 3, {3, 1, 1}, {{4, 3, 2}, {3}, {3}}, -1, 1, 0},
    {"lstm", f_lstm, 4, {3, 2, 2, 1}, {{3, 4, 3}, {8, 3}, {8, 2}, {16}}, -1, 1, 0},
    {"lstm", f_lstm_last, 3, {3, 2, 2}, {{3, 4, 3}, {8, 3}, {8, 2}}, -1, 1, 0},
    {"lstm_bidir", f_lstm_bidir, 7, {3, 2, 2, 1, 2, 2, 1}, {{3, 4, 3}, {8, 3}, {8, 2}, {16}, {8, 3}, {8, 2}, {16}}, -1, 1, 0},
    {"gru", f_gru, 4, {3, 2, 2, 1}, {{3, 4, 3}, {6, 3}, {6, 2}, {12}}, -1, 1, 0},
    {"gru", f_gru_last, 3, {3, 2, 2}, {{3, 4, 3}, {6, 3}, {6, 2}}, -1, 1, 0},
    {"gru_bidir", f_gru_bidir, 7, {3, 2, 2, 1, 2, 2, 1}, {{3, 4, 3}, {6, 3}, {6, 2}, {12}, {6, 3}, {6, 2}, {12}}, -1, 1, 0},
};
enum { N_CASES = sizeof CASES / sizeof CASES[0] };

/* Moves values within 0.05 of the kink at 0 away from it (relu, max ties). */
static void avoid_kinks(Tensor *t)
{
    for (size_t i = 0; i < t->size; i++)
        if (fabsf(t->data[i]) < 0.05f) t->data[i] = t->data[i] < 0 ? -0.05f - t->data[i] : 0.05f + t->data[i];
}

static void every_op_passes_gradcheck(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 2026, 11);
    int failures = 0;
    for (int c = 0; c < N_CASES; c++) {
        const Case *k = &CASES[c];
        Tensor *in[MAX_IN] = {0};
        for (int i = 0; i < k->n_in; i++) {
            in[i] = gc_param(&r, k->ndim[i], k->shape[i], k->lo, k->hi);
            assert_non_null(in[i]);
            avoid_kinks(in[i]);
        }
        GradcheckOptions opt = {1e-3, k->tol ? k->tol : 2e-3, true};
        double err;
        int rc = gradcheck(k->f, in, k->n_in, NULL, &opt, &err);
        printf("  gradcheck %-14s max error %.2e (tol %.0e)%s\n", k->op, err, opt.tol, rc ? "  FAILED" : "");
        failures += rc != 0;
        for (int i = 0; i < k->n_in; i++) tensor_free(in[i]);
    }
    assert_int_equal(failures, 0);
}

/* The op table itself: every entry present, every name once. */
static void op_table_is_complete(void **state)
{
    (void)state;
    for (int i = 0; i < OP_COUNT; i++) {
        if (!OP_TABLE[i]) fail_msg("OP_TABLE[%d] is empty", i);
        assert_non_null(OP_TABLE[i]->backward);
        assert_ptr_equal(op_find(OP_TABLE[i]->name), OP_TABLE[i]);
        for (int j = 0; j < i; j++)
            if (!strcmp(OP_TABLE[i]->name, OP_TABLE[j]->name)) fail_msg("op name %s twice", OP_TABLE[i]->name);
    }
    assert_null(op_find("no such op"));
}

/* Every op in OP_TABLE has at least one finite-difference case above (by
 * name), and every case names an op of the table. */
static void every_op_in_the_table_has_a_case(void **state)
{
    (void)state;
    int missing = 0;
    for (int i = 0; i < OP_COUNT; i++) {
        int found = 0;
        if (!OP_TABLE[i]) fail_msg("OP_TABLE[%d] is empty", i);
        for (int c = 0; c < N_CASES; c++) found |= !strcmp(CASES[c].op, OP_TABLE[i]->name);
        if (!found) printf("  op %s (OP_TABLE[%d]) has no gradient check in tests/test_tensor_ops_grad.c\n",
                           OP_TABLE[i]->name, i);
        missing += !found;
    }
    for (int c = 0; c < N_CASES; c++)
        if (!op_find(CASES[c].op)) fail_msg("a case for '%s', which is not in OP_TABLE", CASES[c].op);
    assert_int_equal(missing, 0);
}

/* A deliberately wrong backward (d(x^2)/dx taken as 2.2x): the checker must fail. */
static void square_wrong_backward(Tensor *y)
{
    Tensor *x = y->src[0];
    float *gx = tensor_grad(x);
    for (size_t i = 0; i < y->size; i++) gx[i] += y->grad[i] * 2.2f * x->data[i];
}
static const OpDef OPDEF_BAD_SQUARE = {"bad_square", square_wrong_backward};
static Tensor *f_bad_square(Graph *g, Tensor *const *in, void *c)
{
    (void)c;
    Tensor *x = in[0];
    Tensor *y = graph_op_output(g, &OPDEF_BAD_SQUARE, x->ndim, x->shape, &x, 1);
    for (size_t i = 0; y && i < x->size; i++) y->data[i] = x->data[i] * x->data[i];
    return y;
}

static void checker_catches_a_wrong_backward(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 5, 5);
    int shape[2] = {3, 3};
    Tensor *x = gc_param(&r, 2, shape, -1, 1);
    double err;
    assert_int_equal(gradcheck(f_bad_square, &x, 1, NULL, NULL, &err), -1);
    assert_true(err > 0.01);
    tensor_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_op_passes_gradcheck),
        cmocka_unit_test(op_table_is_complete),
        cmocka_unit_test(every_op_in_the_table_has_a_case),
        cmocka_unit_test(checker_catches_a_wrong_backward),
    };
    return cmocka_run_group_tests_name("tensor: op gradients", tests, NULL, NULL);
}
