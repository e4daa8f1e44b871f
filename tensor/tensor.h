/* Dense float32 tensors of rank 0..5, row-major (the last axis is contiguous).
 *
 * Ownership
 *   - A *parameter* or any tensor made with a NULL arena lives on the heap:
 *     the caller owns it and frees it with tensor_free(). Parameters also own
 *     a gradient buffer of the same size (tensor_new_param).
 *   - A tensor made in an Arena (every op output during a step) belongs to the
 *     arena, data, gradient and all. It dies at arena_reset(); never free it.
 *   - tensor_from_buffer() wraps caller memory without copying; the caller
 *     keeps ownership and must keep it alive as long as the tensor.
 *
 * Autograd fields (op, src, args) are filled by the ops in ops.h when a
 * Graph records them; see autograd.h.
 */
#ifndef MELD_TENSOR_H
#define MELD_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tensor/arena.h"
#include "tensor/rng.h"

#define TENSOR_MAX_DIMS 5
#define TENSOR_MAX_SRC 7   /* the two-direction RNN op: x + 3 per direction */

typedef struct Tensor Tensor;

/* One differentiable operation: its name and its backward rule. The backward
 * rule reads out->grad and *accumulates* (+=) into the gradients of
 * out->src[i] that require one (see autograd.h: tensor_grad). */
typedef struct OpDef {
    const char *name;
    void (*backward)(Tensor *out);
} OpDef;

/* Per-op saved scalars and buffers (which fields an op uses is written at
 * the op). Buffers point into the graph's arena. */
typedef struct {
    int i[8];
    float f[4];
    void *saved[4];
} OpArgs;

struct Graph;

struct Tensor {
    int ndim;
    int shape[TENSOR_MAX_DIMS];
    size_t size;              /* product of shape; 1 for rank 0 */
    float *data;
    float *grad;              /* NULL until a gradient flows into it */
    bool requires_grad;
    bool grad_fresh;          /* grad allocated but not yet written (autograd.c) */
    bool heap;                /* struct and buffers from malloc (tensor_free) */
    bool owns_data;           /* heap tensor that also owns data/grad */
    const char *name;         /* optional, for parameters ("lstm.weight_ih_l0") */
    /* autograd record */
    const OpDef *op;          /* NULL for leaves */
    Tensor *src[TENSOR_MAX_SRC];
    int nsrc;
    OpArgs args;
    struct Graph *graph;      /* graph that made it (NULL for leaves) */
};

/* ---- creation ------------------------------------------------------------
 * `arena` NULL means heap (free with tensor_free). Return NULL on error. */
Tensor *tensor_new(Arena *arena, int ndim, const int *shape);        /* zeros */
/* Data not initialised when in an arena (the caller writes every element);
 * zeros on the heap. */
Tensor *tensor_new_uninit(Arena *arena, int ndim, const int *shape);
Tensor *tensor_full(Arena *arena, int ndim, const int *shape, float value);
Tensor *tensor_from_buffer(Arena *arena, int ndim, const int *shape, float *data);
Tensor *tensor_copy(Arena *arena, const Tensor *t);
/* Heap parameter with a zeroed gradient buffer; requires_grad = true. */
Tensor *tensor_new_param(const char *name, int ndim, const int *shape);
void    tensor_free(Tensor *t);

void tensor_fill(Tensor *t, float value);
void tensor_fill_uniform(Tensor *t, Rng *r, float lo, float hi);
void tensor_fill_normal(Tensor *t, Rng *r, float mean, float std);
void tensor_zero_grad(Tensor *t);

/* ---- shape helpers -------------------------------------------------------*/
/* Checks 0 <= ndim <= 5, dims >= 0 and no size_t overflow; sets *size. */
int  shape_check(int ndim, const int *shape, size_t *size, const char *who);
bool shape_equal(const Tensor *a, const Tensor *b);
/* Writes "[50,1611]" into buf (always terminated). Returns buf. */
char *shape_str(const Tensor *t, char *buf, size_t cap);
/* Normalises a possibly negative axis; sets an error naming `who` if bad. */
int  axis_check(const Tensor *t, int axis, int *out, const char *who);

/* ---- non-differentiable data movement (plain functions on any tensors) ---
 * The differentiable versions are the ops reshape/permute/slice/concat. */
int tensor_permute_into(const Tensor *in, const int *perm, Tensor *out);
int tensor_slice_into(const Tensor *in, int axis, int start, int len, Tensor *out);

#endif
