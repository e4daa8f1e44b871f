/* A MELD model as an ONNX inference graph (opset 13), feature
 * normalisation included: inputs and outputs as pipeline/export/model_io.h
 * lists them, weights as initializers under their checkpoint names
 * (recurrent weights repacked, see below).
 *
 * The layers map onto ONNX's own operators:
 *   Dense                  Gemm (transB = 1: the weight stays [out, in])
 *   Conv2D 'same'          Conv with pads (k-1)/2
 *   BatchNorm (eval)       BatchNormalization with the running statistics
 *   MaxPool, ReLU, LeakyReLU, softmax   MaxPool, Relu, LeakyRelu, Softmax
 *   masked mean over time  Mul by the mask, ReduceSum, Div by the length
 *   LSTM, GRU              LSTM, GRU over [time, batch, features], one node
 *                          per stacked level, sequence_lens = the lengths:
 *                          each sequence runs over its own real steps and
 *                          the reverse direction starts at its last one, as
 *                          meld's masked RNNs do (rnn_common.h). ONNX wants
 *                          each direction's weights as one [gates*H, in]
 *                          block in its gate order (LSTM i, o, f, c; GRU
 *                          z, r, h) where PyTorch and meld use i, f, g, o
 *                          and r, z, n: the blocks are reordered, the
 *                          biases concatenated as [b_ih, b_hh], and the GRU
 *                          gets linear_before_reset = 1 (PyTorch's GRU).
 * Dropout and the training-only parts (fusion's modality dropout and
 * auxiliary heads) are left out.
 *
 * Input normalisation, as pipeline/data/batch.c does it:
 *   functionals   (x - norm.func_mean) / norm.func_std
 *   log_mel       frames beyond the length zeroed, averaged mel_pool at a
 *                 time (the last group over the frames it has), cut to
 *                 mel_max_frames, then (x - norm.mel_mean) / norm.mel_std
 *   face_frames   x / 127.5 - 1 per byte, as [N*K, C, S, S] images
 * Dialogue-level fusion runs its encoders on every [B, T] slot, padding
 * included (zero-length log-Mel rows count as one frame there, so nothing
 * divides by zero); the context LSTM never reads the padding slots.
 */
#ifndef MELD_EXPORT_ONNX_EXPORT_H
#define MELD_EXPORT_ONNX_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline/data/batch.h"
#include "pipeline/models/models.h"

/* The ONNX file's bytes in *out (free() it). cache_config is stored in the
 * model's metadata beside the model's own configuration. */
int onnx_export_encode(const MeldModel *m, const Normaliser *norm, const char *cache_config, uint8_t **out,
                       size_t *size);
/* The same written to path (atomically). */
int onnx_export_save(const MeldModel *m, const Normaliser *norm, const char *cache_config, const char *path);

#endif
