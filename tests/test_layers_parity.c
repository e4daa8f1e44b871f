/* PyTorch parity of the feed-forward layers: outputs, gradients and
 * BatchNorm running statistics against the files in tests/fixtures/layers/
 * (made by tests/fixtures/make_layer_fixtures.py; see its docstring for the
 * file contents).
 *
 * Each layer is built from the file's metadata under the name "layer", so
 * its parameters are "layer.weight", ... exactly as torch's state_dict; the
 * fixture's weights are loaded by those names. L = sum(y * dy) gives the
 * gradients.
 *
 * Error measure, per tensor: max_i |ours_i - torch_i| / max_i |torch_i|
 * (relative to the tensor's scale; the reference is float64 rounded to
 * float32). Tolerance 1e-5 for every tensor; each case prints its largest
 * error.
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
#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/safetensors.h"

#define TOL 1e-5

static int meta_int(const SafeTensors *st, const char *key)
{
    const char *v = st_get_meta(st, key);
    if (!v) fail_msg("fixture lacks metadata '%s'", key);
    return atoi(v);
}

static float meta_float(const SafeTensors *st, const char *key)
{
    const char *v = st_get_meta(st, key);
    if (!v) fail_msg("fixture lacks metadata '%s'", key);
    return strtof(v, NULL);
}

/* The layer the fixture describes, named "layer". */
static Layer *layer_for(const SafeTensors *st)
{
    const char *kind = st_get_meta(st, "kind");
    assert_non_null(kind);
    Rng r;
    rng_seed(&r, 1, 1);
    if (!strcmp(kind, "linear"))
        return dense_new("layer", meta_int(st, "in"), meta_int(st, "out"), meta_int(st, "bias"), &r);
    if (!strcmp(kind, "batchnorm1d"))
        return batchnorm1d_new("layer", meta_int(st, "channels"), meta_float(st, "eps"), meta_float(st, "momentum"));
    if (!strcmp(kind, "batchnorm2d"))
        return batchnorm2d_new("layer", meta_int(st, "channels"), meta_float(st, "eps"), meta_float(st, "momentum"));
    if (!strcmp(kind, "conv2d")) {
        const char *mode = st_get_meta(st, "padding");
        Conv2dSpec spec = {
            .kh = meta_int(st, "kh"), .kw = meta_int(st, "kw"),
            .stride_h = meta_int(st, "stride_h"), .stride_w = meta_int(st, "stride_w"),
            .padding = !strcmp(mode, "same") ? CONV2D_SAME : !strcmp(mode, "valid") ? CONV2D_VALID : CONV2D_EXPLICIT,
            .pad_h = meta_int(st, "pad_h"), .pad_w = meta_int(st, "pad_w"),
            .bias = meta_int(st, "bias"),
        };
        return conv2d_new("layer", meta_int(st, "in_ch"), meta_int(st, "out_ch"), spec, &r);
    }
    if (!strcmp(kind, "maxpool2d"))
        return maxpool2d_new("layer", meta_int(st, "kh"), meta_int(st, "kw"), meta_int(st, "stride_h"),
                             meta_int(st, "stride_w"), meta_int(st, "pad_h"), meta_int(st, "pad_w"));
    fail_msg("unknown fixture kind '%s'", kind);
    return NULL;
}

static const StTensor *need(const SafeTensors *st, const char *name)
{
    const StTensor *t = st_find(st, name);
    if (!t) fail_msg("fixture lacks tensor '%s'", name);
    return t;
}

/* Relative error of ours[0..n) against the fixture tensor `name`. */
static double compare(const SafeTensors *st, const char *name, const float *ours, size_t n)
{
    const StTensor *t = need(st, name);
    assert_int_equal(t->numel, n);
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)ours[i] - t->data[i]));
        scale = fmax(scale, fabs((double)t->data[i]));
    }
    double err = scale > 0 ? diff / scale : diff;
    if (err > TOL) fail_msg("%s: %s relative error %.3g > %.1g", st->source, name, err, TOL);
    return err;
}

