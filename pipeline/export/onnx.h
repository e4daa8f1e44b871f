/* Writing ONNX models: a graph builder over our protobuf encoder
 * (pipeline/export/protobuf.h), knowing nothing of MELD.
 *
 * An ONNX file is one ModelProto message (onnx/onnx.proto). The fields we
 * write, by number:
 *
 *   ModelProto      1 ir_version (7)   2 producer_name   3 producer_version
 *                   6 doc_string   7 graph   8 opset_import   14 metadata_props
 *   OperatorSetId   1 domain ("" = the default ai.onnx)   2 version (13)
 *   GraphProto      1 node*   2 name   5 initializer*   10 doc_string
 *                   11 input*   12 output*
 *   NodeProto       1 input*   2 output*   3 name   4 op_type   5 attribute*
 *   AttributeProto  1 name   2 f   3 i   4 s   8 ints*   20 type
 *                   (1 FLOAT, 2 INT, 3 STRING, 7 INTS)
 *   TensorProto     1 dims*   2 data_type   8 name   9 raw_data
 *                   (little-endian values, row-major)
 *   ValueInfoProto  1 name   2 type   3 doc_string
 *   TypeProto       1 tensor_type: 1 elem_type, 2 shape: 1 dim*:
 *                   1 dim_value | 2 dim_param (a symbolic size, "batch")
 *   StringStringEntryProto  1 key   2 value
 *
 * Values are named strings: every node reads named values (graph inputs,
 * initializers, other nodes' outputs) and defines its output. The builder
 * names each node's output after the node ("fuse.dense", or "Relu_12" when
 * no name is given) and returns that name for the next node to read, so a
 * graph is written as a chain of calls:
 *
 *     OnnxGraph g;
 *     onnx_graph_init(&g);
 *     const char *x = onnx_input(&g, "x", ONNX_FLOAT, 2, (int64_t[]){-1, 4}, (const char *[]){"batch", NULL}, "doc");
 *     const char *w = onnx_init_float(&g, "fc.weight", 2, (int64_t[]){3, 4}, weights);
 *     const char *y = onnx_node(&g, "Gemm", "fc", ONNX_IN(x, w), ONNX_ATTRS(ONNX_INT("transB", 1)));
 *     onnx_output(&g, y, ONNX_FLOAT, 2, (int64_t[]){-1, 3}, (const char *[]){"batch", NULL}, "doc");
 *     onnx_encode(&g, &info, &bytes, &size);
 *     onnx_graph_free(&g);
 *
 * Errors are sticky, as in the encoder: a failed call returns NULL and
 * every later one too; onnx_encode reports the first error.
 */
#ifndef MELD_EXPORT_ONNX_H
#define MELD_EXPORT_ONNX_H

#include <stdint.h>

#include "pipeline/export/protobuf.h"

#define ONNX_OPSET 13
#define ONNX_IR_VERSION 7

/* TensorProto.DataType values. */
typedef enum { ONNX_FLOAT = 1, ONNX_UINT8 = 2, ONNX_INT32 = 6, ONNX_INT64 = 7 } OnnxType;

typedef enum { ONNX_ATTR_FLOAT = 1, ONNX_ATTR_INT = 2, ONNX_ATTR_STRING = 3, ONNX_ATTR_INTS = 7 } OnnxAttrType;

typedef struct {
    const char *name;
    OnnxAttrType type;
    float f;
    int64_t i;
    const char *s;
    const int64_t *ints;
    int n_ints;
} OnnxAttr;

#define ONNX_INT(n, v) ((OnnxAttr){.name = (n), .type = ONNX_ATTR_INT, .i = (v)})
#define ONNX_FLOAT_ATTR(n, v) ((OnnxAttr){.name = (n), .type = ONNX_ATTR_FLOAT, .f = (v)})
#define ONNX_STRING(n, v) ((OnnxAttr){.name = (n), .type = ONNX_ATTR_STRING, .s = (v)})
#define ONNX_INTS(n, ...) \
    ((OnnxAttr){.name = (n), .type = ONNX_ATTR_INTS, .ints = (const int64_t[]){__VA_ARGS__}, \
                .n_ints = (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t))})
/* Argument-list helpers: an array and its length. */
#define ONNX_IN(...) \
    (const char *const[]){__VA_ARGS__}, (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *))
#define ONNX_ATTRS(...) \
    (const OnnxAttr[]){__VA_ARGS__}, (int)(sizeof((OnnxAttr[]){__VA_ARGS__}) / sizeof(OnnxAttr))
#define ONNX_NO_ATTRS NULL, 0

typedef struct {
    PbBuf nodes, initializers, inputs, outputs;   /* GraphProto's repeated fields, encoded */
    char **names;                                /* every value name handed out (owned) */
    int n_names, cap_names;
    int counter;                                 /* for generated names */
    int failed;
} OnnxGraph;

void onnx_graph_init(OnnxGraph *g);
void onnx_graph_free(OnnxGraph *g);

/* A graph input or output: dims[d] >= 0 is a fixed size, -1 a symbolic one
 * named dim_names[d]. Returns the value's name. */
const char *onnx_input(OnnxGraph *g, const char *name, OnnxType type, int ndim, const int64_t *dims,
                       const char *const *dim_names, const char *doc);
const char *onnx_output(OnnxGraph *g, const char *value, OnnxType type, int ndim, const int64_t *dims,
                        const char *const *dim_names, const char *doc);

/* Initializers (constant tensors stored in the file). name NULL: generated. */
const char *onnx_init_float(OnnxGraph *g, const char *name, int ndim, const int64_t *dims, const float *data);
const char *onnx_init_int64(OnnxGraph *g, const char *name, int ndim, const int64_t *dims, const int64_t *data);
/* Shorthands: a 1-D int64 vector, and rank-0 scalars. */
const char *onnx_ints(OnnxGraph *g, int n, const int64_t *values);
const char *onnx_scalar_int64(OnnxGraph *g, int64_t v);
const char *onnx_scalar_float(OnnxGraph *g, float v);

/* Node op_type(inputs) -> one output, named `name` (NULL: "<op>_<n>"). An
 * input "" is an omitted optional input. Returns the output's name. */
const char *onnx_node(OnnxGraph *g, const char *op, const char *name, const char *const *inputs, int n_inputs,
                      const OnnxAttr *attrs, int n_attrs);

typedef struct {
    const char *graph_name, *doc;
    const char *const *meta_keys, *const *meta_values;   /* metadata_props */
    int n_meta;
} OnnxModelInfo;

/* Encodes the model (ModelProto) into *out (free() it). */
int onnx_encode(const OnnxGraph *g, const OnnxModelInfo *info, uint8_t **out, size_t *size);

#endif
