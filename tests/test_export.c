/* meld export, both directions, from committed fixtures (no torch, no Node;
 * the encoders themselves: test_export_onnx.c):
 *
 *   - per model kind, tests/fixtures/export/KIND.safetensors: weights
 *     trained in PyTorch with the model.py meld exported, saved by its
 *     save_safetensors (make_export_fixtures.py). meld reads them, and its
 *     probabilities on KIND.inputs.safetensors (two dialogues of 3 and 5
 *     clips, one padded batch) must equal within 1e-5 those PyTorch gave
 *     (the round trip), those of the module `meld export` writes for the
 *     file (PyTorch export) and those ONNX Runtime gave for the .onnx it
 *     writes. The exported files must hash (FNV-1a 64) as the ones those
 *     numbers came from, so a change to an exporter cannot pass unseen:
 *     re-run the script (it re-checks everything with torch and ONNX
 *     Runtime) and commit the new fixtures;
 *   - weights-only files: no optimiser or training state, same model;
 *   - the command line: meld export's errors, predict --save-inputs /
 *     --inputs round trip on a generated clip, bad inputs files.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "audio/wav.h"
#include "pipeline/data/dataset.h"
#include "pipeline/export/model_io.h"
#include "pipeline/export/onnx_export.h"
#include "pipeline/export/torch_export.h"
#include "pipeline/train/checkpoint_io.h"
#include "pipeline/train/train.h"
#include "tensor/error.h"
#include "tensor/safetensors.h"

#define FIX "tests/fixtures/export/"
#define TOLERANCE 1e-5

static char tmp[64];
static const char *meld;     /* MELD_BIN, for the command-line tests */
static char out[65536];      /* a command's output */

static int setup(void **state)
{
    (void)state;
    strcpy(tmp, "/tmp/meld-export-XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    return system(cmd);
}

static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size >= 0);
    rewind(f);
    uint8_t *data = malloc((size_t)size + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *n = (size_t)size;
    return data;
}

/* ---- every model kind, both directions ----------------------------------- */

/* Max |a - b| over n values, a float32 and b from the expectations file. */
static double max_diff(const float *a, const SafeTensors *st, const char *name, int rows, int cols)
{
    const StTensor *t = st_find(st, name);
    assert_non_null(t);
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[0], rows);
    assert_int_equal(t->shape[1], cols);
    double worst = 0;
    for (size_t i = 0; i < t->numel; i++) worst = fmax(worst, fabs((double)a[i] - t->data[i]));
    return worst;
}

/* The files' bytes as the fixtures record them. Only on x86-64, where they
 * were made: the exporter names and orders nodes and initialisers in the
 * order its calls run, and some of those calls are arguments of one call,
 * whose order C leaves to the compiler (GCC for aarch64 evaluates them the
 * other way round). The graph is the same; the probabilities above are
 * checked on every architecture. */
static void expect_hash(const SafeTensors *expected, const char *key, const uint8_t *bytes, size_t n, const char *kind)
{
#if !defined(__x86_64__)
    (void)expected, (void)key, (void)bytes, (void)n, (void)kind;
    return;
#endif
    char hex[32];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)fnv1a64(bytes, n));
    const char *want = st_get_meta(expected, key);
    assert_non_null(want);
    if (strcmp(hex, want))
        fail_msg("%s: %s is %s, the fixtures were made from %s: the exporter changed; re-run "
                 "tests/fixtures/export/make_export_fixtures.py (it checks the new files with torch and onnxruntime)",
                 kind, key, hex, want);
}

