/* LSTM and GRU layers: finite-difference gradient checks, Keras masking
 * semantics, PyTorch parity, parameters and argument checks.
 *
 * Gradient checks (tests/gradcheck.h; eps 1e-3, tol 2e-3): B=3, T=4, F=3,
 * H=2..4, every parameter and the input, for 1 and 2 layers, one or two
 * directions, both output modes, no mask / right padding (with an empty
 * sequence) / a mask with holes and left padding, with and without bias,
 * and inter-layer dropout in training (the checker re-seeds the graph, so
 * the dropout mask is the same in every evaluation).
 *
 * PyTorch parity: the files in tests/fixtures/layers_rnn/, made by
 * tests/fixtures/make_rnn_fixtures.py (torch.nn.LSTM/GRU in float64 with
 * pack_padded_sequence). Error of a tensor = max |ours - torch| / max |torch|
 * (relative to its largest element); outputs are compared at valid steps
 * only (torch pads with zeros, Keras semantics repeat the last output).
 * Each case prints its largest error.
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

#include "layers/gru.h"
#include "layers/lstm.h"
#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/safetensors.h"
#include "tensor/threadpool.h"
#include "tests/gradcheck.h"

enum { GB = 3, GT = 4, GF = 3 };   /* gradient-check sizes */

/* Masks [GB, GT] for the gradient checks. */
static const float RIGHT_PAD[GB * GT] = {1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0};   /* lengths 4, 2, 3 */
static const float WITH_EMPTY[GB * GT] = {1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0};  /* lengths 4, 0, 1 */
static const float HOLES[GB * GT] = {0, 1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0};       /* left pad + holes */

static Layer *rnn_make(bool gru, const char *name, int F, int H, int layers, bool bidir, bool bias,
                       float dropout, bool seq, uint64_t seed)
{
    Rng r;
    rng_seed(&r, seed, 1);
    return gru ? gru_new(name, F, H, layers, bidir, bias, dropout, seq, &r)
               : lstm_new(name, F, H, layers, bidir, bias, dropout, seq, &r);
}

/* Heap [B, T] mask tensor from a table (NULL stays NULL). */
static Tensor *mask_tensor(const float *m, int B, int T)
{
    if (!m) return NULL;
    Tensor *t = tensor_new(NULL, 2, (int[]){B, T});
    assert_non_null(t);
    memcpy(t->data, m, sizeof(float) * (size_t)B * T);
    return t;
}

/* ---- gradient checks --------------------------------------------------- */

typedef struct {
    const char *label;
    int layers, H;
    bool bidir, bias, seq;
    const float *mask;
    float dropout;
} GcCase;

static const GcCase GC_CASES[] = {
    {"1 layer, sequences, no mask", 1, 3, false, true, true, NULL, 0},
    {"1 layer, last step, right padding", 1, 4, false, true, false, RIGHT_PAD, 0},
    {"1 layer bidir, last step, holes", 1, 3, true, true, false, HOLES, 0},
    {"2 layers bidir, last step, empty sequence", 2, 2, true, true, false, WITH_EMPTY, 0},
    {"2 layers bidir, sequences, holes", 2, 2, true, true, true, HOLES, 0},
    {"2 layers, sequences, no bias, dropout 0.3", 2, 3, false, false, true, RIGHT_PAD, 0.3f},
};

typedef struct {
    Layer *layer;
    const Tensor *mask;
} GcCtx;

static Tensor *gc_layer(Graph *g, Tensor *const *in, void *ctx)
{
    GcCtx *c = ctx;
    return layer_forward(c->layer, g, in[0], c->mask);
}

