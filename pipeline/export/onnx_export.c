/* MELD models as ONNX graphs (see onnx_export.h). Shapes are written beside
 * the values: N utterances, B dialogues of T slots, K frames, H hidden. */
#include "pipeline/export/onnx_export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/layers.h"
#include "layers/rnn_layer.h"
#include "pipeline/data/dataset.h"
#include "pipeline/export/model_io.h"
#include "pipeline/export/onnx.h"
#include "pipeline/models/model_parts.h"
#include "pipeline/train/checkpoint_io.h"
#include "tensor/error.h"

typedef struct {
    OnnxGraph g;
    const MeldModel *m;
    const Normaliser *norm;
    const char *in[MODEL_IO_MAX_INPUTS + 1];   /* graph inputs by ModelInputKind */
    const char *grid;                          /* dialogue level: [B, T] as a 1-D int64 shape */
} Ctx;

/* ---- small graph helpers -------------------------------------------------- */

static const char *join(char *buf, size_t cap, const char *prefix, const char *name)
{
    snprintf(buf, cap, "%s%s%s", prefix, *prefix ? "." : "", name);
    return buf;
}

static void fail(Ctx *c) { c->g.failed = 1; }

static const char *op1(Ctx *c, const char *op, const char *x)
{
    return onnx_node(&c->g, op, NULL, ONNX_IN(x), ONNX_NO_ATTRS);
}

static const char *op2(Ctx *c, const char *op, const char *a, const char *b)
{
    return onnx_node(&c->g, op, NULL, ONNX_IN(a, b), ONNX_NO_ATTRS);
}

static const char *concat(Ctx *c, const char *a, const char *b, int64_t axis)
{
    return onnx_node(&c->g, "Concat", NULL, ONNX_IN(a, b), ONNX_ATTRS(ONNX_INT("axis", axis)));
}

static const char *transpose(Ctx *c, const char *x, int n, const int64_t *perm)
{
    OnnxAttr a = {.name = "perm", .type = ONNX_ATTR_INTS, .ints = perm, .n_ints = n};
    return onnx_node(&c->g, "Transpose", NULL, ONNX_IN(x), &a, 1);
}

static const char *unsqueeze(Ctx *c, const char *x, int64_t axis)
{
    return op2(c, "Unsqueeze", x, onnx_ints(&c->g, 1, &axis));
}

/* Reshape to a fixed shape (0 copies the input's size, -1 is inferred). */
static const char *reshape(Ctx *c, const char *x, int n, const int64_t *shape)
{
    return op2(c, "Reshape", x, onnx_ints(&c->g, n, shape));
}

/* Sizes [from, to) of x's shape as a 1-D int64 tensor. */
static const char *shape_part(Ctx *c, const char *x, int64_t from, int64_t to)
{
    const char *s = op1(c, "Shape", x);
    return onnx_node(&c->g, "Slice", NULL, ONNX_IN(s, onnx_ints(&c->g, 1, &from), onnx_ints(&c->g, 1, &to)), ONNX_NO_ATTRS);
}

/* Size `axis` of x as a 0-D int64 (for Range). */
static const char *size_of(Ctx *c, const char *x, int64_t axis)
{
    return onnx_node(&c->g, "Gather", NULL, ONNX_IN(op1(c, "Shape", x), onnx_scalar_int64(&c->g, axis)), ONNX_NO_ATTRS);
}

static const char *cast(Ctx *c, const char *x, OnnxType to)
{
    return onnx_node(&c->g, "Cast", NULL, ONNX_IN(x), ONNX_ATTRS(ONNX_INT("to", to)));
}

static const Tensor *find_tensor(Ctx *c, const char *name)
{
    const Tensor *t = meld_model_tensor(c->m, name);
    if (!t) {
        meld_errorf("export: the model has no tensor '%s'", name);
        fail(c);
    }
    return t;
}

/* A model tensor by name as an initializer of the same name. */
static const char *weight(Ctx *c, const char *name)
{
    const Tensor *t = find_tensor(c, name);
    if (!t) return NULL;
    int64_t dims[TENSOR_MAX_DIMS];
    for (int d = 0; d < t->ndim; d++) dims[d] = t->shape[d];
    return onnx_init_float(&c->g, name, t->ndim, dims, t->data);
}

