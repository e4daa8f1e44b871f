/* ONNX graph builder and model writer (see onnx.h for the fields). */
#include "pipeline/export/onnx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"

/* Field numbers of onnx.proto. */
enum { MODEL_IR_VERSION = 1, MODEL_PRODUCER = 2, MODEL_PRODUCER_VERSION = 3, MODEL_DOC = 6, MODEL_GRAPH = 7,
       MODEL_OPSET = 8, MODEL_METADATA = 14 };
enum { OPSET_DOMAIN = 1, OPSET_VERSION = 2 };
enum { GRAPH_NODE = 1, GRAPH_NAME = 2, GRAPH_INITIALIZER = 5, GRAPH_DOC = 10, GRAPH_INPUT = 11, GRAPH_OUTPUT = 12 };
enum { NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP_TYPE = 4, NODE_ATTRIBUTE = 5 };
enum { ATTR_NAME = 1, ATTR_F = 2, ATTR_I = 3, ATTR_S = 4, ATTR_INTS = 8, ATTR_TYPE = 20 };
enum { TENSOR_DIMS = 1, TENSOR_DATA_TYPE = 2, TENSOR_NAME = 8, TENSOR_RAW_DATA = 9 };
enum { VALUE_NAME = 1, VALUE_TYPE = 2, VALUE_DOC = 3 };
enum { TYPE_TENSOR = 1, TENSOR_TYPE_ELEM = 1, TENSOR_TYPE_SHAPE = 2, SHAPE_DIM = 1, DIM_VALUE = 1, DIM_PARAM = 2 };
enum { ENTRY_KEY = 1, ENTRY_VALUE = 2 };

void onnx_graph_init(OnnxGraph *g)
{
    memset(g, 0, sizeof *g);
    pb_init(&g->nodes);
    pb_init(&g->initializers);
    pb_init(&g->inputs);
    pb_init(&g->outputs);
}

void onnx_graph_free(OnnxGraph *g)
{
    pb_free(&g->nodes);
    pb_free(&g->initializers);
    pb_free(&g->inputs);
    pb_free(&g->outputs);
    for (int i = 0; i < g->n_names; i++) free(g->names[i]);
    free(g->names);
    memset(g, 0, sizeof *g);
}

/* Keeps a copy of a value name (given, or "<base>_<n>") for the graph's
 * lifetime. NULL once the graph has failed. */
static const char *keep_name(OnnxGraph *g, const char *given, const char *base)
{
    if (g->failed) return NULL;
    char generated[96];
    if (!given) {
        snprintf(generated, sizeof generated, "%s_%d", base, g->counter++);
        given = generated;
    }
    if (g->n_names == g->cap_names) {
        int cap = g->cap_names ? 2 * g->cap_names : 64;
        char **p = realloc(g->names, sizeof *p * (size_t)cap);
        if (!p) {
            g->failed = 1;
            meld_errorf("out of memory building an ONNX graph");
            return NULL;
        }
        g->names = p;
        g->cap_names = cap;
    }
    size_t n = strlen(given) + 1;
    char *copy = malloc(n);
    if (!copy) {
        g->failed = 1;
        meld_errorf("out of memory building an ONNX graph");
        return NULL;
    }
    memcpy(copy, given, n);
    return g->names[g->n_names++] = copy;
}

/* Appends a finished child message to one of the graph's fields, taking
 * the failure along. */
static const char *commit(OnnxGraph *g, PbBuf *field_buf, int field, PbBuf *msg, const char *name)
{
    pb_message(field_buf, field, msg);
    if (pb_failed(msg) || pb_failed(field_buf)) g->failed = 1;
    pb_free(msg);
    return g->failed ? NULL : name;
}

/* ValueInfoProto of a tensor: name, element type, shape with fixed or named dims. */
static const char *value_info(OnnxGraph *g, PbBuf *field_buf, int field, const char *name, OnnxType type, int ndim,
                              const int64_t *dims, const char *const *dim_names, const char *doc)
{
    if (!name) g->failed = 1;
    if (g->failed) return NULL;
    PbBuf shape, tensor, typ, v;
    pb_init(&shape), pb_init(&tensor), pb_init(&typ), pb_init(&v);
    for (int d = 0; d < ndim; d++) {
        PbBuf dim;
        pb_init(&dim);
        if (dims[d] >= 0) pb_varint(&dim, DIM_VALUE, dims[d]);
        else pb_string(&dim, DIM_PARAM, dim_names[d]);
        pb_message(&shape, SHAPE_DIM, &dim);
        pb_free(&dim);
    }
    pb_varint(&tensor, TENSOR_TYPE_ELEM, type);
    pb_message(&tensor, TENSOR_TYPE_SHAPE, &shape);
    pb_message(&typ, TYPE_TENSOR, &tensor);
    pb_string(&v, VALUE_NAME, name);
    pb_message(&v, VALUE_TYPE, &typ);
    if (doc) pb_string(&v, VALUE_DOC, doc);
    pb_free(&shape), pb_free(&tensor), pb_free(&typ);
    return commit(g, field_buf, field, &v, name);
}

const char *onnx_input(OnnxGraph *g, const char *name, OnnxType type, int ndim, const int64_t *dims,
                       const char *const *dim_names, const char *doc)
{
    return value_info(g, &g->inputs, GRAPH_INPUT, keep_name(g, name, "input"), type, ndim, dims, dim_names, doc);
}

