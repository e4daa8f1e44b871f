/* MELD's released feature pickles matched with the CSVs
 * (pipeline/data/meld_pickle.h) on the fixture corpus of
 * tests/fixtures/make_pickle_fixtures.py: finding the files, missing
 * utterances masked and listed, orphans, the training splits built from
 * them, every structural error, and that leaving a masked utterance out of
 * a dialogue is what the RNN's mask does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "layers/gru.h"
#include "pipeline/data/meld_pickle.h"
#include "tensor/error.h"
#include "tests/pickle_stream.h"

#define CORPUS "tests/fixtures/pickle/corpus"
#define READER "tests/fixtures/pickle/reader/"

static Dataset ds;
static DatasetLocation loc;

static int load_corpus(void **state)
{
    (void)state;
    DatasetOptions opt = {.skip_clips = 1};
    if (dataset_locate(CORPUS, &loc) || dataset_load_from(&loc, &ds, &opt)) {
        fprintf(stderr, "%s\n", meld_error());
        return -1;
    }
    (void)meld_take_warning();
    return 0;
}

static int free_corpus(void **state)
{
    (void)state;
    dataset_free(&ds);
    return 0;
}

static long utterance_index(const Split *sp, int d, int u)
{
    for (size_t i = 0; i < sp->n_utts; i++)
        if (sp->utts[i].dialogue_id == d && sp->utts[i].utterance_id == u) return (long)i;
    return -1;
}

static void the_walk_finds_both_pickles(void **state)
{
    (void)state;
    for (int k = 0; k < N_FEATURE_PICKLES; k++) {
        assert_non_null(strstr(loc.feature_pickle[k], FEATURE_PICKLE_NAMES[k]));
        assert_int_equal(strncmp(loc.feature_pickle[k], CORPUS "/", strlen(CORPUS) + 1), 0);
    }
}

/* Both files: emotion written the way Python 2 wrote MELD's, sentiment by
 * Python 3 at protocol 2. Each vector carries its label as a scaled
 * one-hot (make_pickle_fixtures.py), so its argmax over the classes is the
 * CSV's label: the vectors sit on the right utterances. */
static void matches_vectors_with_utterances(void **state)
{
    (void)state;
    const int dims[N_FEATURE_PICKLES] = {11, 7}, classes[N_FEATURE_PICKLES] = {N_EMOTIONS, N_SENTIMENTS};
    for (int k = 0; k < N_FEATURE_PICKLES; k++) {
        MeldFeatures f;
        if (meld_features_read(loc.feature_pickle[k], &ds, &f)) fail_msg("%s", meld_error());
        const char *w = meld_take_warning();
        assert_non_null(w);
        assert_non_null(strstr(w, "train utterances without a vector, masked (no input, loss or score): 1 of"));
        assert_non_null(strstr(w, "(3_1)"));
        assert_non_null(strstr(w, "test utterances without a vector, masked"));
        assert_non_null(strstr(w, "dev vectors with no CSV row, unused: 1 (900_0)"));
        assert_int_equal(f.dim, dims[k]);
        const size_t missing[N_SPLITS] = {1, 0, 1}, orphans[N_SPLITS] = {0, 1, 0};
        for (int s = 0; s < N_SPLITS; s++) {
            const Split *sp = &ds.split[s];
            assert_int_equal(f.n_missing[s], missing[s]);
            assert_int_equal(f.n_orphans[s], orphans[s]);
            assert_int_equal(f.n_present[s], sp->n_utts - missing[s]);
            assert_int_equal(f.n_vectors[s], f.n_present[s] + orphans[s]);
            int next_row = 0;
            for (size_t i = 0; i < sp->n_utts; i++) {
                if (f.row[s][i] < 0) continue;
                assert_int_equal(f.row[s][i], next_row++);   /* rows in CSV order */
                const float *x = f.vectors[s] + (size_t)f.row[s][i] * (size_t)f.dim;
                int best = 0;
                for (int c = 1; c < classes[k]; c++) best = x[c] > x[best] ? c : best;
                assert_int_equal(best, k == 0 ? sp->utts[i].emotion : sp->utts[i].sentiment);
            }
        }
        assert_int_equal(f.row[0][utterance_index(&ds.split[0], 3, 1)], -1);
        assert_int_equal(f.row[2][utterance_index(&ds.split[2], 1, 1)], -1);
        char ids[64];
        meld_features_missing_ids(&f, &ds.split[0], 0, 5, ids, sizeof ids);
        assert_string_equal(ids, "3_1");
        meld_features_free(&f);
    }
}

