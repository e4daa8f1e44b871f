/* End to end on a tiny synthetic corpus: synth -> prepare -> train every
 * model for real (small hidden sizes) -> checkpoints -> evaluation; plus
 * exact resume, deterministic preparation, and clear errors for damaged
 * checkpoints and a diverging run. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "pipeline/train/checkpoint_io.h"
#include "pipeline/data/dataset.h"
#include "pipeline/features/prepare.h"
#include "pipeline/synth/synth.h"
#include "pipeline/train/train.h"
#include "tensor/error.h"
#include "tensor/safetensors.h"

static char root[64], corpus[128], cache[160];

static int run(const char *fmt, const char *arg)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, fmt, arg, arg);
    return system(cmd);
}

static PrepareOptions prep_options(const char *cache_dir)
{
    PrepareOptions o = prepare_default_options();
    o.cache_dir = cache_dir;
    o.frames = 2;
    o.size = 32;
    o.n_mels = 16;
    o.cascade = "";   /* synthetic faces: centre crops, no cascade needed */
    return o;
}

static int setup(void **state)
{
    (void)state;
    strcpy(root, "/tmp/meld-train-XXXXXX");
    if (!mkdtemp(root)) return -1;
    snprintf(corpus, sizeof corpus, "%s/corpus", root);
    snprintf(cache, sizeof cache, "%s/cache", root);
    SynthConfig cfg;
    synth_config_default(&cfg);
    cfg.n_dialogues = 12;
    cfg.seed = 7;
    cfg.image_size = 48;
    SynthStats stats;
    if (synth_write(&cfg, corpus, NULL, NULL, &stats)) {
        fprintf(stderr, "synth: %s\n", meld_error());
        return -1;
    }
    Dataset ds;
    if (dataset_load(corpus, &ds, NULL)) {
        fprintf(stderr, "dataset: %s\n", meld_error());
        return -1;
    }
    PrepareOptions po = prep_options(cache);
    PrepareResult res;
    int rc = prepare_run(&ds, &po, &res);
    if (rc) fprintf(stderr, "prepare: %s\n", meld_error());
    dataset_free(&ds);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    return run("rm -rf %s", root);
}

static uint64_t config_hash(void)
{
    char cfg[512];
    PrepareOptions po = prep_options(cache);
    prepare_config(&po, cfg, sizeof cfg);
    return cache_hash(cfg);
}

static TrainOptions small_options(const char *model, const char *out)
{
    static char config[512];
    PrepareOptions po = prep_options(cache);
    prepare_config(&po, config, sizeof config);
    TrainOptions o = {0};
    o.cache_dir = cache;
    o.cache_hash = cache_hash(config);
    o.cache_config = config;
    o.model = model;
    o.cfg.rnn_hidden = 8;
    o.cfg.mel_hidden = 6;
    o.cfg.mel_pool = 8;
    o.cfg.mel_max_frames = 40;
    o.epochs = 2;
    o.batch = 4;
    o.patience = 5;
    o.seed = 3;
    o.out_dir = out;
    return o;
}

static void prepared_cache_is_complete_and_fresh(void **state)
{
    (void)state;
    PrepareOptions po = prep_options(cache);
    Dataset ds;
    assert_int_equal(dataset_load(corpus, &ds, NULL), MELD_OK);
    PrepareStatus st;
    assert_int_equal(prepare_status(&ds, &po, &st), MELD_OK);
    assert_int_equal(st.fresh, 1);
    SplitData s;
    char path[256];
    snprintf(path, sizeof path, "%s/train.meldcache", cache);
    assert_int_equal(split_data_open(&s, path, config_hash(), NULL), MELD_OK);
    assert_true(s.cache.n > 10);
    assert_int_equal(s.cache.cfg.n_mels, 16);
    assert_int_equal(s.cache.cfg.frame_size, 32);
    assert_true(s.n_dialogues >= 1);
    split_data_close(&s);
    /* Another configuration is stale. */
    po.n_mels = 20;
    assert_int_equal(prepare_status(&ds, &po, &st), MELD_OK);
    assert_int_equal(st.fresh, 0);
    dataset_free(&ds);
}

/* Every model trains two epochs, writes best/last checkpoints that load
 * back, and evaluates on the test split with finite numbers. */
