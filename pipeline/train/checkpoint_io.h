/* Reading and writing MELD model checkpoints (see train.h for what they hold). */
#ifndef MELD_CHECKPOINT_IO_H
#define MELD_CHECKPOINT_IO_H

#include <stddef.h>
#include <stdint.h>

#include "optim/optim.h"
#include "pipeline/data/batch.h"
#include "pipeline/models/models.h"
#include "tensor/safetensors.h"

/* Where a run stands at the end of an epoch. */
typedef struct {
    int epoch;            /* epochs completed */
    long step;            /* optimiser steps taken */
    double best_score;    /* best dev weighted F1 so far (-1 before any) */
    int best_epoch, bad_epochs;
    uint64_t cache_hash;
    char cache_config[512];
    Rng rng_train;        /* shuffling, and each epoch's key of the per-utterance
                           * draws (augmentation, dropout: batch.h) */
    Rng rng_graph;        /* the graph's own draws (dropout without per-utterance
                           * streams; training installs them) */
} TrainState;

#define CHECKPOINT_FORMAT "meld-c checkpoint 1"

/* A training checkpoint: the model (parameters, buffers, normaliser,
 * configuration, feature configuration), the optimiser state and the
 * training state, everything --resume needs. */
int checkpoint_save(const char *path, const MeldModel *m, const Normaliser *norm, const Optimizer *opt,
                    const TrainState *ts);
/* The model alone, as `meld export` writes it: what predict and eval read,
 * no optim.* tensors and no training state. */
int checkpoint_save_weights(const char *path, const MeldModel *m, const Normaliser *norm, uint64_t cache_hash,
                            const char *cache_config);
/* Creates the model a checkpoint describes (weights not yet loaded). */
MeldModel *checkpoint_create_model(const SafeTensors *st);
/* Loads parameters, buffers and the normaliser (allocated into *norm). */
int checkpoint_read_weights(const SafeTensors *st, MeldModel *m, Normaliser *norm);
/* The training state (epoch, rng, ...): training checkpoints only. */
int checkpoint_read_state(const SafeTensors *st, TrainState *ts);
/* The feature configuration the model was trained on (hash and string):
 * every model file. */
int checkpoint_read_features(const SafeTensors *st, uint64_t *cache_hash, char *cache_config, size_t cap);

int config_format(const MeldModelConfig *c, char *buf, size_t cap);
int config_parse(const char *s, MeldModelConfig *c);

#endif
