/* Model checkpoints over safetensors; see checkpoint.h. */
#include "layers/checkpoint.h"

#include <string.h>

#include "tensor/error.h"

/* Tensor shapes are int, safetensors shapes int64. */
static void shape64(const Tensor *t, int64_t *out)
{
    for (int d = 0; d < t->ndim; d++) out[d] = t->shape[d];
}

/* params[0..n_params) then buffers: the model's state in a stable order. */
static Tensor *state_at(const Model *m, int i)
{
    return i < m->n_params ? m->params[i] : m->buffers[i - m->n_params];
}

int model_state_add(const Model *m, SafeTensors *st)
{
    for (int i = 0; i < m->n_params + m->n_buffers; i++) {
        const Tensor *t = state_at(m, i);
        int64_t shape[TENSOR_MAX_DIMS];
        shape64(t, shape);
        if (st_add_view(st, t->name, t->ndim, shape, t->data) != MELD_OK)
            return meld_error_context("model '%s'", m->name);
    }
    return MELD_OK;
}

static bool model_has(const Model *m, const char *name)
{
    for (int i = 0; i < m->n_params + m->n_buffers; i++)
        if (!strcmp(state_at(m, i)->name, name)) return true;
    return false;
}

int model_state_load(Model *m, const SafeTensors *st, bool strict)
{
    const char *src = st->source[0] ? st->source : "checkpoint";
    int n = m->n_params + m->n_buffers;
    /* 1. every model tensor is there with the model's shape */
    for (int i = 0; i < n; i++) {
        const Tensor *t = state_at(m, i);
        const StTensor *f = st_find(st, t->name);
        if (!f) return meld_errorf("%s: no tensor '%s' (model '%s' needs it)", src, t->name, m->name);
        int64_t want[TENSOR_MAX_DIMS];
        shape64(t, want);
        bool same = f->ndim == t->ndim;
        for (int d = 0; same && d < t->ndim; d++) same = f->shape[d] == want[d];
        if (!same) {
            char got_s[96], want_s[96];
            return meld_errorf("%s: tensor '%s' has shape %s, model '%s' expects %s", src, t->name,
                               st_shape_str(f->ndim, f->shape, got_s, sizeof got_s), m->name,
                               st_shape_str(t->ndim, want, want_s, sizeof want_s));
        }
    }
    /* 2. strict: nothing the model does not have */
    for (int i = 0; strict && i < st->n_tensors; i++)
        if (!model_has(m, st->tensors[i].name))
            return meld_errorf("%s: unexpected tensor '%s' (model '%s' has no such tensor)", src,
                               st->tensors[i].name, m->name);
    /* 3. all checked: copy */
    for (int i = 0; i < n; i++) {
        Tensor *t = state_at(m, i);
        memcpy(t->data, st_find(st, t->name)->data, t->size * sizeof(float));
    }
    return MELD_OK;
}

/* Appends extra's metadata and tensors (as views) to st. */
static int add_extra(SafeTensors *st, const SafeTensors *extra)
{
    for (int i = 0; i < extra->n_meta; i++)
        if (st_set_meta(st, extra->meta[i].key, extra->meta[i].value) != MELD_OK) return MELD_ERR;
    for (int i = 0; i < extra->n_tensors; i++) {
        const StTensor *t = &extra->tensors[i];
        if (st_add_view(st, t->name, t->ndim, t->shape, t->data) != MELD_OK) return MELD_ERR;
    }
    return MELD_OK;
}

int model_save(const Model *m, const char *path, const SafeTensors *extra)
{
    SafeTensors st;
    st_init(&st);
    int rc = st_set_meta(&st, "format", "meld-c");
    if (rc == MELD_OK) rc = st_set_meta(&st, "model", m->name);
    if (rc == MELD_OK) rc = model_state_add(m, &st);
    if (rc == MELD_OK && extra) rc = add_extra(&st, extra);
    if (rc != MELD_OK) meld_error_context("%s", path);
    else rc = st_save(&st, path);
    st_free(&st);
    return rc;
}

int model_load(Model *m, const char *path, SafeTensors *file)
{
    SafeTensors st;
    if (st_load(&st, path) != MELD_OK) {
        st_free(&st);
        if (file) st_init(file);
        return MELD_ERR;
    }
    int rc = model_state_load(m, &st, file == NULL);
    if (file && rc == MELD_OK) {
        *file = st;   /* hand the parsed file over */
        return MELD_OK;
    }
    st_free(&st);
    if (file) st_init(file);
    return rc;
}
