/* What an exported MELD model takes and gives, in one place: the ONNX graph
 * (onnx_export.h), the PyTorch module (torch_export.h) and `meld predict
 * --save-inputs / --inputs` all follow this list, and docs/EXPORT.md
 * describes it.
 *
 * Inputs are the features `meld prepare` and `meld predict` compute, before
 * any normalisation (the exported models normalise inside):
 *
 *   functionals      float32 [.., F]        the utterance's functional vector
 *   log_mel          float32 [.., Tm, M]    log-Mel frames, right-padded
 *   log_mel_lengths  int64   [..]           real frames of each log_mel row
 *   face_frames      uint8   [.., K, S, S, 3]  face crops, RGB, rows of pixels
 *   dialogue_lengths int64   [B]            utterances in each dialogue
 *
 * ".." is [N] (N utterances) for the utterance-level models (melstm, cnn,
 * fusion) and [B, T] (B dialogues padded to T utterances) for the
 * dialogue-level ones (gru, lstm, fusion --context), which also take
 * dialogue_lengths. A model takes only the inputs it reads.
 *
 * Outputs: emotion_probs [.., 7] and sentiment_probs [.., 3], softmax
 * probabilities in the label orders of pipeline/data/dataset.h (padding
 * utterances get values that mean nothing).
 *
 * An inputs file (safetensors, float32 only as everything meld writes)
 * holds these tensors under the same names, the integer ones as exact
 * float32 values: cast lengths to int64 and face_frames to uint8 before
 * feeding a runtime. Metadata "format" is "meld-c model inputs 1".
 */
#ifndef MELD_EXPORT_MODEL_IO_H
#define MELD_EXPORT_MODEL_IO_H

#include <stdint.h>

#include "pipeline/data/batch.h"
#include "pipeline/data/cache.h"
#include "pipeline/models/models.h"
#include "tensor/safetensors.h"

#define MODEL_IO_MAX_DIMS 6
#define MODEL_IO_MAX_INPUTS 5

typedef enum { IO_FLOAT32, IO_INT64, IO_UINT8 } ModelIoType;
typedef enum { IN_DIALOGUE_LENGTHS, IN_FUNCTIONALS, IN_LOG_MEL, IN_LOG_MEL_LENGTHS, IN_FACE_FRAMES } ModelInputKind;

typedef struct {
    ModelInputKind kind;
    const char *name;
    ModelIoType type;
    int ndim;
    int64_t dims[MODEL_IO_MAX_DIMS];               /* -1: a symbolic size, named below */
    const char *dim_names[MODEL_IO_MAX_DIMS];
    const char *doc;
} ModelIo;

/* The inputs model m reads, in a fixed order; returns how many. */
int model_inputs(const MeldModel *m, ModelIo out[MODEL_IO_MAX_INPUTS]);
/* The two outputs (emotion, sentiment). */
void model_outputs(const MeldModel *m, ModelIo out[2]);
/* "[dialogues, utterances, 1771]" into buf, for docs and messages. */
const char *model_io_shape(const ModelIo *io, char *buf, size_t cap);

/* Writes the inputs of every utterance of s (the features of a feature
 * cache, as `meld predict` builds one for its clips) to path: dialogue d
 * of s is row d of the dialogue-level inputs, utterance i row i of the
 * utterance-level ones. */
int model_inputs_save(const char *path, const MeldModel *m, const SplitData *s);

/* An inputs file read back as the utterances of a feature cache
 * (cache_write), dialogue d's utterance t with dialogue_id d and
 * utterance_id t; features the model does not read are left empty (and
 * cfg's matching sizes 0). */
typedef struct {
    CacheItem *items;
    int n;
    CacheConfig cfg;
    SafeTensors st;          /* the file; mel and functional rows point into it */
    uint8_t *frames;         /* face frames converted to bytes */
} ModelInputItems;

int model_inputs_load(const char *path, const MeldModel *m, ModelInputItems *out);
void model_input_items_free(ModelInputItems *in);

/* The probabilities of n utterances as `meld predict` gets them: the items
 * are written to a temporary feature cache (in TMPDIR, else /tmp) and
 * evaluated as a split, the training code path. prob_* are n x 7 and
 * n x 3, in the items' (dialogue, utterance) order. With save_inputs, the
 * utterances are also written there as an inputs file. */
int model_io_predict(MeldModel *m, const Normaliser *norm, const CacheConfig *cfg, const CacheItem *items, int n,
                     float *prob_emotion, float *prob_sentiment, const char *save_inputs);

/* Writes n bytes to path atomically (tensor/atomic_file.h): the exporters'
 * last step. */
int export_write_file(const char *path, const void *bytes, size_t n);

#endif