static void gradcheck_kind(bool gru)
{
    int failures = 0;
    for (size_t i = 0; i < sizeof GC_CASES / sizeof GC_CASES[0]; i++) {
        const GcCase *k = &GC_CASES[i];
        Layer *l = rnn_make(gru, "rnn", GF, k->H, k->layers, k->bidir, k->bias, k->dropout, k->seq, 10 + i);
        assert_non_null(l);
        Rng r;
        rng_seed(&r, 20 + i, 3);
        Tensor *in[1 + LAYER_MAX_PARAMS];
        in[0] = gc_param(&r, 3, (int[]){GB, GT, GF}, -1, 1);
        for (int p = 0; p < l->n_params; p++) in[1 + p] = l->params[p];
        GcCtx ctx = {l, mask_tensor(k->mask, GB, GT)};
        double err;
        int rc = gradcheck(gc_layer, in, 1 + l->n_params, &ctx, NULL, &err);
        printf("  gradcheck %s %-42s max error %.2e%s\n", gru ? "GRU " : "LSTM", k->label, err,
               rc ? "  FAILED" : "");
        failures += rc != 0;
        tensor_free((Tensor *)ctx.mask);
        tensor_free(in[0]);
        layer_free(l);
    }
    assert_int_equal(failures, 0);
}

static void lstm_gradients_match_finite_differences(void **state) { (void)state; gradcheck_kind(false); }
static void gru_gradients_match_finite_differences(void **state) { (void)state; gradcheck_kind(true); }

/* ---- the two-direction op ------------------------------------------------ */

/* Runs x through one bidirectional level, as the two-direction op or as two
 * one-direction ops and a concat, and returns y and the gradients of x and
 * of every parameter (for loss = sum(y * c)) in one heap buffer. */
static float *bidir_run(bool gru, Tensor *x, Tensor *const w_ih[2], Tensor *const w_hh[2],
                        Tensor *const bias[2], const Tensor *mask, bool seq, bool fused, size_t *len)
{
    Graph g;
    graph_init(&g, 1);
    Tensor *p[7] = {x, w_ih[0], w_hh[0], bias[0], w_ih[1], w_hh[1], bias[1]};
    for (int i = 0; i < 7; i++) memset(p[i]->grad, 0, p[i]->size * sizeof(float));
    Tensor *y;
    if (fused) {
        y = gru ? op_gru_bidir(&g, x, w_ih, w_hh, bias, mask, seq) : op_lstm_bidir(&g, x, w_ih, w_hh, bias, mask, seq);
    } else {
        Tensor *half[2];
        for (int d = 0; d < 2; d++)
            half[d] = gru ? op_gru(&g, x, w_ih[d], w_hh[d], bias[d], mask, d == 1, seq)
                          : op_lstm(&g, x, w_ih[d], w_hh[d], bias[d], mask, d == 1, seq);
        y = op_concat(&g, half, 2, -1);
    }
    assert_non_null(y);
    Tensor *c = tensor_new(&g.arena, y->ndim, y->shape);
    for (size_t i = 0; i < c->size; i++) c->data[i] = (float)((int)(i % 7) - 3);
    assert_int_equal(graph_backward(&g, op_sum(&g, op_mul(&g, y, c), OP_ALL_AXES)), MELD_OK);
    size_t n = y->size;
    for (int i = 0; i < 7; i++) n += p[i]->size;
    float *out = malloc(n * sizeof(float)), *o = out;
    memcpy(o, y->data, y->size * sizeof(float)), o += y->size;
    for (int i = 0; i < 7; i++) memcpy(o, p[i]->grad, p[i]->size * sizeof(float)), o += p[i]->size;
    graph_free(&g);
    *len = n;
    return out;
}

/* The two-direction op gives the same bits as two one-direction ops and a
 * concat, on 1 thread (directions one after the other) and on 2 (one
 * direction per thread), for both cells, both output modes, with holes. */
