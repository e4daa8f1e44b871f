/* ./bench prepare: utterances per second of `meld prepare` on a small
 * synthetic corpus, at 1 and N threads, and a check that both runs write
 * byte-identical caches (prepare promises the cache does not depend on the
 * thread count).
 *
 *   1. synth_write: a corpus of --dialogues dialogues (seed 1, default
 *      image size and rate) into a fresh folder under $TMPDIR (or /tmp);
 *   2. prepare_run with the default options (4 frames of 64x64, 40 log-Mel
 *      bands, the default face cascade when installed) into CACHE-1T/,
 *      then, with threadpool_set_threads(N), into CACHE-NT/: each run
 *      starts from an empty folder, so nothing is reused;
 *   3. the three .meldcache files of both runs compared byte for byte;
 *   4. the whole folder removed.
 * Times are wall-clock seconds of each prepare_run, utterances/s = the
 * corpus's utterances / seconds. The clips were just written, so they are
 * in the page cache for both runs. */
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchmarks/bench.h"
#include "benchmarks/kernel_timing.h"
#include "pipeline/data/dataset.h"
#include "pipeline/features/prepare.h"
#include "pipeline/synth/synth.h"
#include "tensor/error.h"
#include "tensor/threadpool.h"

enum { ROOT_CAP = 512, PATH_CAP = 1200, MAX_DEPTH = 8 };

/* Removes path and everything under it (no symlink is followed: a link is
 * removed, never its target). Depth-limited; the tree is ours. */
static void remove_tree(const char *path, int depth)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char child[PATH_CAP];
            if (snprintf(child, sizeof child, "%s/%s", path, e->d_name) < (int)sizeof child) remove_tree(child, depth + 1);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* 1 when the two files have the same bytes, 0 when not, -1 if unreadable. */
static int same_bytes(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb ? 1 : -1;
    char ba[65536], bb[65536];
    while (same == 1) {
        size_t na = fread(ba, 1, sizeof ba, fa), nb = fread(bb, 1, sizeof bb, fb);
        if (na != nb || memcmp(ba, bb, na)) same = 0;
        else if (na == 0) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

static double load_average(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = -1;
        fclose(f);
    }
    return l;
}

typedef struct {
    int threads;
    double seconds;
    int done, skipped;
    long long bytes;
    char cache[PATH_CAP];
} PrepRun;

static int prepare_once(const Dataset *ds, const char *root, int threads, PrepRun *out)
{
    memset(out, 0, sizeof *out);
    out->threads = threads;
    snprintf(out->cache, sizeof out->cache, "%s/cache-%dt", root, threads);
    if (threadpool_set_threads(threads)) return MELD_ERR;
    PrepareOptions po = prepare_default_options();
    po.cache_dir = out->cache;
    PrepareResult res;
    double t0 = bench_now();
    if (prepare_run(ds, &po, &res)) return MELD_ERR;
    out->seconds = bench_now() - t0;
    for (int s = 0; s < N_SPLITS; s++) out->done += res.done[s], out->skipped += res.skipped[s];
    out->bytes = res.cache_bytes;
    printf("  %d thread%s: %7.2f s  %7.1f utt/s  (%d prepared, %d skipped, cache %.1f MB, face cascade %s, %d "
           "centre crops; load after %.2f)\n",
           threads, threads > 1 ? "s" : " ", out->seconds, (out->done + out->skipped) / out->seconds, out->done,
           out->skipped, out->bytes / 1e6, res.cascade_used ? "used" : "not found", res.face_fallbacks,
           load_average());
    return MELD_OK;
}

/* Compares the split caches of two runs; prints "identical" or "DIFFERENT". */
static bool caches_identical(const PrepRun *a, const PrepRun *b)
{
    bool all = true;
    for (int s = 0; s < N_SPLITS; s++) {
        char pa[PATH_CAP + 32], pb[PATH_CAP + 32];
        snprintf(pa, sizeof pa, "%s/%s.meldcache", a->cache, split_name(s));
        snprintf(pb, sizeof pb, "%s/%s.meldcache", b->cache, split_name(s));
        int same = same_bytes(pa, pb);
        char file[32];
        snprintf(file, sizeof file, "%s.meldcache", split_name(s));
        printf("  %-16s %d vs %d threads: %s\n", file, a->threads, b->threads,
               same == 1 ? "identical" : same == 0 ? "DIFFERENT" : "DIFFERENT (unreadable)");
        all = all && same == 1;
    }
    return all;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench prepare [--dialogues N] [--threads N]\n"
            "\n"
            "Writes a synthetic corpus of N dialogues (default 16) to a temporary folder,\n"
            "runs prepare on it at 1 and N threads (default 2) into two fresh caches,\n"
            "prints utterances/s of each, checks the caches are byte-identical and removes\n"
            "everything.\n");
}

