/* safetensors: round trip, interop with an independent writer (the Python
 * fixtures), atomic writes under a failing and a crashing writer, a corpus
 * of corrupt files each with its own clear message, and mutation fuzzing
 * (meant to run under ASan/UBSan: any over-read or leak fails it). */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tensor/error.h"
#include "tensor/rng.h"
#include "tensor/safetensors.h"

/* ---- helpers ---- */

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/meld-st-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    DIR *d = opendir(tmpdir);
    if (!d) return -1;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
        remove(path);
    }
    closedir(d);
    return rmdir(tmpdir);
}

static const char *tmp_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%.400s", tmpdir, name);
    return path;
}

static void write_bytes(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* The whole file, malloc'd. */
static uint8_t *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)size + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *n = (size_t)size;
    return b;
}

/* Files in tmpdir whose name contains ".tmp." (atomic writer leftovers). */
static int count_temp_files(void)
{
    DIR *d = opendir(tmpdir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

static void remove_temp_files(void)
{
    DIR *d = opendir(tmpdir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp.")) remove(tmp_path(e->d_name));
    closedir(d);
}

static int same_bits(const float *a, const float *b, size_t n) { return n == 0 || memcmp(a, b, n * 4) == 0; }

/* A small checkpoint-like set: a scalar, an empty tensor, special values,
 * names that need JSON escaping and non-ASCII text. */
static void build_sample(SafeTensors *st, float *big, size_t big_n)
{
    static const float special[6] = {0.0f, -0.0f, 1e-40f /* subnormal */, 3.4e38f, -1.5f, 0.1f};
    float scalar = 42.5f;
    float odd[3] = {INFINITY, -INFINITY, NAN};
    st_init(st);
    assert_int_equal(st_add(st, "lstm.weight_ih_l0_reverse", 2, (int64_t[]){2, 3}, special), MELD_OK);
    assert_int_equal(st_add(st, "step", 0, NULL, &scalar), MELD_OK);
    assert_int_equal(st_add(st, "empty", 2, (int64_t[]){0, 5}, NULL), MELD_OK);
    assert_int_equal(st_add(st, "odd \"name\" \\ \xc3\xa9\xe5\x90\x8d", 1, (int64_t[]){3}, odd), MELD_OK);
    if (big) assert_int_equal(st_add_view(st, "big", 1, (int64_t[]){(int64_t)big_n}, big), MELD_OK);
    assert_int_equal(st_set_meta(st, "model", "fusion"), MELD_OK);
    assert_int_equal(st_set_meta(st, "labels", "neutral,joy,\"x\"\n\ttab"), MELD_OK);
    assert_int_equal(st_set_meta(st, "model", "text_cnn"), MELD_OK); /* replaces */
}

static void assert_same_sets(const SafeTensors *a, const SafeTensors *b)
{
    assert_int_equal(a->n_tensors, b->n_tensors);
    for (int i = 0; i < a->n_tensors; i++) {
        const StTensor *x = &a->tensors[i], *y = st_find(b, x->name);
        assert_non_null(y);
        assert_int_equal(x->ndim, y->ndim);
        for (int d = 0; d < x->ndim; d++) assert_int_equal(x->shape[d], y->shape[d]);
        assert_int_equal(x->numel, y->numel);
        assert_true(same_bits(x->data, y->data, x->numel));
    }
    assert_int_equal(a->n_meta, b->n_meta);
    for (int i = 0; i < a->n_meta; i++) {
        const char *v = st_get_meta(b, a->meta[i].key);
        assert_non_null(v);
        assert_string_equal(v, a->meta[i].value);
    }
}

/* ---- round trip and interop ---- */

static void round_trip_is_bit_exact(void **state)
{
    (void)state;
    SafeTensors st, back;
    float big[1000];
    for (int i = 0; i < 1000; i++) big[i] = (float)i * 0.37f - 100.0f;
    build_sample(&st, big, 1000);
    const char *path = tmp_path("round.safetensors");
    assert_int_equal(st_save(&st, path), MELD_OK);
    assert_int_equal(st_load(&back, path), MELD_OK);
    assert_same_sets(&st, &back);
    assert_string_equal(st_get_meta(&back, "model"), "text_cnn");
    assert_string_equal(back.source, path);
    const StTensor *scalar = st_find(&back, "step");
    assert_int_equal(scalar->ndim, 0);
    assert_int_equal(scalar->numel, 1);

    /* The file is what st_serialize encodes, its data section starts at a
     * multiple of 8, and parsing from memory gives the same tensors. */
    size_t n_file, n_mem;
    uint8_t *file = read_bytes(path, &n_file), *mem;
    assert_int_equal(st_serialize(&st, &mem, &n_mem), MELD_OK);
    assert_int_equal(n_file, n_mem);
    assert_memory_equal(file, mem, n_file);
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; i--) header_len = header_len << 8 | file[i];
    assert_int_equal((8 + header_len) % 8, 0);
    SafeTensors parsed;
    assert_int_equal(st_parse(&parsed, mem, n_mem, "memory"), MELD_OK);
    assert_same_sets(&st, &parsed);
    st_free(&parsed);
    free(file);
    free(mem);
    st_free(&back);
    st_free(&st);
}

/* The fixtures were written by a separate Python writer (sorted names,
 * Python's own JSON): our reader must take them as they are. */
static void reads_files_from_the_python_writer(void **state)
{
    (void)state;
    SafeTensors st;
    if (st_load(&st, "tests/fixtures/optim/clip.safetensors") != MELD_OK) fail_msg("%s", meld_error());
    const StTensor *g1 = st_find(&st, "clip.g1"), *norm = st_find(&st, "clip.case0.norm");
    assert_non_null(g1);
    assert_non_null(norm);
    assert_int_equal(g1->ndim, 2);
    assert_int_equal(g1->shape[0], 3);
    assert_int_equal(g1->shape[1], 2);
    assert_int_equal(norm->ndim, 0);
    assert_true(norm->data[0] > 0);
    assert_string_equal(st_get_meta(&st, "clip.case0.max_norm"), "1.0");
    st_free(&st);
}

static void read_into_checks_the_shape(void **state)
{
    (void)state;
    SafeTensors st;
    float w[6] = {1, 2, 3, 4, 5, 6}, out[6] = {0};
    st_init(&st);
    snprintf(st.source, sizeof st.source, "model.safetensors");
    assert_int_equal(st_add_view(&st, "fc.weight", 2, (int64_t[]){2, 3}, w), MELD_OK);
    assert_int_equal(st_read_into(&st, "fc.weight", 2, (int64_t[]){2, 3}, out), MELD_OK);
    assert_memory_equal(out, w, sizeof w);
    assert_int_equal(st_read_into(&st, "fc.weight", 2, (int64_t[]){3, 2}, out), MELD_ERR);
    assert_string_equal(meld_error(), "model.safetensors: tensor 'fc.weight' has shape [2, 3], expected [3, 2]");
    assert_int_equal(st_read_into(&st, "fc.bias", 1, (int64_t[]){3}, out), MELD_ERR);
    assert_string_equal(meld_error(), "model.safetensors: no tensor 'fc.bias'");
    st_free(&st); /* must not free the borrowed w */
}

static void add_rejects_bad_entries(void **state)
{
    (void)state;
    SafeTensors st;
    float x[2] = {1, 2};
    st_init(&st);
    assert_int_equal(st_add(&st, "a", 1, (int64_t[]){2}, x), MELD_OK);
    assert_int_equal(st_add(&st, "a", 1, (int64_t[]){2}, x), MELD_ERR);
    assert_non_null(strstr(meld_error(), "added twice"));
    assert_int_equal(st_add(&st, "", 1, (int64_t[]){2}, x), MELD_ERR);
    assert_int_equal(st_add(&st, "__metadata__", 1, (int64_t[]){2}, x), MELD_ERR);
    assert_int_equal(st_add(&st, "bad\xff", 1, (int64_t[]){2}, x), MELD_ERR);
    assert_non_null(strstr(meld_error(), "UTF-8"));
    assert_int_equal(st_add(&st, "neg", 1, (int64_t[]){-2}, x), MELD_ERR);
    assert_int_equal(st_add(&st, "rank9", 9, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1}, x), MELD_ERR);
    assert_int_equal(st_add(&st, "huge", 2, (int64_t[]){INT64_MAX, 4}, x), MELD_ERR);
    assert_int_equal(st_add(&st, "nodata", 1, (int64_t[]){2}, NULL), MELD_ERR);
    assert_int_equal(st_set_meta(&st, "k", "\xc3"), MELD_ERR);
    assert_int_equal(st.n_tensors, 1);
    st_free(&st);
}

/* ---- atomic writes ---- */

static void save_sample(const char *path)
{
    SafeTensors st;
    build_sample(&st, NULL, 0);
    assert_int_equal(st_save(&st, path), MELD_OK);
    st_free(&st);
}

/* A save of ~400 KB under a 4 KB file-size limit: the write fails with
 * EFBIG. The error names the file, the old file is byte for byte intact
 * and the temporary file is gone. */
static void failed_write_keeps_the_old_file(void **state)
{
    (void)state;
    const char *path = tmp_path("ckpt.safetensors");
    save_sample(path);
    size_t n_before, n_after;
    uint8_t *before = read_bytes(path, &n_before);

    enum { N = 100000 };
    float *big = calloc(N, sizeof(float));
    assert_non_null(big);
    SafeTensors st;
    build_sample(&st, big, N);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 4096;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN); /* EFBIG instead of the signal */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = st_save(&st, path);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, old_handler);
    assert_int_equal(rc, MELD_ERR);
    assert_non_null(strstr(meld_error(), path));
    assert_non_null(strstr(meld_error(), "write failed"));

    uint8_t *after = read_bytes(path, &n_after);
    assert_int_equal(n_before, n_after);
    assert_memory_equal(before, after, n_before);
    assert_int_equal(count_temp_files(), 0);
    SafeTensors back;
    assert_int_equal(st_load(&back, path), MELD_OK);
    st_free(&back);
    st_free(&st);
    free(big);
    free(before);
    free(after);
}