static void bidir_op_matches_two_ops_on_any_thread_count(void **state)
{
    (void)state;
    enum { B = 3, T = 4, F = 5, H = 6 };
    Rng r;
    rng_seed(&r, 77, 5);
    for (int gru = 0; gru < 2; gru++)
        for (int seq = 0; seq < 2; seq++) {
            int G = gru ? 3 : 4;
            Tensor *x = gc_param(&r, 3, (int[]){B, T, F}, -1, 1), *w_ih[2], *w_hh[2], *bias[2];
            for (int d = 0; d < 2; d++) {
                w_ih[d] = gc_param(&r, 2, (int[]){G * H, F}, -0.5, 0.5);
                w_hh[d] = gc_param(&r, 2, (int[]){G * H, H}, -0.5, 0.5);
                bias[d] = gc_param(&r, 1, (int[]){2 * G * H}, -0.5, 0.5);
            }
            Tensor *mask = mask_tensor(HOLES, B, T);
            size_t n_ref, n;
            threadpool_set_threads(1);
            float *ref = bidir_run(gru, x, w_ih, w_hh, bias, mask, seq, false, &n_ref);
            for (int threads = 1; threads <= 2; threads++) {
                threadpool_set_threads(threads);
                float *got = bidir_run(gru, x, w_ih, w_hh, bias, mask, seq, true, &n);
                assert_int_equal(n, n_ref);
                assert_memory_equal(got, ref, n * sizeof(float));
                free(got);
            }
            threadpool_set_threads(0);
            free(ref);
            tensor_free(mask);
            tensor_free(x);
            for (int d = 0; d < 2; d++) tensor_free(w_ih[d]), tensor_free(w_hh[d]), tensor_free(bias[d]);
        }
}

/* ---- masking semantics ------------------------------------------------- */

static Tensor *forward_eval(Layer *l, Graph *g, Tensor *x, const Tensor *mask)
{
    graph_init(g, 1);
    Tensor *y = layer_forward(l, g, x, mask);
    if (!y) fprintf(stderr, "forward failed: %s\n", meld_error());
    assert_non_null(y);
    return y;
}

/* At a padded step each direction emits its previous output (in its own
 * walk order), zeros before its first valid step. */
static void masked_steps_repeat_the_previous_output(void **state)
{
    (void)state;
    for (int gru = 0; gru < 2; gru++) {
        const int H = 3;
        Layer *l = rnn_make(gru, "rnn", GF, H, 2, true, true, 0, true, 7);
        Rng r;
        rng_seed(&r, 8, 1);
        Tensor *x = gc_param(&r, 3, (int[]){GB, GT, GF}, -1, 1);
        Tensor *mask = mask_tensor(HOLES, GB, GT);
        Graph g;
        Tensor *y = forward_eval(l, &g, x, mask);
        for (int b = 0; b < GB; b++)
            for (int t = 0; t < GT; t++) {
                const float *yt = y->data + ((size_t)b * GT + t) * 2 * H;
                if (HOLES[b * GT + t] != 0) {
                    float norm = 0;   /* a valid step produces something new */
                    for (int j = 0; j < 2 * H; j++) norm += fabsf(yt[j]);
                    assert_true(norm > 0);
                    continue;
                }
                const float *fwd_prev = t > 0 ? yt - 2 * H : NULL;
                const float *bwd_prev = t < GT - 1 ? yt + 2 * H : NULL;
                for (int j = 0; j < H; j++) {
                    assert_true(yt[j] == (fwd_prev ? fwd_prev[j] : 0.0f));
                    assert_true(yt[H + j] == (bwd_prev ? bwd_prev[H + j] : 0.0f));
                }
            }
        graph_free(&g);
        tensor_free(x);
        tensor_free(mask);
        layer_free(l);
    }
}

/* Padded steps are never read: NaN there changes nothing, and their input
 * gradient is exactly zero. */
