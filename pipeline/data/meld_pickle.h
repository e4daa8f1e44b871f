/* MELD's released audio features, matched with the annotation CSVs.
 *
 * The MELD authors released, besides the clips, one vector per utterance
 * per task: openSMILE features after feature selection, 1,611 values for
 * emotion and 1,422 for sentiment, in audio_embeddings_feature_selection_
 * emotion.pkl and ..._sentiment.pkl (dataset.h: FEATURE_PICKLE_NAMES).
 * MELD's own loader reads each with pickle.load(f, encoding='latin1') as
 *
 *     (train, dev, test)      a tuple (or list) of three dicts
 *     {"<dialogue>_<utterance>": vector, ...}   e.g. "125_3"
 *
 * where a vector is a numpy float32/float64 array or a list of numbers
 * (pipeline/data/pickle.h reads the pickle without running it).
 *
 * Matching: the key "D_U" of split s is utterance (Dialogue_ID D,
 * Utterance_ID U) of that split's CSV, whose labels the model learns.
 *   - A CSV utterance with no vector is "missing": it is listed (a warning
 *     with the count and the first ids) and masked -- it takes no place in
 *     its dialogue's sequence, no loss and no score. The dialogue-level
 *     RNNs skip masked steps and carry their state across them
 *     (layers/rnn_common.c), so leaving the utterance out is the same
 *     computation as a masked slot, without inventing a zero vector as
 *     MELD's loader does.
 *   - A vector whose key matches no CSV row is an "orphan": counted and
 *     listed in a warning, not used.
 *   - Errors, naming the file and the key: a top level other than three
 *     dicts, a key not of the form D_U, the same utterance twice, a vector
 *     whose length differs from the first one read (that length is the
 *     dimension), a value that is not finite in float32, and vectors that
 *     hold more values in all than the file has bytes (possible only when a
 *     pickle shares one vector among many keys through its memo: it would
 *     make memory unbounded, and MELD's files never do it).
 * Memory: the file, the reader's values (pickle.h), then 4 bytes per value
 * of the vectors kept, at most 4 x the file size.
 */
#ifndef MELD_PIPELINE_MELD_PICKLE_H
#define MELD_PIPELINE_MELD_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline/data/batch.h"
#include "pipeline/data/dataset.h"

/* The dimensions of MELD's release, per FEATURE_PICKLE_* (for messages; the
 * reader takes the dimension from the file). */
extern const int MELD_PICKLE_RELEASED_DIM[N_FEATURE_PICKLES];

typedef struct {
    char path[DATASET_PATH_MAX];
    int dim;                            /* values per vector */
    size_t n_vectors[N_SPLITS];         /* entries of the split's dict */
    size_t n_present[N_SPLITS];         /* CSV utterances with a vector */
    size_t n_missing[N_SPLITS];         /* CSV utterances without (masked) */
    size_t n_orphans[N_SPLITS];         /* vectors matching no CSV row */
    int *row[N_SPLITS];                 /* per CSV utterance: its row of vectors[s], -1 if missing */
    float *vectors[N_SPLITS];           /* n_present x dim, rows in CSV order */
} MeldFeatures;

/* Reads the pickle at path and matches it with ds (whose splits must all be
 * present). Missing utterances and orphans are reported with meld_warnf. */
int meld_features_read(const char *path, const Dataset *ds, MeldFeatures *out);
/* The same from bytes in memory (name for messages). */
int meld_features_parse(const uint8_t *data, size_t len, const char *name, const Dataset *ds, MeldFeatures *out);
void meld_features_free(MeldFeatures *f);

/* "D_U, D_U, ..." of the first `max` missing utterances of split s (then
 * ", ..." if there are more) into buf. */
void meld_features_missing_ids(const MeldFeatures *f, const Split *sp, int s, size_t max, char *buf, size_t cap);

/* Split s as training data (batch.h), in memory: its utterances with a
 * vector, in CSV order, with the CSV's labels; config names the features.
 * Takes over f->vectors[s] (NULL afterwards). meld_pickle_split.c. */
int meld_features_split_data(MeldFeatures *f, const Split *sp, int s, const char *config, SplitData *out);

#endif
