/* meld prepare: determinism across thread counts, resuming after kill -9,
 * and MP4 clips through ffmpeg with one damaged clip skipped and reported. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "pipeline/data/cache.h"
#include "pipeline/data/dataset.h"
#include "pipeline/features/clip.h"
#include "pipeline/features/prepare.h"
#include "pipeline/synth/synth.h"
#include "tensor/error.h"
#include "tensor/threadpool.h"
#include "tests/mp4_corpus.h"

static char root[64], corpus[128];

static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static int setup(void **state)
{
    (void)state;
    strcpy(root, "/tmp/meld-prep-XXXXXX");
    if (!mkdtemp(root)) return -1;
    snprintf(corpus, sizeof corpus, "%s/corpus", root);
    SynthConfig cfg;
    synth_config_default(&cfg);
    cfg.n_dialogues = 10;
    cfg.seed = 11;
    cfg.image_size = 48;
    SynthStats st;
    return synth_write(&cfg, corpus, NULL, NULL, &st);
}

static int teardown(void **state)
{
    (void)state;
    return sh("rm -rf %s", root);
}

static PrepareOptions options(const char *cache)
{
    PrepareOptions o = prepare_default_options();
    o.cache_dir = cache;
    o.frames = 2;
    o.size = 32;
    o.n_mels = 16;
    o.cascade = "";
    return o;
}

static int prepare_into(const char *cache, int threads)
{
    Dataset ds;
    if (dataset_load(corpus, &ds, NULL)) return -1;
    threadpool_set_threads(threads);
    PrepareOptions o = options(cache);
    PrepareResult r;
    int rc = prepare_run(&ds, &o, &r);
    threadpool_set_threads(0);
    dataset_free(&ds);
    return rc;
}

static int same_caches(const char *a, const char *b)
{
    return sh("cmp -s %s/train.meldcache %s/train.meldcache && cmp -s %s/dev.meldcache %s/dev.meldcache && "
              "cmp -s %s/test.meldcache %s/test.meldcache",
              a, b, a, b, a, b) == 0;
}

static void same_bytes_with_one_or_two_threads(void **state)
{
    (void)state;
    char a[160], b[160];
    snprintf(a, sizeof a, "%s/cache1", root);
    snprintf(b, sizeof b, "%s/cache2", root);
    assert_int_equal(prepare_into(a, 1), MELD_OK);
    assert_int_equal(prepare_into(b, 2), MELD_OK);
    assert_true(same_caches(a, b));
    /* No shard folder is left once a cache is complete. */
    char partial[200];
    snprintf(partial, sizeof partial, "%s/partial", a);
    struct stat st;
    assert_int_not_equal(stat(partial, &st), 0);
}

/* Starts `meld prepare` on the corpus and kills it with SIGKILL after a
 * delay, several times at different points (planning, decoding, writing
 * shards, assembling); after each kill every cache file present must open
 * and verify (nothing half-written looks complete). A last run to the end
 * must give the same bytes as an uninterrupted run. */