static void padded_inputs_are_never_read(void **state)
{
    (void)state;
    for (int gru = 0; gru < 2; gru++) {
        Layer *l = rnn_make(gru, "rnn", GF, 3, 2, true, true, 0, true, 9);
        Rng r;
        rng_seed(&r, 9, 1);
        Tensor *x = gc_param(&r, 3, (int[]){GB, GT, GF}, -1, 1);
        Tensor *xn = tensor_copy(NULL, x);
        Tensor *mask = mask_tensor(HOLES, GB, GT);
        for (int bt = 0; bt < GB * GT; bt++)
            if (!HOLES[bt])
                for (int f = 0; f < GF; f++) xn->data[bt * GF + f] = NAN;
        Graph g, gn;
        Tensor *y = forward_eval(l, &g, x, mask), *yn = forward_eval(l, &gn, xn, mask);
        assert_memory_equal(y->data, yn->data, y->size * sizeof(float));
        tensor_zero_grad(x);
        assert_int_equal(graph_backward(&g, op_sum(&g, y, OP_ALL_AXES)), MELD_OK);
        for (int bt = 0; bt < GB * GT; bt++)
            for (int f = 0; f < GF; f++) {
                float gx = x->grad[bt * GF + f];
                if (HOLES[bt]) assert_true(gx != 0.0f);
                else assert_true(gx == 0.0f);
            }
        graph_free(&g);
        graph_free(&gn);
        tensor_free(x);
        tensor_free(xn);
        tensor_free(mask);
        layer_free(l);
    }
}

/* A right-padded sequence gives what the unpadded sequence gives alone: in
 * particular the reverse direction starts at its own last valid step. */
static void padded_batch_matches_each_sequence_alone(void **state)
{
    (void)state;
    static const int len[GB] = {4, 2, 3};
    for (int gru = 0; gru < 2; gru++)
        for (int seq = 0; seq < 2; seq++) {
            const int H = 3, D = 2;
            Layer *l = rnn_make(gru, "rnn", GF, H, 2, true, true, 0, seq, 11);
            Rng r;
            rng_seed(&r, 11, 1);
            Tensor *x = gc_param(&r, 3, (int[]){GB, GT, GF}, -1, 1);
            Tensor *mask = rnn_mask_from_lengths(NULL, len, GB, GT);
            Graph g;
            Tensor *y = forward_eval(l, &g, x, mask);
            for (int b = 0; b < GB; b++) {
                Tensor *xb = tensor_from_buffer(NULL, 3, (int[]){1, len[b], GF}, x->data + (size_t)b * GT * GF);
                Graph gb;
                Tensor *yb = forward_eval(l, &gb, xb, NULL);
                size_t n = seq ? (size_t)len[b] * D * H : (size_t)D * H;
                const float *ours = y->data + (size_t)b * (seq ? GT : 1) * D * H;
                for (size_t i = 0; i < n; i++) assert_float_equal(ours[i], yb->data[i], 1e-6);
                graph_free(&gb);
                tensor_free(xb);
            }
            graph_free(&g);
            tensor_free(x);
            tensor_free(mask);
            layer_free(l);
        }
}

static void masks_follow_keras_and_lengths(void **state)
{
    (void)state;
    /* x [2, 3, 2]: step (0,1) all zero, (1,0) has one nonzero feature, (1,2) = -1s. */
    float v[12] = {1, 2, 0, 0, 3, 0, 0, 5, 6, 7, -1, -1};
    Tensor *x = tensor_from_buffer(NULL, 3, (int[]){2, 3, 2}, v);
    Tensor *m = rnn_mask_from_values(NULL, x, 0.0f);
    float want0[6] = {1, 0, 1, 1, 1, 1};
    assert_memory_equal(m->data, want0, sizeof want0);
    tensor_free(m);
    m = rnn_mask_from_values(NULL, x, -1.0f);
    float want1[6] = {1, 1, 1, 1, 1, 0};
    assert_memory_equal(m->data, want1, sizeof want1);
    tensor_free(m);
    tensor_free(x);
    x = tensor_from_buffer(NULL, 2, (int[]){6, 2}, v);
    assert_null(rnn_mask_from_values(NULL, x, 0.0f));
    assert_string_equal(meld_error(), "masking: input [6,2], expected [B, T, F]");
    tensor_free(x);

    m = rnn_mask_from_lengths(NULL, (int[]){2, 0, 3}, 3, 3);
    float want2[9] = {1, 1, 0, 0, 0, 0, 1, 1, 1};
    assert_memory_equal(m->data, want2, sizeof want2);
    tensor_free(m);
    assert_null(rnn_mask_from_lengths(NULL, (int[]){4}, 1, 3));
    assert_non_null(strstr(meld_error(), "length 4 of sequence 0 outside 0..3"));
}

