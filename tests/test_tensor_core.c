/* Tensor core: creation, shapes, permute/slice/concat data movement, arena
 * reuse across steps, autograd bookkeeping and error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "tensor/error.h"
#include "tensor/ops.h"

static void creation_and_shapes(void **state)
{
    (void)state;
    int s[3] = {2, 3, 4};
    Tensor *t = tensor_full(NULL, 3, s, 1.5f);
    assert_non_null(t);
    assert_int_equal(t->size, 24);
    assert_true(t->data[23] == 1.5f);
    char buf[64];
    assert_string_equal(shape_str(t, buf, sizeof buf), "[2,3,4]");
    Tensor *scalar = tensor_new(NULL, 0, NULL);
    assert_int_equal(scalar->size, 1);
    assert_string_equal(shape_str(scalar, buf, sizeof buf), "[]");
    int bad[6] = {1, 1, 1, 1, 1, 1};
    assert_null(tensor_new(NULL, 6, bad));
    assert_non_null(strstr(meld_error(), "rank 6"));
    int neg[2] = {2, -1};
    assert_null(tensor_new(NULL, 2, neg));
    tensor_free(t);
    tensor_free(scalar);
}

static void permute_slice_concat_move_data(void **state)
{
    (void)state;
    Graph g;
    graph_init(&g, 1);
    int s[3] = {2, 3, 4};
    Tensor *x = tensor_new(&g.arena, 3, s);
    for (size_t i = 0; i < x->size; i++) x->data[i] = (float)i;
    int p[3] = {2, 0, 1};
    Tensor *y = op_permute(&g, x, p);                 /* [4,2,3], y[k,i,j] = x[i,j,k] */
    assert_int_equal(y->shape[0], 4);
    assert_true(y->data[(3 * 2 + 1) * 3 + 2] == x->data[(1 * 3 + 2) * 4 + 3]);
    Tensor *sl = op_slice(&g, x, 1, 1, 2);            /* [2,2,4] */
    assert_true(sl->data[0] == 4.0f && sl->data[8] == 16.0f);
    Tensor *parts[2] = {sl, x};
    Tensor *c = op_concat(&g, parts, 2, 1);           /* [2,5,4] */
    assert_int_equal(c->shape[1], 5);
    assert_true(c->data[2 * 4] == 0.0f);              /* x starts after the 2 sliced rows */
    int r[2] = {-1, 6};
    Tensor *rs = op_reshape(&g, x, 2, r);
    assert_int_equal(rs->shape[0], 4);
    graph_free(&g);
}

static void shape_errors_name_op_and_shapes(void **state)
{
    (void)state;
    Graph g;
    graph_init(&g, 1);
    int sa[2] = {50, 1611}, sb[2] = {300, 1200};
    Tensor *a = tensor_new(&g.arena, 2, sa), *b = tensor_new(&g.arena, 2, sb);
    assert_null(op_matmul(&g, a, b));
    assert_string_equal(meld_error(), "matmul: [50,1611] x [300,1200]: inner dimensions differ");
    assert_null(op_add(&g, a, b));
    assert_string_equal(meld_error(), "add: [50,1611] and [300,1200]: shapes do not broadcast");
    /* NULL inputs propagate without overwriting the first error. */
    assert_null(op_tanh(&g, op_matmul(&g, a, b)));
    assert_non_null(strstr(meld_error(), "matmul"));
    assert_null(op_slice(&g, a, 1, 1600, 20));
    assert_non_null(strstr(meld_error(), "slice"));
    int bad_label[1] = {9};
    int s1[2] = {1, 3};
    assert_null(op_cross_entropy(&g, tensor_new(&g.arena, 2, s1), bad_label, NULL, NULL));
    assert_non_null(strstr(meld_error(), "label 9"));
    graph_free(&g);
}

/* After the first step the arena holds one chunk and reuses it: steady
 * state training steps do not call malloc for tensors. */
static void arena_is_reused_across_steps(void **state)
{
    (void)state;
    Graph g;
    graph_init(&g, 1);
    int s[2] = {64, 64};
    Tensor *w = tensor_new_param("w", 2, s);
    for (int step = 0; step < 4; step++) {
        Tensor *h = w;
        for (int k = 0; k < 40; k++) h = op_tanh(&g, op_matmul(&g, h, w));
        assert_int_equal(graph_backward(&g, op_mean(&g, h, OP_ALL_AXES)), MELD_OK);
        if (step > 0) assert_int_equal(arena_chunk_count(&g.arena), 1);
        graph_reset(&g);
    }
    tensor_free(w);
    graph_free(&g);
}