static void check_kind(const char *kind)
{
    char path[256];
    LoadedModel lm;
    snprintf(path, sizeof path, FIX "%s.safetensors", kind);
    if (checkpoint_load_model(path, &lm)) fail_msg("%s", meld_error());

    /* meld's probabilities on the inputs, the meld predict --inputs path. */
    ModelInputItems in;
    snprintf(path, sizeof path, FIX "%s.inputs.safetensors", kind);
    if (model_inputs_load(path, lm.model, &in)) fail_msg("%s", meld_error());
    float *pe = malloc(sizeof(float) * (size_t)in.n * N_EMOTIONS), *ps = malloc(sizeof(float) * (size_t)in.n * N_SENTIMENTS);
    assert_true(pe && ps);
    if (model_io_predict(lm.model, &lm.norm, &in.cfg, in.items, in.n, pe, ps, NULL)) fail_msg("%s", meld_error());

    SafeTensors expected;
    snprintf(path, sizeof path, FIX "%s.expected.safetensors", kind);
    assert_int_equal(st_load(&expected, path), MELD_OK);
    static const char *const sources[] = {"torch_trained", "torch_export", "onnxruntime"};
    char line[256];
    int len = snprintf(line, sizeof line, "  %-15s %d utterances, max |meld - x|:", kind, in.n);
    for (int k = 0; k < 3; k++) {
        char e[64], s[64];
        snprintf(e, sizeof e, "%s_emotion", sources[k]);
        snprintf(s, sizeof s, "%s_sentiment", sources[k]);
        double d = fmax(max_diff(pe, &expected, e, in.n, N_EMOTIONS), max_diff(ps, &expected, s, in.n, N_SENTIMENTS));
        len += snprintf(line + len, sizeof line - (size_t)len, " %s %.1e", sources[k], d);
        if (d > TOLERANCE) fail_msg("%s: meld differs from %s by %g (> %g)", kind, sources[k], d, TOLERANCE);
    }
    print_message("%s\n", line);

    /* What meld export writes for this file is what those numbers came from. */
    uint8_t *bytes;
    size_t n;
    assert_int_equal(onnx_export_encode(lm.model, &lm.norm, lm.cache_config, &bytes, &n), MELD_OK);
    expect_hash(&expected, "model_onnx_fnv1a64", bytes, n, kind);
    free(bytes);
    char *text;
    assert_int_equal(torch_export_source(lm.model, lm.cache_hash, lm.cache_config, &text, &n), MELD_OK);
    expect_hash(&expected, "model_py_fnv1a64", (const uint8_t *)text, n, kind);
    free(text);
    snprintf(path, sizeof path, "%s/%s.safetensors", tmp, kind);
    assert_int_equal(checkpoint_save_weights(path, lm.model, &lm.norm, lm.cache_hash, lm.cache_config, NULL, NULL), MELD_OK);
    bytes = read_file(path, &n);
    expect_hash(&expected, "model_safetensors_fnv1a64", bytes, n, kind);
    free(bytes);

    st_free(&expected);
    free(pe), free(ps);
    model_input_items_free(&in);
    loaded_model_free(&lm);
}

static const char *const KINDS[] = {"gru", "lstm", "melstm", "cnn", "fusion", "fusion-context", "fusion-mel"};
enum { N_KINDS = sizeof KINDS / sizeof KINDS[0] };

/* Every kind's ONNX export through the onnx package's checker (full shape
 * inference) and re-serialisation, when Debian's python3-onnx is there. */
static void onnx_checker_accepts_every_kind(void **state)
{
    (void)state;
    if (access("/usr/bin/python3", X_OK) != 0) {
        print_message("  /usr/bin/python3 not found: skipping\n");
        skip();
    }
    char cmd[4096] = "/usr/bin/python3 tests/onnx/check_onnx.py";
    for (int k = 0; k < N_KINDS; k++) {
        char path[256];
        LoadedModel lm;
        snprintf(path, sizeof path, FIX "%s.safetensors", KINDS[k]);
        assert_int_equal(checkpoint_load_model(path, &lm), MELD_OK);
        snprintf(path, sizeof path, "%s/%s.onnx", tmp, KINDS[k]);
        assert_int_equal(onnx_export_save(lm.model, &lm.norm, lm.cache_config, path), MELD_OK);
        loaded_model_free(&lm);
        snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), " %s", path);
    }
    strcat(cmd, " 2>&1");
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
        print_message("  %s: skipping\n", strtok(out, "\n"));
        skip();
    }
    if (st != 0) fail_msg("the onnx checker failed:\n%s", out);
}