static const char *layer_weight(Ctx *c, const char *layer, const char *suffix)
{
    char name[LAYER_NAME_CAP + 32];
    snprintf(name, sizeof name, "%s.%s", layer, suffix);
    return weight(c, name);
}

/* ---- layers ----------------------------------------------------------------- */

/* Dense: x [rows, in] -> [rows, out], named after the layer. */
static const char *dense(Ctx *c, const char *x, const char *layer)
{
    return onnx_node(&c->g, "Gemm", layer, ONNX_IN(x, layer_weight(c, layer, "weight"), layer_weight(c, layer, "bias")),
                     ONNX_ATTRS(ONNX_INT("transB", 1)));
}

/* (x - mean) / std over the last axis. */
static const char *normalise(Ctx *c, const char *x, const char *what, const float *mean, const float *std, int n)
{
    char a[32], b[32];
    int64_t dims[1] = {n};
    snprintf(a, sizeof a, "norm.%s_mean", what);
    snprintf(b, sizeof b, "norm.%s_std", what);
    return op2(c, "Div", op2(c, "Sub", x, onnx_init_float(&c->g, a, 1, dims, mean)), onnx_init_float(&c->g, b, 1, dims, std));
}

/* PyTorch's gate blocks in ONNX's order: LSTM i,o,f,c from i,f,g,o; GRU
 * z,r,h from r,z,n. */
static const int LSTM_GATES[4] = {0, 3, 1, 2}, GRU_GATES[3] = {1, 0, 2};

/* Level k's W, R or B, both directions, as ONNX lays them out: W [dirs,
 * G*H, in] and R [dirs, G*H, H] with the gate blocks reordered, B [dirs,
 * 2*G*H] = [b_ih, b_hh] reordered alike ("" when the layer has no bias). */
static const char *rnn_pack(Ctx *c, const RnnLayer *r, int k, char what)
{
    if (what == 'B' && !r->bias) return "";
    int G = r->kind->gates, H = r->hidden, parts = what == 'B' ? 2 : 1;
    const int *order = G == 4 ? LSTM_GATES : GRU_GATES;
    const Tensor *first = what == 'W' ? r->w_ih[k][0] : what == 'R' ? r->w_hh[k][0] : r->b_ih[k][0];
    int cols = what == 'B' ? 1 : first->shape[1];
    size_t block = (size_t)H * (size_t)cols, per_dir = (size_t)parts * (size_t)G * block;
    float *packed = meld_malloc(sizeof(float) * per_dir * (size_t)r->dirs, "ONNX RNN weights");
    if (!packed) {
        fail(c);
        return NULL;
    }
    for (int d = 0; d < r->dirs; d++)
        for (int p = 0; p < parts; p++) {
            const Tensor *t = what == 'W' ? r->w_ih[k][d] : what == 'R' ? r->w_hh[k][d] : p ? r->b_hh[k][d] : r->b_ih[k][d];
            for (int j = 0; j < G; j++)
                memcpy(packed + d * per_dir + ((size_t)p * G + j) * block, t->data + (size_t)order[j] * block,
                       sizeof(float) * block);
        }
    char name[LAYER_NAME_CAP + 16];
    snprintf(name, sizeof name, "%s.l%d.%c", r->base.name, k, what);
    int64_t dims[3] = {r->dirs, (int64_t)parts * G * H, cols};
    const char *out = onnx_init_float(&c->g, name, what == 'B' ? 2 : 3, dims, packed);
    free(packed);
    return out;
}

/* The stacked, (bi)directional LSTM or GRU `layer`: x [T, N, F] and
 * lengths int32 [N] -> [T, N, dirs*H], one ONNX node per level. */
