/* Feature cache: round trip, determinism, sorting, stale configuration,
 * and clear errors for damaged files (truncated, bad magic, bad offsets). */
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
    CacheItem items[3] = {
        {.dialogue_id = 7, .utterance_id = 1, .emotion = 3, .sentiment = 2, .n_mel_frames = 4, .mel = mel[0], .functional = fn[0], .frames = frames[0]},
        {.dialogue_id = 2, .utterance_id = 0, .emotion = 1, .sentiment = 1, .n_mel_frames = 2, .mel = mel[1], .functional = fn[1], .frames = frames[1]},
        {.dialogue_id = 7, .utterance_id = 0, .emotion = 0, .sentiment = 0, .n_mel_frames = 3, .mel = mel[2], .functional = fn[2], .frames = frames[2]},
    };
    return cache_write(path, cfg, items, 3);
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
    cache_close(&c);
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

static void truncate_half(uint8_t *b, size_t *n) { (void)b; *n /= 2; }
static void bad_magic(uint8_t *b, size_t *n) { (void)n; b[0] = 'X'; }
static void empty(uint8_t *b, size_t *n) { (void)b; *n = 0; }
static void offset_out(uint8_t *b, size_t *n)
{
    /* First index entry's mel offset: after the 48-byte header + config, 64-aligned. */
    size_t clen = b[44], index_at = (48 + clen + 63) & ~(size_t)63;
    b[index_at + 24 + 5] = 0x7f;   /* a huge mel offset */
    (void)n;
}
static void bad_label(uint8_t *b, size_t *n)
{
    size_t clen = b[44], index_at = (48 + clen + 63) & ~(size_t)63;
    b[index_at + 8] = 9;
    (void)n;
}

static void damaged_files_give_clear_errors(void **state)
{
    (void)state;
    expect_damaged("trunc", truncate_half, "incomplete");
    expect_damaged("magic", bad_magic, "bad magic");
    expect_damaged("empty", empty, "empty file");
    expect_damaged("offset", offset_out, "outside the file");
    expect_damaged("label", bad_label, "invalid labels");
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
        cmocka_unit_test(damaged_files_give_clear_errors),
    };
    return cmocka_run_group_tests_name("pipeline: feature cache", tests, setup, teardown);
}
