/* The five MELD models. Each predicts emotion (7 classes) and sentiment (3)
 * with two heads on a shared trunk; the loss is the sum of both
 * cross-entropies (or one of them with --task).
 *
 *   gru     dialogue level. Functional vectors of a dialogue's utterances,
 *           padded and masked -> bidirectional GRU (300, all steps) ->
 *           dropout 0.3 -> time-distributed Dense heads. The MELD baseline set-up. Adam.
 *   lstm    dialogue level. The same with two stacked bidirectional LSTM
 *           layers (300), dropout 0.4 between and after. Adadelta.
 *   melstm  utterance level. Log-Mel frames (masked) -> 2-layer
 *           bidirectional LSTM -> masked mean over time -> Dense + ReLU +
 *           dropout -> heads. Adam.
 *   cnn     utterance level. Each face frame -> four conv blocks
 *           (3->16->32->64->128, 3x3 'same', LeakyReLU 0.1, BatchNorm from the
 *           second block, 2x2 max-pool, spatial dropout 0.2) -> Flatten ->
 *           Dense 100 -> heads; an utterance's logits are the mean of its
 *           frames' logits. Adam.
 *   fusion  utterance level, or dialogue level with --context. Audio branch
 *           (an MLP on the functional vector, the default of `meld train`, or
 *           with --audio mel the melstm encoder) and video branch (the cnn encoder, frame
 *           embeddings averaged) concatenated -> Dense 256 + ReLU + dropout ->
 *           heads. --context runs a masked bidirectional LSTM over the
 *           dialogue's fused utterance embeddings before time-distributed
 *           heads. Adam. The default model of `meld train`.
 *
 * A MeldModel is a small struct per kind behind the MeldModelKind table (no switch
 * on the kind anywhere): build() creates its layers, forward() maps a Batch
 * to logits on the batch's B x T label grid.
 */
#ifndef MELD_PIPELINE_MODELS_H
#define MELD_PIPELINE_MODELS_H

#include <stdbool.h>

#include "layers/layer.h"
#include "pipeline/data/batch.h"

enum { TASK_BOTH = 0, TASK_EMOTION = 1, TASK_SENTIMENT = 2 };
#define MELD_MODEL_MAX_LAYERS 48

typedef struct {
    int task;
    int func_dim, n_mels, frame_size, frame_channels, frames_used;
    int rnn_hidden;          /* gru / lstm units (300) */
    int mel_hidden;          /* melstm / fusion audio LSTM units */
    int mel_pool, mel_max_frames;
    bool context;            /* fusion: dialogue-level context LSTM */
    bool audio_functionals;  /* fusion: functional MLP instead of the mel LSTM */
} MeldModelConfig;

typedef struct MeldModel MeldModel;

typedef struct {
    const char *name;
    const char *description;     /* one line for `meld models` */
    const char *inputs;          /* what it reads, for `meld models` */
    const char *default_optim;
    float default_lr;
    int (*build)(MeldModel *m, Rng *r);
    /* Sets s->needs (NEED_* inputs) and s->dialogue_level. */
    void (*layout)(const MeldModel *m, BatchSpec *s);
    /* Logits [B*T, 7] and [B*T, 3] on the batch grid. */
    int (*forward)(MeldModel *m, Graph *g, const Batch *b, Tensor **emotion, Tensor **sentiment);
} MeldModelKind;

enum { MELD_MODEL_MAX_AUX = 2 };

struct MeldModel {
    const MeldModelKind *kind;
    MeldModelConfig cfg;
    Layer *layers[MELD_MODEL_MAX_LAYERS];   /* owned, in creation order */
    int n_layers;
    /* Auxiliary logits a training forward pass may leave for the loss (on
     * the batch grid, like the main ones; fusion's per-branch heads, see
     * model_fusion.c). meld_model_loss adds their cross-entropies and
     * clears them. */
    Tensor *aux_emotion[MELD_MODEL_MAX_AUX], *aux_sentiment[MELD_MODEL_MAX_AUX];
    int n_aux;
    /* Summary tracing: when trace is set, meld_model_call records output shapes. */
    bool trace;
    char traced_shape[MELD_MODEL_MAX_LAYERS][48];
};

extern const MeldModelKind *const MELD_MODEL_KINDS[];
extern const int N_MELD_MODEL_KINDS;
const MeldModelKind *meld_model_kind_find(const char *name);

/* Batch layout and inputs this model needs. */
BatchSpec meld_model_batch_spec(const MeldModel *m, bool training);

/* Creates the model (its layers from rng). NULL with the error set. */
MeldModel *meld_model_create(const char *kind, const MeldModelConfig *cfg, Rng *rng);
void meld_model_free(MeldModel *m);
size_t meld_model_param_count(const MeldModel *m);
/* All trainable parameters / buffers in a fixed order (pointers owned by the
 * layers). Returns the count; arrays of MELD_MODEL_MAX_PARAMS. */
#define MELD_MODEL_MAX_PARAMS 256
int meld_model_params(const MeldModel *m, Tensor **out);
int meld_model_buffers(const MeldModel *m, Tensor **out);

/* A layer by name, a parameter or buffer by its full name; NULL if none. */
Layer *meld_model_layer(const MeldModel *m, const char *name);
Tensor *meld_model_tensor(const MeldModel *m, const char *name);

/* Adds a layer (the model owns it); returns its index or -1. */
int meld_model_add(MeldModel *m, Layer *l);
/* Runs layer i (recording its output shape when tracing). */
Tensor *meld_model_call(MeldModel *m, int i, Graph *g, Tensor *x, const Tensor *mask);

/* The summed (or single-task) cross-entropy over the grid's real
 * utterances, with per-class weights (NULL = none), plus the same terms
 * for any auxiliary logits the forward pass left (m->aux_*, then cleared).
 * *parts gets the two main losses' values (emotion, sentiment). */
Tensor *meld_model_loss(MeldModel *m, Graph *g, const Batch *b, Tensor *emotion, Tensor *sentiment,
                   const float *emotion_weights, const float *sentiment_weights, float parts[2]);

/* Keras-like summary table (layer, kind, output shape on a dummy batch,
 * parameters; total) as a malloc'd string in *text (caller frees). */
int meld_model_summary(MeldModel *m, char **text);

#endif
