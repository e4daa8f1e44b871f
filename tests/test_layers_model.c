/* The model container: sequential and two-input / two-head graphs, the
 * parameter registry, the summary table, gradients through a graph, and
 * build errors (sticky, first one reported, no leaks under ASan). */
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

/* x[100] -> fc1(64) -> bn -> relu -> drop -> fc2(7) */
static void build_mlp(Model *m, Rng *r)
{
    assert_int_equal(model_init(m, "mlp"), MELD_OK);
    model_input(m, "x", 1, (int[]){100});
    model_add(m, dense_new("fc1", 100, 64, true, r));
    model_add(m, batchnorm1d_new("bn", 64, BN_DEFAULT_EPS, BN_DEFAULT_MOMENTUM));
    model_add(m, relu_new("act"));
    model_add(m, dropout_new("drop", 0.5f));
    model_add(m, dense_new("fc2", 64, 7, true, r));
    assert_int_equal(model_ok(m), MELD_OK);
}

static void sequential_params_and_forward(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 1, 1);
    Model m;
    build_mlp(&m, &r);
    const char *names[] = {"fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "fc2.weight", "fc2.bias"};
    assert_int_equal(m.n_params, 6);
    for (int i = 0; i < 6; i++) assert_string_equal(m.params[i]->name, names[i]);
    assert_int_equal(m.n_buffers, 3);
    assert_string_equal(m.buffers[0]->name, "bn.running_mean");
    assert_int_equal(model_param_count(&m), 100 * 64 + 64 + 2 * 64 + 64 * 7 + 7);
    assert_int_equal(model_buffer_count(&m), 64 + 64 + 1);
    assert_non_null(model_find_layer(&m, "bn"));
    assert_null(model_find_layer(&m, "nope"));

    /* The model's forward equals the layers called by hand. */
    Graph g;
    graph_init(&g, 3);
    g.training = false;
    Tensor *x = tensor_new(&g.arena, 2, (int[]){4, 100});
    tensor_fill_uniform(x, &r, -1, 1);
    Tensor *y = model_forward1(&m, &g, x, NULL);
    assert_non_null(y);
    assert_int_equal(y->shape[0], 4);
    assert_int_equal(y->shape[1], 7);
    Tensor *h = x;
    const char *order[] = {"fc1", "bn", "act", "drop", "fc2"};
    for (int i = 0; i < 5; i++) h = layer_forward(model_find_layer(&m, order[i]), &g, h, NULL);
    assert_memory_equal(h->data, y->data, y->size * sizeof(float));
    graph_free(&g);
    model_free(&m);
}

/* Whole-string check of the layout for a sequential model. The numbers
 * are worked out from the shapes: fc1 100*64+64 = 6464, bn 2*64 = 128,
 * fc2 64*7+7 = 455; trainable 7047; buffers 64+64+1 = 129. Column widths:
 * the widest cell + 3 (layer: "bn (BatchNorm1d)" 16 -> 19; shape: the
 * header "Output Shape" 12 -> 15); rules 1 + 19 + 15 + 10 = 45 wide. */
static void summary_sequential(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 1, 1);
    Model m;
    build_mlp(&m, &r);
    char *s = model_summary(&m);
    assert_non_null(s);
    printf("%s", s);
    const char *expected =
        "Model: \"mlp\"\n"
        "_____________________________________________\n"
        " Layer (type)       Output Shape   Param #\n"
        "=============================================\n"
        " x (Input)          (None, 100)    0\n"
        " fc1 (Dense)        (None, 64)     6,464\n"
        " bn (BatchNorm1d)   (None, 64)     128\n"
        " act (ReLU)         (None, 64)     0\n"
        " drop (Dropout)     (None, 64)     0\n"
        " fc2 (Dense)        (None, 7)      455\n"
        "=============================================\n"
        "Total params: 7,176\n"
        "Trainable params: 7,047\n"
        "Non-trainable params: 129\n"
        "_____________________________________________\n";
    assert_string_equal(s, expected);
    free(s);
    /* The dry run is in eval mode: running statistics untouched. */
    assert_float_equal(m.buffers[2]->data[0], 0.0f, 0);
    assert_float_equal(m.buffers[1]->data[5], 1.0f, 0);
    model_free(&m);
}

/* text[6] and audio[4] -> per-modality Dense -> concat -> emotion(7) and
 * sentiment(3) heads. */
