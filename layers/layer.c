#include "layers/layer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"

/* Parameter and buffer names are stored in one heap string per tensor,
 * owned here (freed in layer_free through the tensor's name pointer). */
static Tensor *add_tensor(Layer *l, const char *suffix, int ndim, const int *shape, bool trainable)
{
    int *count = trainable ? &l->n_params : &l->n_buffers;
    int cap = trainable ? LAYER_MAX_PARAMS : LAYER_MAX_BUFFERS;
    if (*count >= cap) {
        meld_errorf("%s: more than %d %s", l->name, cap, trainable ? "parameters" : "buffers");
        return NULL;
    }
    size_t len = strlen(l->name) + strlen(suffix) + 2;
    char *name = meld_malloc(len, "parameter name");
    if (!name) return NULL;
    snprintf(name, len, "%s.%s", l->name, suffix);
    Tensor *t = tensor_new_param(name, ndim, shape);
    if (!t) {
        free(name);
        return NULL;
    }
    if (!trainable) {
        t->requires_grad = false;
        free(t->grad);
        t->grad = NULL;
        l->buffers[(*count)++] = t;
    } else {
        l->params[(*count)++] = t;
    }
    return t;
}

Tensor *layer_add_param(Layer *l, const char *suffix, int ndim, const int *shape)
{
    return add_tensor(l, suffix, ndim, shape, true);
}

Tensor *layer_add_buffer(Layer *l, const char *suffix, int ndim, const int *shape)
{
    return add_tensor(l, suffix, ndim, shape, false);
}

size_t layer_param_count(const Layer *l)
{
    size_t n = 0;
    for (int i = 0; i < l->n_params; i++) n += l->params[i]->size;
    return n;
}

static void free_named(Tensor *t)
{
    free((char *)t->name);
    tensor_free(t);
}

void layer_free(Layer *l)
{
    if (!l) return;
    for (int i = 0; i < l->n_params; i++) free_named(l->params[i]);
    for (int i = 0; i < l->n_buffers; i++) free_named(l->buffers[i]);
    if (l->ops && l->ops->destroy) l->ops->destroy(l);
    free(l);
}