static void every_model_trains_and_reloads(void **state)
{
    (void)state;
    const char *models[] = {"gru", "lstm", "melstm", "cnn", "fusion", "fusion-context", "fusion-functionals"};
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        char out[256];
        snprintf(out, sizeof out, "%s/run-%s", root, models[i]);
        TrainOptions o = small_options(strncmp(models[i], "fusion", 6) ? models[i] : "fusion", out);
        o.cfg.context = !strcmp(models[i], "fusion-context");
        o.cfg.audio_functionals = !strcmp(models[i], "fusion-functionals");
        TrainResult r;
        if (train_run(&o, &r) != MELD_OK) fail_msg("%s: %s", models[i], meld_error());
        assert_int_equal(r.epochs_run, 2);
        assert_true(r.test.n > 0);
        assert_true(isfinite(r.test.loss));
        assert_true(r.test.emotion.accuracy >= 0 && r.test.emotion.accuracy <= 1);
        LoadedModel lm;
        assert_int_equal(checkpoint_load_model(r.best_path, &lm), MELD_OK);
        char kind[32];
        snprintf(kind, sizeof kind, "%s", models[i]);
        if (strchr(kind, '-')) *strchr(kind, '-') = '\0';
        assert_string_equal(lm.model->kind->name, kind);
        loaded_model_free(&lm);
        train_result_free(&r);
        printf("  %-18s test emotion accuracy %.3f, sentiment accuracy %.3f (2 epochs, tiny corpus)\n", models[i],
               r.test.emotion.accuracy, r.test.sentiment.accuracy);
    }
}

static int files_equal(const char *a, const char *b)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "cmp -s %s %s", a, b);
    return system(cmd) == 0;
}

/* 3 epochs in one go == 2 epochs, then --resume for the third: the same
 * bytes in last.safetensors (weights, optimiser state, rng states) and
 * best.safetensors. */
static void resume_continues_exactly(void **state)
{
    (void)state;
    char a[256], b[256], pa[300], pb[300];
    snprintf(a, sizeof a, "%s/resume-a", root);
    snprintf(b, sizeof b, "%s/resume-b", root);
    TrainOptions o = small_options("fusion", a);
    o.epochs = 3;
    TrainResult r;
    assert_int_equal(train_run(&o, &r), MELD_OK);
    train_result_free(&r);
    o = small_options("fusion", b);
    o.epochs = 2;
    assert_int_equal(train_run(&o, &r), MELD_OK);
    train_result_free(&r);
    o.epochs = 3;
    o.resume = true;
    if (train_run(&o, &r) != MELD_OK) fail_msg("resume: %s", meld_error());
    assert_int_equal(r.first_epoch, 3);
    assert_int_equal(r.epochs_run, 3);
    train_result_free(&r);
    const char *files[] = {"last.safetensors", "best.safetensors"};
    for (int f = 0; f < 2; f++) {
        snprintf(pa, sizeof pa, "%s/%s", a, files[f]);
        snprintf(pb, sizeof pb, "%s/%s", b, files[f]);
        assert_true(files_equal(pa, pb));
    }
}

/* best.safetensors holds weights and normaliser only; last.safetensors
 * adds the optimiser state and what resuming needs. */
static void best_holds_weights_last_holds_state(void **state)
{
    (void)state;
    char path[300];
    const char *kinds[] = {"best", "last"};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/resume-a/%s.safetensors", root, kinds[k]);
        SafeTensors st;
        st_init(&st);
        assert_int_equal(st_load(&st, path), MELD_OK);
        int optim = 0, weights = 0;
        for (int i = 0; i < st.n_tensors; i++) {
            optim += !strncmp(st.tensors[i].name, "optim.", 6);
            weights += !strncmp(st.tensors[i].name, "norm.", 5);
        }
        assert_true(weights > 0);
        assert_string_equal(st_get_meta(&st, "checkpoint"), k ? "resume" : "weights");
        if (k == 0) {
            assert_int_equal(optim, 0);
            assert_null(st_get_meta(&st, "rng_train"));
            assert_null(st_get_meta(&st, "optim.kind"));
        } else {
            assert_true(optim > 0);
            assert_non_null(st_get_meta(&st, "rng_train"));
            assert_non_null(st_get_meta(&st, "schedule"));
        }
        st_free(&st);
    }
}