static Tensor *param_from(const SafeTensors *st, const char *name)
{
    const StTensor *t = need(st, name);
    int shape[TENSOR_MAX_DIMS];
    for (int d = 0; d < t->ndim; d++) shape[d] = (int)t->shape[d];
    Tensor *p = tensor_new_param(name, t->ndim, shape);
    assert_non_null(p);
    memcpy(p->data, t->data, t->numel * sizeof(float));
    return p;
}

/* Loads a tensor of the layer from the fixture by its own name. */
static void load_into(const SafeTensors *st, Tensor *p)
{
    int64_t shape[TENSOR_MAX_DIMS];
    for (int d = 0; d < p->ndim; d++) shape[d] = p->shape[d];
    if (st_read_into(st, p->name, p->ndim, shape, p->data) != MELD_OK) fail_msg("%s", meld_error());
}

static void run_fixture(const char *name)
{
    char path[256], label[320];
    snprintf(path, sizeof path, "tests/fixtures/layers/%s.safetensors", name);
    SafeTensors st;
    if (st_load(&st, path) != MELD_OK) fail_msg("%s", meld_error());
    Layer *l = layer_for(&st);
    if (!l) fail_msg("%s: %s", path, meld_error());
    for (int i = 0; i < l->n_params; i++) load_into(&st, l->params[i]);
    for (int i = 0; i < l->n_buffers; i++)
        if (!strstr(l->buffers[i]->name, "num_batches_tracked")) load_into(&st, l->buffers[i]);

    Tensor *x = param_from(&st, "x");
    Graph g;
    graph_init(&g, 1);
    g.training = !strcmp(st_get_meta(&st, "mode"), "train");
    Tensor *y = layer_forward(l, &g, x, NULL);
    if (!y) fail_msg("%s: %s", path, meld_error());
    double err = compare(&st, "y", y->data, y->size);

    const StTensor *dyt = need(&st, "dy");
    Tensor *dy = tensor_from_buffer(&g.arena, y->ndim, y->shape, dyt->data);
    assert_int_equal(dyt->numel, y->size);
    assert_int_equal(graph_backward(&g, op_sum(&g, op_mul(&g, y, dy), OP_ALL_AXES)), MELD_OK);
    err = fmax(err, compare(&st, "grad.x", x->grad, x->size));
    for (int i = 0; i < l->n_params; i++) {
        snprintf(label, sizeof label, "grad.%s", l->params[i]->name);
        err = fmax(err, compare(&st, label, l->params[i]->grad, l->params[i]->size));
    }
    for (int i = 0; i < l->n_buffers; i++) {
        snprintf(label, sizeof label, "after.%s", l->buffers[i]->name);
        if (st_find(&st, label)) err = fmax(err, compare(&st, label, l->buffers[i]->data, l->buffers[i]->size));
    }
    printf("  %-22s max relative error %.2e\n", name, err);
    graph_free(&g);
    tensor_free(x);
    layer_free(l);
    st_free(&st);
}

static void linear_parity(void **state)
{
    (void)state;
    run_fixture("linear");
    run_fixture("linear_nobias");
}

static void batchnorm_parity(void **state)
{
    (void)state;
    run_fixture("batchnorm1d_train");
    run_fixture("batchnorm1d_3d_train");
    run_fixture("batchnorm1d_eval");
    run_fixture("batchnorm2d_train");
    run_fixture("batchnorm2d_eval");
}

static void conv2d_parity(void **state)
{
    (void)state;
    run_fixture("conv2d_same_s1");
    run_fixture("conv2d_valid_s1");
    run_fixture("conv2d_valid_s2");
    run_fixture("conv2d_same_s2");
    run_fixture("conv2d_explicit_s2");
}

static void maxpool2d_parity(void **state)
{
    (void)state;
    run_fixture("maxpool2d_k2");
    run_fixture("maxpool2d_k3_s2_p1");
    run_fixture("maxpool2d_k3x2_s1x2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(linear_parity),
        cmocka_unit_test(batchnorm_parity),
        cmocka_unit_test(conv2d_parity),
        cmocka_unit_test(maxpool2d_parity),
    };
    return cmocka_run_group_tests_name("layers: PyTorch parity", tests, NULL, NULL);
}
