/* Checkpoints are input: crafted ones must be refused with a message, never
 * read past a buffer, fill memory or give numbers that look like a model's.
 *   - a configuration that promises more than the file holds fails before
 *     the model is allocated (memory bounded by the file);
 *   - a model whose feature sizes differ from the cache's (or from its own
 *     normaliser) is refused by batch building, before a row is read;
 *   - NaN or infinite weights are refused at load, and outputs that are not
 *     numbers stop evaluation instead of becoming "class 0";
 *   - a checkpoint without configuration says so; a crafted feature
 *     configuration is refused up front. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "pipeline/cli/corpus.h"
#include "pipeline/data/batch.h"
#include "pipeline/train/checkpoint_io.h"
#include "pipeline/train/train.h"
#include "tensor/error.h"
#include "tensor/safetensors.h"

static char root[64];

static int setup(void **state)
{
    (void)state;
    strcpy(root, "/tmp/meld-guard-XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    return system(cmd);
}

static const char *in_root(const char *name)
{
    static char path[4][256];
    static int turn;
    turn = (turn + 1) % 4;
    snprintf(path[turn], sizeof path[turn], "%s/%s", root, name);
    return path[turn];
}

/* Small sizes: every model builds in a few milliseconds. */
static MeldModelConfig small_config(void)
{
    return (MeldModelConfig){.task = TASK_BOTH, .func_dim = 20, .n_mels = 8, .frame_size = 16, .frame_channels = 3,
                             .frames_used = 2, .rnn_hidden = 4, .mel_hidden = 4, .mel_pool = 1,
                             .mel_max_frames = 100, .context = false, .audio_functionals = true};
}

/* A normaliser of the model's own sizes: mean 0, standard deviation 1. */
static void unit_normaliser(Normaliser *n, const MeldModelConfig *c)
{
    n->func_dim = c->func_dim;
    n->n_mels = c->n_mels;
    n->func_mean = calloc((size_t)c->func_dim, sizeof(float));
    n->mel_mean = calloc((size_t)c->n_mels, sizeof(float));
    n->func_std = malloc(sizeof(float) * (size_t)c->func_dim);
    n->mel_std = malloc(sizeof(float) * (size_t)c->n_mels);
    for (int d = 0; d < c->func_dim; d++) n->func_std[d] = 1;
    for (int d = 0; d < c->n_mels; d++) n->mel_std[d] = 1;
}

static MeldModel *make_model(const char *kind, const MeldModelConfig *c)
{
    Rng r;
    rng_seed(&r, 3, 1);
    MeldModel *m = meld_model_create(kind, c, &r);
    if (!m) fail_msg("%s", meld_error());
    return m;
}

/* A consistent checkpoint of a freshly made model. */
static void save_checkpoint(const char *path, const char *kind, const MeldModelConfig *c)
{
    MeldModel *m = make_model(kind, c);
    Normaliser n;
    unit_normaliser(&n, c);
    TrainState ts = {.best_score = -1};
    snprintf(ts.cache_config, sizeof ts.cache_config, "meld-cache v1 n_mels=%d frames=2 size=%d face=none", c->n_mels,
             c->frame_size);
    if (checkpoint_save(path, m, &n, NULL, NULL, &ts, NULL)) fail_msg("%s", meld_error());
    normaliser_free(&n);
    meld_model_free(m);
}

/* Rewrites one metadata entry of a checkpoint (value NULL: removes it). */
static void set_meta(const char *src, const char *dst, const char *key, const char *value)
{
    SafeTensors st;
    assert_int_equal(st_load(&st, src), MELD_OK);
    SafeTensors out;
    st_init(&out);
    for (int i = 0; i < st.n_tensors; i++)
        assert_int_equal(st_add(&out, st.tensors[i].name, st.tensors[i].ndim, st.tensors[i].shape, st.tensors[i].data),
                         MELD_OK);
    for (int i = 0; i < st.n_meta; i++)
        if (strcmp(st.meta[i].key, key)) assert_int_equal(st_set_meta(&out, st.meta[i].key, st.meta[i].value), MELD_OK);
    if (value) assert_int_equal(st_set_meta(&out, key, value), MELD_OK);
    assert_int_equal(st_save(&out, dst), MELD_OK);
    st_free(&st);
    st_free(&out);
}

