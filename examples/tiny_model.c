/* A tiny model trained from scratch: the engine's whole training loop on
 * one screen (forward, loss, backward, a gradient check, Adam).
 *
 * Task: points p uniform in [-1, 1]^2, class 1 inside the circle
 * |p|^2 < 0.5, class 0 outside. No straight line separates the classes;
 * a network with two hidden tanh layers learns the curved boundary.
 *
 *     logits = Dense(16->2)(tanh(Dense(16->16)(tanh(Dense(2->16)(p)))))
 *     L      = mean_i -log softmax(logits_i)[label_i]       (cross-entropy)
 *
 * Read next: tensor/autograd.h (the tape that graph_backward walks),
 * tensor/ops_softmax.c (the loss; its gradient is softmax - one-hot),
 * layers/model.h (composing layers), optim/adam.c (the update rule),
 * tests/gradcheck.c (the checker every op of the engine passes).
 */
#include <math.h>
#include <stdio.h>

#include "examples/check.h"
#include "layers/layers.h"
#include "layers/model.h"
#include "optim/optim.h"
#include "tensor/ops.h"

enum { N = 256, STEPS = 200, MAX_PARAMS = 8 };

/* N points [N, 2] and their labels, from a seeded generator: every run
 * sees the same data, so the final numbers are reproducible. */
static Tensor *make_points(Rng *r, int *labels)
{
    Tensor *x = tensor_new(NULL, 2, (int[]){N, 2});
    need(x, "points");
    for (int i = 0; i < N; i++) {
        float *p = x->data + 2 * i;
        p[0] = rng_uniform_range(r, -1, 1), p[1] = rng_uniform_range(r, -1, 1);
        labels[i] = p[0] * p[0] + p[1] * p[1] < 0.5f;
    }
    return x;
}

/* Forward and loss. Every op records itself on g's tape (when g has
 * gradients on), so graph_backward(g, loss) can walk back through them. */
static Tensor *loss_of(Model *m, Graph *g, Tensor *x, const int *labels)
{
    Tensor *logits = model_forward1(m, g, x, NULL);
    return op_cross_entropy(g, logits, labels, NULL, NULL);   /* NULL in, NULL out */
}

/* The loss alone, on a graph that records nothing (no tape, no grads). */
static double loss_value(Model *m, Graph *probe, Tensor *x, const int *labels)
{
    Tensor *loss = loss_of(m, probe, x, labels);
    need(loss, "forward");
    double v = loss->data[0];
    graph_reset(probe);
    return v;
}

/* Finite differences: for every weight w, dL/dw ~ (L(w+e) - L(w-e)) / 2e.
 * The estimate's error is O(e^2) (truncation) + O(u |L| / e) (round-off
 * in the float loss, u = 6e-8); e = 1e-2 balances them here (1e-3 and
 * 3e-3 measure worse). The tape's gradients (already in p->grad) must
 * agree with the estimates. Returns |analytic - numeric| / |numeric| over
 * all weights as one vector: scale-free, and small gradients count too. */
static double gradient_check(Model *m, Tensor *x, const int *labels)
{
    const double e = 1e-2;
    Graph probe;
    need_ok(graph_init(&probe, 0), "graph");
    probe.grad_enabled = false;
    double diff2 = 0, norm2 = 0;
    for (int k = 0; k < m->n_params; k++) {
        Tensor *p = m->params[k];
        for (size_t j = 0; j < p->size; j++) {
            float w = p->data[j];
            p->data[j] = w + (float)e;
            double up = loss_value(m, &probe, x, labels);
            p->data[j] = w - (float)e;
            double down = loss_value(m, &probe, x, labels);
            p->data[j] = w;
            double numeric = (up - down) / (2 * e), analytic = p->grad[j];
            diff2 += (analytic - numeric) * (analytic - numeric);
            norm2 += numeric * numeric;
        }
    }
    graph_free(&probe);
    return sqrt(diff2 / norm2);
}

static double accuracy(Model *m, Tensor *x, const int *labels)
{
    Graph g;
    need_ok(graph_init(&g, 0), "graph");
    g.grad_enabled = false;   /* inference: no tape */
    g.training = false;
    Tensor *logits = model_forward1(m, &g, x, NULL);   /* [N, 2] */
    need(logits, "forward");
    int right = 0;
    for (int i = 0; i < N; i++)
        right += (logits->data[2 * i + 1] > logits->data[2 * i]) == labels[i];
    graph_free(&g);
    return (double)right / N;
}

int main(void)
{
    Rng rng;
    rng_seed(&rng, 42, 1);
    int train_labels[N], test_labels[N];
    Tensor *train = make_points(&rng, train_labels);
    Tensor *test = make_points(&rng, test_labels);

    /* The model owns its layers; each layer draws its initial weights
     * from rng (PyTorch's default rule, layers/layers.h). */
    Model m;
    need_ok(model_init(&m, "circle"), "model");
    model_input(&m, "p", 1, (int[]){2});
    model_add(&m, dense_new("fc1", 2, 16, true, &rng));
    model_add(&m, tanh_new("act1"));
    model_add(&m, dense_new("fc2", 16, 16, true, &rng));
    model_add(&m, tanh_new("act2"));
    model_add(&m, dense_new("fc3", 16, 2, true, &rng));
    need_ok(model_ok(&m), "building the model");
    check(m.n_params <= MAX_PARAMS, "%d parameters", m.n_params);

    /* The optimiser sees flat arrays (name, data, grad), not tensors. */
    ParamRef params[MAX_PARAMS];
    for (int i = 0; i < m.n_params; i++)
        params[i] = (ParamRef){m.params[i]->name, m.params[i]->data, m.params[i]->grad, m.params[i]->size};
    OptimHparams hp;
    need_ok(optim_defaults("adam", &hp), "adam");
    hp.lr = 0.02;   /* PyTorch's 1e-3 is tuned for big models; this one is tiny */
    Optimizer *adam = optim_create("adam", &hp, params, m.n_params);
    need(adam, "optimiser");

    Graph g;
    need_ok(graph_init(&g, 0), "graph");
    double last_loss = 0;
    for (int step = 0; step < STEPS; step++) {
        model_zero_grad(&m);   /* backward adds (+=) into p->grad */
        Tensor *loss = loss_of(&m, &g, train, train_labels);
        need(loss, "forward");
        need_ok(graph_backward(&g, loss), "backward");
        last_loss = loss->data[0];
        if (step == 0) {   /* check the tape once, at the untrained weights */
            double err = gradient_check(&m, train, train_labels);
            printf("gradient check: relative error %.2e over %zu weights\n", err,
                   model_param_count(&m));
            check(err < 1e-3, "autograd and finite differences disagree (%.2e)", err);
        }
        need_ok(optim_step(adam, params, m.n_params), "adam step");
        graph_reset(&g);   /* drop the tape; the arena's memory is reused */
        if (step % 100 == 0 || step == STEPS - 1) printf("step %3d  loss %.4f\n", step, last_loss);
    }
    double acc = accuracy(&m, test, test_labels);
    printf("held-out accuracy %.3f\n", acc);
    check(acc >= 0.95, "the model did not learn the circle: accuracy %.3f", acc);
    check(last_loss < 0.05, "training loss still %.3f", last_loss);

    graph_free(&g);
    optim_free(adam);
    model_free(&m);
    tensor_free(train);
    tensor_free(test);
    return 0;
}
