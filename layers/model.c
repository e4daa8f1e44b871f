/* The model container: node list, forward walk, parameter registry and the
 * summary table. See model.h for the design. */
#include "layers/model.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"
#include "tensor/ops.h"

int model_init(Model *m, const char *name)
{
    memset(m, 0, sizeof *m);
    if (!name || !name[0] || strlen(name) >= sizeof m->name)
        return meld_errorf("model: name must be 1..%d characters", (int)sizeof m->name - 1);
    strcpy(m->name, name);
    return MELD_OK;
}

void model_free(Model *m)
{
    if (!m) return;
    for (int i = 0; i < m->n_nodes; i++) layer_free(m->nodes[i].layer);
    free(m->nodes);
    free(m->params);
    free(m->buffers);
    memset(m, 0, sizeof *m);
}

/* Records the current error as the model's first build error; returns -1. */
static int build_failed(Model *m)
{
    if (m->status == MELD_OK) {
        m->status = MELD_ERR;
        snprintf(m->first_error, sizeof m->first_error, "%s", meld_error());
    }
    return -1;
}

int model_ok(Model *m)
{
    if (m->status == MELD_OK) return MELD_OK;
    return meld_errorf("%s", m->first_error);
}

static int node_by_name(const Model *m, const char *name)
{
    for (int i = 0; i < m->n_nodes; i++)
        if (!strcmp(m->nodes[i].name, name)) return i;
    return -1;
}

/* Appends a zeroed node named `name`; NULL (error set) on a clash or OOM. */
static ModelNode *push_node(Model *m, ModelNodeKind kind, const char *name)
{
    if (!name || !name[0] || strlen(name) >= LAYER_NAME_CAP) {
        meld_errorf("model '%s': node name must be 1..%d characters", m->name, LAYER_NAME_CAP - 1);
        return NULL;
    }
    if (node_by_name(m, name) >= 0) {
        meld_errorf("model '%s': two nodes named '%s'", m->name, name);
        return NULL;
    }
    if (m->n_nodes == m->cap_nodes) {
        int cap = m->cap_nodes ? 2 * m->cap_nodes : 8;
        ModelNode *nodes = realloc(m->nodes, sizeof *nodes * (size_t)cap);
        if (!nodes) {
            meld_errorf("model '%s': out of memory for %d nodes", m->name, cap);
            return NULL;
        }
        m->nodes = nodes;
        m->cap_nodes = cap;
    }
    ModelNode *n = &m->nodes[m->n_nodes];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    strcpy(n->name, name);
    return n;
}

/* A source node id must exist already (so the graph has no cycle). */
static int check_src(Model *m, int from)
{
    if (from >= 0 && from < m->n_nodes) return MELD_OK;
    return meld_errorf("model '%s': node %d does not exist (%d nodes so far)", m->name, from, m->n_nodes);
}

int model_input(Model *m, const char *name, int ndim, const int *shape)
{
    if (m->status != MELD_OK) return -1;
    if (m->n_inputs == MODEL_MAX_IO) {
        meld_errorf("model '%s': more than %d inputs", m->name, MODEL_MAX_IO);
        return build_failed(m);
    }
    if (ndim < 0 || ndim > TENSOR_MAX_DIMS - 1) {
        meld_errorf("model '%s': input '%s' has rank %d, expected 0..%d without the batch axis",
                    m->name, name ? name : "", ndim, TENSOR_MAX_DIMS - 1);
        return build_failed(m);
    }
    for (int d = 0; d < ndim; d++)
        if (shape[d] <= 0) {
            meld_errorf("model '%s': input '%s' dimension %d is %d, expected > 0", m->name,
                        name ? name : "", d, shape[d]);
            return build_failed(m);
        }
    ModelNode *n = push_node(m, NODE_INPUT, name);
    if (!n) return build_failed(m);
    n->ndim = ndim;
    memcpy(n->shape, shape, sizeof(int) * (size_t)ndim);
    m->inputs[m->n_inputs++] = m->n_nodes;
    return m->n_nodes++;
}

static int find_tensor(Tensor *const *list, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(list[i]->name, name)) return i;
    return -1;
}

