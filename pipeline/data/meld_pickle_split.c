/* MELD's released features as training splits (meld_pickle.h): the
 * utterances that have a vector, with the CSV's labels, in memory. Apart
 * from meld_pickle.c so that parsing and matching link without the
 * training data code (tests/fuzz/fuzz_pickle.c). */
#include <stdlib.h>

#include "pipeline/data/meld_pickle.h"
#include "tensor/error.h"

int meld_features_split_data(MeldFeatures *f, const Split *sp, int s, const char *config, SplitData *out)
{
    float *vectors = f->vectors[s];
    f->vectors[s] = NULL;
    int n = (int)f->n_present[s];
    CacheEntry *entries = meld_calloc((size_t)n, sizeof *entries, "feature index");
    int *speaker = meld_malloc(sizeof(int) * sp->n_utts, "speakers");
    if (!entries || !speaker) {
        free(vectors);
        free(entries);
        free(speaker);
        return MELD_ERR;
    }
    dataset_speaker_indices(sp, speaker);
    int k = 0;
    for (size_t i = 0; i < sp->n_utts; i++) {
        if (f->row[s][i] < 0) continue;   /* masked: no vector */
        const Utterance *u = &sp->utts[i];
        entries[k++] = (CacheEntry){.dialogue_id = u->dialogue_id, .utterance_id = u->utterance_id,
                                    .emotion = u->emotion, .sentiment = u->sentiment, .speaker = speaker[i]};
    }
    free(speaker);
    return split_data_from_vectors(out, entries, n, vectors, f->dim, config);
}