static void kind_gru(void **state) { (void)state; check_kind("gru"); }
static void kind_lstm(void **state) { (void)state; check_kind("lstm"); }
static void kind_melstm(void **state) { (void)state; check_kind("melstm"); }
static void kind_cnn(void **state) { (void)state; check_kind("cnn"); }
static void kind_fusion(void **state) { (void)state; check_kind("fusion"); }
static void kind_fusion_context(void **state) { (void)state; check_kind("fusion-context"); }
static void kind_fusion_mel(void **state) { (void)state; check_kind("fusion-mel"); }

/* ---- weights-only files --------------------------------------------------- */

static void weights_only_file(void **state)
{
    (void)state;
    MeldModelConfig cfg = {.func_dim = 6, .n_mels = 4, .frame_size = 16, .frame_channels = 3, .frames_used = 1,
                           .rnn_hidden = 3, .mel_hidden = 2, .mel_pool = 2, .mel_max_frames = 10};
    Rng rng;
    rng_seed(&rng, 3, 1);
    MeldModel *m = meld_model_create("lstm", &cfg, &rng);
    assert_non_null(m);
    float fm[6] = {1, 2, 3, 4, 5, 6}, fs[6] = {1, 1, 2, 2, 3, 3}, mm[4] = {0}, ms[4] = {1, 1, 1, 1};
    Normaliser norm = {.func_dim = 6, .n_mels = 4, .func_mean = fm, .func_std = fs, .mel_mean = mm, .mel_std = ms};
    Tensor *list[MELD_MODEL_MAX_PARAMS];
    ParamRef refs[MELD_MODEL_MAX_PARAMS];
    int n = meld_model_params(m, list);
    for (int i = 0; i < n; i++) refs[i] = (ParamRef){list[i]->name, list[i]->data, list[i]->grad, list[i]->size};
    OptimHparams hp;
    assert_int_equal(optim_defaults("adam", &hp), MELD_OK);
    Optimizer *opt = optim_create("adam", &hp, refs, n);
    assert_non_null(opt);
    TrainState ts = {.epoch = 4, .step = 40, .best_score = 0.5, .best_epoch = 3, .cache_hash = 0x1234};
    snprintf(ts.cache_config, sizeof ts.cache_config, "test features");
    char full[128], weights[128];
    snprintf(full, sizeof full, "%s/full.safetensors", tmp);
    snprintf(weights, sizeof weights, "%s/weights.safetensors", tmp);
    assert_int_equal(checkpoint_save(full, m, &norm, opt, NULL, &ts, NULL), MELD_OK);

    /* Exported from the training checkpoint: no optim.*, no training state. */
    LoadedModel a, b;
    assert_int_equal(checkpoint_load_model(full, &a), MELD_OK);
    assert_int_equal(a.epoch, 4);
    assert_int_equal(checkpoint_save_weights(weights, a.model, &a.norm, a.cache_hash, a.cache_config, NULL, NULL), MELD_OK);
    SafeTensors st;
    assert_int_equal(st_load(&st, weights), MELD_OK);
    int n_buffers = meld_model_buffers(m, list);
    assert_int_equal(st.n_tensors, n + n_buffers + 4);
    for (int i = 0; i < st.n_tensors; i++) assert_true(strncmp(st.tensors[i].name, "optim.", 6));
    assert_null(st_get_meta(&st, "epoch"));
    assert_null(st_get_meta(&st, "rng_train"));
    assert_null(st_get_meta(&st, "optim.kind"));
    assert_string_equal(st_get_meta(&st, "cache_hash"), "0000000000001234");
    TrainState back;
    assert_int_equal(checkpoint_read_state(&st, &back), MELD_ERR);   /* not resumable */
    assert_non_null(strstr(meld_error(), "epoch"));
    st_free(&st);

    /* ... and read back as the same model. */
    assert_int_equal(checkpoint_load_model(weights, &b), MELD_OK);
    assert_int_equal(b.epoch, 0);
    assert_true(b.cache_hash == 0x1234);
    assert_string_equal(b.cache_config, "test features");
    Tensor *la[MELD_MODEL_MAX_PARAMS], *lb[MELD_MODEL_MAX_PARAMS];
    int na = meld_model_params(a.model, la), nb = meld_model_params(b.model, lb);
    assert_int_equal(na, nb);
    for (int i = 0; i < na; i++) assert_memory_equal(la[i]->data, lb[i]->data, sizeof(float) * la[i]->size);
    assert_memory_equal(a.norm.func_std, b.norm.func_std, sizeof fs);
    loaded_model_free(&a);
    loaded_model_free(&b);
    optim_free(opt);
    meld_model_free(m);
}

