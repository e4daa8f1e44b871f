/* The feed-forward layers without convolution: Dense, activations, Flatten,
 * Dropout, Dropout2d, BatchNorm1d/2d, TimeDistributed.
 *
 * Every layer is gradient-checked by finite differences (tests/gradcheck.h)
 * with respect to its input and its parameters, on small fixed-seed shapes;
 * each check prints its max error. Tolerances are gradcheck's defaults
 * (eps 1e-3, tol 2e-3) unless the case says otherwise. Behaviour tests pin
 * the semantics that parity fixtures cannot (mask structure, running
 * statistics, initialisation bounds, error messages).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "layers/layers.h"
#include "tensor/error.h"
#include "tensor/ops.h"
#include "tests/gradcheck.h"

/* ---- gradcheck of a layer: inputs = {x, params...} ----------------------- */

static Tensor *f_layer(Graph *g, Tensor *const *in, void *ctx)
{
    return layer_forward((Layer *)ctx, g, in[0], NULL);
}

/* Checks d layer(x) / d{x, params} and prints the max error. */
static void check_layer(Layer *l, Tensor *x, bool training, const char *label)
{
    assert_non_null(l);
    Tensor *in[1 + LAYER_MAX_PARAMS] = {x};
    for (int i = 0; i < l->n_params; i++) in[1 + i] = l->params[i];
    GradcheckOptions opt = {.training = training};
    double err = 0;
    int rc = gradcheck(f_layer, in, 1 + l->n_params, l, &opt, &err);
    printf("  gradcheck %-34s max error %.2e\n", label, err);
    assert_int_equal(rc, 0);
}

static Tensor *input(Rng *r, int ndim, const int *shape)
{
    Tensor *x = gc_param(r, ndim, shape, -1.0f, 1.0f);
    assert_non_null(x);
    return x;
}

/* ---- Dense ---------------------------------------------------------------- */

static void dense_gradcheck(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 1, 1);
    Layer *l = dense_new("fc", 5, 3, true, &r);
    Tensor *x = input(&r, 3, (int[]){2, 3, 5});   /* acts on the last axis */
    check_layer(l, x, true, "Dense [2,3,5] -> [2,3,3]");
    layer_free(l);
    l = dense_new("fc", 4, 2, false, &r);
    Tensor *x2 = input(&r, 2, (int[]){3, 4});
    check_layer(l, x2, true, "Dense no bias");
    layer_free(l);
    tensor_free(x);
    tensor_free(x2);
}

/* PyTorch's default: every weight and bias in [-1/sqrt(in), 1/sqrt(in)),
 * and the draws actually fill that range (not a constant). */
static void dense_init_is_pytorch_default(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 2, 1);
    Layer *l = dense_new("fc", 64, 32, true, &r);
    assert_non_null(l);
    assert_int_equal(l->n_params, 2);
    assert_string_equal(l->params[0]->name, "fc.weight");
    assert_string_equal(l->params[1]->name, "fc.bias");
    assert_int_equal(l->params[0]->shape[0], 32);
    assert_int_equal(l->params[0]->shape[1], 64);
    float bound = 1.0f / 8.0f, lo = 1, hi = -1;
    for (int p = 0; p < 2; p++)
        for (size_t i = 0; i < l->params[p]->size; i++) {
            float v = l->params[p]->data[i];
            assert_true(v >= -bound && v < bound);
            lo = fminf(lo, v), hi = fmaxf(hi, v);
        }
    assert_true(lo < -0.9f * bound && hi > 0.9f * bound);
    assert_int_equal(layer_param_count(l), 64 * 32 + 32);
    layer_free(l);
}

static void dense_rejects_bad_input(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 3, 1);
    assert_null(dense_new("fc", 0, 3, true, &r));
    assert_non_null(strstr(meld_error(), "Dense 'fc'"));
    assert_null(dense_new("", 2, 3, true, &r));
    Layer *l = dense_new("fc", 4, 3, true, &r);
    Graph g;
    graph_init(&g, 1);
    Tensor *x = tensor_new(&g.arena, 2, (int[]){2, 5});
    assert_null(layer_forward(l, &g, x, NULL));
    assert_non_null(strstr(meld_error(), "Dense 'fc'"));
    assert_non_null(strstr(meld_error(), "[2,5]"));
    graph_free(&g);
    layer_free(l);
}

/* ---- activations and Flatten ---------------------------------------------- */

/* Inputs kept away from the kink at 0 (|x| >= 0.1) for ReLU/LeakyReLU. */
static Tensor *input_off_kink(Rng *r, int ndim, const int *shape)
{
    Tensor *x = input(r, ndim, shape);
    for (size_t i = 0; i < x->size; i++) x->data[i] = (x->data[i] < 0 ? -0.1f : 0.1f) + 0.9f * x->data[i];
    return x;
}

