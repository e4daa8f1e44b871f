#include "tensor/tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"

int shape_check(int ndim, const int *shape, size_t *size, const char *who)
{
    if (ndim < 0 || ndim > TENSOR_MAX_DIMS)
        return meld_errorf("%s: rank %d outside 0..%d", who, ndim, TENSOR_MAX_DIMS);
    size_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0) return meld_errorf("%s: negative dimension %d", who, shape[d]);
        if (shape[d] && n > SIZE_MAX / sizeof(float) / (size_t)shape[d])
            return meld_errorf("%s: shape too large", who);
        n *= (size_t)shape[d];
    }
    *size = n;
    return MELD_OK;
}

bool shape_equal(const Tensor *a, const Tensor *b)
{
    if (a->ndim != b->ndim) return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d]) return false;
    return true;
}

char *shape_str(const Tensor *t, char *buf, size_t cap)
{
    size_t n = 0;
    n += (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < t->ndim && n < cap; d++)
        n += (size_t)snprintf(buf + n, cap - n, d ? ",%d" : "%d", t->shape[d]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
    return buf;
}

int axis_check(const Tensor *t, int axis, int *out, const char *who)
{
    int a = axis < 0 ? axis + t->ndim : axis;
    if (a < 0 || a >= t->ndim) {
        char s[64];
        return meld_errorf("%s: axis %d out of range for shape %s", who, axis, shape_str(t, s, sizeof s));
    }
    *out = a;
    return MELD_OK;
}

/* Allocates the struct (and, when data is NULL, a buffer, zeroed when
 * `zero`) from the arena, or from the heap when arena is NULL. */
static Tensor *tensor_alloc_z(Arena *arena, int ndim, const int *shape, float *data, bool zero)
{
    size_t size;
    if (shape_check(ndim, shape, &size, "tensor") != MELD_OK) return NULL;
    Tensor *t = arena ? arena_calloc(arena, sizeof *t) : meld_calloc(1, sizeof *t, "tensor");
    if (!t) return NULL;
    t->ndim = ndim;
    if (ndim) memcpy(t->shape, shape, sizeof(int) * (size_t)ndim);
    t->size = size;
    t->heap = arena == NULL;
    if (data) {
        t->data = data;
        return t;
    }
    if (arena) t->data = zero ? arena_calloc(arena, size * sizeof(float)) : arena_alloc(arena, size * sizeof(float));
    else t->data = meld_calloc(size ? size : 1, sizeof(float), "tensor data");
    if (!t->data) {
        if (!arena) free(t);
        return NULL;
    }
    t->owns_data = arena == NULL;
    return t;
}

static Tensor *tensor_alloc(Arena *arena, int ndim, const int *shape, float *data)
{
    return tensor_alloc_z(arena, ndim, shape, data, true);
}

Tensor *tensor_new(Arena *arena, int ndim, const int *shape) { return tensor_alloc(arena, ndim, shape, NULL); }
Tensor *tensor_new_uninit(Arena *arena, int ndim, const int *shape)
{
    return tensor_alloc_z(arena, ndim, shape, NULL, false);
}

Tensor *tensor_full(Arena *arena, int ndim, const int *shape, float value)
{
    Tensor *t = tensor_alloc(arena, ndim, shape, NULL);
    if (t) tensor_fill(t, value);
    return t;
}

Tensor *tensor_from_buffer(Arena *arena, int ndim, const int *shape, float *data)
{
    if (!data) {
        meld_errorf("tensor_from_buffer: NULL buffer");
        return NULL;
    }
    return tensor_alloc(arena, ndim, shape, data);
}

Tensor *tensor_copy(Arena *arena, const Tensor *src)
{
    Tensor *t = tensor_alloc(arena, src->ndim, src->shape, NULL);
    if (t) memcpy(t->data, src->data, src->size * sizeof(float));
    return t;
}

Tensor *tensor_new_param(const char *name, int ndim, const int *shape)
{
    Tensor *t = tensor_alloc(NULL, ndim, shape, NULL);
    if (!t) return NULL;
    t->grad = meld_calloc(t->size ? t->size : 1, sizeof(float), "parameter gradient");
    if (!t->grad) {
        tensor_free(t);
        return NULL;
    }
    t->requires_grad = true;
    t->name = name;
    return t;
}

void tensor_free(Tensor *t)
{
    if (!t || !t->heap) return;
    if (t->owns_data) {
        free(t->data);
        free(t->grad);
    }
    free(t);
}

void tensor_fill(Tensor *t, float value)
{
    for (size_t i = 0; i < t->size; i++) t->data[i] = value;
}

void tensor_fill_uniform(Tensor *t, Rng *r, float lo, float hi)
{
    for (size_t i = 0; i < t->size; i++) t->data[i] = rng_uniform_range(r, lo, hi);
}

void tensor_fill_normal(Tensor *t, Rng *r, float mean, float std)
{
    for (size_t i = 0; i < t->size; i++) t->data[i] = mean + std * rng_normal(r);
}

void tensor_zero_grad(Tensor *t)
{
    if (t->grad) memset(t->grad, 0, t->size * sizeof(float));
}

/* Row-major strides of a shape (in elements). */
static void strides_of(int ndim, const int *shape, size_t *stride)
{
    size_t s = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        stride[d] = s;
        s *= (size_t)shape[d];
    }
}

int tensor_permute_into(const Tensor *in, const int *perm, Tensor *out)
{
    int n = in->ndim;
    size_t in_stride[TENSOR_MAX_DIMS], src_stride[TENSOR_MAX_DIMS];
    strides_of(n, in->shape, in_stride);
    for (int d = 0; d < n; d++) src_stride[d] = in_stride[perm[d]];
    /* Walk out in row-major order with an odometer over its index. */
    int idx[TENSOR_MAX_DIMS] = {0};
    size_t src = 0;
    for (size_t o = 0; o < out->size; o++) {
        out->data[o] = in->data[src];
        for (int d = n - 1; d >= 0; d--) {
            if (++idx[d] < out->shape[d]) {
                src += src_stride[d];
                break;
            }
            src -= src_stride[d] * (size_t)(out->shape[d] - 1);
            idx[d] = 0;
        }
    }
    return MELD_OK;
}

int tensor_slice_into(const Tensor *in, int axis, int start, int len, Tensor *out)
{
    /* View in as [outer, n, inner]: copy len*inner contiguous floats per outer. */
    size_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++) outer *= (size_t)in->shape[d];
    for (int d = axis + 1; d < in->ndim; d++) inner *= (size_t)in->shape[d];
    size_t n = (size_t)in->shape[axis];
    for (size_t o = 0; o < outer; o++)
        memcpy(out->data + o * (size_t)len * inner, in->data + (o * n + (size_t)start) * inner,
               (size_t)len * inner * sizeof(float));
    return MELD_OK;
}