/* Appends l's parameters and buffers to the model's lists (names unique). */
static int register_tensors(Model *m, const Layer *l)
{
    for (int i = 0; i < l->n_params + l->n_buffers; i++) {
        const Tensor *t = i < l->n_params ? l->params[i] : l->buffers[i - l->n_params];
        if (find_tensor(m->params, m->n_params, t->name) >= 0 ||
            find_tensor(m->buffers, m->n_buffers, t->name) >= 0)
            return meld_errorf("model '%s': tensor name '%s' is used twice", m->name, t->name);
    }
    Tensor **p = realloc(m->params, sizeof *p * (size_t)(m->n_params + l->n_params + 1));
    if (p) m->params = p;
    Tensor **b = realloc(m->buffers, sizeof *b * (size_t)(m->n_buffers + l->n_buffers + 1));
    if (b) m->buffers = b;
    if (!p || !b) return meld_errorf("model '%s': out of memory listing parameters", m->name);
    for (int i = 0; i < l->n_params; i++) m->params[m->n_params++] = l->params[i];
    for (int i = 0; i < l->n_buffers; i++) m->buffers[m->n_buffers++] = l->buffers[i];
    return MELD_OK;
}

int model_layer(Model *m, Layer *l, int from)
{
    if (m->status != MELD_OK) {
        layer_free(l);
        return -1;
    }
    if (!l) return build_failed(m);   /* the constructor set the error */
    for (int i = 0; i < m->n_nodes; i++)
        if (m->nodes[i].layer == l) {
            /* Already owned by node i: report it, but do not free it. */
            meld_errorf("model '%s': layer '%s' is added twice (a layer can appear once)", m->name, l->name);
            return build_failed(m);
        }
    if (check_src(m, from) != MELD_OK || register_tensors(m, l) != MELD_OK) {
        layer_free(l);
        return build_failed(m);
    }
    ModelNode *n = push_node(m, NODE_LAYER, l->name);
    if (!n) {
        /* Unregister what register_tensors appended, then drop the layer. */
        m->n_params -= l->n_params;
        m->n_buffers -= l->n_buffers;
        layer_free(l);
        return build_failed(m);
    }
    n->layer = l;
    n->src[0] = from;
    n->n_src = 1;
    return m->n_nodes++;
}

int model_add(Model *m, Layer *l)
{
    if (m->status == MELD_OK && m->n_nodes == 0) {
        layer_free(l);
        meld_errorf("model '%s': model_add needs an input first (model_input)", m->name);
        return build_failed(m);
    }
    return model_layer(m, l, m->n_nodes - 1);
}

int model_concat_n(Model *m, const char *name, const int *from, int n, int axis)
{
    if (m->status != MELD_OK) return -1;
    if (n < 2 || n > MODEL_MAX_IO) {
        meld_errorf("model '%s': concat of %d nodes, expected 2..%d", m->name, n, MODEL_MAX_IO);
        return build_failed(m);
    }
    for (int i = 0; i < n; i++)
        if (check_src(m, from[i]) != MELD_OK) return build_failed(m);
    char auto_name[32];
    snprintf(auto_name, sizeof auto_name, "concat_%d", m->n_nodes);
    ModelNode *node = push_node(m, NODE_CONCAT, name ? name : auto_name);
    if (!node) return build_failed(m);
    memcpy(node->src, from, sizeof(int) * (size_t)n);
    node->n_src = n;
    node->axis = axis;
    return m->n_nodes++;
}

int model_concat(Model *m, const char *name, int a, int b, int axis)
{
    return model_concat_n(m, name, (int[]){a, b}, 2, axis);
}

int model_set_outputs(Model *m, const int *nodes, int n)
{
    if (m->status != MELD_OK) return MELD_ERR;
    if (n < 1 || n > MODEL_MAX_IO) {
        meld_errorf("model '%s': %d outputs, expected 1..%d", m->name, n, MODEL_MAX_IO);
        build_failed(m);
        return MELD_ERR;
    }
    for (int i = 0; i < n; i++)
        if (check_src(m, nodes[i]) != MELD_OK) {
            build_failed(m);
            return MELD_ERR;
        }
    memcpy(m->outputs, nodes, sizeof(int) * (size_t)n);
    m->n_outputs = n;
    return MELD_OK;
}

/* ---- forward ------------------------------------------------------------- */

/* Computes every node into vals[]; NULL entries never survive a success. */
static int run_nodes(Model *m, Graph *g, Tensor *const *inputs, const Tensor *mask, Tensor **vals)
{
    if (model_ok(m) != MELD_OK) return meld_error_context("model '%s' was not built", m->name);
    int next_input = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        ModelNode *n = &m->nodes[i];
        Tensor *x[MODEL_MAX_IO];
        for (int s = 0; s < n->n_src; s++) x[s] = vals[n->src[s]];
        switch (n->kind) {
        case NODE_INPUT:
            /* A NULL input is an upstream failure whose message stands. */
            vals[i] = inputs[next_input++];
            if (!vals[i]) return MELD_ERR;
            if (vals[i]->ndim != n->ndim + 1) {
                char s[64];
                return meld_errorf("model '%s': input '%s' is %s, expected rank %d (batch + %d)", m->name,
                                   n->name, shape_str(vals[i], s, sizeof s), n->ndim + 1, n->ndim);
            }
            break;
        case NODE_LAYER:
            vals[i] = layer_forward(n->layer, g, x[0], mask);
            break;
        case NODE_CONCAT:
            vals[i] = op_concat(g, x, n->n_src, n->axis);
            break;
        }
        if (!vals[i]) return meld_error_context("model '%s', node '%s'", m->name, n->name);
    }
    return MELD_OK;
}

