/* Model checkpoints (layers/checkpoint.h): trained Dense+BatchNorm and
 * Conv2D+BatchNorm2d models saved and loaded back bit for bit, extra metadata and tensors kept, and
 * every kind of mismatch refused with a clear first message while leaving
 * the model untouched.
 *
 * Export for the PyTorch check: with MELD_EXPORT_DIR set, the trained models
 * are also written there as dense_bn.safetensors and cnn_bn.safetensors, with
 * their eval-mode inputs and outputs in NAME_io.safetensors; then
 *     /usr/bin/python3 tests/fixtures/load_checkpoint_in_torch.py DIR
 * loads it into the equivalent torch module and compares the outputs. The
 * committed copy in tests/fixtures/layers/ was made this way.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "layers/checkpoint.h"
#include "layers/layers.h"
#include "tensor/error.h"
#include "tensor/ops.h"

enum { IN = 6, HID = 8, OUT = 3, BATCH = 16 };

/* fc1 -> bn -> act -> drop -> fc2, as the torch module in
 * load_checkpoint_in_torch.py. `hidden` varies to make mismatches. */
static void build(Model *m, uint64_t seed, int hidden, bool extra_layer)
{
    Rng r;
    rng_seed(&r, seed, 1);
    assert_int_equal(model_init(m, "dense_bn"), MELD_OK);
    model_input(m, "x", 1, (int[]){IN});
    model_add(m, dense_new("fc1", IN, hidden, true, &r));
    model_add(m, batchnorm1d_new("bn", hidden, BN_DEFAULT_EPS, BN_DEFAULT_MOMENTUM));
    model_add(m, leaky_relu_new("act", 0.1f));
    model_add(m, dropout_new("drop", 0.2f));
    model_add(m, dense_new("fc2", hidden, OUT, true, &r));
    if (extra_layer) model_add(m, dense_new("fc3", OUT, OUT, true, &r));
    assert_int_equal(model_ok(m), MELD_OK);
}

/* Fixed data: x [BATCH, IN] uniform, labels from a fixed rule. */
static void make_batch(Graph *g, Tensor **x, int *labels)
{
    Rng r;
    rng_seed(&r, 77, 3);
    *x = tensor_new(&g->arena, 2, (int[]){BATCH, IN});
    tensor_fill_uniform(*x, &r, -2, 2);
    for (int i = 0; i < BATCH; i++) labels[i] = (int)rng_below(&r, OUT);
}

/* 20 plain SGD steps (lr 0.1) in training mode: parameters and running
 * statistics move away from their initial values. */
static void train(Model *m)
{
    Graph g;
    graph_init(&g, 5);
    for (int step = 0; step < 20; step++) {
        Tensor *x;
        int labels[BATCH];
        make_batch(&g, &x, labels);
        Tensor *loss = op_cross_entropy(&g, model_forward1(m, &g, x, NULL), labels, NULL, NULL);
        model_zero_grad(m);
        assert_int_equal(graph_backward(&g, loss), MELD_OK);
        for (int i = 0; i < m->n_params; i++)
            for (size_t j = 0; j < m->params[i]->size; j++) m->params[i]->data[j] -= 0.1f * m->params[i]->grad[j];
        graph_reset(&g);
    }
    graph_free(&g);
}

/* Eval-mode output of the fixed batch, into out[BATCH*OUT]. */
static void eval_output(Model *m, float *out)
{
    Graph g;
    graph_init(&g, 5);
    g.training = false;
    Tensor *x;
    int labels[BATCH];
    make_batch(&g, &x, labels);
    Tensor *y = model_forward1(m, &g, x, NULL);
    assert_non_null(y);
    memcpy(out, y->data, sizeof(float) * BATCH * OUT);
    graph_free(&g);
}

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/meld-ckpt-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    const char *names[] = {"m.safetensors", "big.safetensors", "extra.safetensors", "bad.safetensors",
                           "cnn.safetensors"};
    char p[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", tmpdir, names[i]);
        unlink(p);
    }
    return rmdir(tmpdir);
}