/* ---- the command line ----------------------------------------------------- */


/* Runs `meld ARGS` in tmp, output (stdout and stderr) in out; exit status. */
static int run(const char *fmt, ...)
{
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd %s && %s %s 2>&1", tmp, meld, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define NEED_MELD()                                                            \
    do {                                                                       \
        if (!(meld = getenv("MELD_BIN"))) {                                    \
            print_message("  MELD_BIN not set: skipping (run through make test)\n"); \
            skip();                                                            \
        }                                                                      \
    } while (0)

static void expect_output(const char *what)
{
    if (!strstr(out, what)) fail_msg("expected '%s' in:\n%s", what, out);
}

static void export_command_errors(void **state)
{
    (void)state;
    NEED_MELD();
    char cwd[1024], fixture[1200];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(fixture, sizeof fixture, "%s/" FIX "melstm.safetensors", cwd);
    assert_int_equal(run("export --model-file %s --out x.onnx", fixture), 2);
    expect_output("needs a checkpoint (CKPT or --model-file), --format and --out");
    assert_int_equal(run("export --model-file %s --format keras --out x", fixture), 2);
    expect_output("unknown --format 'keras' (torch or onnx)");
    assert_int_equal(run("export --model-file missing.safetensors --format onnx --out x.onnx"), 1);
    expect_output("missing.safetensors");
    assert_int_equal(run("export --model-file %s --format onnx --out m.onnx", fixture), 0);
    expect_output("wrote m.onnx");
    assert_int_equal(run("export --model-file %s --format onnx --out m.onnx", fixture), 1);
    expect_output("m.onnx exists (use --force to replace it)");
    assert_int_equal(run("export --model-file %s --format onnx --out m.onnx --force", fixture), 0);
    assert_int_equal(run("export --model-file %s --format torch --out torch", fixture), 0);
    expect_output("torch/model.py and torch/model.safetensors");
    assert_int_equal(run("export --model-file %s --format torch --out torch", fixture), 1);
    expect_output("exists (use --force to replace it)");
    /* The exported weights predict as the original does. */
    assert_int_equal(run("predict --model-file torch/model.safetensors --json --full-precision --inputs %s/" FIX
                         "melstm.inputs.safetensors", cwd), 0);
    static char first[sizeof out];
    memcpy(first, out, sizeof out);
    assert_int_equal(run("predict --model-file %s --json --full-precision --inputs %s/" FIX "melstm.inputs.safetensors",
                         fixture, cwd), 0);
    assert_string_equal(first, out);
}

/* A one-second clip: a WAV and a folder of two 24x24 PPM frames. */
static void write_clip(const char *stem)
{
    char path[256];
    float samples[16000];
    for (int i = 0; i < 16000; i++) samples[i] = 0.3f * sinf(0.05f * (float)i * (1.0f + (float)i / 16000.0f));
    snprintf(path, sizeof path, "%s/%s.wav", tmp, stem);
    assert_int_equal(wav_write_pcm16(path, samples, 16000, 16000), MELD_OK);
    snprintf(path, sizeof path, "%s/%s", tmp, stem);
    assert_int_equal(mkdir(path, 0777), 0);
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s/frame%d.ppm", tmp, stem, k);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fprintf(f, "P6\n24 24\n255\n");
        for (int p = 0; p < 24 * 24 * 3; p++) fputc((p * 7 + k * 50) % 256, f);
        fclose(f);
    }
}