static void resumes_after_kill_9(void **state)
{
    (void)state;
    const char *meld = getenv("MELD_BIN");
    if (!meld) {
        skip();   /* needs the meld program (make test sets MELD_BIN) */
        return;
    }
    char cache[160], ref[160];
    snprintf(cache, sizeof cache, "%s/cache-killed", root);
    snprintf(ref, sizeof ref, "%s/cache1", root);
    if (prepare_into(ref, 1) != MELD_OK) fail_msg("%s", meld_error());
    static const int delay_ms[] = {40, 250, 600, 150, 900, 1500};
    int interrupted = 0;
    for (size_t k = 0; k < sizeof delay_ms / sizeof delay_ms[0]; k++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            freopen("/dev/null", "w", stderr);
            freopen("/dev/null", "w", stdout);
            execl(meld, meld, "prepare", "--data", corpus, "--out", cache, "--frames", "2", "--size", "32", "--mels",
                  "16", "--cascade", "none", "--threads", "2", (char *)NULL);
            _exit(127);
        }
        struct timespec ts = {delay_ms[k] / 1000, (delay_ms[k] % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        interrupted += WIFSIGNALED(status);
        static const char *splits[3] = {"train", "dev", "test"};
        for (int s = 0; s < 3; s++) {
            char path[240];
            snprintf(path, sizeof path, "%s/%s.meldcache", cache, splits[s]);
            Cache c;
            if (access(path, F_OK) == 0 && cache_open(path, 0, &c, NULL) != MELD_OK)
                fail_msg("after a kill at %d ms: %s", delay_ms[k], meld_error());
            if (access(path, F_OK) == 0) cache_close(&c);
        }
    }
    printf("  %d of 6 runs killed before they finished\n", interrupted);
    assert_true(interrupted >= 2);
    assert_int_equal(sh("%s prepare --data %s --out %s --frames 2 --size 32 --mels 16 --cascade none > /dev/null 2>&1",
                        meld, corpus, cache),
                     0);
    assert_true(same_caches(cache, ref));
}

/* The work split for ranks: every clip to do in exactly one share, the
 * same answer on every call, the shares' total sizes within one clip. */
static void shares_partition_the_work(void **state)
{
    (void)state;
    Dataset ds;
    if (dataset_load(corpus, &ds, NULL)) fail_msg("%s", meld_error());
    char cache[160];
    snprintf(cache, sizeof cache, "%s/cache-shares", root);
    PrepareOptions o = options(cache);
    PreparePlan *p;
    if (prepare_plan(&ds, &o, &p)) fail_msg("%s", meld_error());
    int *all, n_all;
    assert_int_equal(prepare_todo(p, &all, &n_all), MELD_OK);
    assert_int_equal(n_all, (int)dataset_n_utterances(&ds));
    int seen[4096] = {0}, total = 0;
    for (int r = 0; r < 3; r++) {
        int *mine, n, *again, n2;
        assert_int_equal(prepare_share(p, r, 3, &mine, &n), MELD_OK);
        assert_int_equal(prepare_share(p, r, 3, &again, &n2), MELD_OK);
        assert_int_equal(n, n2);
        assert_memory_equal(mine, again, sizeof(int) * (size_t)n);
        for (int i = 0; i < n; i++) seen[mine[i]]++;
        total += n;
        free(mine);
        free(again);
    }
    assert_int_equal(total, n_all);
    for (int i = 0; i < n_all; i++) assert_int_equal(seen[all[i]], 1);
    free(all);
    prepare_plan_free(p);
    dataset_free(&ds);
}

static char skip_reason[600];

static int skip_problem;

static void record_skip(void *ctx, const char *split, int dialogue, int utterance, const char *clip_name, int problem,
                        const char *reason)
{
    (void)ctx, (void)split, (void)dialogue, (void)utterance, (void)clip_name;
    snprintf(skip_reason, sizeof skip_reason, "%s", reason);
    skip_problem = problem;
}

/* A MELD-like folder of MP4 clips: two good ones per split, one damaged. */
static void mp4_clips_with_a_damaged_one(void **state)
{
    (void)state;
    if (sh("ffmpeg -version > /dev/null 2>&1") != 0) {
        printf("  ffmpeg not found: skipping the MP4 test (apt-get install ffmpeg)\n");
        skip();
        return;
    }
    char dir[160], cache[200];
    snprintf(dir, sizeof dir, "%s/mp4", root);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    assert_int_equal(write_mp4_corpus(dir, 3), 0);
    /* Damage one train clip: keep its first 2 KB (no moov atom). */
    assert_int_equal(sh("head -c 2048 '%s/train_splits/dia0_utt1.mp4' > '%s/t' && mv '%s/t' '%s/train_splits/dia0_utt1.mp4'",
                        dir, dir, dir, dir),
                     0);
    Dataset ds;
    if (dataset_load(dir, &ds, NULL)) fail_msg("%s", meld_error());
    PrepareOptions o = options(cache);
    PrepareResult r;
    if (prepare_run(&ds, &o, &r) != MELD_OK) fail_msg("%s", meld_error());
    dataset_free(&ds);
    assert_int_equal(prepare_list_skips(cache, record_skip, NULL), MELD_OK);
    printf("  damaged clip reported as: %s\n", skip_reason);
    assert_non_null(strstr(skip_reason, "dia0_utt1.mp4"));
    assert_int_equal(skip_problem, CLIP_DAMAGED);
    assert_int_equal(r.done[SPLIT_TRAIN], 2);
    assert_int_equal(r.skipped[SPLIT_TRAIN], 1);
    assert_int_equal(r.done[SPLIT_DEV], 3);
    assert_int_equal(r.done[SPLIT_TEST], 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_bytes_with_one_or_two_threads),
        cmocka_unit_test(resumes_after_kill_9),
        cmocka_unit_test(shares_partition_the_work),
        cmocka_unit_test(mp4_clips_with_a_damaged_one),
    };
    return cmocka_run_group_tests_name("pipeline: prepare", tests, setup, teardown);
}