static void activations_gradcheck(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 4, 1);
    Tensor *x = input_off_kink(&r, 2, (int[]){3, 4});
    Layer *ls[3] = {relu_new("act"), leaky_relu_new("act", 0.2f), tanh_new("act")};
    const char *labels[3] = {"ReLU", "LeakyReLU(0.2)", "Tanh"};
    for (int i = 0; i < 3; i++) {
        check_layer(ls[i], x, true, labels[i]);
        layer_free(ls[i]);
    }
    tensor_free(x);
}

static void activations_values(void **state)
{
    (void)state;
    Graph g;
    graph_init(&g, 1);
    float v[4] = {-2.0f, -0.5f, 0.0f, 3.0f};
    Tensor *x = tensor_from_buffer(&g.arena, 1, (int[]){4}, v);
    Layer *relu = relu_new("r"), *leaky = leaky_relu_new("l", 0.01f), *th = tanh_new("t");
    Tensor *a = layer_forward(relu, &g, x, NULL), *b = layer_forward(leaky, &g, x, NULL);
    Tensor *c = layer_forward(th, &g, x, NULL);
    float ea[4] = {0, 0, 0, 3}, eb[4] = {-0.02f, -0.005f, 0, 3};
    for (int i = 0; i < 4; i++) {
        assert_float_equal(a->data[i], ea[i], 0);
        assert_float_equal(b->data[i], eb[i], 1e-7);
        assert_float_equal(c->data[i], tanhf(v[i]), 1e-6);
    }
    layer_free(relu);
    layer_free(leaky);
    layer_free(th);
    graph_free(&g);
}

static void flatten_keeps_order(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 5, 1);
    Layer *l = flatten_new("flat");
    Tensor *x = input(&r, 4, (int[]){2, 3, 2, 2});
    Graph g;
    graph_init(&g, 1);
    Tensor *y = layer_forward(l, &g, x, NULL);
    assert_non_null(y);
    assert_int_equal(y->ndim, 2);
    assert_int_equal(y->shape[0], 2);
    assert_int_equal(y->shape[1], 12);
    assert_memory_equal(y->data, x->data, x->size * sizeof(float));
    graph_free(&g);
    check_layer(l, x, true, "Flatten [2,3,2,2] -> [2,12]");
    layer_free(l);
    tensor_free(x);
}

/* ---- Dropout and Dropout2d ------------------------------------------------ */

static void dropout_layers_gradcheck(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 6, 1);
    Tensor *x = input(&r, 4, (int[]){2, 3, 2, 2});
    Layer *d = dropout_new("drop", 0.4f), *d2 = dropout2d_new("sdrop", 0.4f);
    check_layer(d, x, true, "Dropout(0.4) training");
    check_layer(d2, x, true, "Dropout2d(0.4) training");
    check_layer(d2, x, false, "Dropout2d(0.4) eval");
    layer_free(d);
    layer_free(d2);
    tensor_free(x);
}

/* Each (n, c) map is either all zero or all x / (1-p); the fraction of
 * dropped maps is near p; eval is the identity. */
static void dropout2d_drops_whole_maps(void **state)
{
    (void)state;
    const int N = 20, C = 50, H = 3, W = 4;
    const float p = 0.3f;
    Graph g;
    graph_init(&g, 42);
    Tensor *x = tensor_full(&g.arena, 4, (int[]){N, C, H, W}, 1.0f);
    Tensor *y = op_dropout2d(&g, x, p);
    assert_non_null(y);
    int dropped = 0;
    for (int m = 0; m < N * C; m++) {
        const float *map = y->data + (size_t)m * H * W;
        for (int i = 1; i < H * W; i++) assert_float_equal(map[i], map[0], 0);
        if (map[0] == 0.0f) dropped++;
        else assert_float_equal(map[0], 1.0f / (1.0f - p), 1e-6);
    }
    double frac = (double)dropped / (N * C);
    printf("  dropout2d: %d of %d maps dropped (%.3f, p = %.2f)\n", dropped, N * C, frac, p);
    /* 1000 Bernoulli(0.3) draws: std 0.0145; 5 sigma. */
    assert_true(fabs(frac - p) < 0.075);
    g.training = false;
    Tensor *e = op_dropout2d(&g, x, p);
    assert_memory_equal(e->data, x->data, x->size * sizeof(float));
    /* rank 2 is refused: there are no maps to drop */
    assert_null(op_dropout2d(&g, tensor_new(&g.arena, 2, (int[]){2, 3}), p));
    assert_non_null(strstr(meld_error(), "dropout2d"));
    graph_free(&g);
    assert_null(dropout2d_new("d", 1.0f));
}