/* A tensor used twice receives the sum of both gradients; no_grad records nothing. */
static void gradients_accumulate_and_no_grad_records_nothing(void **state)
{
    (void)state;
    Graph g;
    graph_init(&g, 1);
    int s[1] = {3};
    Tensor *x = tensor_new_param("x", 1, s);
    x->data[0] = 1, x->data[1] = 2, x->data[2] = 3;
    Tensor *y = op_sum(&g, op_add(&g, op_mul(&g, x, x), x), OP_ALL_AXES);   /* sum x^2 + x */
    assert_int_equal(graph_backward(&g, y), MELD_OK);
    for (int i = 0; i < 3; i++) assert_true(x->grad[i] == 2 * x->data[i] + 1);
    graph_reset(&g);
    g.grad_enabled = false;
    Tensor *z = op_exp(&g, x);
    assert_false(z->requires_grad);
    assert_int_equal(g.n_tape, 0);
    assert_int_equal(graph_backward(&g, op_sum(&g, z, OP_ALL_AXES)), MELD_ERR);
    tensor_free(x);
    graph_free(&g);
}

/* A gradient buffer's first writer may store instead of add
 * (tensor_grad_assign); later writers, a consumer that never writes and a
 * leaf must still see zeros underneath. h = leaky(x) has three consumers
 * (leaky, tanh, and a slice of it), x is an arena leaf. */
static void first_writer_assigns_later_writers_add(void **state)
{
    (void)state;
    Graph g;
    graph_init(&g, 1);
    int s[1] = {4};
    Tensor *w = tensor_new_param("w", 1, s);
    w->data[0] = 0.5f, w->data[1] = -1.5f, w->data[2] = 2.0f, w->data[3] = -0.25f;
    Tensor *x = op_scale(&g, w, 1.0f);                 /* arena tensor */
    Tensor *h = op_leaky_relu(&g, x, 0.1f);
    Tensor *a = op_leaky_relu(&g, h, 0.2f), *b = op_tanh(&g, h), *c = op_slice(&g, h, 0, 1, 2);
    Tensor *loss = op_add(&g, op_add(&g, op_sum(&g, a, OP_ALL_AXES), op_sum(&g, b, OP_ALL_AXES)),
                          op_sum(&g, c, OP_ALL_AXES));
    assert_int_equal(graph_backward(&g, loss), MELD_OK);
    for (int i = 0; i < 4; i++) {
        float xv = w->data[i], hv = xv > 0 ? xv : 0.1f * xv;
        float dh = (hv > 0 ? 1.0f : 0.2f) + (1.0f - tanhf(hv) * tanhf(hv)) + (i == 1 || i == 2 ? 1.0f : 0.0f);
        float want = dh * (xv > 0 ? 1.0f : 0.1f);
        assert_true(fabsf(w->grad[i] - want) <= 1e-6f * (1.0f + fabsf(want)));
        assert_true(fabsf(x->grad[i] - want) <= 1e-6f * (1.0f + fabsf(want)));
    }
    tensor_free(w);
    graph_free(&g);
}

static void dropout_is_identity_in_eval_and_seeded_in_training(void **state)
{
    (void)state;
    int s[1] = {1000};
    Graph g1, g2;
    graph_init(&g1, 42);
    graph_init(&g2, 42);
    Tensor *x = tensor_full(NULL, 1, s, 1.0f);
    Tensor *a = op_dropout(&g1, x, 0.3f), *b = op_dropout(&g2, x, 0.3f);
    int zeros = 0;
    for (int i = 0; i < 1000; i++) {
        assert_true(a->data[i] == b->data[i]);
        zeros += a->data[i] == 0.0f;
        assert_true(a->data[i] == 0.0f || fabsf(a->data[i] - 1.0f / 0.7f) < 1e-6f);
    }
    assert_true(zeros > 240 && zeros < 360);
    g1.training = false;
    Tensor *c = op_dropout(&g1, x, 0.3f);
    for (int i = 0; i < 1000; i++) assert_true(c->data[i] == 1.0f);
    tensor_free(x);
    graph_free(&g1);
    graph_free(&g2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(creation_and_shapes),
        cmocka_unit_test(permute_slice_concat_move_data),
        cmocka_unit_test(shape_errors_name_op_and_shapes),
        cmocka_unit_test(arena_is_reused_across_steps),
        cmocka_unit_test(gradients_accumulate_and_no_grad_records_nothing),
        cmocka_unit_test(first_writer_assigns_later_writers_add),
        cmocka_unit_test(dropout_is_identity_in_eval_and_seeded_in_training),
    };
    return cmocka_run_group_tests_name("tensor: core", tests, NULL, NULL);
}