static const char *rnn(Ctx *c, const char *layer, const char *x, const char *lengths)
{
    const Layer *l = meld_model_layer(c->m, layer);
    if (!l || (strcmp(l->ops->kind, "LSTM") && strcmp(l->ops->kind, "GRU"))) {
        meld_errorf("export: the model has no recurrent layer '%s'", layer);
        fail(c);
        return NULL;
    }
    const RnnLayer *r = (const RnnLayer *)l;
    bool lstm = r->kind->gates == 4;
    for (int k = 0; k < r->num_layers; k++) {
        char name[LAYER_NAME_CAP + 16];
        snprintf(name, sizeof name, "%s.l%d", layer, k);
        OnnxAttr attrs[3] = {ONNX_INT("hidden_size", r->hidden),
                             ONNX_STRING("direction", r->dirs == 2 ? "bidirectional" : "forward"),
                             ONNX_INT("linear_before_reset", 1)};
        const char *y = onnx_node(&c->g, lstm ? "LSTM" : "GRU", name,
                                  ONNX_IN(x, rnn_pack(c, r, k, 'W'), rnn_pack(c, r, k, 'R'), rnn_pack(c, r, k, 'B'), lengths),
                                  attrs, lstm ? 2 : 3);
        /* Y [T, dirs, N, H] -> [T, N, dirs, H] -> [T, N, dirs*H], forward first. */
        x = reshape(c, transpose(c, y, 4, (int64_t[]){0, 2, 1, 3}), 3, (int64_t[]){0, 0, -1});
    }
    return x;
}

/* Mask [T, N, 1] of the real steps: t < lengths[n]. */
static const char *time_mask(Ctx *c, const char *x_tn, const char *lengths)
{
    const char *t = onnx_node(&c->g, "Range", NULL,
                              ONNX_IN(onnx_scalar_int64(&c->g, 0), size_of(c, x_tn, 0), onnx_scalar_int64(&c->g, 1)),
                              ONNX_NO_ATTRS);
    const char *valid = op2(c, "Less", unsqueeze(c, t, 1), unsqueeze(c, lengths, 0));   /* [T, N] */
    return unsqueeze(c, cast(c, valid, ONNX_FLOAT), 2);
}

/* ---- the model parts ---------------------------------------------------- */

/* The average of every P frames, the last group over the frames it has:
 * mel [N, Tm, M] -> [N, ceil(Tm/P), M]; *lengths int64 [N] -> ceil(len/P). */
static const char *pool_frames(Ctx *c, const char *mel, const char **lengths, int64_t P)
{
    int64_t zero = 0;
    /* Zero the padding, pad Tm up to a multiple of P, sum groups of P. */
    const char *t = onnx_node(&c->g, "Range", NULL,
                              ONNX_IN(onnx_scalar_int64(&c->g, 0), size_of(c, mel, 1), onnx_scalar_int64(&c->g, 1)),
                              ONNX_NO_ATTRS);
    const char *valid = op2(c, "Less", unsqueeze(c, t, 0), unsqueeze(c, *lengths, 1));     /* [N, Tm] */
    const char *x = op2(c, "Mul", mel, unsqueeze(c, cast(c, valid, ONNX_FLOAT), 2));
    const char *p = onnx_ints(&c->g, 1, &P);
    const char *extra = op2(c, "Mod", op2(c, "Sub", p, op2(c, "Mod", shape_part(c, mel, 1, 2), p)), p);
    const char *pads = onnx_node(&c->g, "Concat", NULL,
                                 ONNX_IN(onnx_ints(&c->g, 4, (int64_t[]){0, 0, 0, 0}), extra, onnx_ints(&c->g, 1, &zero)),
                                 ONNX_ATTRS(ONNX_INT("axis", 0)));
    x = reshape(c, op2(c, "Pad", x, pads), 4, (int64_t[]){0, -1, P, c->m->cfg.n_mels});
    x = onnx_node(&c->g, "ReduceSum", NULL, ONNX_IN(x, onnx_ints(&c->g, 1, (int64_t[]){2})),
                  ONNX_ATTRS(ONNX_INT("keepdims", 0)));                            /* [N, Tp, M] */
    /* Group j of utterance n holds clamp(len - j*P, 1, P) frames. */
    const char *j = onnx_node(&c->g, "Range", NULL,
                              ONNX_IN(onnx_scalar_float(&c->g, 0), cast(c, size_of(c, x, 1), ONNX_FLOAT),
                                      onnx_scalar_float(&c->g, 1)),
                              ONNX_NO_ATTRS);
    const char *left = op2(c, "Sub", unsqueeze(c, cast(c, *lengths, ONNX_FLOAT), 1),
                           unsqueeze(c, op2(c, "Mul", j, onnx_scalar_float(&c->g, (float)P)), 0));
    const char *count = op2(c, "Max", op2(c, "Min", left, onnx_scalar_float(&c->g, (float)P)), onnx_scalar_float(&c->g, 1));
    *lengths = op2(c, "Div", op2(c, "Add", *lengths, onnx_scalar_int64(&c->g, P - 1)), onnx_scalar_int64(&c->g, P));
    return op2(c, "Div", x, unsqueeze(c, count, 2));
}

