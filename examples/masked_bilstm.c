/* A masked bidirectional LSTM over variable-length sequences.
 *
 * Task: a sequence of 1..T numbers, each uniform in [-1, 1]; is its sum
 * positive? Sequences of different lengths share one batch [B, T, 1],
 * right-padded, with a mask [B, T] that is 1 on the real steps:
 *
 *     lengths 3, 1:   x = [[a b c . .]     mask = [[1 1 1 0 0]
 *                          [d . . . .]]            [1 0 0 0 0]]
 *
 * At a masked step the LSTM keeps its state and never reads x (Keras's
 * rule), so what the padding holds cannot matter: the forward direction's
 * final state is the one at each sequence's last real step, and the
 * reverse direction starts there. Without the mask the forward state would
 * run on through the padding and the reverse one would begin inside it.
 * The model reads both final states:
 *
 *     logits = Dense(2H->2)([h_fwd(last real step), h_bwd(first step)])
 *
 * The program checks that it learns the task and that changing the
 * padding values leaves every output bit the same (and that without the
 * mask they would change).
 *
 * Read next: layers/lstm.h (the cell equations), tensor/rnn_op.h (the
 * masking rule and the packed schedule of valid steps), tensor/ops_lstm.c
 * (forward and backpropagation through time), tensor/rnn_cell.h (the
 * derivatives).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "examples/check.h"
#include "layers/layers.h"
#include "layers/lstm.h"
#include "layers/model.h"
#include "optim/optim.h"
#include "tensor/ops.h"

enum { T = 8, H = 8, B = 64, TEST = 512, STEPS = 150, MAX_PARAMS = 16 };

typedef struct {
    int n;
    Tensor *x;      /* [n, T, 1], zeros after each sequence's length */
    Tensor *mask;   /* [n, T]: mask[i, t] = t < lengths[i] */
    int lengths[TEST], labels[TEST];
} Batch;

static void make_batch(Batch *b, int n, Rng *r)
{
    check(n <= TEST, "batch of %d", n);
    b->n = n;
    b->x = tensor_new(NULL, 3, (int[]){n, T, 1});
    need(b->x, "batch");
    for (int i = 0; i < n; i++) {
        b->lengths[i] = 1 + (int)rng_below(r, T);
        float sum = 0;
        for (int t = 0; t < b->lengths[i]; t++) {   /* later steps stay 0: padding */
            float v = rng_uniform_range(r, -1, 1);
            b->x->data[i * T + t] = v;
            sum += v;
        }
        b->labels[i] = sum > 0;
    }
    b->mask = rnn_mask_from_lengths(NULL, b->lengths, n, T);
    need(b->mask, "mask");
}

static void free_batch(Batch *b)
{
    tensor_free(b->x);
    tensor_free(b->mask);
}

/* Logits [n, 2] in inference mode, copied out (the graph dies here). */
static void predict(Model *m, const Batch *b, const Tensor *mask, float *out)
{
    Graph g;
    need_ok(graph_init(&g, 0), "graph");
    g.grad_enabled = false;
    g.training = false;
    Tensor *logits = model_forward1(m, &g, b->x, mask);
    need(logits, "forward");
    memcpy(out, logits->data, sizeof(float) * 2 * (size_t)b->n);
    graph_free(&g);
}

static double accuracy(const float *logits, const Batch *b)
{
    int right = 0;
    for (int i = 0; i < b->n; i++) right += (logits[2 * i + 1] > logits[2 * i]) == b->labels[i];
    return (double)right / b->n;
}

static float max_change(const float *a, const float *b, int n)
{
    float d = 0;
    for (int i = 0; i < n; i++) d = fmaxf(d, fabsf(a[i] - b[i]));
    return d;
}

int main(void)
{
    Rng rng;
    rng_seed(&rng, 7, 1);
    Model m;
    need_ok(model_init(&m, "sum_sign"), "model");
    model_input(&m, "seq", 2, (int[]){T, 1});
    /* 1 layer, bidirectional, with biases, no dropout, final states only. */
    model_add(&m, lstm_new("bilstm", 1, H, 1, true, true, 0.0f, false, &rng));
    model_add(&m, dense_new("head", 2 * H, 2, true, &rng));
    need_ok(model_ok(&m), "building the model");
    check(m.n_params <= MAX_PARAMS, "%d parameters", m.n_params);

    ParamRef params[MAX_PARAMS];
    for (int i = 0; i < m.n_params; i++)
        params[i] = (ParamRef){m.params[i]->name, m.params[i]->data, m.params[i]->grad, m.params[i]->size};
    OptimHparams hp;
    need_ok(optim_defaults("adam", &hp), "adam");
    hp.lr = 0.02;
    Optimizer *adam = optim_create("adam", &hp, params, m.n_params);
    need(adam, "optimiser");

    /* Train on a fresh batch each step; the padding is 0, as Keras pads. */
    Graph g;
    need_ok(graph_init(&g, 0), "graph");
    for (int step = 0; step < STEPS; step++) {
        Batch b;
        make_batch(&b, B, &rng);
        model_zero_grad(&m);
        Tensor *logits = model_forward1(&m, &g, b.x, b.mask);
        Tensor *loss = op_cross_entropy(&g, logits, b.labels, NULL, NULL);
        need(loss, "forward");
        need_ok(graph_backward(&g, loss), "backward");
        if (step % 50 == 0 || step == STEPS - 1) printf("step %3d  loss %.4f\n", step, loss->data[0]);
        need_ok(optim_step(adam, params, m.n_params), "adam step");
        graph_reset(&g);
        free_batch(&b);
    }
    graph_free(&g);

    /* Held-out sequences, then the same ones with junk in the padding. */
    Batch test;
    make_batch(&test, TEST, &rng);
    static float clean[2 * TEST], dirty[2 * TEST], unmasked[2 * TEST], unmasked_dirty[2 * TEST];
    predict(&m, &test, test.mask, clean);
    double acc = accuracy(clean, &test);
    printf("held-out accuracy %.3f on %d sequences of lengths 1..%d\n", acc, TEST, T);
    check(acc >= 0.9, "the LSTM did not learn the sign of the sum: accuracy %.3f", acc);

    predict(&m, &test, NULL, unmasked);
    for (int i = 0; i < TEST; i++)
        for (int t = test.lengths[i]; t < T; t++) test.x->data[i * T + t] = rng_uniform_range(&rng, -100, 100);
    predict(&m, &test, test.mask, dirty);
    predict(&m, &test, NULL, unmasked_dirty);
    float masked_d = max_change(clean, dirty, 2 * TEST);
    float unmasked_d = max_change(unmasked, unmasked_dirty, 2 * TEST);
    printf("new padding values change the logits by at most %g with the mask, %g without\n",
           masked_d, unmasked_d);
    check(memcmp(clean, dirty, sizeof clean) == 0, "the padding leaked through the mask (%g)", masked_d);
    check(unmasked_d > 0, "without the mask the padding should matter");

    free_batch(&test);
    optim_free(adam);
    model_free(&m);
    return 0;
}