/* ---- parameters, modes, errors ------------------------------------------ */

static void parameters_are_named_and_shaped_as_pytorch(void **state)
{
    (void)state;
    static const char *names[] = {
        "enc.lstm.weight_ih_l0", "enc.lstm.weight_hh_l0", "enc.lstm.bias_ih_l0", "enc.lstm.bias_hh_l0",
        "enc.lstm.weight_ih_l0_reverse", "enc.lstm.weight_hh_l0_reverse",
        "enc.lstm.bias_ih_l0_reverse", "enc.lstm.bias_hh_l0_reverse",
        "enc.lstm.weight_ih_l1", "enc.lstm.weight_hh_l1", "enc.lstm.bias_ih_l1", "enc.lstm.bias_hh_l1",
        "enc.lstm.weight_ih_l1_reverse", "enc.lstm.weight_hh_l1_reverse",
        "enc.lstm.bias_ih_l1_reverse", "enc.lstm.bias_hh_l1_reverse"};
    static const int rows[16] = {16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16};
    static const int cols[16] = {5, 4, 0, 0, 5, 4, 0, 0, 8, 4, 0, 0, 8, 4, 0, 0};
    Layer *l = rnn_make(false, "enc.lstm", 5, 4, 2, true, true, 0, true, 3);
    assert_non_null(l);
    assert_string_equal(l->ops->kind, "LSTM");
    assert_int_equal(l->n_params, 16);
    for (int p = 0; p < 16; p++) {
        const Tensor *t = l->params[p];
        assert_string_equal(t->name, names[p]);
        assert_int_equal(t->ndim, cols[p] ? 2 : 1);
        assert_int_equal(t->shape[0], rows[p]);
        if (cols[p]) assert_int_equal(t->shape[1], cols[p]);
        /* PyTorch's default init: U(-1/sqrt(H), 1/sqrt(H)), H = 4. */
        for (size_t i = 0; i < t->size; i++) assert_true(fabsf(t->data[i]) <= 0.5f);
    }
    /* sum(p.numel() for p in torch.nn.LSTM(5, 4, 2, bidirectional=True).parameters()) */
    assert_int_equal(layer_param_count(l), 800);
    Layer *same = rnn_make(false, "enc.lstm", 5, 4, 2, true, true, 0, true, 3);
    for (int p = 0; p < 16; p++)
        assert_memory_equal(l->params[p]->data, same->params[p]->data, l->params[p]->size * sizeof(float));
    layer_free(same);
    layer_free(l);

    /* torch.nn.GRU(6, 5, 3, bias=False) has 465 parameters. */
    l = rnn_make(true, "gru", 6, 5, 3, false, false, 0, false, 3);
    assert_string_equal(l->ops->kind, "GRU");
    assert_int_equal(l->n_params, 6);
    assert_string_equal(l->params[2]->name, "gru.weight_ih_l1");
    assert_int_equal(l->params[2]->shape[1], 5);
    assert_int_equal(layer_param_count(l), 15 * 6 + 15 * 5 + 2 * (15 * 5 + 15 * 5));
    layer_free(l);
}