static void expect_error(const char *what)
{
    if (!strstr(meld_error(), what)) fail_msg("expected '%s' in: %s", what, meld_error());
}

/* ---- a configuration larger than the file ----------------------------- */

static long max_rss_kb(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

/* Loads path in a child and reports the error and how much its peak
 * memory grew. */
static void load_in_child(const char *path, char *message, size_t cap, long *grew_kb)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        long before = max_rss_kb();
        LoadedModel lm;
        int rc = checkpoint_load_model(path, &lm);
        long grew = max_rss_kb() - before;
        char out[1200];
        int n = snprintf(out, sizeof out, "%d %ld %s", rc, grew, rc ? meld_error() : "loaded");
        if (write(fds[1], out, (size_t)n) != n) _exit(2);
        _exit(0);
    }
    close(fds[1]);
    char buf[1200];
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(n > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    buf[n] = '\0';
    int rc;
    int used = 0;
    assert_int_equal(sscanf(buf, "%d %ld %n", &rc, grew_kb, &used), 2);
    assert_int_equal(rc, MELD_ERR);
    snprintf(message, cap, "%s", buf + used);
}

static void a_configuration_larger_than_the_file_allocates_nothing_big(void **state)
{
    (void)state;
    MeldModelConfig c = small_config();
    const char *good = in_root("small-gru.safetensors"), *bad = in_root("big-gru.safetensors");
    save_checkpoint(good, "gru", &c);
    /* The model this describes needs 144 million weights (1.2 GB with
     * their gradients); the file holds about a thousand numbers. */
    set_meta(good, bad, "config",
             "task=0 func_dim=1771 n_mels=8 frame_size=16 frame_channels=3 frames_used=2 rnn_hidden=4096 "
             "mel_hidden=4 mel_pool=1 mel_max_frames=100 context=0 audio_functionals=1");
    char msg[1200];
    long grew;
    load_in_child(bad, msg, sizeof msg, &grew);
    if (!strstr(msg, "big-gru.safetensors: its configuration describes a gru model of at least"))
        fail_msg("unexpected: %s", msg);
    if (grew > 64 * 1024) fail_msg("loading the refused checkpoint grew memory by %ld KB", grew);
    /* The same for a CNN whose frames would be 1024 pixels wide. */
    set_meta(good, bad, "model", "cnn");
    const char *cnn = in_root("big-cnn.safetensors");
    set_meta(bad, cnn, "config",
             "task=0 func_dim=20 n_mels=8 frame_size=1024 frame_channels=4 frames_used=2 rnn_hidden=4 "
             "mel_hidden=4 mel_pool=1 mel_max_frames=100 context=0 audio_functionals=1");
    load_in_child(cnn, msg, sizeof msg, &grew);
    if (!strstr(msg, "describes a cnn model of at least")) fail_msg("unexpected: %s", msg);
    if (grew > 64 * 1024) fail_msg("loading the refused checkpoint grew memory by %ld KB", grew);
}

static void a_checkpoint_without_configuration_says_so(void **state)
{
    (void)state;
    MeldModelConfig c = small_config();
    const char *good = in_root("gru.safetensors"), *bad = in_root("noconfig.safetensors");
    save_checkpoint(good, "gru", &c);
    set_meta(good, bad, "config", NULL);
    LoadedModel lm;
    assert_int_equal(checkpoint_load_model(bad, &lm), MELD_ERR);
    expect_error("noconfig.safetensors: metadata 'config' missing");
    set_meta(good, bad, "model", "transformer");
    assert_int_equal(checkpoint_load_model(bad, &lm), MELD_ERR);
    expect_error("unknown model 'transformer'");
    /* A configuration that disagrees with the tensors: the shape check. */
    set_meta(good, bad, "config",
             "task=0 func_dim=21 n_mels=8 frame_size=16 frame_channels=3 frames_used=2 rnn_hidden=4 "
             "mel_hidden=4 mel_pool=1 mel_max_frames=100 context=0 audio_functionals=1");
    assert_int_equal(checkpoint_load_model(bad, &lm), MELD_ERR);
    expect_error("has shape [12, 20], expected [12, 21]");
    /* Training state: counts no run reaches. */
    set_meta(good, bad, "best_epoch", "7");
    assert_int_equal(checkpoint_load_model(bad, &lm), MELD_ERR);
    expect_error("training state out of range (epoch 0, step 0, best epoch 7");
    set_meta(good, bad, "best_score", "nan");
    assert_int_equal(checkpoint_load_model(bad, &lm), MELD_ERR);
    expect_error("best score nan");
    assert_int_equal(checkpoint_load_model(good, &lm), MELD_OK);
    loaded_model_free(&lm);
}