int model_forward(Model *m, Graph *g, Tensor *const *inputs, const Tensor *mask, Tensor **outputs)
{
    if (m->n_nodes == 0) return meld_errorf("model '%s' has no nodes", m->name);
    Tensor **vals = graph_alloc(g, sizeof *vals * (size_t)m->n_nodes);
    if (!vals) return meld_error_context("model '%s'", m->name);
    if (run_nodes(m, g, inputs, mask, vals) != MELD_OK) return MELD_ERR;
    if (m->n_outputs == 0) outputs[0] = vals[m->n_nodes - 1];
    for (int k = 0; k < m->n_outputs; k++) outputs[k] = vals[m->outputs[k]];
    return MELD_OK;
}

Tensor *model_forward1(Model *m, Graph *g, Tensor *x, const Tensor *mask)
{
    if (m->n_inputs != 1 || m->n_outputs > 1) {
        meld_errorf("model '%s': model_forward1 needs one input and one output (has %d and %d)", m->name,
                    m->n_inputs, m->n_outputs ? m->n_outputs : 1);
        return NULL;
    }
    Tensor *y = NULL;
    return model_forward(m, g, &x, mask, &y) == MELD_OK ? y : NULL;
}

/* ---- queries ------------------------------------------------------------- */

size_t model_param_count(const Model *m)
{
    size_t n = 0;
    for (int i = 0; i < m->n_params; i++) n += m->params[i]->size;
    return n;
}

size_t model_buffer_count(const Model *m)
{
    size_t n = 0;
    for (int i = 0; i < m->n_buffers; i++) n += m->buffers[i]->size;
    return n;
}

Layer *model_find_layer(const Model *m, const char *name)
{
    int i = node_by_name(m, name);
    return i >= 0 ? m->nodes[i].layer : NULL;
}

void model_zero_grad(Model *m)
{
    for (int i = 0; i < m->n_params; i++) tensor_zero_grad(m->params[i]);
}

/* ---- summary ------------------------------------------------------------- */

/* A growing string; `failed` sticks after an allocation failure. */
typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} StrBuf;