/* ---- BatchNorm ------------------------------------------------------------ */

static void batchnorm_gradcheck(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 7, 1);
    Layer *bn1 = batchnorm1d_new("bn", 3, BN_DEFAULT_EPS, BN_DEFAULT_MOMENTUM);
    Layer *bn2 = batchnorm2d_new("bn", 2, BN_DEFAULT_EPS, BN_DEFAULT_MOMENTUM);
    assert_non_null(bn1);
    assert_non_null(bn2);
    /* Non-trivial gamma/beta and running statistics. */
    Layer *ls[2] = {bn1, bn2};
    for (int k = 0; k < 2; k++) {
        tensor_fill_uniform(ls[k]->params[0], &r, 0.5f, 1.5f);
        tensor_fill_uniform(ls[k]->params[1], &r, -0.5f, 0.5f);
        tensor_fill_uniform(ls[k]->buffers[0], &r, -0.3f, 0.3f);
        tensor_fill_uniform(ls[k]->buffers[1], &r, 0.5f, 2.0f);
    }
    Tensor *x2 = input(&r, 2, (int[]){5, 3});
    Tensor *x3 = input(&r, 3, (int[]){3, 3, 4});
    Tensor *x4 = input(&r, 4, (int[]){2, 2, 3, 2});
    check_layer(bn1, x2, true, "BatchNorm1d [5,3] training");
    check_layer(bn1, x3, true, "BatchNorm1d [3,3,4] training");
    check_layer(bn1, x2, false, "BatchNorm1d [5,3] eval");
    check_layer(bn2, x4, true, "BatchNorm2d [2,2,3,2] training");
    check_layer(bn2, x4, false, "BatchNorm2d [2,2,3,2] eval");
    layer_free(bn1);
    layer_free(bn2);
    tensor_free(x2);
    tensor_free(x3);
    tensor_free(x4);
}

/* The op on its own: no affine parameters, no running statistics (always
 * batch statistics, like torch's affine=False, track_running_stats=False).
 * Each channel of the output then has mean 0 and biased variance
 * var / (var + eps), just under 1. */
static Tensor *f_bn_plain(Graph *g, Tensor *const *in, void *ctx)
{
    (void)ctx;
    return op_batchnorm(g, in[0], NULL, NULL, NULL, NULL, 0.1f, 1e-5f);
}

static void batchnorm_op_without_affine(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 9, 1);
    Tensor *x = input(&r, 3, (int[]){3, 2, 4});
    double err = 0;
    GradcheckOptions opt = {.training = false};   /* no running stats: batch stats in eval too */
    int rc = gradcheck(f_bn_plain, &x, 1, NULL, &opt, &err);
    printf("  gradcheck %-34s max error %.2e\n", "op_batchnorm, no affine/running", err);
    assert_int_equal(rc, 0);
    Graph g;
    graph_init(&g, 1);
    Tensor *y = op_batchnorm(&g, x, NULL, NULL, NULL, NULL, 0.1f, 1e-5f);
    assert_non_null(y);
    for (int c = 0; c < 2; c++) {
        double s = 0, s2 = 0;
        for (int n = 0; n < 3; n++)
            for (int k = 0; k < 4; k++) {
                double v = y->data[(n * 2 + c) * 4 + k];
                s += v, s2 += v * v;
            }
        assert_float_equal(s / 12, 0.0, 1e-6);
        assert_float_equal(s2 / 12, 1.0, 1e-3);
    }
    graph_free(&g);
    tensor_free(x);
}

/* One training step from the defaults, checked against the formulas
 * written out by hand for a [4, 1] batch {1, 2, 3, 6}: mean 3, biased
 * variance 3.5, unbiased 14/3. Then eval uses the running statistics. */
