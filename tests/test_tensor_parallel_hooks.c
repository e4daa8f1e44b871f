/* The Graph's hooks for data parallelism (tensor/autograd.h), without MPI:
 *   - per-sample streams: dropout draws the same mask for a sample whatever
 *     else shares its batch, and padding a dialogue to a longer grid only
 *     changes draws that fall on padding;
 *   - sum_across: BatchNorm over a batch split between two threads, each
 *     with its own graph and a reducer that adds the two halves' sums, gives
 *     the outputs and gradients of the whole batch in one graph;
 *   - grad_ready: every parameter is announced once, last layer first, and
 *     its gradient is final when it is. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tensor/error.h"
#include "tensor/ops.h"

/* ---- per-sample streams ------------------------------------------------------- */

/* A batch of n single-utterance items with seeds seed[first .. first + n). */
static SampleStreams utterances(const uint64_t *seed, int n, int *first)
{
    for (int i = 0; i <= n; i++) first[i] = i;
    return (SampleStreams){.seed = seed, .item_first = first, .n_samples = n, .n_items = n};
}

static void dropout_masks_do_not_depend_on_the_rest_of_the_batch(void **state)
{
    (void)state;
    const uint64_t seed[4] = {11, 22, 33, 44};
    int first_all[5], first_half[3];
    int s_all[3] = {4, 3, 5}, s_half[3] = {2, 3, 5};
    Graph g;
    graph_init(&g, 1);
    /* The whole batch of 4, then its second half alone: rows 2 and 3 must
     * get the same masks (two ops each, so the call counter matters too). */
    SampleStreams all = utterances(seed, 4, first_all), half = utterances(seed + 2, 2, first_half);
    g.streams = &all;
    Tensor *x = tensor_full(&g.arena, 3, s_all, 1.0f);
    Tensor *y1 = op_dropout(&g, x, 0.5f), *y2 = op_dropout2d(&g, x, 0.5f);
    Graph h;
    graph_init(&h, 999);   /* another g->rng: it must not matter */
    h.streams = &half;
    Tensor *xh = tensor_full(&h.arena, 3, s_half, 1.0f);
    Tensor *z1 = op_dropout(&h, xh, 0.5f), *z2 = op_dropout2d(&h, xh, 0.5f);
    assert_non_null(y1), assert_non_null(y2), assert_non_null(z1), assert_non_null(z2);
    size_t row = 15, kept = 0;
    for (size_t i = 0; i < 2 * row; i++) {
        assert_true(y1->data[2 * row + i] == z1->data[i]);
        assert_true(y2->data[2 * row + i] == z2->data[i]);
        kept += y1->data[i] != 0.0f;
    }
    assert_true(kept > 5 && kept < 25);   /* a real mask, p = 0.5 */
    /* Rows of another sample differ (not one mask for all). */
    assert_memory_not_equal(y1->data, y1->data + row, row * sizeof(float));
    graph_free(&g);
    graph_free(&h);
}

/* Dialogue-level rows: item b is one row [T, H]; padding the grid from T = 3
 * to T = 5 leaves the first 3 steps' masks as they were. Frame rows: an
 * utterance's K rows each get their own draws. */
static void item_rows_and_frame_rows(void **state)
{
    (void)state;
    const uint64_t seed[5] = {5, 6, 7, 8, 9};
    int first[3] = {0, 3, 5};   /* dialogue 0 = utterances 0..2, dialogue 1 = 3..4 */
    SampleStreams dialogues = {.seed = seed, .item_first = first, .n_samples = 5, .n_items = 2};
    Graph g;
    graph_init(&g, 1);
    g.streams = &dialogues;
    int short_grid[3] = {2, 3, 4}, long_grid[3] = {2, 5, 4};
    Tensor *a = op_dropout(&g, tensor_full(&g.arena, 3, short_grid, 1.0f), 0.5f);
    g.stream_calls = 0;   /* the same op of the next step */
    Tensor *b = op_dropout(&g, tensor_full(&g.arena, 3, long_grid, 1.0f), 0.5f);
    assert_non_null(a), assert_non_null(b);
    for (int d = 0; d < 2; d++) assert_memory_equal(a->data + d * 12, b->data + d * 20, 12 * sizeof(float));
    /* 5 utterances x K = 2 frames of 3 maps: 10 rows, two per utterance. */
    int frames[4] = {10, 3, 2, 2};
    Tensor *f = op_dropout2d(&g, tensor_full(&g.arena, 4, frames, 1.0f), 0.5f);
    assert_non_null(f);
    /* Rows that fit neither the items nor the samples are an error. */
    int odd[2] = {7, 4};
    assert_null(op_dropout(&g, tensor_full(&g.arena, 2, odd, 1.0f), 0.5f));
    assert_non_null(strstr(meld_error(), "7 rows match neither the batch's 2 items nor its 5 samples"));
    graph_free(&g);
}

/* ---- BatchNorm with sum_across ------------------------------------------------- */

