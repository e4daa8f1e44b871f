#include "tensor/autograd.h"

#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"
#include "tensor/threadpool.h"

int graph_init(Graph *g, uint64_t seed)
{
    memset(g, 0, sizeof *g);
    arena_init(&g->arena);
    g->grad_enabled = true;
    g->training = true;
    rng_seed(&g->rng, seed, 0x6d656c64 /* "meld" */);
    return MELD_OK;
}

void graph_reset(Graph *g)
{
    g->n_tape = 0;
    g->streams = NULL;   /* they live in the arena */
    g->stream_calls = 0;
    arena_reset(&g->arena);
}

void graph_free(Graph *g)
{
    arena_free(&g->arena);
    free(g->tape);
    memset(g, 0, sizeof *g);
}

void *graph_alloc(Graph *g, size_t bytes) { return arena_alloc(&g->arena, bytes); }

void graph_backward_fail(Graph *g) { g->backward_failed = true; }

static int tape_push(Graph *g, Tensor *t)
{
    if (g->n_tape == g->cap_tape) {
        int cap = g->cap_tape ? g->cap_tape * 2 : 256;
        Tensor **tape = realloc(g->tape, sizeof *tape * (size_t)cap);
        if (!tape) return meld_errorf("out of memory growing the tape to %d nodes", cap);
        g->tape = tape;
        g->cap_tape = cap;
    }
    g->tape[g->n_tape++] = t;
    return MELD_OK;
}

static Tensor *op_output(Graph *g, const OpDef *op, int ndim, const int *shape,
                         Tensor *const *src, int nsrc, bool zeroed)
{
    Tensor *t = zeroed ? tensor_new(&g->arena, ndim, shape) : tensor_new_uninit(&g->arena, ndim, shape);
    if (!t) {
        meld_error_context("%s", op->name);
        return NULL;
    }
    t->op = op;
    t->graph = g;
    t->nsrc = nsrc;
    bool needs = false;
    for (int i = 0; i < nsrc; i++) {
        t->src[i] = src[i];
        needs = needs || src[i]->requires_grad;
    }
    t->requires_grad = g->grad_enabled && needs;
    if (t->requires_grad && tape_push(g, t) != MELD_OK) return NULL;
    return t;
}

Tensor *graph_op_output(Graph *g, const OpDef *op, int ndim, const int *shape,
                        Tensor *const *src, int nsrc)
{
    return op_output(g, op, ndim, shape, src, nsrc, true);
}

Tensor *graph_op_output_uninit(Graph *g, const OpDef *op, int ndim, const int *shape,
                               Tensor *const *src, int nsrc)
{
    return op_output(g, op, ndim, shape, src, nsrc, false);
}

static void zero_range(void *ctx, size_t lo, size_t hi)
{
    memset((float *)ctx + lo, 0, (hi - lo) * sizeof(float));
}

/* Gradient buffers of graph tensors are allocated uninitialised and marked
 * fresh; the first writer either stores into all of it (tensor_grad_assign)
 * or has it zeroed first (tensor_grad). */
static float *grad_alloc(Tensor *t)
{
    if (!t->grad && t->graph) {
        t->grad = arena_alloc(&t->graph->arena, t->size * sizeof(float));
        t->grad_fresh = t->grad != NULL;
    }
    return t->grad;
}

/* Zeroes a fresh buffer, on the pool (the gradients of a CNN's activations
 * are tens of MB per step). */
static void grad_settle(Tensor *t)
{
    if (!t->grad_fresh) return;
    threadpool_parallel_range(t->size, 4 * THREADPOOL_ELTWISE_CHUNK, zero_range, t->grad);
    t->grad_fresh = false;
}

float *tensor_grad(Tensor *t)
{
    if (!t->requires_grad || !grad_alloc(t)) return NULL;
    grad_settle(t);
    return t->grad;
}

float *tensor_grad_assign(Tensor *t, bool *assign)
{
    *assign = false;
    if (!t->requires_grad || !grad_alloc(t)) return NULL;
    *assign = t->grad_fresh;
    t->grad_fresh = false;
    return t->grad;
}

/* The leaves that require a gradient, in order of first use on the tape
 * (leaf[k] is first read by node at[k]); a linear search per source, as a
 * model has tens of parameters and a step tens to hundreds of nodes. */
typedef struct {
    Tensor **leaf;
    int *at;
    int n;
} ReadySchedule;

static int ready_schedule(Graph *g, ReadySchedule *s)
{
    size_t cap = (size_t)g->n_tape * TENSOR_MAX_SRC + 1;
    s->leaf = graph_alloc(g, cap * sizeof *s->leaf);
    s->at = graph_alloc(g, cap * sizeof *s->at);
    s->n = 0;
    if (!s->leaf || !s->at) return meld_errorf("backward: out of memory");
    for (int i = 0; i < g->n_tape; i++)
        for (int k = 0; k < g->tape[i]->nsrc; k++) {
            Tensor *t = g->tape[i]->src[k];
            if (t->op || !t->requires_grad) continue;
            int seen = 0;
            for (int j = s->n - 1; j >= 0 && !seen; j--) seen = s->leaf[j] == t;
            if (!seen) s->leaf[s->n] = t, s->at[s->n++] = i;
        }
    return MELD_OK;
}

int graph_backward(Graph *g, Tensor *loss)
{
    if (!loss) return meld_errorf("backward: no loss (the forward pass failed)");
    if (loss->size != 1) {
        char s[64];
        return meld_errorf("backward: loss must have one element, got shape %s", shape_str(loss, s, sizeof s));
    }
    if (!loss->requires_grad) return meld_errorf("backward: the loss does not depend on any parameter");
    float *seed = tensor_grad(loss);
    if (!seed) return meld_errorf("backward: out of memory");
    seed[0] += 1.0f;
    g->backward_failed = false;
    ReadySchedule ready = {0};
    if (g->grad_ready && ready_schedule(g, &ready)) return MELD_ERR;
    int next_ready = ready.n - 1;   /* the schedule is walked from its end */
    for (int i = g->n_tape - 1; i >= 0; i--) {
        Tensor *node = g->tape[i];
        if (node->grad) {            /* else nothing flows back through it */
            grad_settle(node);       /* allocated, but no consumer wrote it */
            /* Make sure every source that needs a gradient has a buffer before
             * the rule runs, so rules can write without checking for failure. */
            for (int s = 0; s < node->nsrc; s++)
                if (node->src[s]->requires_grad && !grad_alloc(node->src[s]))
                    return meld_errorf("backward: out of memory in %s", node->op->name);
            node->op->backward(node);
            if (g->backward_failed) return meld_error_context("backward of %s", node->op->name);
        }
        for (; next_ready >= 0 && ready.at[next_ready] == i; next_ready--) {
            grad_settle(ready.leaf[next_ready]);
            g->grad_ready(g->grad_ready_ctx, ready.leaf[next_ready]);
        }
    }
    /* Leaves (and any buffer a rule skipped) read as zeros, not garbage. */
    for (int i = 0; i < g->n_tape; i++)
        for (int s = 0; s < g->tape[i]->nsrc; s++) grad_settle(g->tape[i]->src[s]);
    return MELD_OK;
}
