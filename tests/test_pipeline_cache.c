/* Feature cache: round trip (features and source table), determinism,
 * sorting, stale configuration, and clear errors for damaged files
 * (truncated, bad magic, a damaged index, a flipped bit in a record). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "pipeline/data/cache.h"
#include "tensor/error.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/meld-cache-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static CacheConfig config(void)
{
    CacheConfig c = {.n_mels = 3, .functional_dim = 5, .n_frames = 2, .frame_size = 4, .frame_channels = 3};
    strcpy(c.config, "meld-cache test n_mels=3 func=5 frames=2 size=4");
    return c;
}

/* Three utterances given out of order; the file sorts them. */
static int write_sample(const char *path, CacheConfig *cfg)
{
    static float mel[3][4 * 3], fn[3][5];
    static uint8_t frames[3][2 * 4 * 4 * 3];
    for (int u = 0; u < 3; u++) {
        for (int i = 0; i < 12; i++) mel[u][i] = (float)(u * 100 + i);
        for (int i = 0; i < 5; i++) fn[u][i] = (float)(u + 0.5 * i);
        for (int i = 0; i < 96; i++) frames[u][i] = (uint8_t)(u * 50 + i);
    }
    static const CacheSource rows[4] = {
        {.dialogue_id = 2, .utterance_id = 0, .clip_size = 1000, .clip_mtime_ns = 5, .clip_name = "dia2_utt0.mp4", .reason = ""},
        {.dialogue_id = 5, .utterance_id = 3, .clip_size = 77, .clip_mtime_ns = 6, .problem = 4,
         .clip_name = "dia5_utt3.mp4", .reason = "dia5_utt3.mp4: no video stream"},
        {.dialogue_id = 7, .utterance_id = 0, .clip_name = "dia7_utt0.wav", .reason = ""},
        {.dialogue_id = 7, .utterance_id = 1, .clip_name = "dia7_utt1.wav", .reason = ""},
    };
    CacheProvenance src = {.csv_hash = 0x1234, .rows = rows, .n_rows = 4};
    CacheItem items[3] = {
        {.dialogue_id = 7, .utterance_id = 1, .emotion = 3, .sentiment = 2, .n_mel_frames = 4, .mel = mel[0], .functional = fn[0], .frames = frames[0]},
        {.dialogue_id = 2, .utterance_id = 0, .emotion = 1, .sentiment = 1, .n_mel_frames = 2, .mel = mel[1], .functional = fn[1], .frames = frames[1]},
        {.dialogue_id = 7, .utterance_id = 0, .emotion = 0, .sentiment = 0, .n_mel_frames = 3, .mel = mel[2], .functional = fn[2], .frames = frames[2]},
    };
    return cache_write(path, cfg, &src, items, 3);
}

static void round_trip_sorted(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/a.meldcache", dir);
    CacheConfig cfg = config();
    assert_int_equal(write_sample(path, &cfg), MELD_OK);
    Cache c;
    assert_int_equal(cache_open(path, cache_hash(cfg.config), &c, NULL), MELD_OK);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.entries[0].dialogue_id, 2);
    assert_int_equal(c.entries[1].dialogue_id, 7);
    assert_int_equal(c.entries[1].utterance_id, 0);
    assert_int_equal(c.entries[2].emotion, 3);
    assert_int_equal(c.entries[2].n_mel_frames, 4);
    assert_true(cache_mel(&c, 2)[11] == 11.0f);
    assert_true(cache_functional(&c, 0)[4] == 3.0f);
    assert_int_equal(cache_frames(&c, 1)[95], 100 + 95);
    assert_string_equal(c.cfg.config, cfg.config);
    /* the source table: every row, the skipped one with its reason */
    assert_int_equal(c.csv_hash, 0x1234);
    assert_int_equal(c.n_sources, 4);
    assert_int_equal(c.sources[1].problem, 4);
    assert_string_equal(c.sources[1].reason, "dia5_utt3.mp4: no video stream");
    assert_int_equal(c.sources[1].record, -1);
    assert_int_equal(c.sources[0].clip_size, 1000);
    assert_string_equal(c.sources[3].clip_name, "dia7_utt1.wav");
    assert_int_equal(c.sources[3].record, 2);
    assert_int_equal(c.entries[2].source, 3);
    cache_close(&c);
}

/* A row marked used without features (or the reverse) is refused. */
static void source_rows_must_match_the_items(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/m.meldcache", dir);
    CacheConfig cfg = config();
    static float mel[4 * 3], fn[5];
    static uint8_t frames[96];
    CacheItem item = {.dialogue_id = 1, .utterance_id = 0, .n_mel_frames = 1, .mel = mel, .functional = fn, .frames = frames};
    CacheSource row = {.dialogue_id = 1, .utterance_id = 0, .problem = 2, .clip_name = "", .reason = "x"};
    CacheProvenance src = {.rows = &row, .n_rows = 1};
    assert_int_equal(cache_write(path, &cfg, &src, &item, 1), MELD_ERR);
    assert_non_null(strstr(meld_error(), "dia1_utt0 has features but no used source row"));
    row.problem = 0;
    assert_int_equal(cache_write(path, &cfg, &src, &item, 0), MELD_ERR);
    assert_non_null(strstr(meld_error(), "dia1_utt0 is marked used but has no features"));
    assert_int_equal(access(path, F_OK), -1);   /* nothing written */
}

