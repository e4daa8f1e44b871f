/* Conv2D and MaxPool2D layers: finite-difference gradient checks (input,
 * weight, bias) for each padding mode and stride, output sizes, PyTorch
 * initialisation bounds, errors, and a small CNN (also per frame through
 * TimeDistributed) checked end to end. Tolerances are gradcheck's defaults
 * (eps 1e-3, tol 2e-3); each check prints its max error.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "layers/layers.h"
#include "layers/model.h"
#include "tensor/error.h"
#include "tensor/ops.h"
#include "tests/gradcheck.h"

static Tensor *f_layer(Graph *g, Tensor *const *in, void *ctx)
{
    return layer_forward((Layer *)ctx, g, in[0], NULL);
}

static void check_layer(Layer *l, Tensor *x, const char *label)
{
    assert_non_null(l);
    Tensor *in[1 + LAYER_MAX_PARAMS] = {x};
    for (int i = 0; i < l->n_params; i++) in[1 + i] = l->params[i];
    double err = 0;
    int rc = gradcheck(f_layer, in, 1 + l->n_params, l, NULL, &err);
    printf("  gradcheck %-40s max error %.2e\n", label, err);
    assert_int_equal(rc, 0);
}

/* Output shape of l on x (in a throwaway graph). */
static void out_shape(Layer *l, const Tensor *x, int *shape)
{
    Graph g;
    graph_init(&g, 1);
    Tensor *y = layer_forward(l, &g, tensor_copy(&g.arena, x), NULL);
    if (!y) fail_msg("%s", meld_error());
    memcpy(shape, y->shape, sizeof(int) * (size_t)y->ndim);
    graph_free(&g);
}

static void conv2d_gradcheck_all_modes(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 1, 1);
    Tensor *x = gc_param(&r, 4, (int[]){2, 2, 5, 4}, -1, 1);
    struct {
        Conv2dSpec spec;
        const char *label;
        int oh, ow;   /* expected output size for 5 x 4 */
    } cases[] = {
        {{.kh = 3, .kw = 3, .padding = CONV2D_SAME, .bias = true}, "Conv2D 3x3 same s1", 5, 4},
        {{.kh = 3, .kw = 2, .padding = CONV2D_VALID, .bias = true}, "Conv2D 3x2 valid s1", 3, 3},
        /* same, stride 2: ceil(5/2) = 3, ceil(4/2) = 2; W pads 0 left, 1 right */
        {{.kh = 3, .kw = 3, .stride_h = 2, .stride_w = 2, .padding = CONV2D_SAME, .bias = true},
         "Conv2D 3x3 same s2 (asymmetric pad)", 3, 2},
        {{.kh = 2, .kw = 3, .stride_h = 2, .stride_w = 1, .padding = CONV2D_EXPLICIT, .pad_h = 1, .pad_w = 2},
         "Conv2D 2x3 explicit (1,2) s(2,1) no bias", 3, 6},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Layer *l = conv2d_new("conv", 2, 3, cases[i].spec, &r);
        assert_non_null(l);
        int shape[4];
        out_shape(l, x, shape);
        assert_int_equal(shape[0], 2);
        assert_int_equal(shape[1], 3);
        assert_int_equal(shape[2], cases[i].oh);
        assert_int_equal(shape[3], cases[i].ow);
        check_layer(l, x, cases[i].label);
        layer_free(l);
    }
    tensor_free(x);
}

static void conv2d_params_and_init(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 2, 1);
    Layer *l = conv2d_new("conv1", 4, 8, (Conv2dSpec){.kh = 3, .kw = 5, .bias = true}, &r);
    assert_non_null(l);
    assert_string_equal(l->ops->kind, "Conv2D");
    assert_string_equal(l->params[0]->name, "conv1.weight");
    assert_string_equal(l->params[1]->name, "conv1.bias");
    int expect[4] = {8, 4, 3, 5};
    assert_int_equal(l->params[0]->ndim, 4);
    for (int d = 0; d < 4; d++) assert_int_equal(l->params[0]->shape[d], expect[d]);
    /* fan_in = 4*3*5 = 60: U(-1/sqrt(60), 1/sqrt(60)) */
    float bound = 1.0f / sqrtf(60.0f), lo = 1, hi = -1;
    for (int p = 0; p < 2; p++)
        for (size_t i = 0; i < l->params[p]->size; i++) {
            float v = l->params[p]->data[i];
            assert_true(v >= -bound && v < bound);
            lo = fminf(lo, v), hi = fmaxf(hi, v);
        }
    assert_true(lo < -0.9f * bound && hi > 0.9f * bound);
    assert_int_equal(layer_param_count(l), 8 * 4 * 3 * 5 + 8);
    layer_free(l);
}