/* ---- model against cache ------------------------------------------------ */

/* A cache of 3 utterances with these sizes (features all 0.5). */
static void write_cache(const char *path, int func_dim, int n_mels, int frame_size)
{
    enum { N = 3, K = 2, T = 5 };
    static float mel[T * 64], fn[4096];
    static uint8_t frames[K * 64 * 64 * 3];
    for (size_t i = 0; i < sizeof mel / sizeof mel[0]; i++) mel[i] = 0.5f;
    for (size_t i = 0; i < sizeof fn / sizeof fn[0]; i++) fn[i] = 0.5f;
    CacheItem items[N];
    for (int i = 0; i < N; i++)
        items[i] = (CacheItem){.dialogue_id = 0, .utterance_id = i, .emotion = i, .sentiment = i % 3,
                               .n_mel_frames = T, .mel = mel, .functional = fn, .frames = frames};
    CacheConfig cfg = {.n_mels = n_mels, .functional_dim = func_dim, .n_frames = K, .frame_size = frame_size,
                       .frame_channels = 3};
    snprintf(cfg.config, sizeof cfg.config, "test cache %d %d %d", func_dim, n_mels, frame_size);
    CacheSource rows[N];
    for (int i = 0; i < N; i++) rows[i] = (CacheSource){.dialogue_id = 0, .utterance_id = i, .clip_name = "", .reason = ""};
    CacheProvenance src = {.rows = rows, .n_rows = N};
    if (cache_write(path, &cfg, &src, items, N)) fail_msg("%s", meld_error());
}

/* Evaluates a fresh model of kind/c on a cache of the given sizes. */
static int evaluate_on(const char *kind, const MeldModelConfig *c, int func_dim, int n_mels, int frame_size)
{
    const char *path = in_root("sizes.meldcache");
    write_cache(path, func_dim, n_mels, frame_size);
    SplitData s;
    assert_int_equal(split_data_open(&s, path, 0, NULL), MELD_OK);
    MeldModel *m = make_model(kind, c);
    Normaliser n;
    unit_normaliser(&n, c);
    EvalResult r;
    int rc = evaluate_split(m, &s, &n, 2, &r, NULL, NULL, NULL, NULL);
    normaliser_free(&n);
    meld_model_free(m);
    split_data_close(&s);
    return rc;
}

static void a_model_and_a_cache_of_other_sizes_are_refused(void **state)
{
    (void)state;
    MeldModelConfig c = small_config();
    /* Matching sizes evaluate. */
    assert_int_equal(evaluate_on("gru", &c, 20, 8, 16), MELD_OK);
    assert_int_equal(evaluate_on("melstm", &c, 20, 8, 16), MELD_OK);
    assert_int_equal(evaluate_on("cnn", &c, 20, 8, 16), MELD_OK);
    /* The model reads more than each row holds. */
    assert_int_equal(evaluate_on("gru", &c, 12, 8, 16), MELD_ERR);
    expect_error("the model reads 20 functionals per utterance, its normaliser 20, but the feature cache holds 12");
    assert_int_equal(evaluate_on("melstm", &c, 20, 4, 16), MELD_ERR);
    expect_error("the model reads 8 log-Mel bands, its normaliser 8, but the feature cache holds 4");
    assert_int_equal(evaluate_on("cnn", &c, 20, 8, 32), MELD_ERR);
    expect_error("the model reads 16x16x3 face frames but the feature cache holds 32x32x3");
    /* Fewer: no over-read, but rows misread all the same. */
    assert_int_equal(evaluate_on("gru", &c, 40, 8, 16), MELD_ERR);
    expect_error("but the feature cache holds 40");
}