/* The training split keeps the utterances with a vector in dialogue order
 * and the CSV's labels; the masked one is simply not in its dialogue. */
static void training_split_leaves_the_masked_out(void **state)
{
    (void)state;
    MeldFeatures f;
    if (meld_features_read(loc.feature_pickle[FEATURE_PICKLE_EMOTION], &ds, &f)) fail_msg("%s", meld_error());
    (void)meld_take_warning();
    const Split *sp = &ds.split[SPLIT_TRAIN];
    float *vectors = f.vectors[SPLIT_TRAIN];
    SplitData sd;
    assert_int_equal(meld_features_split_data(&f, sp, SPLIT_TRAIN, "meld-pickle task=emotion dim=11", &sd), MELD_OK);
    assert_null(f.vectors[SPLIT_TRAIN]);   /* taken over */
    assert_int_equal(sd.cache.n, (int)sp->n_utts - 1);
    assert_int_equal(sd.n_dialogues, (int)sp->n_dialogues);
    assert_int_equal(sd.cache.cfg.functional_dim, 11);
    assert_int_equal(sd.cache.cfg.n_mels, 0);
    assert_int_equal(sd.cache.cfg.n_frames, 0);
    assert_true(sd.cache.hash == cache_hash("meld-pickle task=emotion dim=11"));
    assert_int_equal(sd.dia_len[3], sp->dialogues[3].n_utts - 1);
    int e = 0;
    for (size_t i = 0; i < sp->n_utts; i++) {
        const Utterance *u = &sp->utts[i];
        if (u->dialogue_id == 3 && u->utterance_id == 1) continue;
        const CacheEntry *c = &sd.cache.entries[e];
        assert_int_equal(c->dialogue_id, u->dialogue_id);
        assert_int_equal(c->utterance_id, u->utterance_id);
        assert_int_equal(c->emotion, u->emotion);
        assert_int_equal(c->sentiment, u->sentiment);
        assert_ptr_equal(cache_functional(&sd.cache, e), vectors + (size_t)e * 11);
        e++;
    }
    assert_int_equal(sd.cache.entries[sd.dia_first[3] + 1].utterance_id, 2);   /* 3_0, 3_2, ... */
    split_data_close(&sd);
    meld_features_free(&f);
}

static void expect_error(const char *spec, const char *want)
{
    size_t n;
    const uint8_t *bytes = pickle_stream(spec, &n);
    MeldFeatures f;
    if (meld_features_parse(bytes, n, "f.pkl", &ds, &f) != MELD_ERR) fail_msg("expected an error with '%s'", want);
    if (!strstr(meld_error(), want)) fail_msg("error '%s' lacks '%s'", meld_error(), want);
    for (int s = 0; s < N_SPLITS; s++) assert_null(f.vectors[s]);
    (void)meld_take_warning();
}

/* Python 2 style, protocol 2: (train, dev, test) with a body for train */
#define TOP(train) "`8002`(}(" train "u}}t."
#define VEC(key) "U`03`" key "(G`3ff0000000000000`G`4000000000000000`l"   /* [1.0, 2.0] */