static void conv2d_errors(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 3, 1);
    assert_null(conv2d_new("c", 3, 4, (Conv2dSpec){.kh = 0, .kw = 3}, &r));
    assert_non_null(strstr(meld_error(), "Conv2D 'c'"));
    assert_null(conv2d_new("c", 3, 4, (Conv2dSpec){.kh = 3, .kw = 3, .padding = CONV2D_EXPLICIT, .pad_h = 3}, &r));
    Layer *l = conv2d_new("c", 3, 4, (Conv2dSpec){.kh = 3, .kw = 3}, &r);
    Graph g;
    graph_init(&g, 1);
    /* channel mismatch */
    assert_null(layer_forward(l, &g, tensor_new(&g.arena, 4, (int[]){1, 2, 5, 5}), NULL));
    assert_non_null(strstr(meld_error(), "Conv2D 'c'"));
    assert_non_null(strstr(meld_error(), "[1,2,5,5]"));
    /* wrong rank */
    assert_null(layer_forward(l, &g, tensor_new(&g.arena, 3, (int[]){2, 5, 5}), NULL));
    assert_non_null(strstr(meld_error(), "expected x [N,C,H,W]"));
    /* 'valid' kernel larger than the image */
    assert_null(layer_forward(l, &g, tensor_new(&g.arena, 4, (int[]){1, 3, 2, 5}), NULL));
    assert_non_null(strstr(meld_error(), "kernel larger"));
    graph_free(&g);
    layer_free(l);
}

/* Inputs on a grid 0.1 apart in random order: no two values closer than
 * 2*eps, so the max of every window is unique and stable under the finite
 * difference. */
static Tensor *distinct_input(Rng *r, int ndim, const int *shape)
{
    Tensor *x = gc_param(r, ndim, shape, 0, 1);
    int n = (int)x->size, *idx = malloc(sizeof(int) * (size_t)n);
    assert_non_null(idx);
    for (int i = 0; i < n; i++) idx[i] = i;
    rng_shuffle(r, idx, n);
    for (int i = 0; i < n; i++) x->data[i] = 0.1f * (float)idx[i] - 0.05f * (float)n;
    free(idx);
    return x;
}

static void maxpool2d_gradcheck_and_values(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 4, 1);
    Tensor *x = distinct_input(&r, 4, (int[]){2, 2, 5, 4});
    Layer *a = maxpool2d_new("pool", 2, 2, 0, 0, 0, 0);   /* stride 0 = kernel */
    Layer *b = maxpool2d_new("pool", 3, 3, 2, 2, 1, 1);
    int s[4];
    out_shape(a, x, s);
    assert_int_equal(s[2], 2);   /* floor((5 - 2) / 2) + 1 */
    assert_int_equal(s[3], 2);
    out_shape(b, x, s);
    assert_int_equal(s[2], 3);   /* (5 + 2 - 3) / 2 + 1 */
    assert_int_equal(s[3], 2);   /* (4 + 2 - 3) / 2 + 1 */
    check_layer(a, x, "MaxPool2D 2x2");
    check_layer(b, x, "MaxPool2D 3x3 s2 p1");
    /* values: window (0,0) of plane 0 for the 2x2 pool */
    Graph g;
    graph_init(&g, 1);
    Tensor *y = layer_forward(a, &g, x, NULL);
    float m = fmaxf(fmaxf(x->data[0], x->data[1]), fmaxf(x->data[4], x->data[5]));
    assert_float_equal(y->data[0], m, 0);
    graph_free(&g);
    assert_null(maxpool2d_new("pool", 2, 2, 1, 1, 2, 0));   /* pad > kernel/2 */
    assert_non_null(strstr(meld_error(), "MaxPool2D 'pool'"));
    layer_free(a);
    layer_free(b);
    tensor_free(x);
}