/* log_mel [N, Tm, M] float, lengths int64 [N] -> pooled, cut to
 * mel_max_frames and normalised [N, Tp, M]; *lengths becomes Tp's. */
static const char *log_mel_features(Ctx *c, const char *mel, const char **lengths)
{
    const MeldModelConfig *cfg = &c->m->cfg;
    int64_t cap = cfg->mel_max_frames, zero = 0, one = 1;
    const char *x = cfg->mel_pool > 1 ? pool_frames(c, mel, lengths, cfg->mel_pool) : mel;
    x = onnx_node(&c->g, "Slice", NULL,
                  ONNX_IN(x, onnx_ints(&c->g, 1, &zero), onnx_ints(&c->g, 1, &cap), onnx_ints(&c->g, 1, &one)), ONNX_NO_ATTRS);
    *lengths = op2(c, "Min", *lengths, onnx_scalar_int64(&c->g, cap));
    return normalise(c, x, "mel", c->norm->mel_mean, c->norm->mel_std, c->norm->n_mels);
}

/* log_mel [N, Tm, M], lengths [N] -> the mel encoder's masked mean [N, 2H]. */
static const char *mel_encoder(Ctx *c, const char *prefix, const char *mel, const char *lengths)
{
    char name[LAYER_NAME_CAP];
    const char *len = lengths;
    const char *x = log_mel_features(c, mel, &len);
    /* At least one step: padding slots of a dialogue grid have length 0. */
    len = op2(c, "Max", len, onnx_scalar_int64(&c->g, 1));
    x = transpose(c, x, 3, (int64_t[]){1, 0, 2});                                 /* [Tp, N, M] */
    const char *h = rnn(c, join(name, sizeof name, prefix, "mel_lstm"), x, cast(c, len, ONNX_INT32));
    const char *sum = onnx_node(&c->g, "ReduceSum", NULL,
                                ONNX_IN(op2(c, "Mul", h, time_mask(c, h, len)), onnx_ints(&c->g, 1, (int64_t[]){0})),
                                ONNX_ATTRS(ONNX_INT("keepdims", 0)));             /* [N, 2H] */
    return op2(c, "Div", sum, unsqueeze(c, cast(c, len, ONNX_FLOAT), 1));
}