/* ---- numbers that are not numbers --------------------------------------- */

static void nan_weights_are_refused_at_load(void **state)
{
    (void)state;
    MeldModelConfig c = small_config();
    const char *good = in_root("gru-ok.safetensors"), *bad = in_root("gru-nan.safetensors");
    save_checkpoint(good, "gru", &c);
    SafeTensors st;
    assert_int_equal(st_load(&st, good), MELD_OK);
    for (int i = 0; i < st.n_tensors; i++)
        if (!strcmp(st.tensors[i].name, "emotion_head.bias")) st.tensors[i].data[2] = NAN;
    assert_int_equal(st_save(&st, bad), MELD_OK);
    LoadedModel lm;
    assert_int_equal(checkpoint_load_model(bad, &lm), MELD_ERR);
    expect_error("gru-nan.safetensors: tensor 'emotion_head.bias' holds NaN at index 2");
    for (int i = 0; i < st.n_tensors; i++)
        if (!strcmp(st.tensors[i].name, "emotion_head.bias")) st.tensors[i].data[2] = 0;
        else if (!strcmp(st.tensors[i].name, "norm.func_std")) st.tensors[i].data[0] = 0;
    assert_int_equal(st_save(&st, bad), MELD_OK);
    assert_int_equal(checkpoint_load_model(bad, &lm), MELD_ERR);
    expect_error("normaliser standard deviation 0 is not positive");
    st_free(&st);
}

/* Finite weights so large that the logits overflow: softmax gives NaN. */
static void outputs_that_are_not_numbers_stop_evaluation(void **state)
{
    (void)state;
    MeldModelConfig c = small_config();
    const char *path = in_root("nan.meldcache");
    write_cache(path, 20, 8, 16);
    SplitData s;
    assert_int_equal(split_data_open(&s, path, 0, NULL), MELD_OK);
    MeldModel *m = make_model("gru", &c);
    Tensor *params[MELD_MODEL_MAX_PARAMS];
    int np = meld_model_params(m, params);
    for (int i = 0; i < np; i++)
        if (strstr(params[i]->name, "emotion_head"))
            for (size_t k = 0; k < params[i]->size; k++) params[i]->data[k] = 3e38f;
    Normaliser n;
    unit_normaliser(&n, &c);
    EvalResult r;
    float probs[3 * 7], probs_s[3 * 3];
    assert_int_equal(evaluate_split(m, &s, &n, 2, &r, NULL, NULL, probs, probs_s), MELD_ERR);
    expect_error("the model's output for dialogue 0 utterance 0 is not a number");
    normaliser_free(&n);
    meld_model_free(m);
    split_data_close(&s);
}

/* ---- feature configuration ---------------------------------------------- */

static void crafted_feature_configurations_are_refused(void **state)
{
    (void)state;
    PrepareOptions po = prepare_default_options();
    assert_int_equal(corpus_features_from_config("n_mels=40 frames=4 size=64 face=none", &po), MELD_OK);
    assert_int_equal(corpus_features_from_config("n_mels=40 frames=0 size=64 face=none", &po), MELD_ERR);
    expect_error("feature configuration: frames=0 is outside 1..64");
    assert_int_equal(corpus_features_from_config("n_mels=40 frames=4 size=7 face=none", &po), MELD_ERR);
    expect_error("size=7 is not a multiple of 16 in 16..1024");
    assert_int_equal(corpus_features_from_config("n_mels=100000 frames=4 size=64 face=none", &po), MELD_ERR);
    expect_error("n_mels=100000 is outside 1..256");
    assert_int_equal(corpus_features_from_config("n_mels=-3 frames=4 size=64", &po), MELD_ERR);
    expect_error("is not understood");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_configuration_larger_than_the_file_allocates_nothing_big),
        cmocka_unit_test(a_checkpoint_without_configuration_says_so),
        cmocka_unit_test(a_model_and_a_cache_of_other_sizes_are_refused),
        cmocka_unit_test(nan_weights_are_refused_at_load),
        cmocka_unit_test(outputs_that_are_not_numbers_stop_evaluation),
        cmocka_unit_test(crafted_feature_configurations_are_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
