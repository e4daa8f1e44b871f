/* libFuzzer target: the CSV reader and the MELD split index built on it
 * (pipeline/data/csv.h, pipeline/data/dataset.h), from memory, with strict
 * and with lenient rows. */
#include "tests/fuzz/fuzz.h"
#include "pipeline/data/dataset.h"

static void split(const uint8_t *data, size_t size, int lenient)
{
    DatasetOptions opt = {.lenient = lenient, .skip_clips = 1};
    Split s;
    int rc = dataset_parse_split((const char *)data, size, "fuzz.csv", "", &opt, &s);
    if (rc == MELD_OK) {
        for (size_t i = 0; i < s.n_utts; i++)
            if (s.utts[i].emotion < 0 || s.utts[i].emotion >= N_EMOTIONS || s.utts[i].sentiment < 0 ||
                s.utts[i].sentiment >= N_SENTIMENTS)
                abort();
        split_free(&s);
    }
    fuzz_check_error(rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    split(data, size, 0);
    split(data, size, 1);
    return 0;
}