/* face_frames uint8 [.., K, S, S, C] -> per-frame embeddings [N*K, 100]. */
static const char *frame_encoder(Ctx *c, const char *prefix, const char *frames)
{
    const MeldModelConfig *cfg = &c->m->cfg;
    char name[LAYER_NAME_CAP], part[16];
    const char *x = reshape(c, frames, 4, (int64_t[]){-1, cfg->frame_size, cfg->frame_size, cfg->frame_channels});
    x = transpose(c, cast(c, x, ONNX_FLOAT), 4, (int64_t[]){0, 3, 1, 2});          /* [N*K, C, S, S] */
    x = op2(c, "Sub", op2(c, "Div", x, onnx_scalar_float(&c->g, 127.5f)), onnx_scalar_float(&c->g, 1.0f));
    for (int b = 1; b <= 4; b++) {
        char wname[LAYER_NAME_CAP + 8];
        snprintf(part, sizeof part, "conv%d", b);
        snprintf(wname, sizeof wname, "%s.weight", join(name, sizeof name, prefix, part));
        const Tensor *wt = find_tensor(c, wname);
        if (!wt) return NULL;
        /* 'same' padding: (k-1)/2 before, the odd pixel after (Keras's split). */
        int64_t kh = wt->shape[2], kw = wt->shape[3];
        OnnxAttr conv[2] = {{.name = "kernel_shape", .type = ONNX_ATTR_INTS, .ints = (int64_t[]){kh, kw}, .n_ints = 2},
                            {.name = "pads", .type = ONNX_ATTR_INTS,
                             .ints = (int64_t[]){(kh - 1) / 2, (kw - 1) / 2, kh / 2, kw / 2}, .n_ints = 4}};
        x = onnx_node(&c->g, "Conv", name, ONNX_IN(x, layer_weight(c, name, "weight"), layer_weight(c, name, "bias")), conv, 2);
        if (b > 1) {
            snprintf(part, sizeof part, "bn%d", b);
            join(name, sizeof name, prefix, part);
            x = onnx_node(&c->g, "BatchNormalization", name,
                          ONNX_IN(x, layer_weight(c, name, "weight"), layer_weight(c, name, "bias"),
                                  layer_weight(c, name, "running_mean"), layer_weight(c, name, "running_var")),
                          ONNX_ATTRS(ONNX_FLOAT_ATTR("epsilon", BN_DEFAULT_EPS)));
        }
        x = onnx_node(&c->g, "MaxPool", NULL, ONNX_IN(x),
                      ONNX_ATTRS(ONNX_INTS("kernel_shape", 2, 2), ONNX_INTS("strides", 2, 2)));
        x = onnx_node(&c->g, "LeakyRelu", NULL, ONNX_IN(x), ONNX_ATTRS(ONNX_FLOAT_ATTR("alpha", FRAME_LEAKY_SLOPE)));
    }
    x = onnx_node(&c->g, "Flatten", NULL, ONNX_IN(x), ONNX_ATTRS(ONNX_INT("axis", 1)));
    x = dense(c, x, join(name, sizeof name, prefix, "dense"));
    return onnx_node(&c->g, "LeakyRelu", NULL, ONNX_IN(x), ONNX_ATTRS(ONNX_FLOAT_ATTR("alpha", FRAME_LEAKY_SLOPE)));
}

/* [rows*K, D] -> [rows, D], the mean over each utterance's K frames. */
static const char *frames_mean(Ctx *c, const char *x, int64_t D)
{
    x = reshape(c, x, 3, (int64_t[]){-1, c->m->cfg.frames_used, D});
    return onnx_node(&c->g, "ReduceMean", NULL, ONNX_IN(x), ONNX_ATTRS(ONNX_INTS("axes", 1), ONNX_INT("keepdims", 0)));
}

/* An input [B, T, rest...] as [B*T, rest...] (any rank, sizes kept). */
static const char *flatten_grid(Ctx *c, const char *x)
{
    int64_t minus_one = -1;
    return op2(c, "Reshape", x, concat(c, onnx_ints(&c->g, 1, &minus_one), shape_part(c, x, 2, INT64_MAX), 0));
}

/* An input of the model's per-utterance inputs, flattened to N rows. */
static const char *utterances(Ctx *c, ModelInputKind kind)
{
    const char *x = c->in[kind];
    if (!c->grid) return x;
    if (kind == IN_LOG_MEL_LENGTHS) return reshape(c, x, 1, (int64_t[]){-1});
    return flatten_grid(c, x);
}

/* [B*T, D] -> [T, B, D] for the context RNN. */
static const char *to_time_major(Ctx *c, const char *x, int64_t D)
{
    const char *shape = concat(c, c->grid, onnx_ints(&c->g, 1, &D), 0);
    return transpose(c, op2(c, "Reshape", x, shape), 3, (int64_t[]){1, 0, 2});
}


static const char *dialogue_lengths(Ctx *c) { return cast(c, c->in[IN_DIALOGUE_LENGTHS], ONNX_INT32); }

/* ---- the kinds: inputs -> logits [rows, 7] and [rows, 3] ------------------ */

typedef struct {
    const char *emotion, *sentiment;
} Logits;

static Logits heads(Ctx *c, const char *x)
{
    return (Logits){dense(c, x, "emotion_head"), dense(c, x, "sentiment_head")};
}

/* The heads on every slot of a dialogue RNN's output [T, B, D]: rows in
 * [B, T] order. */