/* A writer killed mid-write (SIGXFSZ, as a crash would): the checkpoint
 * path still holds the complete old file; only a stray temp file remains. */
static void crash_mid_write_keeps_the_old_file(void **state)
{
    (void)state;
    const char *path = tmp_path("crash.safetensors");
    save_sample(path);
    size_t n_before, n_after;
    uint8_t *before = read_bytes(path, &n_before);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        enum { N = 100000 };
        static float big[N];
        SafeTensors st;
        build_sample(&st, big, N);
        struct rlimit lim;
        getrlimit(RLIMIT_FSIZE, &lim);
        lim.rlim_cur = 4096;
        setrlimit(RLIMIT_FSIZE, &lim);
        signal(SIGXFSZ, SIG_DFL);
        st_save(&st, path);
        _exit(0); /* not reached: the signal kills the writer */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGXFSZ);
    uint8_t *after = read_bytes(path, &n_after);
    assert_int_equal(n_before, n_after);
    assert_memory_equal(before, after, n_before);
    assert_int_equal(count_temp_files(), 1);
    remove_temp_files();
    free(before);
    free(after);
}

/* ---- corrupt files ---- */

/* 8-byte little-endian length (the real one unless len_override >= 0),
 * the header text, then data_bytes bytes of data. */
static size_t make_file(uint8_t *out, const char *header, long long len_override, size_t data_bytes)
{
    uint64_t n = len_override >= 0 ? (uint64_t)len_override : strlen(header);
    for (int i = 0; i < 8; i++) out[i] = (uint8_t)(n >> (8 * i));
    memcpy(out + 8, header, strlen(header));
    memset(out + 8 + strlen(header), 0x3f, data_bytes);
    return 8 + strlen(header) + data_bytes;
}