/* A path in the test folder; each call site keeps its own buffer. */
#define TMP_PATH(var, name) \
    char var[128];          \
    snprintf(var, sizeof var, "%s/%s", tmpdir, name)

/* Every parameter and buffer of a equals b's, bit for bit. */
static void assert_same_state(const Model *a, const Model *b)
{
    assert_int_equal(a->n_params, b->n_params);
    assert_int_equal(a->n_buffers, b->n_buffers);
    for (int i = 0; i < a->n_params; i++)
        assert_memory_equal(a->params[i]->data, b->params[i]->data, a->params[i]->size * sizeof(float));
    for (int i = 0; i < a->n_buffers; i++)
        assert_memory_equal(a->buffers[i]->data, b->buffers[i]->data, a->buffers[i]->size * sizeof(float));
}

/* Optional export of a trained model and its eval output on x for the
 * torch check (see the file comment): NAME.safetensors, NAME_io.safetensors. */
static void export_for_torch(const char *name, const Model *m, const Tensor *x, const float *out, size_t n_out)
{
    const char *dir = getenv("MELD_EXPORT_DIR");
    if (!dir || !dir[0]) return;
    char p[512];
    snprintf(p, sizeof p, "%s/%s.safetensors", dir, name);
    assert_int_equal(model_save(m, p, NULL), MELD_OK);
    SafeTensors io;
    st_init(&io);
    int64_t xs[TENSOR_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) xs[d] = x->shape[d];
    assert_int_equal(st_add(&io, "input", x->ndim, xs, x->data), MELD_OK);
    assert_int_equal(st_add(&io, "output", 2, (int64_t[]){x->shape[0], (int64_t)n_out / x->shape[0]}, out),
                     MELD_OK);
    snprintf(p, sizeof p, "%s/%s_io.safetensors", dir, name);
    assert_int_equal(st_save(&io, p), MELD_OK);
    st_free(&io);
    printf("  exported %s.safetensors and %s_io.safetensors to %s\n", name, name, dir);
}

static void save_load_roundtrip(void **state)
{
    (void)state;
    Model a, b;
    build(&a, 1, HID, false);
    train(&a);
    /* training moved the running statistics and counted the batches */
    assert_float_equal(a.buffers[2]->data[0], 20.0f, 0);
    assert_true(fabsf(a.buffers[0]->data[0]) > 1e-3f);
    float ya[BATCH * OUT], yb[BATCH * OUT];
    eval_output(&a, ya);
    TMP_PATH(p, "m.safetensors");
    assert_int_equal(model_save(&a, p, NULL), MELD_OK);

    build(&b, 2, HID, false);   /* different initial weights */
    eval_output(&b, yb);
    assert_true(memcmp(ya, yb, sizeof ya) != 0);
    assert_int_equal(model_load(&b, p, NULL), MELD_OK);
    assert_same_state(&a, &b);
    eval_output(&b, yb);
    assert_memory_equal(ya, yb, sizeof ya);

    /* the metadata the saver adds */
    SafeTensors st;
    assert_int_equal(st_load(&st, p), MELD_OK);
    assert_string_equal(st_get_meta(&st, "format"), "meld-c");
    assert_string_equal(st_get_meta(&st, "model"), "dense_bn");
    assert_int_equal(st.n_tensors, a.n_params + a.n_buffers);
    st_free(&st);

    Graph g;
    graph_init(&g, 5);
    Tensor *x;
    int labels[BATCH];
    make_batch(&g, &x, labels);
    export_for_torch("dense_bn", &a, x, ya, BATCH * OUT);
    graph_free(&g);
    model_free(&a);
    model_free(&b);
}

/* image [2, 6, 6] -> conv 3x3 same (4) -> bn2d -> relu -> pool 2 -> flatten
 * -> fc (3): the CNN of load_checkpoint_in_torch.py. */