static Logits grid_heads(Ctx *c, const char *x)
{
    const Tensor *w = find_tensor(c, "emotion_head.weight");
    if (!w) return (Logits){NULL, NULL};
    return heads(c, reshape(c, transpose(c, x, 3, (int64_t[]){1, 0, 2}), 2, (int64_t[]){-1, w->shape[1]}));
}

/* gru, lstm: functionals [B, T, F] -> BiRNN over each dialogue -> heads. */
static Logits dialogue_rnn(Ctx *c)
{
    const char *x = normalise(c, c->in[IN_FUNCTIONALS], "func", c->norm->func_mean, c->norm->func_std, c->norm->func_dim);
    x = transpose(c, x, 3, (int64_t[]){1, 0, 2});                                   /* [T, B, F] */
    x = rnn(c, c->m->kind->name, x, dialogue_lengths(c));                          /* [T, B, 2H] */
    return grid_heads(c, x);
}

/* melstm: mel encoder -> Dense 128 + ReLU -> heads. */
static Logits melstm(Ctx *c)
{
    const char *x = mel_encoder(c, "", c->in[IN_LOG_MEL], c->in[IN_LOG_MEL_LENGTHS]);
    return heads(c, op1(c, "Relu", dense(c, x, "dense")));
}

/* cnn: heads on every frame, logits averaged over the K frames. */
static Logits cnn(Ctx *c)
{
    Logits per_frame = heads(c, frame_encoder(c, "", c->in[IN_FACE_FRAMES]));
    return (Logits){frames_mean(c, per_frame.emotion, N_EMOTIONS), frames_mean(c, per_frame.sentiment, N_SENTIMENTS)};
}

/* fusion: [audio, video] -> Dense 256 + ReLU -> heads, or with --context a
 * BiLSTM over each dialogue's fused vectors first. */
static Logits fusion(Ctx *c)
{
    const char *audio;
    if (c->m->cfg.audio_functionals) {
        const char *f = normalise(c, utterances(c, IN_FUNCTIONALS), "func", c->norm->func_mean, c->norm->func_std,
                                  c->norm->func_dim);
        audio = op1(c, "Relu", dense(c, op1(c, "Relu", dense(c, f, "audio.dense1")), "audio.dense2"));   /* [N, 128] */
    } else {
        audio = mel_encoder(c, "audio", utterances(c, IN_LOG_MEL), utterances(c, IN_LOG_MEL_LENGTHS));  /* [N, 2H] */
    }
    const char *video = frames_mean(c, frame_encoder(c, "video", utterances(c, IN_FACE_FRAMES)), FRAME_EMBED);
    const char *e = concat(c, audio, video, 1);
    e = op1(c, "Relu", dense(c, e, "fuse.dense"));                                  /* [N, 256] */
    if (!c->m->cfg.context) return heads(c, e);
    const Tensor *fw = find_tensor(c, "fuse.dense.weight");
    if (!fw) return (Logits){NULL, NULL};
    const char *h = rnn(c, "context.lstm", to_time_major(c, e, fw->shape[0]), dialogue_lengths(c));
    return grid_heads(c, h);
}

typedef struct {
    const char *kind;
    Logits (*build)(Ctx *c);
} KindGraph;

static const KindGraph KIND_GRAPHS[] = {
    {"gru", dialogue_rnn}, {"lstm", dialogue_rnn}, {"melstm", melstm}, {"cnn", cnn}, {"fusion", fusion},
};

/* ---- the whole model -------------------------------------------------------- */

