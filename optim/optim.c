/* What all optimiser kinds share: the table of kinds, hyper-parameter
 * parsing, binding parameters, stepping, and state export/import. The
 * update rules themselves are in sgd.c, adam.c, adadelta.c, rmsprop.c. */
#include "optim/optim.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optim/optim_kind.h"
#include "tensor/error.h"
#include "tensor/threadpool.h"

/* ---- the kinds ---- */

static const OptimKind *const KINDS[] = {
    &optim_kind_sgd, &optim_kind_adam, &optim_kind_adamw, &optim_kind_adadelta, &optim_kind_rmsprop,
};
enum { N_KINDS = sizeof KINDS / sizeof KINDS[0] };

int optim_kind_count(void) { return N_KINDS; }
const char *optim_kind_name(int i) { return i >= 0 && i < N_KINDS ? KINDS[i]->name : NULL; }

static const OptimKind *find_kind(const char *name)
{
    for (int i = 0; i < N_KINDS; i++)
        if (name && !strcmp(KINDS[i]->name, name)) return KINDS[i];
    meld_errorf("unknown optimiser '%s' (known: sgd adam adamw adadelta rmsprop)", name ? name : "(null)");
    return NULL;
}

/* ---- hyper-parameters by name ---- */

typedef struct {
    const char *key;
    size_t offset; /* into OptimHparams */
    int is_flag;   /* int 0/1 instead of double */
} HparamField;

static const HparamField FIELDS[] = {
    {"lr", offsetof(OptimHparams, lr), 0},
    {"weight_decay", offsetof(OptimHparams, weight_decay), 0},
    {"momentum", offsetof(OptimHparams, momentum), 0},
    {"dampening", offsetof(OptimHparams, dampening), 0},
    {"nesterov", offsetof(OptimHparams, nesterov), 1},
    {"beta1", offsetof(OptimHparams, beta1), 0},
    {"beta2", offsetof(OptimHparams, beta2), 0},
    {"eps", offsetof(OptimHparams, eps), 0},
    {"rho", offsetof(OptimHparams, rho), 0},
    {"alpha", offsetof(OptimHparams, alpha), 0},
    {"centered", offsetof(OptimHparams, centered), 1},
};
enum { N_FIELDS = sizeof FIELDS / sizeof FIELDS[0] };

/* Is word one of the space-separated words of list? */
static int has_word(const char *list, const char *word, size_t len)
{
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, " ");
        if (n == len && !strncmp(p, word, len)) return 1;
        p += n;
        p += *p == ' ';
    }
    return 0;
}

static const HparamField *find_field(const OptimKind *k, const char *key, size_t len)
{
    if (!has_word(k->keys, key, len)) return NULL;
    for (int i = 0; i < N_FIELDS; i++)
        if (strlen(FIELDS[i].key) == len && !strncmp(FIELDS[i].key, key, len)) return &FIELDS[i];
    return NULL;
}

static double *field_double(OptimHparams *hp, const HparamField *f)
{
    return (double *)((char *)hp + f->offset);
}

static int *field_flag(OptimHparams *hp, const HparamField *f) { return (int *)((char *)hp + f->offset); }

static double field_value(const OptimHparams *hp, const HparamField *f)
{
    const char *base = (const char *)hp + f->offset;
    return f->is_flag ? *(const int *)base : *(const double *)base;
}

int optim_defaults(const char *kind, OptimHparams *hp)
{
    const OptimKind *k = find_kind(kind);
    if (!k) return MELD_ERR;
    memset(hp, 0, sizeof *hp);
    k->defaults(hp);
    return MELD_OK;
}

const char *optim_hparam_keys(const char *kind)
{
    const OptimKind *k = find_kind(kind);
    return k ? k->keys : NULL;
}