typedef struct {
    Model m;
    int text, audio, ht, ha, fused, emo, sent;
} Fusion;

static void build_fusion(Fusion *f, Rng *r)
{
    Model *m = &f->m;
    assert_int_equal(model_init(m, "fusion"), MELD_OK);
    f->text = model_input(m, "text", 1, (int[]){6});
    f->audio = model_input(m, "audio", 1, (int[]){4});
    f->ht = model_layer(m, dense_new("text_fc", 6, 5, true, r), f->text);
    f->ha = model_layer(m, dense_new("audio_fc", 4, 3, true, r), f->audio);
    f->fused = model_concat(m, "fuse", f->ht, f->ha, -1);
    int act = model_layer(m, tanh_new("act"), f->fused);
    f->emo = model_layer(m, dense_new("emotion", 8, 7, true, r), act);
    f->sent = model_layer(m, dense_new("sentiment", 8, 3, true, r), act);
    model_set_outputs(m, (int[]){f->emo, f->sent}, 2);
    assert_int_equal(model_ok(m), MELD_OK);
}

static void two_inputs_two_heads(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 2, 1);
    Fusion f;
    build_fusion(&f, &r);
    Model *m = &f.m;
    Graph g;
    graph_init(&g, 1);
    Tensor *xt = tensor_new(&g.arena, 2, (int[]){3, 6}), *xa = tensor_new(&g.arena, 2, (int[]){3, 4});
    tensor_fill_uniform(xt, &r, -1, 1);
    tensor_fill_uniform(xa, &r, -1, 1);
    Tensor *outs[2] = {NULL, NULL};
    assert_int_equal(model_forward(m, &g, (Tensor *[]){xt, xa}, NULL, outs), MELD_OK);
    assert_int_equal(outs[0]->shape[1], 7);
    assert_int_equal(outs[1]->shape[1], 3);
    /* by hand */
    Tensor *parts[2] = {layer_forward(model_find_layer(m, "text_fc"), &g, xt, NULL),
                        layer_forward(model_find_layer(m, "audio_fc"), &g, xa, NULL)};
    Tensor *h = op_tanh(&g, op_concat(&g, parts, 2, 1));
    Tensor *e = layer_forward(model_find_layer(m, "emotion"), &g, h, NULL);
    Tensor *s = layer_forward(model_find_layer(m, "sentiment"), &g, h, NULL);
    assert_memory_equal(e->data, outs[0]->data, e->size * sizeof(float));
    assert_memory_equal(s->data, outs[1]->data, s->size * sizeof(float));
    assert_null(model_forward1(m, &g, xt, NULL));
    assert_non_null(strstr(meld_error(), "one input and one output"));
    graph_free(&g);

    char *sum = model_summary(m);
    assert_non_null(sum);
    printf("%s", sum);
    assert_non_null(strstr(sum, "Connected to"));
    assert_non_null(strstr(sum, " fuse (Concatenate)"));
    assert_non_null(strstr(sum, "(None, 8)"));
    assert_non_null(strstr(sum, "text_fc, audio_fc\n"));
    /* 6*5+5 + 4*3+3 + 8*7+7 + 8*3+3 = 35 + 15 + 63 + 27 = 140 */
    assert_non_null(strstr(sum, "Trainable params: 140\n"));
    free(sum);
    model_free(m);
}

/* Gradients through concat and both heads: L sums a weighted mix of the two
 * outputs, checked w.r.t. both inputs and every parameter. */
static Tensor *f_fusion(Graph *g, Tensor *const *in, void *ctx)
{
    Model *m = ctx;
    Tensor *outs[2];
    if (model_forward(m, g, in, NULL, outs) != MELD_OK) return NULL;
    Tensor *flat[2] = {op_reshape(g, outs[0], 1, (int[]){-1}), op_reshape(g, outs[1], 1, (int[]){-1})};
    return op_concat(g, flat, 2, 0);
}

static void fusion_gradcheck(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 3, 1);
    Fusion f;
    build_fusion(&f, &r);
    Tensor *in[2 + 16];
    in[0] = gc_param(&r, 2, (int[]){2, 6}, -1, 1);
    in[1] = gc_param(&r, 2, (int[]){2, 4}, -1, 1);
    for (int i = 0; i < f.m.n_params; i++) in[2 + i] = f.m.params[i];
    double err = 0;
    int rc = gradcheck(f_fusion, in, 2 + f.m.n_params, &f.m, NULL, &err);
    printf("  gradcheck two-input two-head model            max error %.2e\n", err);
    assert_int_equal(rc, 0);
    tensor_free(in[0]);
    tensor_free(in[1]);
    model_free(&f.m);
}

