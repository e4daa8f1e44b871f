/* Trusting the feature cache, through the meld program (MELD_BIN):
 *   - two `meld prepare` at once on one cache folder both succeed and leave
 *     complete caches (one waits for the other's lock, naming it);
 *   - a relabelled CSV is noticed: the cache is rebuilt with the new labels;
 *   - `--data A --cache B` with B holding another corpus's caches is
 *     refused, and B is left as it was;
 *   - clips skipped because ffmpeg was missing (PATH without it) are
 *     retried once it is back;
 *   - a flipped bit in a cache record is reported and that record rebuilt;
 *   - a FIFO where a CSV is expected is refused at once (no hang), and a
 *     FIFO clip is skipped as unreadable.
 * Tiny synthetic corpora; a few seconds in all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "pipeline/data/cache.h"
#include "pipeline/features/clip.h"
#include "pipeline/synth/synth.h"
#include "tensor/error.h"
#include "tests/mp4_corpus.h"

static char root[64], corpus[128], other[128];
static const char *meld;

static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

static int write_corpus(const char *dir, uint64_t seed)
{
    SynthConfig cfg;
    synth_config_default(&cfg);
    cfg.n_dialogues = 6;
    cfg.seed = seed;
    cfg.image_size = 48;
    SynthStats st;
    return synth_write(&cfg, dir, NULL, NULL, &st);
}

static int setup(void **state)
{
    (void)state;
    meld = getenv("MELD_BIN");
    strcpy(root, "/tmp/meld-trust-XXXXXX");
    if (!mkdtemp(root)) return -1;
    snprintf(corpus, sizeof corpus, "%s/corpus", root);
    snprintf(other, sizeof other, "%s/other", root);
    return write_corpus(corpus, 21) || write_corpus(other, 22);
}

static int teardown(void **state)
{
    (void)state;
    return sh("rm -rf %s", root);
}

#define NEED_MELD()                                                                 \
    do {                                                                            \
        if (!meld) {                                                                \
            print_message("skipped: needs the meld program (make test sets MELD_BIN)\n"); \
            skip();                                                                 \
        }                                                                           \
    } while (0)

/* meld prepare with a small configuration; extra options appended. */
static int prepare(const char *data, const char *cache, const char *log, const char *extra)
{
    return sh("%s prepare --data %s --out %s --frames 2 --size 16 --mels 8 --cascade none --threads 2 %s > %s 2>&1",
              meld, data, cache, extra, log);
}

static int file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

/* Rows, records and skips of one split cache (-1 rows if it does not open). */
static void cache_counts(const char *cache, const char *split, int *rows, int *records)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%s.meldcache", cache, split);
    Cache c;
    *rows = *records = -1;
    if (cache_open(path, 0, &c, NULL)) return;
    *rows = c.n_sources;
    *records = c.n;
    cache_close(&c);
}

static int csv_rows(const char *dir, const char *split)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%s_sent_emo.csv", dir, split);
    FILE *f = fopen(path, "r");
    int n = -1, c;   /* the header line does not count */
    while (f && (c = fgetc(f)) != EOF) n += c == '\n';
    if (f) fclose(f);
    return n;
}

static void two_prepares_at_once_both_complete(void **state)
{
    (void)state;
    NEED_MELD();
    char cache[200], log1[200], log2[200];
    snprintf(cache, sizeof cache, "%s/shared-cache", root);
    snprintf(log1, sizeof log1, "%s/p1.log", root);
    snprintf(log2, sizeof log2, "%s/p2.log", root);
    char cmd1[1200], cmd2[1200];
    snprintf(cmd1, sizeof cmd1, "%s prepare --data %s --out %s --frames 2 --size 16 --mels 8 --cascade none --threads 1 > %s 2>&1",
             meld, corpus, cache, log1);
    snprintf(cmd2, sizeof cmd2, "%s prepare --data %s --out %s --frames 2 --size 16 --mels 8 --cascade none --threads 1 > %s 2>&1",
             meld, corpus, cache, log2);
    assert_int_equal(sh("(%s) & (%s) & wait %%1 && wait %%2", cmd1, cmd2), 0);
    assert_int_equal(sh("grep -q 'prepared' %s || grep -q 'prepared' %s", log1, log2), 0);
    /* whichever came second waited for the first's lock, or found its work done */
    assert_true(file_has(log1, "waiting") || file_has(log2, "waiting") || file_has(log1, "all ") || file_has(log2, "all "));
    const char *splits[3] = {"train", "dev", "test"};
    for (int s = 0; s < 3; s++) {
        int rows, records;
        cache_counts(cache, splits[s], &rows, &records);
        assert_int_equal(rows, csv_rows(corpus, splits[s]));
        assert_int_equal(records, rows);   /* the synthetic clips are all usable */
    }
}