static void bad_configurations_and_inputs_are_rejected(void **state)
{
    (void)state;
    Rng r;
    rng_seed(&r, 1, 1);
    assert_null(lstm_new("lstm", 3, 0, 1, false, true, 0, true, &r));
    assert_non_null(strstr(meld_error(), "lstm: input_size 3 and hidden 0 must be >= 1"));
    assert_null(gru_new("gru", 3, 4, 0, false, true, 0, true, &r));
    assert_non_null(strstr(meld_error(), "gru: 0 layers outside 1..8"));
    assert_null(lstm_new("lstm", 3, 4, 5, true, true, 0, true, &r));   /* 40 parameters > 32 */
    assert_non_null(strstr(meld_error(), "at most 32"));
    assert_null(lstm_new("lstm", 3, 4, 2, false, true, 1.0f, true, &r));
    assert_non_null(strstr(meld_error(), "dropout 1 outside [0, 1)"));
    assert_null(lstm_new("lstm", 3, 4, 2, false, true, NAN, true, &r));
    assert_null(gru_new("gru", 3, 4, 1, false, true, 0, true, NULL));
    assert_non_null(strstr(meld_error(), "no random generator"));
    assert_null(gru_new("", 3, 4, 1, false, true, 0, true, &r));
    assert_null(lstm_new("lstm", 3, 0x20000000, 1, false, true, 0, true, &r));
    assert_non_null(strstr(meld_error(), "hidden size 536870912 is too large"));

    Layer *l = lstm_new("enc", 3, 4, 1, true, true, 0, true, &r);
    Graph g;
    graph_init(&g, 1);
    Tensor *x = tensor_new(&g.arena, 3, (int[]){2, 5, 2});
    assert_null(layer_forward(l, &g, x, NULL));
    assert_string_equal(meld_error(), "enc: input [2,5,2], expected [B, T, 3]");
    x = tensor_new(&g.arena, 3, (int[]){2, 5, 3});
    Tensor *m = tensor_new(&g.arena, 2, (int[]){5, 2});
    assert_null(layer_forward(l, &g, x, m));
    assert_string_equal(meld_error(), "enc: lstm_bidir: mask [5,2] does not match input [2,5,3] (expected [B, T])");
    m = tensor_full(&g.arena, 2, (int[]){2, 5}, 1.0f);
    m->data[7] = 0.5f;
    assert_null(layer_forward(l, &g, x, m));
    assert_string_equal(meld_error(), "enc: lstm_bidir: mask[1, 2] = 0.5, expected 0 or 1");
    Tensor *w = tensor_new(&g.arena, 2, (int[]){12, 3});
    assert_null(op_gru(&g, x, w, w, NULL, NULL, false, true));
    assert_non_null(strstr(meld_error(), "gru: x [2,5,3], W_ih [12,3], W_hh [12,3], bias none"));
    graph_free(&g);
    layer_free(l);
}

/* Inter-layer dropout acts in training only; eval equals a dropout-free layer. */
static void dropout_acts_in_training_only(void **state)
{
    (void)state;
    for (int gru = 0; gru < 2; gru++) {
        Layer *ld = rnn_make(gru, "rnn", GF, 4, 2, false, true, 0.5f, true, 13);
        Layer *l0 = rnn_make(gru, "rnn", GF, 4, 2, false, true, 0.0f, true, 13);
        Rng r;
        rng_seed(&r, 13, 1);
        Tensor *x = gc_param(&r, 3, (int[]){GB, GT, GF}, -1, 1);
        Graph ge, g0, gt;
        graph_init(&ge, 1);
        ge.training = false;
        Tensor *ye = layer_forward(ld, &ge, x, NULL);
        Tensor *y0 = forward_eval(l0, &g0, x, NULL);
        Tensor *yt = forward_eval(ld, &gt, x, NULL);   /* training by default */
        assert_memory_equal(ye->data, y0->data, ye->size * sizeof(float));
        assert_memory_not_equal(yt->data, y0->data, yt->size * sizeof(float));
        graph_free(&ge);
        graph_free(&g0);
        graph_free(&gt);
        tensor_free(x);
        layer_free(ld);
        layer_free(l0);
    }
}

/* Without gradients nothing is recorded and the outputs are the same. */
static void inference_records_nothing(void **state)
{
    (void)state;
    Layer *l = rnn_make(false, "rnn", GF, 3, 2, true, true, 0, false, 17);
    Rng r;
    rng_seed(&r, 17, 1);
    Tensor *x = gc_param(&r, 3, (int[]){GB, GT, GF}, -1, 1);
    Tensor *mask = mask_tensor(RIGHT_PAD, GB, GT);
    Graph g, gi;
    Tensor *y = forward_eval(l, &g, x, mask);
    graph_init(&gi, 1);
    gi.grad_enabled = false;
    Tensor *yi = layer_forward(l, &gi, x, mask);
    assert_non_null(yi);
    assert_int_equal(gi.n_tape, 0);
    assert_memory_equal(y->data, yi->data, y->size * sizeof(float));
    graph_free(&g);
    graph_free(&gi);
    tensor_free(x);
    tensor_free(mask);
    layer_free(l);
}