typedef struct {
    const char *file;
    const char *header;
    long long len_override; /* -1: the true header length */
    size_t data_bytes;
    const char *expect;     /* the message after "PATH: " */
    long keep;              /* > 0: cut the file to this many bytes; -2: empty file */
} Corrupt;

#define T1(name, off) "\"" name "\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":" off "}"

static const Corrupt CORPUS[] = {
    {"empty", "", 0, 0, "file is 0 bytes, too short for the 8-byte header length", -2},
    {"short", "{}", -1, 0, "file is 5 bytes, too short for the 8-byte header length", 5},
    {"cut_in_header", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", -1, 8,
     "header length 54 exceeds the 30 bytes after the length field", 38},
    {"len_too_large", "{}", 1000, 4, "header length 1000 exceeds the 6 bytes after the length field", 0},
    {"len_huge", "{}", (long long)1 << 62, 0, "header length 4611686018427387904 exceeds the 2 bytes", 0},
    {"len_zero", "{}", 0, 0, "header length 0 is too small for a JSON object", 0},
    {"truncated_data", "{" T1("a", "[0,8]") "}", -1, 5, "tensor 'a': data_offsets [0, 8] run past the 5-byte data section", 0},
    {"truncated_json", "{\"a\":{\"dtype\":\"F32\",", -1, 0, "bad JSON in header at byte 20: unexpected end of input", 0},
    {"unterminated_string", "{\"a", -1, 0, "bad JSON in header at byte 1: unterminated string", 0},
    {"trailing_comma", "{\"a\":1,}", -1, 0, "bad JSON in header at byte 7: expected a string", 0},
    {"missing_colon", "{\"a\" 1}", -1, 0, "bad JSON in header at byte 5: expected ':' after a key", 0},
    {"bad_escape", "{\"a\\q\":1}", -1, 0, "bad JSON in header at byte 3: bad escape sequence", 0},
    {"lone_surrogate", "{\"\\ud800x\":1}", -1, 0, "bad JSON in header at byte 2: bad escape sequence", 0},
    {"nul_escape", "{\"a\\u0000\":1}", -1, 0, "bad JSON in header at byte 3: \\u0000 inside a string is not supported", 0},
    {"bad_utf8", "{\"a\xff\":1}", -1, 0, "bad JSON in header at byte 3: invalid UTF-8 inside a string", 0},
    {"overlong_utf8", "{\"\xc0\xaf\":1}", -1, 0, "bad JSON in header at byte 2: invalid UTF-8 inside a string", 0},
    {"control_char", "{\"a\nb\":1}", -1, 0, "bad JSON in header at byte 3: control character inside a string", 0},
    {"leading_zero", "{\"a\":01}", -1, 0, "bad JSON in header at byte 6: expected ',' or '}'", 0},
    {"bad_literal", "{\"a\":tru}", -1, 0, "bad JSON in header at byte 5: unexpected character", 0},
    {"text_after", "{}  x", -1, 0, "bad JSON in header at byte 4: text after the JSON value", 0},
    {"not_object", "[1, 2]", -1, 0, "header is not a JSON object", 0},
    {"entry_not_object", "{\"a\":5}", -1, 0, "tensor 'a': entry is not an object", 0},
    {"overlap", "{" T1("a", "[0,8]") "," T1("b", "[4,12]") "}", -1, 12,
     "tensors 'a' [0, 8) and 'b' [4, 12) overlap", 0},
    {"gap", "{" T1("a", "[0,8]") "," T1("b", "[12,20]") "}", -1, 20, "data bytes [8, 12) belong to no tensor", 0},
    {"trailing_bytes", "{" T1("a", "[0,8]") "}", -1, 12, "data section has 12 bytes but the tensors end at byte 8", 0},
    {"dtype_f16", "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", -1, 4,
     "tensor 'a': dtype \"F16\" not supported (only F32)", 0},
    {"dtype_number", "{\"a\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}", -1, 8,
     "tensor 'a': dtype is not a string", 0},
    {"shape_mismatch", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", -1, 20,
     "tensor 'w': shape [2, 3] needs 24 bytes but data_offsets [0, 20] hold 20", 0},
    {"shape_negative", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", -1, 8,
     "tensor 'w': \"shape\" must hold non-negative integers", 0},
    {"shape_fraction", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", -1, 8,
     "tensor 'w': \"shape\" must hold non-negative integers", 0},
    {"shape_rank9", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", -1, 4,
     "tensor 'w': \"shape\" has more than 8 entries", 0},
    {"shape_overflow", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", -1, 8,
     "tensor 'w': shape [4294967296, 4294967296] is too large", 0},
    {"offsets_reversed", "{" T1("a", "[8,0]") "}", -1, 8, "tensor 'a': data_offsets [8, 0] end before they begin", 0},
    {"offsets_three", "{" T1("a", "[0,8,8]") "}", -1, 8, "tensor 'a': \"data_offsets\" has more than 2 entries", 0},
    {"offsets_one", "{" T1("a", "[8]") "}", -1, 8, "tensor 'a': data_offsets must hold 2 integers", 0},
    {"offsets_huge", "{" T1("a", "[0,99999999999999999999]") "}", -1, 8,
     "tensor 'a': \"data_offsets\" must hold non-negative integers", 0},
    {"missing_dtype", "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", -1, 8, "tensor 'a': no \"dtype\"", 0},
    {"missing_offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", -1, 8, "tensor 'a': no \"data_offsets\"", 0},
    {"field_twice", "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", -1, 8,
     "tensor 'a': \"dtype\" given twice", 0},
    {"duplicate_tensor", "{" T1("a", "[0,8]") "," T1("a", "[8,16]") "}", -1, 16, "tensor 'a' appears twice", 0},
    {"metadata_not_string", "{\"__metadata__\":{\"epoch\":3}}", -1, 0, "__metadata__ value of 'epoch' is not a string", 0},
    {"metadata_not_object", "{\"__metadata__\":[]}", -1, 0, "__metadata__ is not an object", 0},
    {"metadata_twice", "{\"__metadata__\":{},\"__metadata__\":{}}", -1, 0, "__metadata__ appears twice", 0},
    {"metadata_key_twice", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", -1, 0, "metadata key 'k' appears twice", 0},
    /* Two problems: the first in header order is the one reported. */
    {"first_problem", "{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]}," T1("b", "[4,12]") "}", -1, 12,
     "tensor 'a': dtype \"F64\" not supported (only F32)", 0},
};

static void corrupt_files_give_clear_errors(void **state)
{
    (void)state;
    static uint8_t buf[4096];
    char expect[1024];
    for (size_t c = 0; c < sizeof CORPUS / sizeof CORPUS[0]; c++) {
        const Corrupt *k = &CORPUS[c];
        char name[96];
        snprintf(name, sizeof name, "%s.safetensors", k->file);
        const char *path = tmp_path(name);
        size_t n = make_file(buf, k->header, k->len_override, k->data_bytes);
        if (k->keep == -2) n = 0;
        if (k->keep > 0) n = (size_t)k->keep;
        write_bytes(path, buf, n);
        SafeTensors st;
        meld_error_clear();
        int rc = st_load(&st, path);
        if (rc != MELD_ERR) fail_msg("%s: loaded without error", k->file);
        assert_int_equal(st.n_tensors, 0);
        assert_int_equal(st.n_meta, 0);
        st_free(&st);
        snprintf(expect, sizeof expect, "%s: %s", path, k->expect);
        if (strncmp(meld_error(), expect, strlen(expect)) != 0)
            fail_msg("%s:\n  got      '%s'\n  expected '%s...'", k->file, meld_error(), expect);
        /* Parsing the same bytes from memory gives the same message. */
        assert_int_equal(st_parse(&st, buf, n, path), MELD_ERR);
        assert_int_equal(strncmp(meld_error(), expect, strlen(expect)), 0);
        remove(path);
    }
}

static void deep_nesting_is_refused(void **state)
{
    (void)state;
    enum { DEPTH = 200 };
    char header[2 * DEPTH + 16];
    size_t k = 0;
    header[k++] = '{';
    memcpy(header + k, "\"a\":", 4);
    k += 4;
    for (int i = 0; i < DEPTH; i++) header[k++] = '[';
    for (int i = 0; i < DEPTH; i++) header[k++] = ']';
    header[k++] = '}';
    header[k] = '\0';
    static uint8_t buf[1024];
    size_t n = make_file(buf, header, -1, 0);
    SafeTensors st;
    assert_int_equal(st_parse(&st, buf, n, "deep"), MELD_ERR);
    assert_non_null(strstr(meld_error(), "nesting deeper than 64 levels"));
}

static void missing_and_odd_paths(void **state)
{
    (void)state;
    SafeTensors st;
    const char *path = tmp_path("absent.safetensors");
    assert_int_equal(st_load(&st, path), MELD_ERR);
    char expect[1024];
    snprintf(expect, sizeof expect, "%s: cannot open: No such file or directory", path);
    assert_string_equal(meld_error(), expect);
    assert_int_equal(st_load(&st, tmpdir), MELD_ERR);
    assert_non_null(strstr(meld_error(), "not a regular file"));
    st_free(&st);
}

/* Escapes are decoded: \u00e9, a surrogate pair, \n, \/ and padding. */
static void json_escapes_decode(void **state)
{
    (void)state;
    const char *header = "{\"__metadata__\":{\"k\\u00e9\\ud83d\\ude00\":\"a\\/b\\n\\\"\"},"
                         " \"x\\t\" : {\"data_offsets\":[0,4], \"shape\":[], \"extra\":{\"n\":[null,true,-1.5e3]},"
                         " \"dtype\":\"F32\"}}      ";
    static uint8_t buf[512];
    size_t n = make_file(buf, header, -1, 4);
    SafeTensors st;
    if (st_parse(&st, buf, n, "escapes") != MELD_OK) fail_msg("%s", meld_error());
    assert_string_equal(st_get_meta(&st, "k\xc3\xa9\xf0\x9f\x98\x80"), "a/b\n\"");
    const StTensor *t = st_find(&st, "x\t");
    assert_non_null(t);
    assert_int_equal(t->ndim, 0);
    st_free(&st);
}

/* ---- fuzzing ---- */

/* Applies 1..8 random edits: byte overwrite, bit flip, JSON-ish byte,
 * truncation, or a new header length. */
static size_t mutate(Rng *r, uint8_t *b, size_t n, size_t cap)
{
    static const char dict[] = "{}[]\",:0123456789-.eE\\u \xff\xc3";
    int edits = 1 + (int)rng_below(r, 8);
    for (int e = 0; e < edits && n > 0; e++) {
        size_t at = rng_below(r, (uint32_t)n);
        switch (rng_below(r, 6)) {
        case 0: b[at] = (uint8_t)rng_u32(r); break;
        case 1: b[at] ^= (uint8_t)(1u << rng_below(r, 8)); break;
        case 2: b[at] = (uint8_t)dict[rng_below(r, sizeof dict - 1)]; break;
        case 3: n = at; break;
        case 4: {
            uint64_t len = rng_below(r, 4) ? rng_below(r, (uint32_t)n + 16) : (uint64_t)rng_u32(r) << 32 | rng_u32(r);
            for (int i = 0; i < 8; i++) b[i] = (uint8_t)(len >> (8 * i));
            break;
        }
        case 5:
            if (n < cap) {
                memmove(b + at + 1, b + at, n - at);
                b[at] = (uint8_t)dict[rng_below(r, sizeof dict - 1)];
                n++;
            }
            break;
        }
    }
    return n;
}

/* Edits inside the JSON header only, then the length field is fixed up, so
 * the cases get past the length check into the JSON, schema and layout
 * checks: token insertions, deletions, byte overwrites, digit changes. */
static size_t mutate_header(Rng *r, const uint8_t *valid, size_t n_valid, uint8_t *out, size_t cap)
{
    static const char *const tokens[] = {
        "{", "}", "[", "]", ",", ":", "\"", "0", "8", "12", "-1", "1e3", "4.0", "null", " ",
        "\"F32\"", "\"F16\"", "\"shape\"", "\"dtype\"", "\"data_offsets\"", "\"__metadata__\"",
        "[0,8]", "[2]", "[]", "\\u00e9", "\\ud800", "\xc3\xa9", "\xff", "\"a\":", "{\"k\":\"v\"}",
    };
    enum { N_TOKENS = sizeof tokens / sizeof tokens[0] };
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | valid[i];
    const uint8_t *data = valid + 8 + hlen;
    const size_t n_data = n_valid - 8 - (size_t)hlen;
    uint8_t *h = out + 8;
    size_t n = (size_t)hlen;
    memcpy(h, valid + 8, n);
    int edits = 1 + (int)rng_below(r, 4);
    for (int e = 0; e < edits && n > 0; e++) {
        size_t at = rng_below(r, (uint32_t)n);
        switch (rng_below(r, 4)) {
        case 3: /* another digit: still JSON, but new shapes and offsets */
            if (h[at] >= '0' && h[at] <= '9') {
                h[at] = (uint8_t)('0' + rng_below(r, 10));
                break;
            }
            /* fall through */
        case 0: {
            const char *t = tokens[rng_below(r, N_TOKENS)];
            size_t len = strlen(t);
            if (8 + n + len + n_data > cap) break;
            memmove(h + at + len, h + at, n - at);
            memcpy(h + at, t, len);
            n += len;
            break;
        }
        case 1: {
            size_t len = 1 + rng_below(r, 6);
            if (len > n - at) len = n - at;
            memmove(h + at, h + at + len, n - at - len);
            n -= len;
            break;
        }
        case 2: h[at] = (uint8_t)rng_u32(r); break;
        }
    }
    for (int i = 0; i < 8; i++) out[i] = (uint8_t)((uint64_t)n >> (8 * i));
    memcpy(h + n, data, n_data);
    return 8 + n + n_data;
}

/* Found by tests/fuzz/fuzz_safetensors.c: a tensor name holding "\n" (a
 * JSON escape) made the error message two lines. */
static void names_with_newlines_keep_messages_one_line(void **state)
{
    (void)state;
    static const char header[] = "{\"ste\\u00232\\none\":{\"dtype\":\"F32\",\"shaqe\":[0],\"data_oftypes\":[4,4]}}";
    uint8_t file[8 + sizeof header + 4];
    size_t n = sizeof header - 1;
    for (int i = 0; i < 8; i++) file[i] = (uint8_t)((uint64_t)n >> (8 * i));
    memcpy(file + 8, header, n);
    memset(file + 8 + n, 0, 4);
    SafeTensors st;
    assert_int_equal(st_parse(&st, file, 8 + n + 4, "fuzz.safetensors"), MELD_ERR);
    assert_null(strchr(meld_error(), '\n'));
    assert_non_null(strstr(meld_error(), "ste#2\\none"));
}

static void fuzzed_files_never_crash(void **state)
{
    (void)state;
    SafeTensors st;
    build_sample(&st, NULL, 0);
    uint8_t *valid;
    size_t n_valid;
    assert_int_equal(st_serialize(&st, &valid, &n_valid), MELD_OK);
    st_free(&st);
    enum { CAP = 2048, ROUNDS = 30000 };
    assert_true(n_valid + 64 < CAP);
    static uint8_t buf[CAP];
    Rng r;
    rng_seed(&r, 2024, 5);
    int loaded = 0;
    for (int round = 0; round < ROUNDS; round++) {
        size_t n;
        if (round % 10 == 9) {
            /* Random bytes behind a plausible header length. */
            n = 8 + rng_below(&r, 200);
            for (size_t i = 8; i < n; i++) buf[i] = (uint8_t)rng_u32(&r);
            uint64_t len = rng_below(&r, (uint32_t)n - 7);
            for (int i = 0; i < 8; i++) buf[i] = (uint8_t)(len >> (8 * i));
        } else if (round % 2) {
            memcpy(buf, valid, n_valid);
            n = mutate(&r, buf, n_valid, CAP);
        } else {
            n = mutate_header(&r, valid, n_valid, buf, CAP);
        }
        /* An exact-size heap copy, so ASan sees any read past the end. */
        uint8_t *exact = malloc(n ? n : 1);
        assert_non_null(exact);
        memcpy(exact, buf, n);
        int rc = st_parse(&st, exact, n, "fuzz");
        if (rc == MELD_OK) {
            loaded++;
            for (int i = 0; i < st.n_tensors; i++) {
                size_t numel = 1;
                for (int d = 0; d < st.tensors[i].ndim; d++) numel *= (size_t)st.tensors[i].shape[d];
                assert_int_equal(numel, st.tensors[i].numel);
            }
        } else {
            assert_int_equal(st.n_tensors, 0);
            assert_int_equal(strncmp(meld_error(), "fuzz: ", 6), 0);
        }
        st_free(&st);
        /* Every 100th case also through the file loader: same verdict. */
        if (round % 100 == 0) {
            char parse_msg[1024];
            snprintf(parse_msg, sizeof parse_msg, "%s", meld_error());
            const char *path = tmp_path("fuzz.safetensors");
            write_bytes(path, exact, n);
            int rc2 = st_load(&st, path);
            st_free(&st);
            assert_int_equal(rc, rc2);
            if (rc) assert_string_equal(meld_error() + strlen(path), parse_msg + strlen("fuzz"));
        }
        free(exact);
    }
    print_message("fuzz: %d cases, %d still valid after mutation\n", ROUNDS, loaded);
    free(valid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_is_bit_exact),
        cmocka_unit_test(reads_files_from_the_python_writer),
        cmocka_unit_test(read_into_checks_the_shape),
        cmocka_unit_test(add_rejects_bad_entries),
        cmocka_unit_test(failed_write_keeps_the_old_file),
        cmocka_unit_test(crash_mid_write_keeps_the_old_file),
        cmocka_unit_test(corrupt_files_give_clear_errors),
        cmocka_unit_test(deep_nesting_is_refused),
        cmocka_unit_test(missing_and_odd_paths),
        cmocka_unit_test(json_escapes_decode),
        cmocka_unit_test(fuzzed_files_never_crash),
        cmocka_unit_test(names_with_newlines_keep_messages_one_line),
    };
    return cmocka_run_group_tests_name("tensor: safetensors", tests, make_tmpdir, remove_tmpdir);
}