static void batchnorm_running_statistics(void **state)
{
    (void)state;
    Layer *bn = batchnorm1d_new("bn", 1, 1e-5f, 0.1f);
    assert_non_null(bn);
    assert_int_equal(bn->n_buffers, 3);
    assert_string_equal(bn->buffers[0]->name, "bn.running_mean");
    assert_string_equal(bn->buffers[1]->name, "bn.running_var");
    assert_string_equal(bn->buffers[2]->name, "bn.num_batches_tracked");
    assert_int_equal(bn->buffers[2]->ndim, 0);
    Graph g;
    graph_init(&g, 1);
    float v[4] = {1, 2, 3, 6};
    Tensor *x = tensor_from_buffer(&g.arena, 2, (int[]){4, 1}, v);
    Tensor *y = layer_forward(bn, &g, x, NULL);
    assert_non_null(y);
    double inv = 1.0 / sqrt(3.5 + 1e-5);
    for (int i = 0; i < 4; i++) assert_float_equal(y->data[i], (v[i] - 3.0) * inv, 1e-6);
    assert_float_equal(bn->buffers[0]->data[0], 0.1 * 3.0, 1e-6);
    assert_float_equal(bn->buffers[1]->data[0], 0.9 + 0.1 * 14.0 / 3.0, 1e-6);
    assert_float_equal(bn->buffers[2]->data[0], 1.0f, 0);
    g.training = false;
    Tensor *e = layer_forward(bn, &g, x, NULL);
    double rm = 0.3, rv = 0.9 + 0.1 * 14.0 / 3.0;
    for (int i = 0; i < 4; i++) assert_float_equal(e->data[i], (v[i] - rm) / sqrt(rv + 1e-5), 1e-6);
    assert_float_equal(bn->buffers[2]->data[0], 1.0f, 0);   /* eval does not count */
    /* One value per channel cannot be normalised in training (as torch). */
    g.training = true;
    assert_null(layer_forward(bn, &g, tensor_new(&g.arena, 2, (int[]){1, 1}), NULL));
    assert_non_null(strstr(meld_error(), "more than 1 value per channel"));
    /* wrong rank / channel count */
    assert_null(layer_forward(bn, &g, tensor_new(&g.arena, 4, (int[]){2, 1, 2, 2}), NULL));
    assert_non_null(strstr(meld_error(), "BatchNorm1d 'bn'"));
    assert_null(layer_forward(bn, &g, tensor_new(&g.arena, 2, (int[]){4, 2}), NULL));
    assert_non_null(strstr(meld_error(), "has 2 channels, the layer has 1"));
    graph_free(&g);
    layer_free(bn);
}

/* ---- TimeDistributed ------------------------------------------------------- */

static void time_distributed_matches_per_step(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 8, 1);
    Layer *td = time_distributed_new(dense_new("fc", 4, 3, true, &r));
    assert_non_null(td);
    assert_string_equal(td->ops->kind, "TimeDistributed(Dense)");
    assert_string_equal(td->name, "fc");
    assert_int_equal(td->n_params, 2);
    assert_string_equal(td->params[0]->name, "fc.weight");
    Tensor *x = input(&r, 3, (int[]){2, 5, 4});
    Graph g;
    graph_init(&g, 1);
    Tensor *y = layer_forward(td, &g, x, NULL);
    assert_non_null(y);
    assert_int_equal(y->ndim, 3);
    assert_int_equal(y->shape[0], 2);
    assert_int_equal(y->shape[1], 5);
    assert_int_equal(y->shape[2], 3);
    /* Step (b, t) is W x[b, t] + b on its own. */
    const Tensor *w = td->params[0], *bias = td->params[1];
    for (int bt = 0; bt < 10; bt++)
        for (int o = 0; o < 3; o++) {
            double acc = bias->data[o];
            for (int i = 0; i < 4; i++) acc += (double)w->data[o * 4 + i] * x->data[bt * 4 + i];
            assert_float_equal(y->data[bt * 3 + o], acc, 1e-5);
        }
    graph_free(&g);
    check_layer(td, x, true, "TimeDistributed(Dense) [2,5,4]");
    layer_free(td);
    /* wrapping BatchNorm1d: statistics over B*T items */
    Layer *tdbn = time_distributed_new(batchnorm1d_new("bn", 4, 1e-5f, 0.1f));
    assert_int_equal(tdbn->n_buffers, 3);
    check_layer(tdbn, x, true, "TimeDistributed(BatchNorm1d)");
    layer_free(tdbn);
    tensor_free(x);
    /* a failed inner constructor gives NULL without a crash */
    assert_null(time_distributed_new(dense_new("fc", -1, 3, true, &r)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dense_gradcheck),
        cmocka_unit_test(dense_init_is_pytorch_default),
        cmocka_unit_test(dense_rejects_bad_input),
        cmocka_unit_test(activations_gradcheck),
        cmocka_unit_test(activations_values),
        cmocka_unit_test(flatten_keeps_order),
        cmocka_unit_test(dropout_layers_gradcheck),
        cmocka_unit_test(dropout2d_drops_whole_maps),
        cmocka_unit_test(batchnorm_gradcheck),
        cmocka_unit_test(batchnorm_op_without_affine),
        cmocka_unit_test(batchnorm_running_statistics),
        cmocka_unit_test(time_distributed_matches_per_step),
    };
    return cmocka_run_group_tests_name("layers: core", tests, NULL, NULL);
}
