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

#include "pipeline/data/dataset.h"
#include "pipeline/features/prepare.h"
#include "pipeline/synth/synth.h"
#include "tensor/error.h"
#include "tensor/threadpool.h"

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

/* Starts `meld prepare` on the corpus, kills it with SIGKILL once some
 * shards exist, checks no cache file looks complete, runs it again to the
 * end, and compares with an uninterrupted run. */
static void resumes_after_kill_9(void **state)
{
    (void)state;
    const char *meld = getenv("MELD_BIN");
    if (!meld) {
        skip();   /* needs the meld program (make test sets MELD_BIN) */
        return;
    }
    char cache[160], ref[160], shards[200];
    snprintf(cache, sizeof cache, "%s/cache-killed", root);
    snprintf(ref, sizeof ref, "%s/cache1", root);
    snprintf(shards, sizeof shards, "%s/partial/train", cache);
    if (prepare_into(ref, 1) != MELD_OK) fail_msg("%s", meld_error());
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        freopen("/dev/null", "w", stdout);
        execl(meld, meld, "prepare", "--data", corpus, "--out", cache, "--frames", "2", "--size", "32", "--mels", "16",
              "--cascade", "none", "--threads", "1", (char *)NULL);
        _exit(127);
    }
    /* Wait for a few shards (at most 30 s), then kill -9. */
    int killed = 0;
    for (int i = 0; i < 3000 && !killed; i++) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "test $(ls %s 2>/dev/null | grep -c shard) -ge 5", shards);
        if (system(cmd) == 0) {
            kill(pid, SIGKILL);
            killed = 1;
        } else {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    int status;
    waitpid(pid, &status, 0);
    if (!killed || !WIFSIGNALED(status)) {
        skip();   /* prepare finished before it could be interrupted */
        return;
    }
    char path[240];
    snprintf(path, sizeof path, "%s/train.meldcache", cache);
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0);   /* nothing that looks complete */
    assert_int_equal(sh("%s prepare --data %s --out %s --frames 2 --size 32 --mels 16 --cascade none > /dev/null 2>&1",
                        meld, corpus, cache),
                     0);
    assert_true(same_caches(cache, ref));
}

static char skip_reason[600];

static void record_skip(void *ctx, const char *split, int dialogue, int utterance, const char *reason)
{
    (void)ctx, (void)split, (void)dialogue, (void)utterance;
    snprintf(skip_reason, sizeof skip_reason, "%s", reason);
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
    static const char *splits[3][2] = {{"train", "train_splits"}, {"dev", "dev_splits_complete"},
                                       {"test", "output_repeated_splits_test"}};
    for (int s = 0; s < 3; s++) {
        assert_int_equal(sh("mkdir -p '%s/%s'", dir, splits[s][1]), 0);
        char csv[300];
        snprintf(csv, sizeof csv, "%s/%s_sent_emo.csv", dir, splits[s][0]);
        FILE *f = fopen(csv, "w");
        assert_non_null(f);
        fprintf(f, "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\n");
        fprintf(f, "1,Hi,A,joy,positive,0,0,1,1,\"00:00:01,000\",\"00:00:02,000\"\n");
        fprintf(f, "2,Oh no,B,sadness,negative,0,1,1,1,\"00:00:02,000\",\"00:00:03,000\"\n");
        fprintf(f, "3,Well,A,neutral,neutral,0,2,1,1,\"00:00:03,000\",\"00:00:04,000\"\n");
        fclose(f);
        for (int u = 0; u < 3; u++)
            assert_int_equal(sh("ffmpeg -loglevel error -y -f lavfi -i testsrc=size=160x120:rate=10:duration=1 "
                                "-f lavfi -i sine=frequency=%d:sample_rate=44100:duration=1 -shortest "
                                "-c:v libx264 -pix_fmt yuv420p -c:a aac '%s/%s/dia0_utt%d.mp4'",
                                300 + 100 * u, dir, splits[s][1], u),
                             0);
    }
    /* Damage one train clip: keep its first 2 KB (no moov atom). */
    assert_int_equal(sh("head -c 2048 '%s/train_splits/dia0_utt1.mp4' > '%s/t' && mv '%s/t' '%s/train_splits/dia0_utt1.mp4'",
                        dir, dir, dir, dir),
                     0);
    Dataset ds;
    if (dataset_load(dir, &ds, NULL)) fail_msg("%s", meld_error());
    PrepareOptions o = options(cache);
    o.on_skip = record_skip;
    PrepareResult r;
    if (prepare_run(&ds, &o, &r) != MELD_OK) fail_msg("%s", meld_error());
    dataset_free(&ds);
    printf("  damaged clip reported as: %s\n", skip_reason);
    assert_non_null(strstr(skip_reason, "dia0_utt1.mp4"));
    assert_int_equal(r.done[SPLIT_TRAIN], 2);
    assert_int_equal(r.skipped[SPLIT_TRAIN], 1);
    assert_int_equal(r.done[SPLIT_DEV], 3);
    assert_int_equal(r.done[SPLIT_TEST], 3);
}

/* The split of prepare's clips over processes (prepare_share_rank): each
 * process a contiguous run, the runs' costs within one clip's cost of an
 * equal share, for lists of uneven clips over 1..5 processes. */
static void clips_split_over_processes_by_duration(void **state)
{
    (void)state;
    long long cost[40], total = 0, largest = 0;
    for (int i = 0; i < 40; i++) {
        cost[i] = 100 + (i * 7919 % 13) * 700;   /* 0.1 s .. 8.5 s */
        total += cost[i];
        largest = cost[i] > largest ? cost[i] : largest;
    }
    for (int size = 1; size <= 5; size++) {
        long long share[5] = {0}, before = 0;
        int last = 0;
        for (int i = 0; i < 40; i++) {
            int r = prepare_share_rank(before, cost[i], total, size);
            assert_true(r >= last && r < size);   /* contiguous runs, in rank order */
            last = r;
            share[r] += cost[i];
            before += cost[i];
        }
        for (int r = 0; r < size; r++) {
            long long off = share[r] - total / size;
            assert_true(off <= largest && -off <= largest);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_bytes_with_one_or_two_threads),
        cmocka_unit_test(clips_split_over_processes_by_duration),
        cmocka_unit_test(resumes_after_kill_9),
        cmocka_unit_test(mp4_clips_with_a_damaged_one),
    };
    return cmocka_run_group_tests_name("pipeline: prepare", tests, setup, teardown);
}
