/* Training data: the three split caches, feature normalisation, and the
 * batches the models eat.
 *
 * Two batch layouts, one struct:
 *   dialogue level (gru, lstm, fusion --context): B dialogues padded to the
 *     longest, T utterances each; the label grid is B x T and mask[b*T+t] is
 *     1 for a real utterance, 0 for padding.
 *   utterance level (melstm, cnn, fusion): B utterances, T = 1.
 * Either way the batch lists its n_utts real utterances and the grid slot
 * each occupies, so encoders run on real utterances only and their outputs
 * are placed into the grid (op_gather_rows).
 *
 * Inputs (only those the model asked for are filled), all in the graph's
 * arena, none requiring a gradient:
 *   func        [B, T, F]   z-normalised functional vectors (0 on padding)
 *   mel         [n_utts, Tm, M] z-normalised log-Mel frames, average-pooled
 *               in time by mel_pool and cut to mel_max_frames; mel_mask
 *               [n_utts, Tm] marks real frames (1) and padding (0)
 *   frames      [n_utts*K, C, S, S] pixels scaled to [-1, 1] per channel
 *               (x/127.5 - 1), augmented in training
 */
#ifndef MELD_BATCH_H
#define MELD_BATCH_H

#include <stdbool.h>

#include "pipeline/data/cache.h"
#include "tensor/autograd.h"

enum { NEED_FUNC = 1, NEED_MEL = 2, NEED_FRAMES = 4 };

typedef struct {
    Cache cache;
    int n_dialogues;
    int *dia_first, *dia_len;     /* dialogue d = entries [first, first+len) */
} SplitData;

typedef struct {
    int func_dim, n_mels;
    float *func_mean, *func_std;  /* [func_dim] */
    float *mel_mean, *mel_std;    /* [n_mels] */
} Normaliser;

typedef struct {
    int needs;                    /* NEED_* bits */
    bool dialogue_level;
    int mel_pool, mel_max_frames;
    int frames_used;              /* frames per utterance fed to the CNN (<= cache K) */
    bool augment;                 /* random crop/flip/brightness (training only) */
    /* The feature sizes the model was built for; batch_build refuses a
     * cache (or a normaliser) that holds others, rather than read past
     * the end of its rows. */
    int func_dim, n_mels, frame_size, frame_channels;
} BatchSpec;

typedef struct {
    int B, T, n_utts;
    int *slot;                    /* [n_utts] grid position b*T + t */
    int *utt_index;               /* [n_utts] cache entry */
    float *mask;                  /* [B*T] */
    int *emotion, *sentiment;     /* [B*T], 0 on padding */
    Tensor *func, *mel, *mel_mask, *frames;
    Tensor *grid_mask;            /* [B, T] as a tensor (dialogue-level RNN masks) */
} Batch;

int  split_data_open(SplitData *s, const char *path, uint64_t expected_hash, int *stale);
/* A split held in memory instead of a cache file, for features that need
 * no prepare step (MELD's released vectors, pipeline/data/meld_pickle.h):
 * n utterances sorted by (dialogue, utterance), each with one functional
 * vector of dim floats (row i of vectors; functional_offset is set here)
 * and no mel frames or face frames. config names the features (its hash
 * is the split's). Takes ownership of entries and vectors, also on error. */
int  split_data_from_vectors(SplitData *s, CacheEntry *entries, int n, float *vectors, int dim, const char *config);
void split_data_close(SplitData *s);

/* Mean and standard deviation of every feature over the training split
 * (std floored at 1e-3 so constant features stay finite). */
int  normaliser_fit(Normaliser *n, const SplitData *train);
void normaliser_free(Normaliser *n);

/* Builds a batch from `count` items: dialogue indices when dialogue-level,
 * utterance (entry) indices otherwise. rng drives augmentation. Fails
 * (nothing read) when the cache or the normaliser does not have the
 * feature sizes spec asks for. */
int batch_build(Graph *g, const SplitData *s, const Normaliser *norm, const BatchSpec *spec,
                const int *items, int count, Rng *rng, Batch *out);

#endif