/* Each output line from its "emotion" key on: the line without its label. */
static void without_labels(const char *text, char *dst, size_t cap)
{
    size_t n = 0;
    for (const char *line = text; (line = strstr(line, "\"emotion\"")) && n < cap; line++) {
        const char *end = strchr(line, '\n');
        n += (size_t)snprintf(dst + n, cap - n, "%.*s\n", end ? (int)(end - line) : (int)strlen(line), line);
    }
}

/* predict --save-inputs writes what predict --inputs reads back: the same
 * probabilities, bit for bit, for two clips. */
static void predict_inputs_round_trip(void **state)
{
    (void)state;
    NEED_MELD();
    char cwd[1024], direct[8192], again[8192];
    assert_non_null(getcwd(cwd, sizeof cwd));
    write_clip("clip");
    assert_int_equal(run("predict --model-file %s/" FIX "fusion-mel.safetensors --json --full-precision --save-inputs "
                         "in.safetensors clip.wav clip", cwd), 0);
    without_labels(out, direct, sizeof direct);
    assert_int_equal(run("predict --model-file %s/" FIX "fusion-mel.safetensors --json --full-precision --inputs "
                         "in.safetensors", cwd), 0);
    expect_output("in.safetensors[1]");
    without_labels(out, again, sizeof again);
    assert_non_null(strchr(direct, '\n'));
    assert_string_equal(direct, again);
}

static void predict_rejects_bad_inputs(void **state)
{
    (void)state;
    NEED_MELD();
    char cwd[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    /* gru's inputs (functionals) for the cnn (face frames). */
    assert_int_equal(run("predict --model-file %s/" FIX "cnn.safetensors --inputs %s/" FIX "gru.inputs.safetensors",
                         cwd, cwd), 1);
    expect_output("no input 'face_frames'");
    /* A model file as inputs, and inputs with clips. */
    assert_int_equal(run("predict --model-file %s/" FIX "cnn.safetensors --inputs %s/" FIX "cnn.safetensors", cwd, cwd), 1);
    expect_output("not a meld-c inputs file");
    assert_int_equal(run("predict --model-file %s/" FIX "cnn.safetensors --inputs x.safetensors clip.wav", cwd), 2);

    /* A dialogue longer than the grid, lengths that are not integers. */
    SafeTensors st;
    st_init(&st);
    float func[2 * 3 * 1771] = {0}, lengths[2] = {3, 4};
    assert_int_equal(st_set_meta(&st, "format", "meld-c model inputs 1"), MELD_OK);
    assert_int_equal(st_add(&st, "functionals", 3, (int64_t[]){2, 3, 1771}, func), MELD_OK);
    assert_int_equal(st_add(&st, "dialogue_lengths", 1, (int64_t[]){2}, lengths), MELD_OK);
    char path[128];
    snprintf(path, sizeof path, "%s/bad.safetensors", tmp);
    assert_int_equal(st_save(&st, path), MELD_OK);
    assert_int_equal(run("predict --model-file %s/" FIX "gru.safetensors --inputs bad.safetensors", cwd), 1);
    expect_output("input 'dialogue_lengths' holds 4 at position 1, expected an integer in [1, 3]");
    st_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kind_gru),
        cmocka_unit_test(kind_lstm),
        cmocka_unit_test(kind_melstm),
        cmocka_unit_test(kind_cnn),
        cmocka_unit_test(kind_fusion),
        cmocka_unit_test(kind_fusion_context),
        cmocka_unit_test(kind_fusion_mel),
        cmocka_unit_test(onnx_checker_accepts_every_kind),
        cmocka_unit_test(weights_only_file),
        cmocka_unit_test(export_command_errors),
        cmocka_unit_test(predict_inputs_round_trip),
        cmocka_unit_test(predict_rejects_bad_inputs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