/* One "key=value" item of length len. */
static int parse_item(const OptimKind *k, const char *item, size_t len, OptimHparams *hp)
{
    const char *eq = memchr(item, '=', len);
    if (!eq) return meld_errorf("%s: expected key=value, got '%.*s'", k->name, (int)len, item);
    const HparamField *f = find_field(k, item, (size_t)(eq - item));
    if (!f)
        return meld_errorf("%s: unknown hyper-parameter '%.*s' (accepts: %s)", k->name, (int)(eq - item),
                           item, k->keys);
    char text[64];
    size_t vlen = len - (size_t)(eq + 1 - item);
    if (vlen == 0 || vlen >= sizeof text) return meld_errorf("%s: bad value for %s", k->name, f->key);
    memcpy(text, eq + 1, vlen);
    text[vlen] = '\0';
    char *end;
    double v = strtod(text, &end);
    if (*end || !isfinite(v)) return meld_errorf("%s: bad value '%s' for %s", k->name, text, f->key);
    if (f->is_flag) {
        if (v != 0 && v != 1) return meld_errorf("%s: %s takes 0 or 1, not '%s'", k->name, f->key, text);
        *field_flag(hp, f) = (int)v;
    } else {
        *field_double(hp, f) = v;
    }
    return MELD_OK;
}

int optim_parse_hparams(const char *kind, const char *spec, OptimHparams *hp)
{
    const OptimKind *k = find_kind(kind);
    if (!k) return MELD_ERR;
    for (const char *p = spec; *p;) {
        while (*p == ' ') p++;
        size_t len = strcspn(p, ",");
        while (len && p[len - 1] == ' ') len--;
        if (len && parse_item(k, p, len, hp)) return MELD_ERR;
        p += strcspn(p, ",");
        p += *p == ',';
    }
    return MELD_OK;
}

int optim_format_hparams(const char *kind, const OptimHparams *hp, char *buf, size_t cap)
{
    const OptimKind *k = find_kind(kind);
    if (!k) return MELD_ERR;
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < N_FIELDS; i++) {
        const HparamField *f = &FIELDS[i];
        if (!has_word(k->keys, f->key, strlen(f->key))) continue;
        int w = snprintf(buf + at, cap - at, f->is_flag ? "%s%s=%.0f" : "%s%s=%.17g", at ? "," : "", f->key,
                         field_value(hp, f));
        if (w < 0 || (size_t)w >= cap - at) return meld_errorf("%s: hyper-parameter text too long", k->name);
        at += (size_t)w;
    }
    return MELD_OK;
}

/* Checks shared by every kind, then the kind's own. */
static int check_hparams(const OptimKind *k, const OptimHparams *hp)
{
    for (int i = 0; i < N_FIELDS; i++) {
        const HparamField *f = &FIELDS[i];
        if (has_word(k->keys, f->key, strlen(f->key)) && !isfinite(field_value(hp, f)))
            return meld_errorf("%s: %s is not finite", k->name, f->key);
    }
    if (!(hp->lr >= 0)) return meld_errorf("%s: lr %g must be >= 0", k->name, hp->lr);
    if (!(hp->weight_decay >= 0))
        return meld_errorf("%s: weight_decay %g must be >= 0", k->name, hp->weight_decay);
    if (has_word(k->keys, "eps", 3) && !(hp->eps >= 0))
        return meld_errorf("%s: eps %g must be >= 0", k->name, hp->eps);
    return k->check(hp);
}

/* ---- the optimiser ---- */

typedef struct {
    char *name;
    size_t size;
    int64_t step;                   /* updates applied so far */
    float *buf[OPTIM_MAX_BUFFERS];  /* size floats each, NULL when unused */
} Slot;

struct Optimizer {
    const OptimKind *kind;
    OptimHparams hp;
    unsigned used; /* kind->buffers_used(&hp) */
    int n;
    Slot *slots;
};

static void free_buffers(float **buf)
{
    for (int b = 0; b < OPTIM_MAX_BUFFERS; b++) {
        free(buf[b]);
        buf[b] = NULL;
    }
}

/* Zeroed buffers for the bits of used. */
static int alloc_buffers(float **buf, unsigned used, size_t size, const char *name)
{
    for (int b = 0; b < OPTIM_MAX_BUFFERS; b++) {
        buf[b] = NULL;
        if (!(used >> b & 1u)) continue;
        if (!(buf[b] = meld_calloc(size, sizeof(float), name))) {
            free_buffers(buf);
            return MELD_ERR;
        }
    }
    return MELD_OK;
}