enum { BN_N = 6, BN_C = 3, BN_S = 10, BN_HALF = BN_N / 2, SUM_MAX = 2 * BN_C + 1 };

/* Two threads that add their sums: each writes its part, both add them in
 * the same order (so they get the same bits). */
typedef struct {
    pthread_barrier_t barrier;
    double part[2][SUM_MAX];
} Pair;

typedef struct {
    Pair *pair;
    int side;
    const float *x, *w;               /* the whole batch's input and loss weights */
    float y[BN_HALF * BN_C * BN_S], dx[BN_HALF * BN_C * BN_S], dgamma[BN_C], dbeta[BN_C];
    float running_mean[BN_C], running_var[BN_C];
    int rc;
} Side;

static int pair_sum(void *ctx, double *buf, int n)
{
    Side *s = ctx;
    memcpy(s->pair->part[s->side], buf, sizeof(double) * (size_t)n);
    pthread_barrier_wait(&s->pair->barrier);
    for (int i = 0; i < n; i++) buf[i] = s->pair->part[0][i] + s->pair->part[1][i];
    pthread_barrier_wait(&s->pair->barrier);
    return MELD_OK;
}

/* BatchNorm (training) on rows [row0, row0 + rows) of the batch, loss
 * sum(w * y) over those rows: the two halves' losses add up to the whole's. */
static int bn_step(Graph *g, const float *x, const float *w, int row0, int rows, float *y, float *dx, float *dgamma,
                   float *dbeta, float *running_mean, float *running_var)
{
    int shape[3] = {rows, BN_C, BN_S}, vec[1] = {BN_C};
    size_t off = (size_t)row0 * BN_C * BN_S, n = (size_t)rows * BN_C * BN_S;
    Tensor *xt = tensor_new_param("x", 3, shape), *wt = tensor_new(&g->arena, 3, shape);
    Tensor *gamma = tensor_new_param("gamma", 1, vec), *beta = tensor_new_param("beta", 1, vec);
    Tensor *rm = tensor_new(NULL, 1, vec), *rv = tensor_full(NULL, 1, vec, 1.0f);
    memcpy(xt->data, x + off, n * sizeof(float));
    memcpy(wt->data, w + off, n * sizeof(float));
    for (int c = 0; c < BN_C; c++) gamma->data[c] = 1.0f + 0.5f * c, beta->data[c] = 0.1f * c;
    Tensor *out = op_batchnorm(g, xt, gamma, beta, rm, rv, 0.1f, 1e-5f);
    int rc = out ? graph_backward(g, op_sum(g, op_mul(g, out, wt), OP_ALL_AXES)) : MELD_ERR;
    if (rc == MELD_OK) {
        memcpy(y, out->data, n * sizeof(float));
        memcpy(dx, xt->grad, n * sizeof(float));
        memcpy(dgamma, gamma->grad, sizeof(float) * BN_C);
        memcpy(dbeta, beta->grad, sizeof(float) * BN_C);
        memcpy(running_mean, rm->data, sizeof(float) * BN_C);
        memcpy(running_var, rv->data, sizeof(float) * BN_C);
    }
    tensor_free(xt), tensor_free(gamma), tensor_free(beta), tensor_free(rm), tensor_free(rv);
    return rc;
}

static void *side_main(void *arg)
{
    Side *s = arg;
    Graph g;
    graph_init(&g, 1);
    g.sum_across = pair_sum;
    g.sum_ctx = s;
    s->rc = bn_step(&g, s->x, s->w, s->side * BN_HALF, BN_HALF, s->y, s->dx, s->dgamma, s->dbeta, s->running_mean,
                    s->running_var);
    graph_free(&g);
    return NULL;
}

static void close_to(const float *a, const float *b, int n, double tol, const char *what)
{
    for (int i = 0; i < n; i++)
        if (fabs((double)a[i] - b[i]) > tol * (1.0 + fabs((double)a[i])))
            fail_msg("%s[%d]: %.9g (halves) against %.9g (whole batch)", what, i, a[i], b[i]);
}