/* T = 0 or B = 0: empty outputs, or zero final states, and a clean backward. */
static void empty_batches_and_sequences(void **state)
{
    (void)state;
    for (int gru = 0; gru < 2; gru++) {
        Layer *ls = rnn_make(gru, "rnn", GF, 3, 2, true, true, 0, true, 19);
        Layer *lf = rnn_make(gru, "rnn", GF, 3, 2, true, true, 0, false, 19);
        Graph g;
        graph_init(&g, 1);
        Tensor *x = tensor_new(&g.arena, 3, (int[]){2, 0, GF});
        Tensor *ys = layer_forward(ls, &g, x, NULL), *yf = layer_forward(lf, &g, x, NULL);
        assert_non_null(ys);
        assert_non_null(yf);
        assert_int_equal(ys->size, 0);
        assert_int_equal(yf->size, 2 * 6);
        for (size_t i = 0; i < yf->size; i++) assert_true(yf->data[i] == 0.0f);
        assert_int_equal(graph_backward(&g, op_sum(&g, yf, OP_ALL_AXES)), MELD_OK);
        x = tensor_new(&g.arena, 3, (int[]){0, 4, GF});
        ys = layer_forward(ls, &g, x, NULL);
        assert_non_null(ys);
        assert_int_equal(ys->size, 0);
        graph_free(&g);
        layer_free(ls);
        layer_free(lf);
    }
}

/* ---- PyTorch parity ------------------------------------------------------ */

#define FIXTURE_DIR "tests/fixtures/layers_rnn/"

static const StTensor *need(const SafeTensors *st, const char *name)
{
    const StTensor *t = st_find(st, name);
    if (!t) fprintf(stderr, "%s: no tensor '%s'\n", st->source, name);
    assert_non_null(t);
    return t;
}

static int meta_int(const SafeTensors *st, const char *key)
{
    const char *v = st_get_meta(st, key);
    assert_non_null(v);
    return atoi(v);
}

/* max |a - ref| / max |ref| over the elements where keep (NULL = all) is set. */
static double rel_error(const float *a, const float *ref, size_t n, const float *keep, int keep_stride)
{
    double diff = 0, mag = 0;
    for (size_t i = 0; i < n; i++) {
        if (keep && keep[i / (size_t)keep_stride] == 0.0f) continue;
        diff = fmax(diff, fabs((double)a[i] - ref[i]));
        mag = fmax(mag, fabs((double)ref[i]));
    }
    return diff / fmax(mag, 1e-30);
}

/* Runs one fixture in one output mode; returns the largest error seen and
 * reports each tensor's error in *out_err / *grad_err. */