const char *onnx_output(OnnxGraph *g, const char *value, OnnxType type, int ndim, const int64_t *dims,
                        const char *const *dim_names, const char *doc)
{
    return value_info(g, &g->outputs, GRAPH_OUTPUT, value, type, ndim, dims, dim_names, doc);
}

static const char *initializer(OnnxGraph *g, const char *given, OnnxType type, int ndim, const int64_t *dims,
                               const void *data)
{
    const char *name = keep_name(g, given, "const");
    if (!name) return NULL;
    size_t n = 1;
    for (int d = 0; d < ndim; d++) n *= (size_t)dims[d];
    PbBuf t;
    pb_init(&t);
    for (int d = 0; d < ndim; d++) pb_varint(&t, TENSOR_DIMS, dims[d]);
    pb_varint(&t, TENSOR_DATA_TYPE, type);
    pb_string(&t, TENSOR_NAME, name);
    if (type == ONNX_FLOAT) pb_float_bytes(&t, TENSOR_RAW_DATA, data, n);
    else pb_int64_bytes(&t, TENSOR_RAW_DATA, data, n);
    return commit(g, &g->initializers, GRAPH_INITIALIZER, &t, name);
}

const char *onnx_init_float(OnnxGraph *g, const char *name, int ndim, const int64_t *dims, const float *data)
{
    return initializer(g, name, ONNX_FLOAT, ndim, dims, data);
}

const char *onnx_init_int64(OnnxGraph *g, const char *name, int ndim, const int64_t *dims, const int64_t *data)
{
    return initializer(g, name, ONNX_INT64, ndim, dims, data);
}

const char *onnx_ints(OnnxGraph *g, int n, const int64_t *values)
{
    int64_t dims[1] = {n};
    return onnx_init_int64(g, NULL, 1, dims, values);
}

const char *onnx_scalar_int64(OnnxGraph *g, int64_t v) { return onnx_init_int64(g, NULL, 0, NULL, &v); }
const char *onnx_scalar_float(OnnxGraph *g, float v) { return onnx_init_float(g, NULL, 0, NULL, &v); }

static void attribute(PbBuf *node, const OnnxAttr *a)
{
    PbBuf m;
    pb_init(&m);
    pb_string(&m, ATTR_NAME, a->name);
    if (a->type == ONNX_ATTR_FLOAT) pb_float(&m, ATTR_F, a->f);
    else if (a->type == ONNX_ATTR_INT) pb_varint(&m, ATTR_I, a->i);
    else if (a->type == ONNX_ATTR_STRING) pb_string(&m, ATTR_S, a->s);
    else
        for (int k = 0; k < a->n_ints; k++) pb_varint(&m, ATTR_INTS, a->ints[k]);
    pb_varint(&m, ATTR_TYPE, a->type);
    pb_message(node, NODE_ATTRIBUTE, &m);
    pb_free(&m);
}

const char *onnx_node(OnnxGraph *g, const char *op, const char *name, const char *const *inputs, int n_inputs,
                      const OnnxAttr *attrs, int n_attrs)
{
    for (int i = 0; i < n_inputs; i++)
        if (!inputs[i]) g->failed = 1;   /* an earlier step failed */
    const char *out = keep_name(g, name, op);
    if (!out) return NULL;
    PbBuf n;
    pb_init(&n);
    for (int i = 0; i < n_inputs; i++) pb_string(&n, NODE_INPUT, inputs[i]);
    pb_string(&n, NODE_OUTPUT, out);
    pb_string(&n, NODE_NAME, out);
    pb_string(&n, NODE_OP_TYPE, op);
    for (int i = 0; i < n_attrs; i++) attribute(&n, &attrs[i]);
    return commit(g, &g->nodes, GRAPH_NODE, &n, out);
}

/* The repeated fields are kept encoded, keys included, so a GraphProto is
 * their concatenation plus its name and doc (field order is free). */
int onnx_encode(const OnnxGraph *g, const OnnxModelInfo *info, uint8_t **out, size_t *size)
{
    *out = NULL;
    *size = 0;
    if (g->failed) return MELD_ERR;
    PbBuf graph, opset, model;
    pb_init(&graph), pb_init(&opset), pb_init(&model);
    pb_append(&graph, &g->nodes);
    pb_string(&graph, GRAPH_NAME, info->graph_name);
    pb_append(&graph, &g->initializers);
    if (info->doc) pb_string(&graph, GRAPH_DOC, info->doc);
    pb_append(&graph, &g->inputs);
    pb_append(&graph, &g->outputs);

    pb_string(&opset, OPSET_DOMAIN, "");
    pb_varint(&opset, OPSET_VERSION, ONNX_OPSET);
    pb_varint(&model, MODEL_IR_VERSION, ONNX_IR_VERSION);
    pb_string(&model, MODEL_PRODUCER, "meld-c");
    pb_string(&model, MODEL_PRODUCER_VERSION, "1");
    if (info->doc) pb_string(&model, MODEL_DOC, info->doc);
    pb_message(&model, MODEL_GRAPH, &graph);
    pb_message(&model, MODEL_OPSET, &opset);
    for (int i = 0; i < info->n_meta; i++) {
        PbBuf e;
        pb_init(&e);
        pb_string(&e, ENTRY_KEY, info->meta_keys[i]);
        pb_string(&e, ENTRY_VALUE, info->meta_values[i]);
        pb_message(&model, MODEL_METADATA, &e);
        pb_free(&e);
    }
    pb_free(&graph), pb_free(&opset);
    if (pb_failed(&model)) {
        pb_free(&model);
        return MELD_ERR;
    }
    *out = model.data;
    *size = model.len;
    return MELD_OK;
}