/* conv -> bn2d -> relu -> pool -> dropout2d -> flatten -> dense, as one
 * model: gradient through every layer at once, and its summary. */
static void build_cnn(Model *m, Rng *r)
{
    model_init(m, "cnn");
    model_input(m, "image", 3, (int[]){1, 6, 6});
    model_add(m, conv2d_new("conv", 1, 2, (Conv2dSpec){.kh = 3, .kw = 3, .padding = CONV2D_SAME, .bias = true}, r));
    model_add(m, batchnorm2d_new("bn", 2, BN_DEFAULT_EPS, BN_DEFAULT_MOMENTUM));
    model_add(m, leaky_relu_new("act", 0.1f));
    model_add(m, maxpool2d_new("pool", 2, 2, 0, 0, 0, 0));
    model_add(m, dropout2d_new("sdrop", 0.25f));
    model_add(m, flatten_new("flat"));
    model_add(m, dense_new("fc", 18, 3, true, r));
    assert_int_equal(model_ok(m), MELD_OK);
}

static Tensor *f_model(Graph *g, Tensor *const *in, void *ctx) { return model_forward1(ctx, g, in[0], NULL); }

static void small_cnn_model(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 5, 1);
    Model m;
    build_cnn(&m, &r);
    char *s = model_summary(&m);
    assert_non_null(s);
    printf("%s", s);
    assert_non_null(strstr(s, " conv (Conv2D)"));
    assert_non_null(strstr(s, "(None, 2, 6, 6)"));
    assert_non_null(strstr(s, "(None, 2, 3, 3)"));
    assert_non_null(strstr(s, "(None, 18)"));
    /* conv 2*1*9+2 = 20, bn 4, fc 18*3+3 = 57 */
    assert_non_null(strstr(s, "Trainable params: 81\n"));
    free(s);
    Tensor *in[1 + 16];
    in[0] = gc_param(&r, 4, (int[]){3, 1, 6, 6}, -1, 1);
    for (int i = 0; i < m.n_params; i++) in[1 + i] = m.params[i];
    double err = 0;
    int rc = gradcheck(f_model, in, 1 + m.n_params, &m, NULL, &err);
    printf("  gradcheck %-40s max error %.2e\n", "CNN model (conv..dense, training)", err);
    assert_int_equal(rc, 0);
    tensor_free(in[0]);
    model_free(&m);
}

/* A CNN applied to every frame of a clip: [B, T, C, H, W] folded to
 * [B*T, C, H, W] (rank 5 in, rank 5 out). */
static void time_distributed_conv(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 6, 1);
    Layer *td = time_distributed_new(
        conv2d_new("frame_conv", 2, 3, (Conv2dSpec){.kh = 3, .kw = 3, .stride_h = 2, .stride_w = 2,
                                                    .padding = CONV2D_SAME, .bias = true}, &r));
    assert_non_null(td);
    Tensor *x = gc_param(&r, 5, (int[]){2, 3, 2, 5, 4}, -1, 1);
    int s[5];
    out_shape(td, x, s);
    int expect[5] = {2, 3, 3, 3, 2};
    for (int d = 0; d < 5; d++) assert_int_equal(s[d], expect[d]);
    check_layer(td, x, "TimeDistributed(Conv2D) [2,3,2,5,4]");
    layer_free(td);
    tensor_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conv2d_gradcheck_all_modes),
        cmocka_unit_test(conv2d_params_and_init),
        cmocka_unit_test(conv2d_errors),
        cmocka_unit_test(maxpool2d_gradcheck_and_values),
        cmocka_unit_test(small_cnn_model),
        cmocka_unit_test(time_distributed_conv),
    };
    return cmocka_run_group_tests_name("layers: conv", tests, NULL, NULL);
}