static int build_graph(Ctx *c)
{
    const KindGraph *kg = NULL;
    for (size_t i = 0; i < sizeof KIND_GRAPHS / sizeof KIND_GRAPHS[0]; i++)
        if (!strcmp(KIND_GRAPHS[i].kind, c->m->kind->name)) kg = &KIND_GRAPHS[i];
    if (!kg) return meld_errorf("export: no ONNX graph for model kind '%s'", c->m->kind->name);
    ModelIo in[MODEL_IO_MAX_INPUTS], out[2];
    int n_in = model_inputs(c->m, in);
    OnnxType types[] = {[IO_FLOAT32] = ONNX_FLOAT, [IO_INT64] = ONNX_INT64, [IO_UINT8] = ONNX_UINT8};
    for (int i = 0; i < n_in; i++)
        c->in[in[i].kind] = onnx_input(&c->g, in[i].name, types[in[i].type], in[i].ndim, in[i].dims, in[i].dim_names, in[i].doc);
    if (c->in[IN_DIALOGUE_LENGTHS]) c->grid = shape_part(c, c->in[in[0].kind], 0, 2);
    Logits z = kg->build(c);
    model_outputs(c->m, out);
    const char *logits[2] = {z.emotion, z.sentiment};
    int64_t classes[2] = {N_EMOTIONS, N_SENTIMENTS};
    for (int k = 0; k < 2; k++) {
        const char *p = c->grid ? NULL : out[k].name;
        p = onnx_node(&c->g, "Softmax", p, ONNX_IN(logits[k]), ONNX_ATTRS(ONNX_INT("axis", 1)));
        if (c->grid) {
            const char *shape = concat(c, c->grid, onnx_ints(&c->g, 1, &classes[k]), 0);
            p = onnx_node(&c->g, "Reshape", out[k].name, ONNX_IN(p, shape), ONNX_NO_ATTRS);
        }
        onnx_output(&c->g, p, ONNX_FLOAT, out[k].ndim, out[k].dims, out[k].dim_names, out[k].doc);
    }
    return c->g.failed ? MELD_ERR : MELD_OK;
}

/* The graph's doc string: what goes in and what comes out. */
static void describe(const MeldModel *m, char *doc, size_t cap)
{
    ModelIo io[MODEL_IO_MAX_INPUTS + 2];
    int n = model_inputs(m, io);
    model_outputs(m, io + n);
    size_t len = (size_t)snprintf(doc, cap, "meld-c model '%s' (%s). Inputs are raw features; normalisation is inside.\n",
                                  m->kind->name, m->kind->description);
    for (int i = 0; i < n + 2 && len < cap; i++) {
        char shape[128];
        len += (size_t)snprintf(doc + len, cap - len, "%s %s %s: %s\n", i < n ? "input" : "output", io[i].name,
                                model_io_shape(&io[i], shape, sizeof shape), io[i].doc);
    }
}

/* The graph and the model-level fields of one export. */
typedef struct {
    Ctx c;
    char cfg[512], doc[2048];
    const char *keys[5], *values[5];
    OnnxModelInfo info;
} Export;

static int export_build(Export *e, const MeldModel *m, const Normaliser *norm, const char *cache_config)
{
    memset(e, 0, sizeof *e);
    e->c.m = m;
    e->c.norm = norm;
    onnx_graph_init(&e->c.g);
    int rc = config_format(&m->cfg, e->cfg, sizeof e->cfg);
    if (rc == MELD_OK) rc = build_graph(&e->c);
    describe(m, e->doc, sizeof e->doc);
    const char *keys[5] = {"model", "config", "cache_config", "emotion_labels", "sentiment_labels"};
    const char *values[5] = {m->kind->name, e->cfg, cache_config, "neutral,joy,sadness,anger,surprise,fear,disgust",
                             "neutral,positive,negative"};
    memcpy(e->keys, keys, sizeof keys);
    memcpy(e->values, values, sizeof values);
    e->info = (OnnxModelInfo){.graph_name = m->kind->name, .doc = e->doc, .meta_keys = e->keys, .meta_values = e->values,
                              .n_meta = 5};
    return rc ? meld_error_context("ONNX export of %s", m->kind->name) : MELD_OK;
}

int onnx_export_encode(const MeldModel *m, const Normaliser *norm, const char *cache_config, uint8_t **out, size_t *size)
{
    Export e;
    int rc = export_build(&e, m, norm, cache_config);
    if (rc == MELD_OK) rc = onnx_encode(&e.c.g, &e.info, out, size);
    onnx_graph_free(&e.c.g);
    return rc;
}

int onnx_export_save(const MeldModel *m, const Normaliser *norm, const char *cache_config, const char *path)
{
    uint8_t *bytes;
    size_t n;
    if (onnx_export_encode(m, norm, cache_config, &bytes, &n)) return MELD_ERR;
    int rc = export_write_file(path, bytes, n);
    free(bytes);
    return rc;
}