static void sb_printf(StrBuf *b, const char *fmt, ...) MELD_PRINTF(2, 3);
static void sb_printf(StrBuf *b, const char *fmt, ...)
{
    if (b->failed) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = (b->len + (size_t)n + 1) * 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void sb_repeat(StrBuf *b, char c, int n)
{
    for (int i = 0; i < n; i++) sb_printf(b, "%c", c);
    sb_printf(b, "\n");
}

/* "12,345" */
static void fmt_count(size_t n, char *buf, size_t cap)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%zu", n), o = 0;
    for (int i = 0; i < len && (size_t)o + 2 < cap; i++) {
        if (i && (len - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

/* "(None, 33, 100)": the batch axis shows as None, as in Keras. */
static void fmt_shape(const Tensor *t, char *buf, size_t cap)
{
    size_t o = (size_t)snprintf(buf, cap, "(None");
    for (int d = 1; d < t->ndim && o < cap; d++) o += (size_t)snprintf(buf + o, cap - o, ", %d", t->shape[d]);
    if (o < cap) snprintf(buf + o, cap - o, t->ndim == 1 ? ",)" : ")");
}

static bool is_chain(const Model *m)
{
    if (m->n_inputs != 1 || m->nodes[0].kind != NODE_INPUT) return false;
    if (m->n_outputs > 1 || (m->n_outputs == 1 && m->outputs[0] != m->n_nodes - 1)) return false;
    for (int i = 1; i < m->n_nodes; i++)
        if (m->nodes[i].kind != NODE_LAYER || m->nodes[i].src[0] != i - 1) return false;
    return true;
}

typedef struct {
    char layer[2 * LAYER_NAME_CAP + 40];
    char shape[96];
    char params[32];
    char links[MODEL_MAX_IO * (LAYER_NAME_CAP + 2)];
} SummaryRow;

static void fill_row(const Model *m, int i, const Tensor *out, SummaryRow *r)
{
    const ModelNode *n = &m->nodes[i];
    const char *kind = n->kind == NODE_INPUT ? "Input" : n->kind == NODE_CONCAT ? "Concatenate" : n->layer->ops->kind;
    snprintf(r->layer, sizeof r->layer, "%s (%s)", n->name, kind);
    fmt_shape(out, r->shape, sizeof r->shape);
    fmt_count(n->layer ? layer_param_count(n->layer) : 0, r->params, sizeof r->params);
    size_t o = 0;
    r->links[0] = '\0';
    for (int s = 0; s < n->n_src && o < sizeof r->links; s++)
        o += (size_t)snprintf(r->links + o, sizeof r->links - o, s ? ", %s" : "%s", m->nodes[n->src[s]].name);
}

static int max_width(const SummaryRow *rows, int n, size_t offset, int header)
{
    int w = header;
    for (int i = 0; i < n; i++) {
        int len = (int)strlen((const char *)&rows[i] + offset);
        if (len > w) w = len;
    }
    return w;
}

static void write_table(const Model *m, const SummaryRow *rows, bool links, StrBuf *b)
{
    int n = m->n_nodes;
    int w0 = max_width(rows, n, offsetof(SummaryRow, layer), 12) + 3;
    int w1 = max_width(rows, n, offsetof(SummaryRow, shape), 12) + 3;
    int w2 = max_width(rows, n, offsetof(SummaryRow, params), 7) + 3;
    int w3 = links ? max_width(rows, n, offsetof(SummaryRow, links), 12) : 0;
    int total = 1 + w0 + w1 + w2 + w3;
    sb_printf(b, "Model: \"%s\"\n", m->name);
    sb_repeat(b, '_', total);
    /* The last column is not padded (no trailing spaces). */
    if (links) sb_printf(b, " %-*s%-*s%-*s%s\n", w0, "Layer (type)", w1, "Output Shape", w2, "Param #", "Connected to");
    else sb_printf(b, " %-*s%-*s%s\n", w0, "Layer (type)", w1, "Output Shape", "Param #");
    sb_repeat(b, '=', total);
    for (int i = 0; i < n; i++) {
        const SummaryRow *r = &rows[i];
        if (links && r->links[0])
            sb_printf(b, " %-*s%-*s%-*s%s\n", w0, r->layer, w1, r->shape, w2, r->params, r->links);
        else sb_printf(b, " %-*s%-*s%s\n", w0, r->layer, w1, r->shape, r->params);
    }
    sb_repeat(b, '=', total);
    size_t p = model_param_count(m), nb = model_buffer_count(m);
    char cp[32], ct[32], cb[32];
    fmt_count(p + nb, ct, sizeof ct);
    fmt_count(p, cp, sizeof cp);
    fmt_count(nb, cb, sizeof cb);
    sb_printf(b, "Total params: %s\nTrainable params: %s\nNon-trainable params: %s\n", ct, cp, cb);
    sb_repeat(b, '_', total);
}

char *model_summary(Model *m)
{
    if (model_ok(m) != MELD_OK) return NULL;
    if (m->n_inputs == 0) {
        meld_errorf("model '%s': summary needs at least one declared input", m->name);
        return NULL;
    }
    /* Dry run: eval mode, nothing recorded, one zero item per input. */
    Graph g;
    graph_init(&g, 0);
    g.grad_enabled = false;
    g.training = false;
    Tensor *inputs[MODEL_MAX_IO] = {NULL};
    for (int k = 0; k < m->n_inputs; k++) {
        const ModelNode *n = &m->nodes[m->inputs[k]];
        int shape[TENSOR_MAX_DIMS] = {1};
        memcpy(shape + 1, n->shape, sizeof(int) * (size_t)n->ndim);
        inputs[k] = tensor_new(&g.arena, n->ndim + 1, shape);
    }
    Tensor **vals = graph_alloc(&g, sizeof *vals * (size_t)m->n_nodes);
    SummaryRow *rows = meld_calloc((size_t)m->n_nodes, sizeof *rows, "summary rows");
    char *out = NULL;
    if (vals && rows && run_nodes(m, &g, inputs, NULL, vals) == MELD_OK) {
        for (int i = 0; i < m->n_nodes; i++) fill_row(m, i, vals[i], &rows[i]);
        StrBuf b = {0};
        write_table(m, rows, !is_chain(m), &b);
        if (b.failed) {
            free(b.s);
            meld_errorf("model '%s': out of memory writing the summary", m->name);
        } else {
            out = b.s;
        }
    } else if (vals && rows) {
        meld_error_context("summary dry run");
    }
    free(rows);
    graph_free(&g);
    return out;
}