static void damaged_checkpoints_are_reported(void **state)
{
    (void)state;
    char dir[256], path[300], bad[300];
    snprintf(dir, sizeof dir, "%s/run-gru", root);
    snprintf(path, sizeof path, "%s/best.safetensors", dir);
    snprintf(bad, sizeof bad, "%s/truncated.safetensors", root);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "head -c 300 %s > %s", path, bad);
    assert_int_equal(system(cmd), 0);
    LoadedModel lm;
    assert_int_equal(checkpoint_load_model(bad, &lm), MELD_ERR);
    assert_non_null(strstr(meld_error(), "truncated.safetensors"));
    assert_int_equal(checkpoint_load_model("/nonexistent/x.safetensors", &lm), MELD_ERR);
    assert_non_null(strstr(meld_error(), "/nonexistent/x.safetensors"));
    /* A valid safetensors file that is not one of our checkpoints. */
    SafeTensors st;
    st_init(&st);
    float v[2] = {1, 2};
    int64_t shape[1] = {2};
    assert_int_equal(st_add(&st, "w", 1, shape, v), MELD_OK);
    snprintf(bad, sizeof bad, "%s/foreign.safetensors", root);
    assert_int_equal(st_save(&st, bad), MELD_OK);
    st_free(&st);
    assert_int_equal(checkpoint_load_model(bad, &lm), MELD_ERR);
    assert_non_null(strstr(meld_error(), "not a meld-c model checkpoint"));
}

/* A learning rate that makes the weights overflow stops the run with a
 * message naming the epoch and step; nothing is saved from it. */
static void diverging_run_stops_with_a_clear_error(void **state)
{
    (void)state;
    char out[256], path[300];
    snprintf(out, sizeof out, "%s/diverge", root);
    TrainOptions o = small_options("gru", out);
    o.optim = "sgd";
    o.lr = 3e38f;      /* with the decay term w * 10 in the gradient, the first */
    o.optim_hparams = "weight_decay=10";   /* step sends every weight above 0.12 to inf */
    o.batch = 1000;    /* one step per epoch: the end-of-epoch parameter check sees it */
    TrainResult r;
    assert_int_equal(train_run(&o, &r), MELD_ERR);
    train_result_free(&r);
    printf("  %s\n", meld_error());
    if (!strstr(meld_error(), "infinite values at the end of epoch 1 (step 1)") || !strstr(meld_error(), "training stopped"))
        fail_msg("unexpected message: %s", meld_error());
    snprintf(path, sizeof path, "%s/best.safetensors", out);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(path, sizeof path, "%s/last.safetensors", out);
    assert_int_equal(access(path, F_OK), -1);
}

/* A NaN in the weights of last.safetensors: the resume is refused, naming
 * the tensor, and both checkpoints stay as they were. (Weights that blow up
 * while training: diverging_run_stops_with_a_clear_error.) */
static void a_nan_in_last_is_refused_and_the_checkpoints_kept(void **state)
{
    (void)state;
    char out[256], last[300], best[300], last_copy[300], best_copy[300];
    snprintf(out, sizeof out, "%s/nan", root);
    TrainOptions o = small_options("gru", out);
    o.epochs = 1;
    TrainResult r;
    assert_int_equal(train_run(&o, &r), MELD_OK);
    train_result_free(&r);
    snprintf(last, sizeof last, "%s/last.safetensors", out);
    snprintf(best, sizeof best, "%s/best.safetensors", out);
    SafeTensors st;
    st_init(&st);
    assert_int_equal(st_load(&st, last), MELD_OK);
    StTensor *t = NULL;
    for (int i = 0; i < st.n_tensors && !t; i++)
        if (!strncmp(st.tensors[i].name, "gru.", 4)) t = &st.tensors[i];
    assert_non_null(t);
    t->data[0] = NAN;
    assert_int_equal(st_save(&st, last), MELD_OK);
    st_free(&st);
    snprintf(last_copy, sizeof last_copy, "%s/last.copy", root);
    snprintf(best_copy, sizeof best_copy, "%s/best.copy", root);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "cp %s %s && cp %s %s", last, last_copy, best, best_copy);
    assert_int_equal(system(cmd), 0);
    /* A damaged checkpoint is refused when it is read (checkpoint_io.c). */
    o.epochs = 2;
    o.resume = true;
    assert_int_equal(train_run(&o, &r), MELD_ERR);
    train_result_free(&r);
    if (!strstr(meld_error(), "holds NaN at index 0: the checkpoint is damaged"))
        fail_msg("unexpected message: %s", meld_error());
    assert_true(files_equal(last, last_copy));
    assert_true(files_equal(best, best_copy));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prepared_cache_is_complete_and_fresh),
        cmocka_unit_test(every_model_trains_and_reloads),
        cmocka_unit_test(resume_continues_exactly),
        cmocka_unit_test(best_holds_weights_last_holds_state),
        cmocka_unit_test(damaged_checkpoints_are_reported),
        cmocka_unit_test(diverging_run_stops_with_a_clear_error),
        cmocka_unit_test(a_nan_in_last_is_refused_and_the_checkpoints_kept),
    };
    return cmocka_run_group_tests_name("pipeline: train end to end", tests, setup, teardown);
}