static void parity_mode(const SafeTensors *st, bool gru, bool seq, double *out_err, double *grad_err)
{
    int F = meta_int(st, "input_size"), H = meta_int(st, "hidden"), L = meta_int(st, "num_layers");
    bool bidir = meta_int(st, "bidirectional"), bias = meta_int(st, "bias");
    bool masked = meta_int(st, "masked");
    const StTensor *sx = need(st, "x");
    int B = (int)sx->shape[0], T = (int)sx->shape[1], D = bidir ? 2 : 1;
    Layer *l = rnn_make(gru, "rnn", F, H, L, bidir, bias, 0, seq, 1);
    assert_non_null(l);
    for (int p = 0; p < l->n_params; p++) {
        Tensor *t = l->params[p];
        int64_t shape[2] = {t->shape[0], t->ndim > 1 ? t->shape[1] : 0};
        assert_int_equal(st_read_into(st, t->name, t->ndim, shape, t->data), MELD_OK);
        tensor_zero_grad(t);
    }
    Tensor *x = tensor_new_param("x", 3, (int[]){B, T, F});
    memcpy(x->data, sx->data, x->size * sizeof(float));
    const StTensor *sm = need(st, "mask");
    Tensor *mask = masked ? tensor_from_buffer(NULL, 2, (int[]){B, T}, sm->data) : NULL;

    Graph g;
    graph_init(&g, 1);
    Tensor *y = layer_forward(l, &g, x, mask);
    assert_non_null(y);
    const StTensor *ry = need(st, seq ? "y_seq" : "y_final"), *rdy = need(st, seq ? "dy_seq" : "dy_final");
    assert_int_equal(y->size, ry->numel);
    *out_err = rel_error(y->data, ry->data, y->size, seq ? sm->data : NULL, D * H);
    Tensor *dy = tensor_from_buffer(&g.arena, y->ndim, y->shape, rdy->data);
    assert_int_equal(graph_backward(&g, op_sum(&g, op_mul(&g, y, dy), OP_ALL_AXES)), MELD_OK);

    char name[96];
    snprintf(name, sizeof name, "%s.x", seq ? "grad_seq" : "grad_final");
    *grad_err = rel_error(x->grad, need(st, name)->data, x->size, NULL, 1);
    for (int p = 0; p < l->n_params; p++) {
        const Tensor *t = l->params[p];
        snprintf(name, sizeof name, "%s.%s", seq ? "grad_seq" : "grad_final", t->name);
        *grad_err = fmax(*grad_err, rel_error(t->grad, need(st, name)->data, t->size, NULL, 1));
    }
    graph_free(&g);
    tensor_free(mask);
    tensor_free(x);
    layer_free(l);
}

static const char *PARITY_CASES[] = {"l1_uni", "l2_bi", "l2_uni_nobias_full"};
/* float32 against a float64 reference: ~1e-7 per operation, a few hundred
 * operations deep; measured errors are printed below each case. */
static const double PARITY_TOL = 1e-5;

static void parity_kind(bool gru)
{
    for (size_t c = 0; c < sizeof PARITY_CASES / sizeof PARITY_CASES[0]; c++) {
        char path[256];
        snprintf(path, sizeof path, FIXTURE_DIR "%s_%s.safetensors", gru ? "gru" : "lstm", PARITY_CASES[c]);
        SafeTensors st;
        if (st_load(&st, path)) fail_msg("%s", meld_error());
        assert_string_equal(st_get_meta(&st, "kind"), gru ? "gru" : "lstm");
        for (int seq = 1; seq >= 0; seq--) {
            double eo, eg;
            parity_mode(&st, gru, seq, &eo, &eg);
            printf("  torch %s %-19s %-9s output %.2e  gradients %.2e\n", gru ? "GRU " : "LSTM",
                   PARITY_CASES[c], seq ? "sequences" : "last step", eo, eg);
            assert_true(eo <= PARITY_TOL);
            assert_true(eg <= PARITY_TOL);
        }
        st_free(&st);
    }
}

static void lstm_matches_pytorch(void **state) { (void)state; parity_kind(false); }
static void gru_matches_pytorch(void **state) { (void)state; parity_kind(true); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lstm_gradients_match_finite_differences),
        cmocka_unit_test(gru_gradients_match_finite_differences),
        cmocka_unit_test(bidir_op_matches_two_ops_on_any_thread_count),
        cmocka_unit_test(masked_steps_repeat_the_previous_output),
        cmocka_unit_test(padded_inputs_are_never_read),
        cmocka_unit_test(padded_batch_matches_each_sequence_alone),
        cmocka_unit_test(masks_follow_keras_and_lengths),
        cmocka_unit_test(parameters_are_named_and_shaped_as_pytorch),
        cmocka_unit_test(bad_configurations_and_inputs_are_rejected),
        cmocka_unit_test(dropout_acts_in_training_only),
        cmocka_unit_test(inference_records_nothing),
        cmocka_unit_test(empty_batches_and_sequences),
        cmocka_unit_test(lstm_matches_pytorch),
        cmocka_unit_test(gru_matches_pytorch),
    };
    return cmocka_run_group_tests_name("layers: rnn", tests, NULL, NULL);
}