static void batchnorm_over_two_halves_is_batchnorm_of_the_whole(void **state)
{
    (void)state;
    enum { N_ALL = BN_N * BN_C * BN_S, N_HALF = N_ALL / 2 };
    static float x[N_ALL], w[N_ALL], y[N_ALL], dx[N_ALL];
    float dgamma[BN_C], dbeta[BN_C], rmean[BN_C], rvar[BN_C];
    Rng r;
    rng_seed(&r, 3, 4);
    for (int i = 0; i < N_ALL; i++) x[i] = 2.0f + rng_normal(&r), w[i] = rng_normal(&r);
    Graph g;
    graph_init(&g, 1);
    assert_int_equal(bn_step(&g, x, w, 0, BN_N, y, dx, dgamma, dbeta, rmean, rvar), MELD_OK);
    graph_free(&g);

    Pair pair;
    pthread_barrier_init(&pair.barrier, NULL, 2);
    static Side side[2];
    pthread_t t[2];
    for (int k = 0; k < 2; k++) {
        side[k] = (Side){.pair = &pair, .side = k, .x = x, .w = w};
        assert_int_equal(pthread_create(&t[k], NULL, side_main, &side[k]), 0);
    }
    for (int k = 0; k < 2; k++) pthread_join(t[k], NULL);
    pthread_barrier_destroy(&pair.barrier);
    /* The same sums grouped otherwise: float rounding apart. dgamma and
     * dbeta are each half's share (the gradient all-reduce adds them). */
    for (int k = 0; k < 2; k++) {
        assert_int_equal(side[k].rc, MELD_OK);
        close_to(side[k].y, y + k * N_HALF, N_HALF, 1e-6, "y");
        close_to(side[k].dx, dx + k * N_HALF, N_HALF, 1e-5, "dx");
        close_to(side[k].running_mean, rmean, BN_C, 1e-6, "running_mean");
        close_to(side[k].running_var, rvar, BN_C, 1e-6, "running_var");
    }
    float sum_g[BN_C], sum_b[BN_C];
    for (int c = 0; c < BN_C; c++)
        sum_g[c] = side[0].dgamma[c] + side[1].dgamma[c], sum_b[c] = side[0].dbeta[c] + side[1].dbeta[c];
    close_to(sum_g, dgamma, BN_C, 1e-5, "dgamma");
    close_to(sum_b, dbeta, BN_C, 1e-5, "dbeta");
    /* Without the hook a half is normalised with its own statistics. */
    static float alone_y[N_HALF], alone_dx[N_HALF];
    Graph alone;
    graph_init(&alone, 1);
    assert_int_equal(bn_step(&alone, x, w, 0, BN_HALF, alone_y, alone_dx, dgamma, dbeta, rmean, rvar), MELD_OK);
    graph_free(&alone);
    assert_true(fabs(alone_y[0] - y[0]) > 1e-3);
}

/* ---- grad_ready ------------------------------------------------------------------ */

/* What the hook saw: the leaves in order, and a copy of each one's
 * gradient at the time (up to 16 values). */
typedef struct {
    Tensor *seen[8];
    float grad_then[8][16];
    int n;
} ReadyLog;

static void record_ready(void *ctx, Tensor *leaf)
{
    ReadyLog *log = ctx;
    memcpy(log->grad_then[log->n], leaf->grad, sizeof(float) * (leaf->size < 16 ? leaf->size : 16));
    log->seen[log->n++] = leaf;
}

static void parameters_are_announced_once_last_layer_first(void **state)
{
    (void)state;
    int sx[2] = {4, 3}, s1[2] = {5, 3}, s2[2] = {2, 5}, sb[1] = {5};
    Tensor *w1 = tensor_new_param("w1", 2, s1), *b1 = tensor_new_param("b1", 1, sb);
    Tensor *w2 = tensor_new_param("w2", 2, s2), *unused = tensor_new_param("unused", 1, sb);
    Rng r;
    rng_seed(&r, 1, 2);
    tensor_fill_normal(w1, &r, 0, 1), tensor_fill_normal(w2, &r, 0, 1), tensor_fill_normal(b1, &r, 0, 1);
    Graph g;
    graph_init(&g, 1);
    ReadyLog log = {0};
    g.grad_ready = record_ready;
    g.grad_ready_ctx = &log;
    Tensor *x = tensor_new(&g.arena, 2, sx);
    tensor_fill_normal(x, &r, 0, 1);
    /* w1 is read twice: its gradient is final only once the rule of its
     * first use (first on the tape, last to run) has added its part. */
    Tensor *first = op_linear(&g, x, w1, b1);
    Tensor *second = op_linear(&g, op_tanh(&g, x), w1, NULL);
    Tensor *h = op_tanh(&g, op_add(&g, first, second));
    Tensor *loss = op_sum(&g, op_linear(&g, h, w2, NULL), OP_ALL_AXES);
    assert_int_equal(graph_backward(&g, loss), MELD_OK);
    assert_int_equal(log.n, 3);
    assert_ptr_equal(log.seen[0], w2);
    /* w1 (first use first) and b1 come after w2, each once. */
    assert_true((log.seen[1] == w1 && log.seen[2] == b1) || (log.seen[1] == b1 && log.seen[2] == w1));
    for (int i = 0; i < log.n; i++)
        assert_memory_equal(log.grad_then[i], log.seen[i]->grad, sizeof(float) * (log.seen[i]->size < 16 ? log.seen[i]->size : 16));
    assert_true(unused->grad[0] == 0.0f);
    graph_free(&g);
    tensor_free(w1), tensor_free(b1), tensor_free(w2), tensor_free(unused);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dropout_masks_do_not_depend_on_the_rest_of_the_batch),
        cmocka_unit_test(item_rows_and_frame_rows),
        cmocka_unit_test(batchnorm_over_two_halves_is_batchnorm_of_the_whole),
        cmocka_unit_test(parameters_are_announced_once_last_layer_first),
    };
    return cmocka_run_group_tests_name("tensor: hooks for data parallelism", tests, NULL, NULL);
}