void optim_free(Optimizer *o)
{
    if (!o) return;
    for (int i = 0; i < o->n; i++) {
        free(o->slots[i].name);
        free_buffers(o->slots[i].buf);
    }
    free(o->slots);
    free(o);
}

static int check_param_list(const ParamRef *params, int n)
{
    if (n < 0 || (n > 0 && !params)) return meld_errorf("optim_create: bad parameter list (n = %d)", n);
    for (int i = 0; i < n; i++) {
        if (!params[i].name || !params[i].name[0])
            return meld_errorf("optim_create: parameter %d has no name", i);
        for (int j = 0; j < i; j++)
            if (!strcmp(params[i].name, params[j].name))
                return meld_errorf("optim_create: parameter name '%s' appears twice", params[i].name);
    }
    return MELD_OK;
}

Optimizer *optim_create(const char *kind, const OptimHparams *hp, const ParamRef *params, int n)
{
    const OptimKind *k = find_kind(kind);
    if (!k || check_param_list(params, n)) return NULL;
    OptimHparams h;
    if (hp) {
        h = *hp;
    } else {
        memset(&h, 0, sizeof h);
        k->defaults(&h);
    }
    if (check_hparams(k, &h)) return NULL;
    Optimizer *o = meld_calloc(1, sizeof *o, "optimiser");
    if (!o) return NULL;
    *o = (Optimizer){.kind = k, .hp = h, .used = k->buffers_used(&h)};
    if (!(o->slots = meld_calloc((size_t)(n ? n : 1), sizeof *o->slots, "optimiser state"))) {
        free(o);
        return NULL;
    }
    for (int i = 0; i < n; i++, o->n++) {
        Slot *s = &o->slots[i];
        size_t len = strlen(params[i].name) + 1;
        s->size = params[i].size;
        if (!(s->name = meld_malloc(len, "parameter name")) ||
            alloc_buffers(s->buf, o->used, s->size, params[i].name)) {
            free(s->name);
            optim_free(o);
            return NULL;
        }
        memcpy(s->name, params[i].name, len);
    }
    return o;
}

typedef struct {
    const Optimizer *o;
    const Slot *s;
    float *w;
    const float *g;
} UpdateJob;

static void update_range(void *ctx, size_t lo, size_t hi)
{
    const UpdateJob *j = ctx;
    float *buf[OPTIM_MAX_BUFFERS];
    for (int b = 0; b < OPTIM_MAX_BUFFERS; b++) buf[b] = j->s->buf[b] ? j->s->buf[b] + lo : NULL;
    j->o->kind->update(&j->o->hp, j->s->step, buf, j->w + lo, j->g + lo, hi - lo);
}

int optim_step(Optimizer *o, const ParamRef *params, int n)
{
    if (n != o->n)
        return meld_errorf("optim_step: %d parameters given, the %s optimiser holds %d", n, o->kind->name,
                           o->n);
    /* All checks before any update, so an error leaves the model as it was. */
    for (int i = 0; i < n; i++) {
        const Slot *s = &o->slots[i];
        if (!params[i].name || strcmp(params[i].name, s->name) || params[i].size != s->size)
            return meld_errorf("optim_step: parameter %d is '%s' (%zu values), expected '%s' (%zu)", i,
                               params[i].name ? params[i].name : "(null)", params[i].size, s->name, s->size);
        if (!params[i].data && s->size) return meld_errorf("optim_step: parameter '%s' has no data", s->name);
    }
    for (int i = 0; i < n; i++) {
        Slot *s = &o->slots[i];
        if (!params[i].grad) continue;
        s->step++;
        UpdateJob j = {o, s, params[i].data, params[i].grad};   /* large tensors on the pool */
        threadpool_parallel_range(s->size, THREADPOOL_ELTWISE_CHUNK, update_range, &j);
    }
    return MELD_OK;
}

const char *optim_kind(const Optimizer *o) { return o->kind->name; }
const OptimHparams *optim_hparams(const Optimizer *o) { return &o->hp; }
double optim_get_lr(const Optimizer *o) { return o->hp.lr; }
int optim_set_lr(Optimizer *o, double lr)
{
    if (!(lr >= 0) || !isfinite(lr))
        return meld_errorf("%s: learning rate %g must be finite and >= 0", o->kind->name, lr);
    o->hp.lr = lr;
    return MELD_OK;
}