static void build_cnn(Model *m, uint64_t seed)
{
    Rng r;
    rng_seed(&r, seed, 1);
    assert_int_equal(model_init(m, "cnn_bn"), MELD_OK);
    model_input(m, "image", 3, (int[]){2, 6, 6});
    model_add(m, conv2d_new("conv", 2, 4, (Conv2dSpec){.kh = 3, .kw = 3, .padding = CONV2D_SAME, .bias = true}, &r));
    model_add(m, batchnorm2d_new("bn", 4, BN_DEFAULT_EPS, BN_DEFAULT_MOMENTUM));
    model_add(m, relu_new("act"));
    model_add(m, maxpool2d_new("pool", 2, 2, 0, 0, 0, 0));
    model_add(m, flatten_new("flat"));
    model_add(m, dense_new("fc", 4 * 3 * 3, OUT, true, &r));
    assert_int_equal(model_ok(m), MELD_OK);
}

/* Trains the CNN 10 steps (SGD, lr 0.1) on a fixed batch *x (heap; free
 * it); y gets the eval output. */
static void train_and_eval_cnn(Model *m, Tensor **x, float *y)
{
    Rng r;
    rng_seed(&r, 78, 3);
    *x = tensor_new(NULL, 4, (int[]){BATCH, 2, 6, 6});
    assert_non_null(*x);
    tensor_fill_uniform(*x, &r, -2, 2);
    int labels[BATCH];
    for (int i = 0; i < BATCH; i++) labels[i] = (int)rng_below(&r, OUT);
    Graph g;
    graph_init(&g, 5);
    float first = 0, last = 0;
    for (int step = 0; step < 10; step++) {
        Tensor *loss = op_cross_entropy(&g, model_forward1(m, &g, *x, NULL), labels, NULL, NULL);
        assert_non_null(loss);
        if (step == 0) first = loss->data[0];
        last = loss->data[0];
        model_zero_grad(m);
        assert_int_equal(graph_backward(&g, loss), MELD_OK);
        for (int i = 0; i < m->n_params; i++)
            for (size_t j = 0; j < m->params[i]->size; j++) m->params[i]->data[j] -= 0.1f * m->params[i]->grad[j];
        graph_reset(&g);
    }
    printf("  cnn_bn training loss %.4f -> %.4f (10 steps)\n", first, last);
    assert_true(last < first);   /* it learns the fixed batch */
    g.training = false;
    Tensor *out = model_forward1(m, &g, *x, NULL);
    assert_non_null(out);
    memcpy(y, out->data, sizeof(float) * BATCH * OUT);
    graph_free(&g);
}

static void cnn_roundtrip(void **state)
{
    (void)state;
    Model a, b;
    build_cnn(&a, 1);
    build_cnn(&b, 2);
    Tensor *x;
    float ya[BATCH * OUT];
    train_and_eval_cnn(&a, &x, ya);
    TMP_PATH(p, "cnn.safetensors");
    assert_int_equal(model_save(&a, p, NULL), MELD_OK);
    assert_int_equal(model_load(&b, p, NULL), MELD_OK);
    assert_same_state(&a, &b);
    Graph g;
    graph_init(&g, 5);
    g.training = false;
    Tensor *yb = model_forward1(&b, &g, x, NULL);
    assert_non_null(yb);
    assert_memory_equal(ya, yb->data, sizeof ya);
    export_for_torch("cnn_bn", &a, x, ya, BATCH * OUT);
    graph_free(&g);
    tensor_free(x);
    model_free(&a);
    model_free(&b);
}

/* Extra metadata and tensors (what the pipeline adds: epoch, label order,
 * optimiser state) survive, and a non-strict load hands them back. */
static void extra_metadata_and_tensors(void **state)
{
    (void)state;
    Model a, b;
    build(&a, 1, HID, false);
    SafeTensors extra;
    st_init(&extra);
    st_set_meta(&extra, "epoch", "12");
    st_set_meta(&extra, "labels", "neutral,joy,sadness,anger,surprise,fear,disgust");
    float mom[HID] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(st_add(&extra, "optim.fc1.bias.momentum", 1, (int64_t[]){HID}, mom), MELD_OK);
    TMP_PATH(p, "extra.safetensors");
    assert_int_equal(model_save(&a, p, &extra), MELD_OK);
    st_free(&extra);

    build(&b, 2, HID, false);
    /* strict: the optimiser tensor is not the model's */
    assert_int_equal(model_load(&b, p, NULL), MELD_ERR);
    assert_non_null(strstr(meld_error(), "unexpected tensor 'optim.fc1.bias.momentum'"));
    SafeTensors file;
    assert_int_equal(model_load(&b, p, &file), MELD_OK);
    assert_same_state(&a, &b);
    assert_string_equal(st_get_meta(&file, "epoch"), "12");
    assert_string_equal(st_get_meta(&file, "model"), "dense_bn");
    const StTensor *t = st_find(&file, "optim.fc1.bias.momentum");
    assert_non_null(t);
    assert_memory_equal(t->data, mom, sizeof mom);
    st_free(&file);
    model_free(&a);
    model_free(&b);
}

