/* Building blocks the model kinds share (not a public API):
 *   heads       two Dense layers (emotion 7, sentiment 3), time-distributed
 *               for dialogue-level models
 *   mel encoder 2-layer bidirectional LSTM over log-Mel frames, masked mean
 *               over time -> [N, 2H]
 *   frame encoder the CNN trunk: four conv blocks, Flatten, Dense 100 ->
 *               [N*K, 100] per frame
 * Each *_add function appends its layers to the model and returns the
 * index of the first one (or -1); each *_forward runs them from there. */
#ifndef MELD_MODEL_PARTS_H
#define MELD_MODEL_PARTS_H

#include "pipeline/models/models.h"

int heads_add(MeldModel *m, const char *prefix, int in, bool time_distributed, Rng *r);
/* x [..., in] -> logits reshaped to [rows, 7] and [rows, 3]. */
int heads_forward(MeldModel *m, int first, Graph *g, Tensor *x, Tensor **emotion, Tensor **sentiment);

int mel_encoder_add(MeldModel *m, const char *prefix, Rng *r);
int mel_encoder_width(const MeldModel *m);
Tensor *mel_encoder_forward(MeldModel *m, int first, Graph *g, Tensor *mel, Tensor *mel_mask);

int frame_encoder_add(MeldModel *m, const char *prefix, Rng *r);
enum {
    FRAME_EMBED = 100,
    /* 4 blocks of 5 layers minus the first block's BatchNorm, then
     * flatten, dense, activation. */
    FRAME_ENCODER_LAYERS = 4 * 5 - 1 + 3,
};
/* The slope of the frame encoder's LeakyReLUs. */
#define FRAME_LEAKY_SLOPE 0.1f
Tensor *frame_encoder_forward(MeldModel *m, int first, Graph *g, Tensor *frames);

/* [rows*K, C] -> [rows, C], the mean over each utterance's K frames. */
Tensor *mean_over_frames(Graph *g, Tensor *x, int K);

#endif