void optim_zero_grad(const ParamRef *params, int n)
{
    for (int i = 0; i < n; i++)
        if (params[i].grad) memset(params[i].grad, 0, params[i].size * sizeof(float));
}

/* ---- state export / import ---- */

enum { MAX_EXACT_STEP = 1 << 24 }; /* float32 holds every integer up to 2^24 */

/* "optim.<kind>.<what>.<param>", malloc'd. */
static char *state_name(const OptimKind *k, const char *what, const char *param)
{
    size_t len = strlen("optim...") + strlen(k->name) + strlen(what) + strlen(param) + 1;
    char *s = meld_malloc(len, "state tensor name");
    if (s) snprintf(s, len, "optim.%s.%s.%s", k->name, what, param);
    return s;
}

static int add_state(SafeTensors *st, const OptimKind *k, const char *what, const char *param, int ndim,
                     const int64_t *shape, const float *data)
{
    char *name = state_name(k, what, param);
    if (!name) return MELD_ERR;
    int rc = st_add(st, name, ndim, shape, data);
    free(name);
    return rc;
}

int optim_export_state(const Optimizer *o, SafeTensors *st)
{
    const OptimKind *k = o->kind;
    char hp[1024];
    if (optim_format_hparams(k->name, &o->hp, hp, sizeof hp) || st_set_meta(st, "optim.kind", k->name) ||
        st_set_meta(st, "optim.hparams", hp))
        return MELD_ERR;
    for (int i = 0; i < o->n; i++) {
        const Slot *s = &o->slots[i];
        if (s->step > MAX_EXACT_STEP)
            return meld_errorf("optim: step count %lld of '%s' exceeds 2^24, not exact as float32",
                               (long long)s->step, s->name);
        const float step = (float)s->step;
        if (add_state(st, k, "step", s->name, 0, NULL, &step)) return MELD_ERR;
        const int64_t shape[1] = {(int64_t)s->size};
        for (int b = 0; b < OPTIM_MAX_BUFFERS; b++)
            if (s->buf[b] && add_state(st, k, k->buffer_names[b], s->name, 1, shape, s->buf[b]))
                return MELD_ERR;
    }
    return MELD_OK;
}

static const StTensor *find_state(const SafeTensors *st, const OptimKind *k, const char *what,
                                  const char *param)
{
    char *name = state_name(k, what, param);
    const StTensor *t = name ? st_find(st, name) : NULL;
    free(name);
    return t;
}

/* Where each slot's state is in st. */
typedef struct {
    const StTensor *step;
    const StTensor *buf[OPTIM_MAX_BUFFERS];
} SlotSource;

/* Finds the step and the buffers that the settings use (bits of used) for
 * every parameter of o, checking that each is present and well formed. */
static int find_sources(const Optimizer *o, const SafeTensors *st, const char *src, unsigned used,
                        SlotSource *found)
{
    const OptimKind *k = o->kind;
    for (int i = 0; i < o->n; i++) {
        const Slot *s = &o->slots[i];
        const StTensor *t = find_state(st, k, "step", s->name);
        if (!t) return meld_errorf("%s: no optim.%s.step.%s", src, k->name, s->name);
        if (t->numel != 1) return meld_errorf("%s: optim.%s.step.%s is not a scalar", src, k->name, s->name);
        const float v = t->data[0];
        if (!(v >= 0 && v <= MAX_EXACT_STEP && v == floorf(v)))
            return meld_errorf("%s: optim.%s.step.%s = %g is not a step count", src, k->name, s->name, v);
        found[i].step = t;
        for (int b = 0; b < OPTIM_MAX_BUFFERS; b++) {
            found[i].buf[b] = NULL;
            if (!(used >> b & 1u)) continue;
            const char *bn = k->buffer_names[b];
            if (!(t = find_state(st, k, bn, s->name)))
                return meld_errorf("%s: no optim.%s.%s.%s", src, k->name, bn, s->name);
            if (t->numel != s->size)
                return meld_errorf("%s: optim.%s.%s.%s has %zu values, parameter has %zu", src, k->name, bn,
                                   s->name, t->numel, s->size);
            found[i].buf[b] = t;
        }
    }
    return MELD_OK;
}

