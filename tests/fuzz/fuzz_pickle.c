/* libFuzzer target: the pickle reader (pipeline/data/pickle.h) and the
 * matching of MELD's feature pickles with the CSVs (meld_pickle.h), on any
 * bytes. Each input must give a result or a clean error; the sanitizers
 * catch everything else. A result is also checked: the memory bound, every
 * value reachable through the accessors, vector lengths, and the matcher's
 * counts and finite values. Build and run: tests/fuzz/README.md. */
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/data/meld_pickle.h"
#include "pipeline/data/pickle.h"
#include "tensor/error.h"

/* The CSVs the matcher checks keys against: dialogues 0-2 with utterances
 * 0-2 in every split (the seeds use keys "0_0" .. "1_2"). */
static Dataset dataset;

static void make_dataset(void)
{
    static const char header[] =
        "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\n";
    char csv[2048];
    size_t n = (size_t)snprintf(csv, sizeof csv, "%s", header);
    for (int d = 0, i = 1; d < 3; d++)
        for (int u = 0; u < 3; u++, i++)
            n += (size_t)snprintf(csv + n, sizeof csv - n, "%d,Hi.,Joey,%s,%s,%d,%d,1,1,\"0:00:0%d,000\",\"0:00:0%d,500\"\n",
                                  i, u ? "joy" : "neutral", u ? "positive" : "neutral", d, u, u, u);
    for (int s = 0; s < N_SPLITS; s++) {
        int rc = dataset_parse_split(csv, n, "fuzz.csv", NULL, NULL, &dataset.split[s]);
        assert(rc == MELD_OK);
        (void)rc;
    }
}

/* Visits the values below v (to a fixed depth, at most `budget` of them),
 * as a caller would. */
static void visit(const PickleValue *v, int depth, size_t *budget)
{
    if (!*budget || depth > 3) return;
    (*budget)--;
    size_t n = pickle_len(v), len;
    assert(strlen(pickle_kind_name(v->kind)) > 0);
    if (pickle_vector_len(v, &len) == MELD_OK && len <= 4096) {
        float out[4096];
        (void)pickle_vector(v, out, len);
    }
    for (size_t i = 0; i < n && *budget; i++) {
        const PickleValue *item = pickle_item(v, i), *key = pickle_key(v, i), *val = pickle_value(v, i);
        assert((v->kind == PICKLE_TUPLE || v->kind == PICKLE_LIST) == (item != NULL));
        assert((v->kind == PICKLE_DICT) == (key != NULL && val != NULL));
        if (item) visit(item, depth + 1, budget);
        if (key) visit(key, depth + 1, budget);
        if (val) visit(val, depth + 1, budget);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dataset.split[0].present) make_dataset();
    Pickle p;
    if (pickle_parse(data, size, "fuzz.pkl", &p) == MELD_OK) {
        assert(p.memory <= size * PICKLE_MEMORY_PER_BYTE + PICKLE_MEMORY_BASE);
        size_t budget = 10000;
        visit(&p.root, 0, &budget);
        pickle_free(&p);
    } else {
        assert(meld_error()[0] != '\0');
    }
    MeldFeatures f;
    if (meld_features_parse(data, size, "fuzz.pkl", &dataset, &f) == MELD_OK) {
        size_t values = 0;
        for (int s = 0; s < N_SPLITS; s++) {
            const Split *sp = &dataset.split[s];
            assert(f.n_present[s] + f.n_missing[s] == sp->n_utts);
            assert(f.n_present[s] + f.n_orphans[s] <= f.n_vectors[s]);
            for (size_t i = 0; i < f.n_present[s] * (size_t)f.dim; i++) assert(isfinite(f.vectors[s][i]));
            values += f.n_present[s] * (size_t)f.dim;
            char ids[128];
            meld_features_missing_ids(&f, sp, s, 4, ids, sizeof ids);
        }
        assert(f.dim > 0 && values <= size);
        meld_features_free(&f);
    }
    meld_error_clear();
    (void)meld_take_warning();
    return 0;
}
