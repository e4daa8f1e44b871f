/* A MELD model as PyTorch source: `meld export --format torch` writes
 * model.py beside the weights file (checkpoint_save_weights).
 *
 * model.py needs nothing but torch (and Python's standard library). It
 * defines MeldModel, a torch.nn.Module built with no arguments whose
 * configuration is the checkpoint's (written into the file as constants,
 * the layer widths read off the weights' shapes), and whose state_dict
 * names and shapes are exactly the checkpoint's, so that
 *
 *     model = MeldModel()
 *     model.load_state_dict(load_safetensors("model.safetensors"), strict=True)
 *
 * accepts the exported weights; the feature normalisation is the buffers
 * norm.func_mean / norm.func_std / norm.mel_mean / norm.mel_std. forward()
 * takes the raw inputs of pipeline/export/model_io.h and returns the
 * emotion and sentiment logits; probabilities() their softmax. Padded
 * sequences are packed (pack_padded_sequence), which is meld's masking:
 * each sequence runs over its own real steps, the reverse direction from
 * its last one. save_safetensors(model, path) writes the weights back
 * (float32) with the metadata meld reads, for `meld predict` and `meld eval`.
 *
 * Training in PyTorch works with the usual loop; the dropout layers are
 * meld's, but fusion's auxiliary heads (deep supervision in meld's
 * training) are only carried along for their weights.
 */
#ifndef MELD_EXPORT_TORCH_EXPORT_H
#define MELD_EXPORT_TORCH_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline/models/models.h"

/* model.py's text in *text (free() it), *len bytes. */
int torch_export_source(const MeldModel *m, uint64_t cache_hash, const char *cache_config, char **text, size_t *len);
/* The same written to path (atomically). */
int torch_export_save(const MeldModel *m, uint64_t cache_hash, const char *cache_config, const char *path);

#endif
