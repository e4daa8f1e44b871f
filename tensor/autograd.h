/* Reverse-mode automatic differentiation, define-by-run (like PyTorch).
 *
 * A Graph is the context of one step. Every op called with it (ops.h)
 * computes its output at once and, when gradients are on and an input
 * requires one, appends the output to the tape with its inputs and its
 * backward rule. Because ops run in program order the tape is already a
 * topological order, so backward is one reverse walk:
 *
 *     dL/dL = 1
 *     for node in reversed(tape):  node.op.backward(node)   (if node.grad)
 *
 * Each backward rule adds its contribution to its inputs' gradients, so a
 * tensor used twice gets the sum (the multivariate chain rule).
 *
 * Memory: all op outputs, gradients of non-leaves and saved buffers live in
 * the graph's arena; graph_reset() drops the tape and recycles the memory
 * for the next step. Parameters (heap leaves) keep their gradients across
 * reset: zero them with the optimiser (or tensor_zero_grad) each step.
 *
 *     Graph g; graph_init(&g, seed);
 *     for each step:
 *         Tensor *loss = ... ops with &g ...;
 *         graph_backward(&g, loss);   // grads in params
 *         optimiser step; graph_reset(&g);
 *     graph_free(&g);
 */
#ifndef MELD_AUTOGRAD_H
#define MELD_AUTOGRAD_H

#include "tensor/tensor.h"

/* Random streams per sample, for the ops that draw per row (dropout).
 * Without them an op draws from g->rng in row-major order, so a row's mask
 * depends on every row before it. With them, the draws of a sample depend
 * on its own seed only, not on which other samples share the batch: a
 * batch split over several processes draws what the whole batch draws in
 * one. A batch holds n_items items (dialogues, or utterances); item b is
 * samples [item_first[b], item_first[b + 1]) (its utterances). */
typedef struct {
    const uint64_t *seed;     /* [n_samples] */
    const int *item_first;    /* [n_items + 1] */
    int n_samples, n_items;
} SampleStreams;

/* Sums buf[0..n) in place over every process that shares this batch
 * (data parallelism: BatchNorm's batch statistics with sync). */
typedef int (*GraphSumFn)(void *ctx, double *buf, int n);
/* Told during graph_backward that the gradient of a leaf (a parameter) is
 * final: no rule still to run reads it. */
typedef void (*GraphGradReadyFn)(void *ctx, Tensor *leaf);

typedef struct Graph {
    Arena arena;
    Tensor **tape;
    int n_tape, cap_tape;
    bool grad_enabled;   /* false: ops record nothing (inference, no_grad) */
    bool training;       /* dropout and batch-norm behave as in training */
    Rng rng;             /* dropout masks; part of the run's saved RNG state */
    bool backward_failed;/* a backward rule could not finish (graph_backward_fail) */
    /* Optional, for data parallelism (pipeline/dist); all NULL by default. */
    const SampleStreams *streams;  /* per-sample draws; cleared by graph_reset */
    uint64_t stream_calls;         /* ops that drew from them since the reset */
    GraphSumFn sum_across;         /* set: batch statistics are global */
    void *sum_ctx;
    GraphGradReadyFn grad_ready;   /* set: called as each leaf's gradient is final */
    void *grad_ready_ctx;
} Graph;

int  graph_init(Graph *g, uint64_t seed);
void graph_reset(Graph *g);
void graph_free(Graph *g);
/* Runs backward from a scalar (size 1) loss. With g->grad_ready set, each
 * leaf that requires a gradient is announced as soon as the earliest tape
 * node reading it has run its rule, i.e. in reverse order of first use:
 * the last layers' parameters first, while the earlier layers' rules still
 * run (gradients can be sent while the rest is computed). */
int  graph_backward(Graph *g, Tensor *loss);

/* For op implementations ------------------------------------------------- */

/* Output tensor in the graph's arena, recorded on the tape when gradients
 * are enabled and any source requires one. NULL (error set) on failure. */
Tensor *graph_op_output(Graph *g, const OpDef *op, int ndim, const int *shape,
                        Tensor *const *src, int nsrc);
/* The same with the data left unset, for ops that write every element (a
 * zero fill of a large activation costs as much as a cheap op). */
Tensor *graph_op_output_uninit(Graph *g, const OpDef *op, int ndim, const int *shape,
                               Tensor *const *src, int nsrc);
/* The gradient buffer of t for accumulation (+=), zeroed on first use;
 * NULL when t does not require a gradient (the rule then skips it). */
float *tensor_grad(Tensor *t);
/* The same for a rule that can write all of it: *assign is set when this
 * rule is the buffer's first writer, and the rule must then store (=) every
 * element instead of adding, which saves zeroing the buffer and reading it
 * back (tens of MB per step for a CNN's activations). When *assign is
 * false, accumulate as with tensor_grad. */
float *tensor_grad_assign(Tensor *t, bool *assign);
/* Scratch memory in the graph's arena (saved activations, indices). */
void *graph_alloc(Graph *g, size_t bytes);
/* Called by a backward rule that cannot finish (e.g. out of memory for a
 * work buffer), after setting the error message: graph_backward then stops
 * and returns MELD_ERR instead of leaving incomplete gradients. */
void graph_backward_fail(Graph *g);

#endif