static int parse_int(const char *opt, const char *v, int lo, int hi, int *out)
{
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || *end || end == v || x < lo || x > hi) {
        fprintf(stderr, "bench prepare: %s needs an integer in %d..%d\n", opt, lo, hi);
        return -1;
    }
    *out = (int)x;
    return 0;
}

/* Synthesis, both prepares and the comparison, inside root. */
static int run_in(const char *root, int dialogues, int threads, bool *identical)
{
    char corpus[PATH_CAP];
    snprintf(corpus, sizeof corpus, "%s/corpus", root);
    SynthConfig cfg;
    synth_config_default(&cfg);
    cfg.n_dialogues = dialogues;
    cfg.seed = 1;
    SynthStats st;
    double t0 = bench_now();
    if (synth_write(&cfg, corpus, NULL, NULL, &st)) return MELD_ERR;
    int utts = st.n_utts[0] + st.n_utts[1] + st.n_utts[2];
    printf("synthetic corpus: %d dialogues, %d utterances (%d/%d/%d train/dev/test), %.0f s of audio, %lld frames "
           "of %dx%d, %.1f MB, written in %.1f s\n",
           dialogues, utts, st.n_utts[0], st.n_utts[1], st.n_utts[2], st.audio_seconds, st.n_frames, cfg.image_size,
           cfg.image_size, st.bytes / 1e6, bench_now() - t0);
    Dataset ds;
    if (dataset_load(corpus, &ds, NULL)) return MELD_ERR;
    printf("prepare (4 frames of 64x64, 40 log-Mel bands), load %.2f:\n", load_average());
    PrepRun one, many;
    int rc = prepare_once(&ds, root, 1, &one);
    if (rc == MELD_OK && threads > 1) rc = prepare_once(&ds, root, threads, &many);
    dataset_free(&ds);
    if (rc != MELD_OK || threads == 1) return rc;
    printf("  speed-up %d threads vs 1: %.2fx\n", threads, one.seconds / many.seconds);
    *identical = caches_identical(&one, &many);
    return MELD_OK;
}

int bench_prepare(int argc, char **argv)
{
    int dialogues = 16, threads = 2;
    for (int i = 1; i < argc;) {
        const char *a = argv[i++], *v = i < argc ? argv[i] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        int bad;
        if (!strcmp(a, "--dialogues")) bad = parse_int(a, v, 3, 2000, &dialogues);
        else if (!strcmp(a, "--threads")) bad = parse_int(a, v, 1, 64, &threads);
        else {
            fprintf(stderr, "bench prepare: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (bad) return 2;
        i++; /* the option's value */
    }
    const char *tmp = getenv("TMPDIR");
    char root[ROOT_CAP];   /* short, so every path built on it fits PATH_CAP */
    if (snprintf(root, sizeof root, "%s/meld-bench-prepare-XXXXXX", tmp && *tmp ? tmp : "/tmp") >= (int)sizeof root) {
        fprintf(stderr, "bench prepare: TMPDIR is too long\n");
        return 1;
    }
    if (!mkdtemp(root)) {
        fprintf(stderr, "bench prepare: cannot create a folder %s: %s\n", root, strerror(errno));
        return 1;
    }
    bool identical = true;
    int rc = run_in(root, dialogues, threads, &identical);
    if (rc != MELD_OK) fprintf(stderr, "bench prepare: %s\n", meld_error());
    remove_tree(root, 0);
    return rc != MELD_OK ? 1 : identical ? 0 : 1;
}