/* Loads that must fail, each leaving the model exactly as it was. */
static void expect_refused(Model *m, const char *path, const char *needle)
{
    Model before;
    build(&before, 99, m->params[0]->shape[0], m->n_params > 6);
    for (int i = 0; i < m->n_params; i++)
        memcpy(before.params[i]->data, m->params[i]->data, m->params[i]->size * sizeof(float));
    for (int i = 0; i < m->n_buffers; i++)
        memcpy(before.buffers[i]->data, m->buffers[i]->data, m->buffers[i]->size * sizeof(float));
    SafeTensors file;
    assert_int_equal(model_load(m, path, &file), MELD_ERR);
    assert_int_equal(file.n_tensors, 0);
    if (!strstr(meld_error(), needle)) fail_msg("message '%s' lacks '%s'", meld_error(), needle);
    printf("  refused: %s\n", meld_error());
    assert_same_state(&before, m);
    model_free(&before);
}

static void mismatches_are_refused(void **state)
{
    (void)state;
    Model small, big, other;
    build(&small, 1, HID, false);
    build(&big, 1, HID, true);
    TMP_PATH(ps, "m.safetensors");
    TMP_PATH(pb, "big.safetensors");
    assert_int_equal(model_save(&small, ps, NULL), MELD_OK);
    assert_int_equal(model_save(&big, pb, NULL), MELD_OK);

    /* missing: big needs fc3.*, the file has none */
    expect_refused(&big, ps, "m.safetensors: no tensor 'fc3.weight' (model 'dense_bn' needs it)");
    /* unexpected (strict): the file has fc3.* */
    assert_int_equal(model_load(&small, pb, NULL), MELD_ERR);
    assert_non_null(strstr(meld_error(), "big.safetensors: unexpected tensor 'fc3.weight'"));
    /* shape: hidden 5 instead of 8; the first tensor in model order is reported */
    build(&other, 3, 5, false);
    expect_refused(&other, ps, "m.safetensors: tensor 'fc1.weight' has shape [8, 6], model 'dense_bn' expects [5, 6]");

    /* a damaged file: truncated data section */
    FILE *f = fopen(ps, "rb");
    assert_non_null(f);
    uint8_t buf[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    TMP_PATH(pbad, "bad.safetensors");
    f = fopen(pbad, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, n - 10, f), n - 10);
    fclose(f);
    expect_refused(&small, pbad, "bad.safetensors");
    /* not a file at all */
    TMP_PATH(pnone, "none.safetensors");
    expect_refused(&small, pnone, "none.safetensors");
    model_free(&small);
    model_free(&big);
    model_free(&other);
}

/* A save that cannot happen (missing folder) reports it and leaves no file. */
static void failed_save_reports(void **state)
{
    (void)state;
    Model m;
    build(&m, 1, HID, false);
    char p[128];
    snprintf(p, sizeof p, "%s/missing/m.safetensors", tmpdir);
    assert_int_equal(model_save(&m, p, NULL), MELD_ERR);
    assert_non_null(strstr(meld_error(), "missing/m.safetensors"));
    assert_int_equal(access(p, F_OK), -1);
    model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(save_load_roundtrip),
        cmocka_unit_test(cnn_roundtrip),
        cmocka_unit_test(extra_metadata_and_tensors),
        cmocka_unit_test(mismatches_are_refused),
        cmocka_unit_test(failed_save_reports),
    };
    return cmocka_run_group_tests_name("layers: checkpoint", tests, make_tmpdir, remove_tmpdir);
}