/* A copy of the corpus whose test CSV gets one label changed. */
static void relabelled_csv_rebuilds_the_cache(void **state)
{
    (void)state;
    NEED_MELD();
    char copy[200], cache[260], log[200], path[300];
    snprintf(copy, sizeof copy, "%s/relabel", root);
    snprintf(cache, sizeof cache, "%s/cache", copy);
    snprintf(log, sizeof log, "%s/relabel.log", root);
    assert_int_equal(sh("cp -r %s %s", corpus, copy), 0);
    assert_int_equal(prepare(copy, cache, log, ""), 0);
    snprintf(path, sizeof path, "%s/test.meldcache", cache);
    Cache c;
    assert_int_equal(cache_open(path, 0, &c, NULL), MELD_OK);
    int d = c.entries[0].dialogue_id, u = c.entries[0].utterance_id, before = c.entries[0].emotion;
    cache_close(&c);
    /* the first test row's emotion, rewritten to another label (same sentiment class is not needed) */
    const char *names[7] = {"neutral", "joy", "sadness", "anger", "surprise", "fear", "disgust"};
    int after = before == 3 ? 2 : 3;
    assert_int_equal(sh("awk -F, -v OFS=, 'NR==2 { for (i = 1; i <= NF; i++) if ($i == \"%s\") { $i = \"%s\"; break } } "
                        "{ print }' %s/test_sent_emo.csv > %s/t.csv && mv %s/t.csv %s/test_sent_emo.csv",
                        names[before], names[after], copy, copy, copy, copy),
                     0);
    assert_int_equal(prepare(copy, cache, log, ""), 0);
    assert_true(file_has(log, "another test CSV"));
    assert_true(file_has(log, "0 clips computed"));   /* the features were reused */
    assert_int_equal(cache_open(path, 0, &c, NULL), MELD_OK);
    assert_int_equal(c.entries[0].dialogue_id, d);
    assert_int_equal(c.entries[0].utterance_id, u);
    assert_int_equal(c.entries[0].emotion, after);
    cache_close(&c);
}

static void another_corpus_cache_is_refused(void **state)
{
    (void)state;
    NEED_MELD();
    char cache[200], log[200];
    snprintf(cache, sizeof cache, "%s/cache-of-other", root);
    snprintf(log, sizeof log, "%s/other.log", root);
    assert_int_equal(prepare(other, cache, log, ""), 0);
    assert_int_equal(sh("cp %s/train.meldcache %s/before", cache, root), 0);
    assert_int_equal(prepare(corpus, cache, log, ""), 1);
    assert_true(file_has(log, "holds the features of another corpus"));
    assert_int_equal(sh("cmp -s %s/train.meldcache %s/before", cache, root), 0);
}

static int have_ffmpeg(void) { return sh("ffmpeg -version > /dev/null 2>&1") == 0; }

static void clips_skipped_without_ffmpeg_are_retried(void **state)
{
    (void)state;
    NEED_MELD();
    if (!have_ffmpeg()) {
        print_message("skipped: ffmpeg not on PATH\n");
        skip();
    }
    char dir[200], cache[260], log[200], bin[200];
    snprintf(dir, sizeof dir, "%s/mp4", root);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    snprintf(log, sizeof log, "%s/mp4.log", root);
    snprintf(bin, sizeof bin, "%s/bin-without-ffmpeg", root);
    assert_int_equal(write_mp4_corpus(dir, 2), 0);
    /* a PATH with the shell tools but not ffmpeg */
    assert_int_equal(sh("mkdir -p %s && for t in sh cat; do ln -sf $(command -v $t) %s/$t; done", bin, bin), 0);
    assert_int_equal(sh("PATH=%s %s prepare --data %s --out %s --frames 2 --size 16 --mels 8 --cascade none > %s 2>&1",
                        bin, meld, dir, cache, log),
                     0);
    assert_true(file_has(log, "missing tool: 6"));
    int rows, records;
    cache_counts(cache, "test", &rows, &records);
    assert_int_equal(rows, 2);
    assert_int_equal(records, 0);
    /* still missing: nothing to redo */
    assert_int_equal(sh("PATH=%s %s prepare --data %s --out %s --frames 2 --size 16 --mels 8 --cascade none > %s 2>&1",
                        bin, meld, dir, cache, log),
                     0);
    assert_false(file_has(log, "preparing"));
    /* ffmpeg back: retried */
    assert_int_equal(prepare(dir, cache, log, ""), 0);
    assert_true(file_has(log, "ffmpeg was missing; it is installed now"));
    cache_counts(cache, "test", &rows, &records);
    assert_int_equal(records, 2);
    assert_true(file_has(log, "all 6 utterances have features"));
}