/* Errors stick: later calls return -1 quietly, model_ok gives the first
 * message, and layers handed over are freed (LeakSanitizer checks). */
static void build_errors(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 4, 1);
    Model m;
    model_init(&m, "bad");
    assert_int_equal(model_add(&m, dense_new("fc", 3, 3, true, &r)), -1);
    assert_int_equal(model_ok(&m), MELD_ERR);
    assert_non_null(strstr(meld_error(), "needs an input first"));
    model_free(&m);

    model_init(&m, "dup");
    int x = model_input(&m, "x", 1, (int[]){3});
    int a = model_layer(&m, dense_new("fc", 3, 3, true, &r), x);
    assert_true(a >= 0);
    assert_int_equal(model_layer(&m, dense_new("fc", 3, 3, true, &r), a), -1);
    assert_non_null(strstr(meld_error(), "'fc.weight' is used twice"));
    assert_int_equal(model_add(&m, relu_new("act")), -1);   /* sticky */
    assert_int_equal(model_ok(&m), MELD_ERR);
    assert_non_null(strstr(meld_error(), "used twice"));
    assert_null(model_summary(&m));
    model_free(&m);

    model_init(&m, "chain");
    x = model_input(&m, "x", 1, (int[]){3});
    /* a failed constructor inside the chain */
    int h = model_layer(&m, dense_new("fc", 0, 3, true, &r), x);
    assert_int_equal(model_layer(&m, relu_new("act"), h), -1);
    assert_int_equal(model_ok(&m), MELD_ERR);
    assert_non_null(strstr(meld_error(), "Dense 'fc'"));
    model_free(&m);

    model_init(&m, "ids");
    x = model_input(&m, "x", 1, (int[]){3});
    assert_int_equal(model_layer(&m, relu_new("act"), 7), -1);
    assert_non_null(strstr(meld_error(), "node 7 does not exist"));
    model_free(&m);

    model_init(&m, "twice");
    x = model_input(&m, "x", 1, (int[]){3});
    Layer *fc = dense_new("fc", 3, 3, true, &r);
    a = model_layer(&m, fc, x);
    assert_int_equal(model_layer(&m, fc, a), -1);   /* still owned by node a: no double free */
    assert_non_null(strstr(meld_error(), "layer 'fc' is added twice"));
    assert_ptr_equal(model_find_layer(&m, "fc"), fc);
    model_free(&m);

    model_init(&m, "names");
    x = model_input(&m, "x", 1, (int[]){3});
    assert_int_equal(model_layer(&m, relu_new("x"), x), -1);
    assert_non_null(strstr(meld_error(), "two nodes named 'x'"));
    model_free(&m);
}

static void forward_errors_name_the_node(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 5, 1);
    Model m;
    model_init(&m, "shapes");
    model_input(&m, "x", 1, (int[]){4});
    model_add(&m, dense_new("fc1", 4, 3, true, &r));
    model_add(&m, dense_new("fc2", 5, 2, true, &r));   /* 3 != 5 */
    assert_int_equal(model_ok(&m), MELD_OK);
    assert_null(model_summary(&m));
    assert_non_null(strstr(meld_error(), "node 'fc2'"));
    assert_non_null(strstr(meld_error(), "summary dry run"));
    Graph g;
    graph_init(&g, 1);
    assert_null(model_forward1(&m, &g, tensor_new(&g.arena, 3, (int[]){2, 1, 4}), NULL));
    assert_non_null(strstr(meld_error(), "input 'x' is [2,1,4], expected rank 2"));
    /* a NULL input (an upstream failure) keeps the upstream message */
    meld_errorf("upstream broke");
    assert_null(model_forward1(&m, &g, NULL, NULL));
    assert_string_equal(meld_error(), "upstream broke");
    graph_free(&g);
    model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sequential_params_and_forward),
        cmocka_unit_test(summary_sequential),
        cmocka_unit_test(two_inputs_two_heads),
        cmocka_unit_test(fusion_gradcheck),
        cmocka_unit_test(build_errors),
        cmocka_unit_test(forward_errors_name_the_node),
    };
    return cmocka_run_group_tests_name("layers: model", tests, NULL, NULL);
}