static void structural_errors(void **state)
{
    (void)state;
    expect_error("}.", "f.pkl: expected (train, dev, test), three dicts of \"<dialogue>_<utterance>\": vector; "
                       "found a dict of 0");
    expect_error("(}}}}t.", "found a tuple of 4");
    expect_error("(}]}t.", "f.pkl: item 1 (dev) is a list, not a dict");
    expect_error("(}}}t.", "f.pkl: the three dicts are empty");
    expect_error(TOP("U`03`0-0(K`01`l"), "f.pkl: train key '0-0' is not \"<dialogue>_<utterance>\"");
    expect_error(TOP("U`04`0_0x(K`01`l"), "key '0_0x' is not");
    expect_error(TOP("K`01`(K`01`l"), "train key '<a int>' is not");
    expect_error(TOP("U`03`0_0N"), "f.pkl: train['0_0']: a None is not a vector");
    expect_error(TOP(VEC("0_0") "U`04`0_00(K`01`K`02`l"), "f.pkl: train['0_00'] is utterance 0_0 a second time");
    expect_error(TOP(VEC("0_0") "U`03`0_1(K`01`l"), "f.pkl: train['0_1'] has 1 values, the vectors before it 2");
    expect_error(TOP("U`03`0_0(l"), "f.pkl: train['0_0'] has 0 values");
    expect_error(TOP("U`03`0_0(G`7ff8000000000000`l"), "f.pkl: train['0_0'] value 0 is NaN in float32");
    expect_error(TOP("U`03`0_0(K`01`G`7fe0000000000000`l"), "train['0_0'] value 1 is infinite in float32");
    expect_error(TOP("U`03`0_0(K`01`U`01`xl"), "f.pkl: train['0_0']: item 1 is a bytes, not a number");
    /* one list of 100 values under every train key, shared through the memo:
     * more values than bytes */
    char spec[4096] = "`8002`(}(U`03`0_0(";
    for (int i = 0; i < 100; i++) strcat(spec, "K`01`");
    strcat(spec, "lq`00`");
    for (int d = 1; d < 20; d++) {
        char item[32];
        snprintf(item, sizeof item, "U`03`%d_0h`00`", d % 10);
        if (d >= 10) snprintf(item, sizeof item, "U`04`%d_0h`00`", d);
        strcat(spec, item);
    }
    strcat(spec, "u}}t.");
    expect_error(spec, "the vectors hold 2000 values, more than the file's");
    expect_error("`8003`(}}}t.", "f.pkl: byte 0: opcode PROTO (0x80): protocol 3");
}

static void wrong_length_fixture(void **state)
{
    (void)state;
    MeldFeatures f;
    assert_int_equal(meld_features_read(READER "wrong_length.pkl", &ds, &f), MELD_ERR);
    assert_string_equal(meld_error(), READER "wrong_length.pkl: dev['1_1'] has 4 values, the vectors before it 5");
    assert_int_equal(meld_features_read(CORPUS "/none.pkl", &ds, &f), MELD_ERR);
    assert_non_null(strstr(meld_error(), "none.pkl: cannot open: No such file"));
    (void)meld_take_warning();
}

/* The claim in meld_pickle.h: a masked step of the dialogue RNN passes its
 * state across, so a dialogue with a masked utterance gives the other
 * utterances exactly the outputs of the dialogue without it. */
static void leaving_out_equals_masking(void **state)
{
    (void)state;
    enum { F = 4, H = 3, T = 4 };
    Rng rng;
    rng_seed(&rng, 7, 1);
    Layer *gru = gru_new("gru", F, H, 1, true, true, 0.0f, true, &rng);
    assert_non_null(gru);
    Graph g;
    graph_init(&g, 1);
    g.grad_enabled = false;
    int full_shape[3] = {1, T, F}, short_shape[3] = {1, T - 1, F}, mask_shape[2] = {1, T};
    Tensor *full = tensor_new(&g.arena, 3, full_shape), *cut = tensor_new(&g.arena, 3, short_shape);
    Tensor *mask = tensor_new(&g.arena, 2, mask_shape);
    for (int i = 0; i < T * F; i++) full->data[i] = rng_uniform_range(&rng, -1, 1);
    for (int t = 0, k = 0; t < T; t++) {
        mask->data[t] = t != 1;   /* utterance 1 masked */
        if (t != 1) memcpy(cut->data + (size_t)k++ * F, full->data + (size_t)t * F, sizeof(float) * F);
    }
    Tensor *y_masked = layer_forward(gru, &g, full, mask), *y_cut = layer_forward(gru, &g, cut, NULL);
    assert_non_null(y_masked);
    assert_non_null(y_cut);
    for (int t = 0, k = 0; t < T; t++) {
        if (t == 1) continue;
        for (int j = 0; j < 2 * H; j++)
            assert_true(y_masked->data[(size_t)t * 2 * H + (size_t)j] == y_cut->data[(size_t)k * 2 * H + (size_t)j]);
        k++;
    }
    graph_free(&g);
    layer_free(gru);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_walk_finds_both_pickles),
        cmocka_unit_test(matches_vectors_with_utterances),
        cmocka_unit_test(training_split_leaves_the_masked_out),
        cmocka_unit_test(structural_errors),
        cmocka_unit_test(wrong_length_fixture),
        cmocka_unit_test(leaving_out_equals_masking),
    };
    return cmocka_run_group_tests(tests, load_corpus, free_corpus);
}
