/* Reading and writing MELD model checkpoints (see train.h for what they hold).
 *
 * Every model file holds the parameters, BatchNorm buffers, the feature
 * normaliser and the metadata that rebuilds the model: format, model kind
 * and configuration, label orders, the feature configuration and its hash
 * (all eval, predict and export need). Training writes two kinds, told
 * apart by the metadata "checkpoint":
 *   "weights"  (best.safetensors) adds epoch, step, best score and the
 *              provenance (provenance.h); no optimiser, no training state.
 *   "resume"   (last.safetensors) adds as well the optimiser state
 *              ("optim.*"), the learning-rate schedule, the patience
 *              counter, both rng states and, when the run was interrupted
 *              inside an epoch, where in that epoch it stood (TrainState).
 * `meld export` writes the model alone (checkpoint_save_weights without a
 * TrainState).
 * Training checkpoints written before the kinds existed hold everything and
 * read as "resume".
 */
#ifndef MELD_CHECKPOINT_IO_H
#define MELD_CHECKPOINT_IO_H

#include <stddef.h>
#include <stdint.h>

#include "optim/optim.h"
#include "optim/schedule.h"
#include "pipeline/data/batch.h"
#include "pipeline/data/dataset.h"
#include "pipeline/models/models.h"
#include "pipeline/train/provenance.h"
#include "tensor/safetensors.h"

/* Where a run stands: at the end of an epoch, or inside one when it was
 * interrupted (epoch_step > 0). */
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
    /* Inside epoch `epoch + 1` (all zero at an epoch's end): */
    int epoch_step;       /* its steps already taken */
    Rng rng_epoch;        /* rng_train when it began: its shuffle is drawn again from it */
    double epoch_loss;    /* the sum of those steps' losses */
    int epoch_utts;       /* utterances seen */
    double epoch_seconds; /* time spent in it */
    /* its training predictions so far, [true][predicted] */
    int confusion_emotion[N_EMOTIONS][N_EMOTIONS];
    int confusion_sentiment[N_SENTIMENTS][N_SENTIMENTS];
} TrainState;

#define CHECKPOINT_FORMAT "meld-c checkpoint 1"

/* A training checkpoint, everything --resume needs (last.safetensors);
 * sched and prov may be NULL. */
int checkpoint_save(const char *path, const MeldModel *m, const Normaliser *norm, const Optimizer *opt,
                    const Schedule *sched, const TrainState *ts, const Provenance *prov);
/* The model alone, no optim.* tensors and no training state: what predict,
 * eval and export read. With ts (best.safetensors) it adds where the run
 * stood (epoch, step, best score); `meld export` passes NULL. prov (may be
 * NULL) is kept. */
int checkpoint_save_weights(const char *path, const MeldModel *m, const Normaliser *norm, uint64_t cache_hash,
                            const char *cache_config, const TrainState *ts, const Provenance *prov);
/* Creates the model a checkpoint describes (weights not yet loaded). */
MeldModel *checkpoint_create_model(const SafeTensors *st);
/* Loads parameters, buffers and the normaliser (allocated into *norm). */
int checkpoint_read_weights(const SafeTensors *st, MeldModel *m, Normaliser *norm);
/* Where a training checkpoint (best or last) stood: epoch, step, best
 * epoch and score, range-checked; the rest of *ts is zeroed. */
int checkpoint_read_progress(const SafeTensors *st, TrainState *ts);
/* The training state (epoch, rng, the position inside an epoch...): resume
 * checkpoints only. */
int checkpoint_read_state(const SafeTensors *st, TrainState *ts);
/* The feature configuration the model was trained on (hash and string):
 * every model file. */
int checkpoint_read_features(const SafeTensors *st, uint64_t *cache_hash, char *cache_config, size_t cap);

int config_format(const MeldModelConfig *c, char *buf, size_t cap);
int config_parse(const char *s, MeldModelConfig *c);

#endif