/* Every "optim.*" tensor in st must be state this optimiser would read:
 * state of another kind, of an unknown parameter, or of a buffer these
 * settings do not use means the checkpoint does not belong to this run. */
static int check_no_stray_state(const Optimizer *o, const SafeTensors *st, const char *src, unsigned used)
{
    const OptimKind *k = o->kind;
    const size_t klen = strlen(k->name);
    for (int i = 0; i < st->n_tensors; i++) {
        const char *name = st->tensors[i].name;
        if (strncmp(name, "optim.", 6) != 0) continue;
        const char *rest = name + 6;
        if (strncmp(rest, k->name, klen) != 0 || rest[klen] != '.')
            return meld_errorf("%s: '%s' is not %s state", src, name, k->name);
        rest += klen + 1;
        const size_t wlen = strcspn(rest, ".");
        const char *param = rest[wlen] ? rest + wlen + 1 : "";
        int known_what = wlen == 4 && !strncmp(rest, "step", 4);
        for (int b = 0; b < OPTIM_MAX_BUFFERS; b++)
            known_what |= (used >> b & 1u) && strlen(k->buffer_names[b]) == wlen &&
                          !strncmp(rest, k->buffer_names[b], wlen);
        if (!known_what)
            return meld_errorf("%s: '%s' is not used by %s with these settings", src, name, k->name);
        int known_param = 0;
        for (int p = 0; p < o->n && !known_param; p++) known_param = !strcmp(o->slots[p].name, param);
        if (!known_param)
            return meld_errorf("%s: '%s' is state of a parameter this model does not have", src, name);
    }
    return MELD_OK;
}

int optim_import_state(Optimizer *o, const SafeTensors *st)
{
    const OptimKind *k = o->kind;
    const char *src = st->source[0] ? st->source : "checkpoint";
    const char *kind = st_get_meta(st, "optim.kind");
    const char *spec = st_get_meta(st, "optim.hparams");
    if (!kind || !spec) return meld_errorf("%s: no optimiser state (metadata optim.kind/optim.hparams)", src);
    if (strcmp(kind, k->name))
        return meld_errorf("%s: optimiser state is for %s, this optimiser is %s", src, kind, k->name);
    OptimHparams h;
    memset(&h, 0, sizeof h);
    k->defaults(&h);
    if (optim_parse_hparams(k->name, spec, &h) || check_hparams(k, &h))
        return meld_error_context("%s: optim.hparams", src);
    const unsigned used = k->buffers_used(&h);
    const size_t n = (size_t)(o->n ? o->n : 1);
    SlotSource *found = meld_calloc(n, sizeof *found, "optimiser state sources");
    /* New buffers are built aside and swapped in at the end: on any error
     * (bad checkpoint, no memory) o is left as it was. */
    float *(*fresh)[OPTIM_MAX_BUFFERS] = meld_calloc(n, sizeof *fresh, "optimiser state");
    int rc = !found || !fresh || find_sources(o, st, src, used, found) ||
             check_no_stray_state(o, st, src, used);
    int allocated = 0;
    for (; !rc && allocated < o->n; allocated++)
        rc = alloc_buffers(fresh[allocated], used, o->slots[allocated].size, o->slots[allocated].name);
    if (rc) {
        for (int i = 0; i < allocated; i++) free_buffers(fresh[i]);
        free(found);
        free(fresh);
        return MELD_ERR;
    }
    for (int i = 0; i < o->n; i++) {
        Slot *s = &o->slots[i];
        free_buffers(s->buf);
        for (int b = 0; b < OPTIM_MAX_BUFFERS; b++) {
            s->buf[b] = fresh[i][b];
            if (s->buf[b] && s->size) memcpy(s->buf[b], found[i].buf[b]->data, s->size * sizeof(float));
        }
        s->step = (int64_t)found[i].step->data[0];
    }
    free(found);
    free(fresh);
    o->hp = h;
    o->used = used;
    return MELD_OK;
}