static void same_input_same_bytes(void **state)
{
    (void)state;
    char a[128], b[128], cmd[300];
    snprintf(a, sizeof a, "%s/x.meldcache", dir);
    snprintf(b, sizeof b, "%s/y.meldcache", dir);
    CacheConfig cfg = config();
    assert_int_equal(write_sample(a, &cfg), MELD_OK);
    assert_int_equal(write_sample(b, &cfg), MELD_OK);
    snprintf(cmd, sizeof cmd, "cmp -s %s %s", a, b);
    assert_int_equal(system(cmd), 0);
}

static void stale_configuration_is_reported(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/s.meldcache", dir);
    CacheConfig cfg = config();
    assert_int_equal(write_sample(path, &cfg), MELD_OK);
    Cache c;
    int stale = 0;
    assert_int_equal(cache_open(path, cache_hash("another configuration"), &c, &stale), MELD_ERR);
    assert_int_equal(stale, 1);
    assert_non_null(strstr(meld_error(), "stale"));
}

/* Reads the file, lets `damage` change it, writes it back, expects an error containing `what`. */
static void expect_damaged(const char *name, void (*damage)(uint8_t *, size_t *), const char *what)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s.meldcache", dir, name);
    CacheConfig cfg = config();
    assert_int_equal(write_sample(path, &cfg), MELD_OK);
    FILE *f = fopen(path, "rb");
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    damage(buf, &n);
    f = fopen(path, "wb");
    assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(f);
    Cache c;
    assert_int_equal(cache_open(path, 0, &c, NULL), MELD_ERR);
    if (!strstr(meld_error(), what)) fail_msg("expected '%s' in: %s", what, meld_error());
    assert_non_null(strstr(meld_error(), path));
}

/* Where the index and the records start (docs/CACHE.md). */
static size_t index_at(const uint8_t *b)
{
    size_t clen = b[44] | b[45] << 8, rows = b[48], pool = b[52] | b[53] << 8;
    size_t sources = (64 + clen + 7) & ~(size_t)7;
    return (sources + rows * 40 + pool + 63) & ~(size_t)63;
}

static void truncate_half(uint8_t *b, size_t *n) { (void)b; *n /= 2; }
static void bad_magic(uint8_t *b, size_t *n) { (void)n; b[0] = 'X'; }
static void empty(uint8_t *b, size_t *n) { (void)b; *n = 0; }
static void offset_out(uint8_t *b, size_t *n)
{
    b[index_at(b) + 24 + 5] = 0x7f;   /* a huge mel offset */
    (void)n;
}
static void bad_label(uint8_t *b, size_t *n)
{
    b[index_at(b) + 8] = 9;
    (void)n;
}
/* One bit of the last record's frames (dia7_utt1, the last in order). */
static void flip_a_record_bit(uint8_t *b, size_t *n) { b[*n - 16 - 8] ^= 0x10; }

static void damaged_files_give_clear_errors(void **state)
{
    (void)state;
    expect_damaged("trunc", truncate_half, "incomplete");
    expect_damaged("magic", bad_magic, "bad magic");
    expect_damaged("empty", empty, "empty file");
    expect_damaged("offset", offset_out, "index damaged (checksum mismatch)");
    expect_damaged("label", bad_label, "index damaged (checksum mismatch)");
    expect_damaged("bitflip", flip_a_record_bit, "dia7_utt1: record checksum mismatch");
    /* salvage mode keeps the intact records and marks the damaged one */
    char path[128];
    snprintf(path, sizeof path, "%s/bitflip.meldcache", dir);
    Cache s;
    assert_int_equal(cache_open_salvage(path, &s), MELD_OK);
    assert_int_equal(s.n_damaged, 1);
    assert_int_equal(s.entries[2].damaged, 1);
    assert_int_equal(s.entries[0].damaged, 0);
    cache_close(&s);
    Cache c;
    assert_int_equal(cache_open("/nonexistent/z.meldcache", 0, &c, NULL), MELD_ERR);
    assert_non_null(strstr(meld_error(), "cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_sorted),
        cmocka_unit_test(same_input_same_bytes),
        cmocka_unit_test(stale_configuration_is_reported),
        cmocka_unit_test(source_rows_must_match_the_items),
        cmocka_unit_test(damaged_files_give_clear_errors),
    };
    return cmocka_run_group_tests_name("pipeline: feature cache", tests, setup, teardown);
}
