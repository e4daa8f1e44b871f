/* Model: layers composed into a small graph, with the helpers every model
 * needs (named parameter list, summary, checkpoints in checkpoint.h).
 *
 * A model is a list of nodes, each computed from earlier ones:
 *     input    a model input; its declared shape (without the batch axis)
 *              is used by the summary's dry run
 *     layer    one Layer applied to one earlier node
 *     concat   earlier nodes joined along an axis (fusion of two inputs)
 * and a list of outputs (one or more heads; the last node by default).
 * Nodes are added in order, so the list is already a topological order and
 * the forward pass is one walk over it.
 *
 *     Model m;
 *     model_init(&m, "mlp");
 *     model_input(&m, "x", 1, (int[]){100});
 *     model_add(&m, dense_new("fc1", 100, 64, true, &rng));   // sequential
 *     model_add(&m, relu_new("act"));
 *     model_add(&m, dense_new("fc2", 64, 7, true, &rng));
 *     if (model_ok(&m) != MELD_OK) ... meld_error() ...
 *     Tensor *logits = model_forward1(&m, &g, x, NULL);
 *
 * Two inputs, two heads (multimodal fusion, multi-task):
 *     int t = model_input(&m, "text", 1, (int[]){600});
 *     int a = model_input(&m, "audio", 1, (int[]){300});
 *     int ht = model_layer(&m, dense_new("text_fc", 600, 128, true, r), t);
 *     int ha = model_layer(&m, dense_new("audio_fc", 300, 128, true, r), a);
 *     int f = model_concat(&m, "fusion", ht, ha, -1);
 *     int e = model_layer(&m, dense_new("emotion", 256, 7, true, r), f);
 *     int s = model_layer(&m, dense_new("sentiment", 256, 3, true, r), f);
 *     model_set_outputs(&m, (int[]){e, s}, 2);
 *     model_forward(&m, &g, (Tensor *[]){xt, xa}, NULL, outs);
 *
 * Building calls return a node id (>= 0) or -1 with the error set; they
 * accept -1 as an input node and then return -1 without a new message, so a
 * chain of calls can be checked once with model_ok(). The model owns every
 * layer handed to it, even when the call fails (so passing a constructor
 * call directly never leaks); the one exception is a layer that is already
 * in the model (added twice), which is refused and stays with its node.
 *
 * Parameters: m->params[0..n_params) are every trainable tensor in the order
 * the layers were added, each named "<layer>.<param>" (PyTorch style);
 * m->buffers likewise (BatchNorm running statistics). Names are unique
 * across the model (adding a layer whose names clash fails).
 */
#ifndef MELD_MODEL_H
#define MELD_MODEL_H

#include <stdbool.h>

#include "layers/layer.h"

#define MODEL_MAX_IO 4        /* inputs, outputs, concat sources */

typedef enum { NODE_INPUT, NODE_LAYER, NODE_CONCAT } ModelNodeKind;

typedef struct {
    ModelNodeKind kind;
    char name[LAYER_NAME_CAP];       /* layer, input or concat name */
    Layer *layer;                    /* NODE_LAYER */
    int src[MODEL_MAX_IO], n_src;    /* earlier nodes it reads */
    int axis;                        /* NODE_CONCAT */
    int ndim, shape[TENSOR_MAX_DIMS];/* NODE_INPUT: declared shape, no batch axis */
} ModelNode;

typedef struct {
    char name[LAYER_NAME_CAP];
    ModelNode *nodes;
    int n_nodes, cap_nodes;
    int inputs[MODEL_MAX_IO], n_inputs;
    int outputs[MODEL_MAX_IO], n_outputs;   /* n_outputs 0: the last node */
    Tensor **params;
    int n_params;
    Tensor **buffers;
    int n_buffers;
    int status;                             /* MELD_ERR after a failed build call */
    char first_error[256];                  /* its message, for model_ok() */
} Model;

int  model_init(Model *m, const char *name);
/* Frees every layer (and its parameters) and the node list. */
void model_free(Model *m);

/* Declares input number m->n_inputs; shape excludes the batch axis
 * ({T, F} for [B, T, F] sequences). Returns its node id. */
int model_input(Model *m, const char *name, int ndim, const int *shape);
/* Appends layer l reading node `from`. Returns the new node id. */
int model_layer(Model *m, Layer *l, int from);
/* model_layer from the last node added (a sequential model). */
int model_add(Model *m, Layer *l);
/* Concatenates n (2..MODEL_MAX_IO) nodes along axis (of the full tensor,
 * batch axis 0; negative counts from the end). name NULL: "concat_<id>". */
int model_concat_n(Model *m, const char *name, const int *from, int n, int axis);
int model_concat(Model *m, const char *name, int a, int b, int axis);
/* The model's outputs, in order (1..MODEL_MAX_IO nodes). */
int model_set_outputs(Model *m, const int *nodes, int n);
/* MELD_OK if every build call succeeded; otherwise MELD_ERR with the first
 * build error restored as the current message. */
int model_ok(Model *m);

/* Runs the model: inputs[i] for input i (in declaration order), mask passed
 * to every layer ([B, T] for sequence models, or NULL), outputs[k] gets
 * output k. Inputs must have the declared rank plus the batch axis. On error
 * the message names the node. */
int model_forward(Model *m, Graph *g, Tensor *const *inputs, const Tensor *mask, Tensor **outputs);
/* One input, one output. NULL on error. */
Tensor *model_forward1(Model *m, Graph *g, Tensor *x, const Tensor *mask);

/* Number of trainable scalars; and of buffer scalars. */
size_t model_param_count(const Model *m);
size_t model_buffer_count(const Model *m);
/* The layer with this name, or NULL. */
Layer *model_find_layer(const Model *m, const char *name);
/* Zeroes every parameter gradient. */
void model_zero_grad(Model *m);

/* A Keras-like summary, one row per node:
 *
 *     Model: "mlp"
 *     ______________________________________________________________
 *      Layer (type)             Output Shape            Param #
 *     ==============================================================
 *      x (Input)                (None, 100)             0
 *      fc1 (Dense)              (None, 64)              6,464
 *     ...
 *     ==============================================================
 *     Total params: 6,935
 *     Trainable params: 6,935
 *     Non-trainable params: 0
 *     ______________________________________________________________
 *
 * Output shapes come from a dry run (eval mode, no gradients, batch of 1
 * zero item per declared input shape); "None" stands for the batch axis. A
 * model that is not a plain chain gets a "Connected to" column. Param #
 * counts trainable parameters; the non-trainable line counts buffers
 * (BatchNorm running mean/var and batch counter). Returns a malloc'd string
 * (free() it) or NULL with the error set (e.g. a shape error in the dry run).
 * Never prints. */
char *model_summary(Model *m);

#endif
