/* Model checkpoints: every parameter and buffer of a Model, plus metadata,
 * in one safetensors file (tensor/safetensors.h), under the tensors' own
 * PyTorch-style names, so the same file loads into the equivalent torch
 * module (see tests/fixtures/load_checkpoint_in_torch.py).
 *
 * model_save writes the metadata keys
 *     "format" = "meld-c"       "model" = the model's name
 * plus whatever `extra` holds (the pipeline's hyper-parameters, epoch, RNG
 * state, label order, and tensors such as optimiser state). Writes are
 * atomic: a crash leaves the previous file intact.
 *
 * Loading validates before it copies anything, so a failed load leaves the
 * model unchanged. The first problem is reported as one line starting with
 * the file name, in this order:
 *     1. the file itself (safetensors.h's checks: header, offsets, dtype, ...)
 *     2. each model tensor, in model order: present, and with the model's
 *        shape:  "ck.safetensors: tensor 'fc.weight' has shape [3, 4],
 *                 model 'mlp' expects [4, 3]"
 *     3. strict mode: no tensor the model lacks
 *                "ck.safetensors: unexpected tensor 'fc3.bias' (model 'mlp'
 *                 has no such tensor)"
 */
#ifndef MELD_CHECKPOINT_H
#define MELD_CHECKPOINT_H

#include <stdbool.h>

#include "layers/model.h"
#include "tensor/safetensors.h"

/* Adds every parameter then every buffer of m to st without copying
 * (st_add_view): keep the model alive until st is saved or freed. */
int model_state_add(const Model *m, SafeTensors *st);
/* Checks then copies every model tensor from st (see above). strict: st may
 * hold nothing else. */
int model_state_load(Model *m, const SafeTensors *st, bool strict);

/* Saves m (and extra's metadata and tensors, if extra is not NULL). */
int model_save(const Model *m, const char *path, const SafeTensors *extra);
/* Loads path into m. file NULL: strict (the file holds exactly the model's
 * tensors). file not NULL: other tensors are allowed and the parsed file is
 * handed back in *file for reading metadata and extra tensors (st_free it;
 * it is empty on failure). */
int model_load(Model *m, const char *path, SafeTensors *file);

#endif
