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
    Rng rng_train;        /* shuffling and augmentation */
    Rng rng_graph;        /* dropout masks */
} TrainState;

int checkpoint_save(const char *path, const MeldModel *m, const Normaliser *norm, const Optimizer *opt,
                    const TrainState *ts);
/* Creates the model a checkpoint describes (weights not yet loaded). */
MeldModel *checkpoint_create_model(const SafeTensors *st);
/* Loads parameters, buffers and the normaliser (allocated into *norm). */
int checkpoint_read_weights(const SafeTensors *st, MeldModel *m, Normaliser *norm);
int checkpoint_read_state(const SafeTensors *st, TrainState *ts);

int config_format(const MeldModelConfig *c, char *buf, size_t cap);
int config_parse(const char *s, MeldModelConfig *c);

#endif