static void flipped_bit_is_reported_and_rebuilt(void **state)
{
    (void)state;
    NEED_MELD();
    char cache[200], log[200], path[300];
    snprintf(cache, sizeof cache, "%s/flip-cache", root);
    snprintf(log, sizeof log, "%s/flip.log", root);
    assert_int_equal(prepare(corpus, cache, log, ""), 0);
    snprintf(path, sizeof path, "%s/train.meldcache", cache);
    assert_int_equal(sh("cp %s %s/good", path, root), 0);
    /* one bit in the middle of the records */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    long at = (long)st.st_size - 4096;
    fseek(f, at, SEEK_SET);
    int c = fgetc(f);
    fseek(f, at, SEEK_SET);
    fputc(c ^ 0x04, f);
    fclose(f);
    Cache cc;
    assert_int_equal(cache_open(path, 0, &cc, NULL), MELD_ERR);
    assert_non_null(strstr(meld_error(), "record checksum mismatch"));
    assert_int_equal(prepare(corpus, cache, log, ""), 0);
    assert_true(file_has(log, "record checksum mismatch"));
    assert_true(file_has(log, "1 clips computed"));   /* only the damaged record */
    assert_int_equal(sh("cmp -s %s %s/good", path, root), 0);
}

static void fifos_are_refused_not_waited_on(void **state)
{
    (void)state;
    NEED_MELD();
    char dir[200], log[200];
    snprintf(dir, sizeof dir, "%s/fifo", root);
    snprintf(log, sizeof log, "%s/fifo.log", root);
    assert_int_equal(sh("cp -r %s %s && rm %s/dev_sent_emo.csv && mkfifo %s/dev_sent_emo.csv", corpus, dir, dir, dir), 0);
    /* timeout: a hang is a failure (status 124), not a stuck suite */
    assert_int_equal(sh("timeout 20 %s prepare --data %s --out %s/cache > %s 2>&1", meld, dir, dir, log), 1);
    assert_true(file_has(log, "dev_sent_emo.csv: is a FIFO, not a regular file"));
    assert_int_equal(sh("timeout 20 %s eda --data %s > %s 2>&1", meld, dir, log), 1);
    assert_true(file_has(log, "not a regular file"));
    /* a FIFO clip: skipped as unreadable, the rest prepared */
    assert_int_equal(sh("rm %s/dev_sent_emo.csv && cp %s/dev_sent_emo.csv %s/ && rm %s/dev_splits_complete/dia*_utt0.wav "
                        "&& for y in %s/dev_splits_complete/dia*_utt0.y4m; do rm $y; mkfifo ${y%%.y4m}.wav; done",
                        dir, corpus, dir, dir, dir),
                     0);
    assert_int_equal(sh("timeout 60 %s prepare --data %s --out %s/cache --frames 2 --size 16 --mels 8 --cascade none "
                        "> %s 2>&1",
                        meld, dir, dir, log),
                     0);
    assert_true(file_has(log, "unreadable clip"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_prepares_at_once_both_complete),
        cmocka_unit_test(relabelled_csv_rebuilds_the_cache),
        cmocka_unit_test(another_corpus_cache_is_refused),
        cmocka_unit_test(clips_skipped_without_ffmpeg_are_retried),
        cmocka_unit_test(flipped_bit_is_reported_and_rebuilt),
        cmocka_unit_test(fifos_are_refused_not_waited_on),
    };
    return cmocka_run_group_tests_name("pipeline: trusting the feature cache", tests, setup, teardown);
}
