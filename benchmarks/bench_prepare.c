/* ./bench prepare: `meld prepare` on clips in MELD's real format, beside
 * the ffmpeg-decode-only limit and a Python (OpenCV + torchaudio) version
 * of the same features, in the same run.
 *
 * The corpus (written once, kept with --corpus DIR):
 *   the synthetic corpus's CSVs and faces (pipeline/synth), each clip
 *   re-encoded by the ffmpeg program as MELD's are: H.264 1280x720 at
 *   24000/1001 fps, ~1.7 Mbit/s (the size of MELD.Raw: 10 GB for 13,708
 *   clips of 3.2 s on average), AAC 48 kHz stereo 128 kbit/s; the face
 *   (480x480) moves over a noisy background (x264 -preset veryfast).
 *   Durations are drawn from MELD's own EndTime - StartTime
 *   (the CSVs in ../shared/meld or --meld DIR, when present; otherwise a
 *   lognormal with MELD's median 2.40 s and sigma 0.77), clamped to
 *   0.3..30 s; DIR/durations.txt lists them.
 * Each round, in this order (so every variant sees the same machine
 * state, round after round; figures are medians over --repeats rounds):
 *   ours 1T, ours 2T     prepare_run into an empty cache, 1 and 2 threads
 *                        (the default options: 4 frames of 64x64 with the
 *                        Haar face cascade, 40 log-Mel bands, functionals)
 *   ffmpeg 1T            `ffmpeg -threads 1 -i CLIP -f null -`, one clip
 *                        after another: decoding alone, nothing else
 *   ffmpeg 2T            the best of two ways to use 2 cores: two such
 *                        processes at once, and one at a time with
 *                        ffmpeg's own 2 decoding threads
 *   python 1P, 2P        benchmarks/opencv_prepare.py, 1 and 2 processes
 * Reported per variant: clips/s and seconds of media per second (wall
 * clock), CPU seconds per clip (ours + children, from getrusage: steadier
 * than the wall clock on a shared machine), and for ours the fraction of
 * the ffmpeg-decode-only rate at the same thread count, the speed-up over
 * Python, and the projected time for all of MELD (13,708 clips, 12.07 h
 * of media by its CSVs) at that rate. The caches of the 1- and 2-thread
 * runs are compared byte for byte. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchmarks/bench.h"
#include "benchmarks/kernel_timing.h"
#include "pipeline/data/dataset.h"
#include "pipeline/features/ffmpeg.h"
#include "pipeline/features/prepare.h"
#include "pipeline/synth/synth.h"
#include "tensor/error.h"
#include "tensor/rng.h"
#include "tensor/threadpool.h"
#include "video/face.h"
#include "video/haar.h"

enum { PATH_CAP = 1200, MAX_CLIPS = 4096, MAX_REPEATS = 15, MAX_DEPTH = 8 };
#define MELD_CLIPS 13708
#define MELD_HOURS 12.07   /* sum of EndTime - StartTime over MELD's three CSVs */

/* Removes path and everything under it (no symlink is followed). */
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
    static char ba[65536], bb[65536];
    while (same == 1) {
        size_t na = fread(ba, 1, sizeof ba, fa), nb = fread(bb, 1, sizeof bb, fb);
        if (na != nb || memcmp(ba, bb, na)) same = 0;
        else if (na == 0) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

/* CPU seconds of this process and its waited-for children. */
static double cpu_seconds(void)
{
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    double s = 0;
    const struct rusage *r[2] = {&self, &kids};
    for (int i = 0; i < 2; i++)
        s += r[i]->ru_utime.tv_sec + r[i]->ru_stime.tv_sec + 1e-6 * (r[i]->ru_utime.tv_usec + r[i]->ru_stime.tv_usec);
    return s;
}

/* snprintf for paths and commands; they are far shorter than the buffers. */
static void pathf(char *buf, size_t cap, const char *fmt, ...) MELD_PRINTF(3, 4);
static void pathf(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

/* ---- the corpus ---------------------------------------------------------------- */

typedef struct {
    char paths[MAX_CLIPS][256];
    double seconds[MAX_CLIPS];
    int n;
    double media;              /* seconds of media in all */
} ClipList;

/* MELD's utterance durations (ms > 0), or none. */
static int meld_durations(const char *dir, int **ms, int *n)
{
    *ms = NULL;
    *n = 0;
    Dataset ds;
    DatasetOptions o = {.lenient = 1, .skip_clips = 1};
    if (!dir || dataset_load(dir, &ds, &o)) return 0;
    *ms = malloc(sizeof(int) * (dataset_n_utterances(&ds) + 1));
    for (int s = 0; *ms && s < N_SPLITS; s++)
        for (size_t i = 0; i < ds.split[s].n_utts; i++) {
            const Utterance *u = &ds.split[s].utts[i];
            if (u->end_ms > u->start_ms) (*ms)[(*n)++] = u->end_ms - u->start_ms;
        }
    dataset_free(&ds);
    return *n > 0;
}

static double draw_duration(Rng *r, const int *ms, int n)
{
    double d;
    if (n > 0) {
        d = ms[rng_u32(r) % (uint32_t)n] / 1000.0;
    } else {   /* lognormal: median e^0.876 = 2.40 s, sigma 0.772 (MELD's fit) */
        d = exp(0.876 + 0.772 * rng_normal(r));
    }
    return d < 0.3 ? 0.3 : d > 30 ? 30 : d;
}

typedef struct {
    char src[MAX_CLIPS][PATH_CAP], dst[MAX_CLIPS][PATH_CAP];
    double seconds[MAX_CLIPS];
    int n, failed;
    char error[600];
} Encodes;

/* One clip re-encoded as MELD's are (see the top of the file). */
static void encode_task(void *ctx, int i, int thread)
{
    (void)thread;
    Encodes *e = ctx;
    if (e->failed) return;
    char y4m[PATH_CAP + 8], wav[PATH_CAP + 8], dur[32];
    pathf(y4m, sizeof y4m, "%s.y4m", e->src[i]);
    pathf(wav, sizeof wav, "%s.wav", e->src[i]);
    pathf(dur, sizeof dur, "%.3f", e->seconds[i]);
    const char *argv[] = {"ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-stream_loop", "-1", "-i", y4m,
                          "-stream_loop", "-1", "-i", wav, "-filter_complex",
                          "color=c=0x506070:s=1280x720:r=24000/1001,noise=alls=10:allf=t+u[bg];"
                          "[0:v]scale=480:480,fps=24000/1001[f];"
                          "[bg][f]overlay=x=400+60*sin(t):y=120:shortest=1,format=yuv420p[v]",
                          "-map", "[v]", "-map", "1:a", "-t", dur, "-c:v", "libx264", "-preset", "veryfast", "-b:v",
                          "1700k", "-threads", "1", "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2",
                          e->dst[i], NULL};
    FfmpegProc p;
    if ((ffmpeg_start(&p, argv, e->dst[i], 900, 0) || ffmpeg_finish(&p, 0)) && !e->failed) {
        e->failed = 1;
        pathf(e->error, sizeof e->error, "%s", meld_error());
    }
}

static int copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    char buf[65536];
    size_t n;
    int ok = a && b;
    while (ok && (n = fread(buf, 1, sizeof buf, a)) > 0) ok = fwrite(buf, 1, n, b) == n;
    if (a) fclose(a);
    if (b && fclose(b)) ok = 0;
    return ok ? MELD_OK : meld_errorf("%s: cannot copy to %s", from, to);
}

static int write_corpus(const char *dir, int dialogues, const char *meld_dir)
{
    char src[PATH_CAP];
    pathf(src, sizeof src, "%s/source", dir);
    SynthConfig cfg;
    synth_config_default(&cfg);
    cfg.n_dialogues = dialogues;
    cfg.seed = 1;
    cfg.image_size = 256;
    SynthStats st;
    printf("writing the corpus: %d dialogues of synthetic faces and voices, re-encoded as 1280x720 H.264 + AAC\n",
           dialogues);
    if (mkdir(dir, 0777) && errno != EEXIST) return meld_errorf("%s: cannot create: %s", dir, strerror(errno));
    if (synth_write(&cfg, src, NULL, NULL, &st)) return MELD_ERR;
    int *ms, n_ms;
    bool real = meld_durations(meld_dir, &ms, &n_ms);
    printf("  durations: %s\n", real ? "drawn from MELD's EndTime - StartTime" : "lognormal, median 2.40 s, sigma 0.77 "
                                                                                   "(no MELD CSVs found)");
    static Encodes e;
    memset(&e, 0, sizeof e);
    Rng r;
    rng_seed(&r, 17, 3);
    Dataset ds;
    if (dataset_load(src, &ds, NULL)) {
        free(ms);
        return MELD_ERR;
    }
    for (int s = 0; s < N_SPLITS; s++) {
        char folder[PATH_CAP], from[PATH_CAP], to[PATH_CAP];
        pathf(folder, sizeof folder, "%s/%s", dir, synth_split_folder(s));
        mkdir(folder, 0777);
        for (size_t i = 0; i < ds.split[s].n_utts && e.n < MAX_CLIPS; i++) {
            const Utterance *u = &ds.split[s].utts[i];
            pathf(e.src[e.n], PATH_CAP, "%s/%s/dia%d_utt%d", src, synth_split_folder(s), u->dialogue_id, u->utterance_id);
            pathf(e.dst[e.n], PATH_CAP, "%s/dia%d_utt%d.mp4", folder, u->dialogue_id, u->utterance_id);
            e.seconds[e.n++] = draw_duration(&r, ms, real ? n_ms : 0);
        }
        pathf(from, sizeof from, "%s/%s", src, synth_split_csv(s));
        pathf(to, sizeof to, "%s/%s", dir, synth_split_csv(s));
        if (copy_file(from, to)) {
            dataset_free(&ds);
            free(ms);
            return MELD_ERR;
        }
    }
    dataset_free(&ds);
    free(ms);
    double t0 = bench_now();
    threadpool_parallel_for(e.n, encode_task, &e);
    if (e.failed) return meld_errorf("%s", e.error);
    char list[PATH_CAP];
    pathf(list, sizeof list, "%s/durations.txt", dir);
    FILE *f = fopen(list, "w");
    for (int i = 0; f && i < e.n; i++) fprintf(f, "%s %.3f\n", strrchr(e.dst[i], '/') + 1, e.seconds[i]);
    if (!f || fclose(f)) return meld_errorf("%s: cannot write", list);
    remove_tree(src, 0);
    printf("  %d clips encoded in %.0f s\n", e.n, bench_now() - t0);
    return MELD_OK;
}

/* The corpus's clips (from its dataset) and their durations. */
static int list_clips(const char *dir, int max_clips, ClipList *cl, Dataset *ds)
{
    if (dataset_load(dir, ds, NULL)) return MELD_ERR;
    char list[PATH_CAP], name[256];
    pathf(list, sizeof list, "%s/durations.txt", dir);
    FILE *f = fopen(list, "r");
    if (!f) return meld_errorf("%s: missing: %s is not a corpus this bench wrote", list, dir);
    double sec;
    cl->n = 0;
    cl->media = 0;
    for (int s = 0; s < N_SPLITS; s++)
        for (size_t i = 0; i < ds->split[s].n_utts && cl->n < MAX_CLIPS; i++)
            if (ds->split[s].utts[i].clip_path)
                pathf(cl->paths[cl->n++], sizeof cl->paths[0], "%s", ds->split[s].utts[i].clip_path);
    while (fscanf(f, "%255s %lf", name, &sec) == 2)
        for (int i = 0; i < cl->n; i++)
            if (!strcmp(strrchr(cl->paths[i], '/') + 1, name)) cl->seconds[i] = sec;
    fclose(f);
    if (max_clips > 0 && max_clips < cl->n) return meld_errorf("--clips %d: the corpus has %d; use --dialogues", max_clips, cl->n);
    for (int i = 0; i < cl->n; i++) cl->media += cl->seconds[i];
    return MELD_OK;
}

/* ---- the variants --------------------------------------------------------------- */

typedef struct {
    const char *name;
    double wall[MAX_REPEATS], cpu[MAX_REPEATS];
    int runs;
    bool skipped;
} Variant;

static void record(Variant *v, double wall, double cpu)
{
    v->wall[v->runs] = wall;
    v->cpu[v->runs++] = cpu;
}

static int ours(const Dataset *ds, const char *cache, int threads, Variant *v)
{
    remove_tree(cache, 0);
    if (threadpool_set_threads(threads)) return MELD_ERR;
    PrepareOptions po = prepare_default_options();
    po.cache_dir = cache;
    PrepareResult res;
    double c0 = cpu_seconds(), t0 = bench_now();
    if (prepare_run(ds, &po, &res)) return MELD_ERR;
    record(v, bench_now() - t0, cpu_seconds() - c0);
    return MELD_OK;
}

typedef struct {
    const ClipList *cl;
    const char *threads;
    int failed;
} DecodeOnly;

static void decode_only_task(void *ctx, int i, int thread)
{
    (void)thread;
    DecodeOnly *d = ctx;
    char url[300];
    pathf(url, sizeof url, "file:%s", d->cl->paths[i]);
    const char *argv[] = {"ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-threads", d->threads, "-i", url, "-f",
                          "null", "-", NULL};
    FfmpegProc p;
    if (ffmpeg_start(&p, argv, d->cl->paths[i], 600, 0) || ffmpeg_finish(&p, 0)) d->failed = 1;
}

/* `ffmpeg -threads T -i CLIP -f null -` for every clip, `processes` at once. */
static int decode_only(const ClipList *cl, int processes, const char *threads, Variant *v)
{
    DecodeOnly d = {cl, threads, 0};
    threadpool_set_threads(processes);
    double c0 = cpu_seconds(), t0 = bench_now();
    threadpool_parallel_for(cl->n, decode_only_task, &d);
    record(v, bench_now() - t0, cpu_seconds() - c0);
    return d.failed ? meld_errorf("ffmpeg could not decode a clip (decode-only run)") : MELD_OK;
}

static int python(const char *list, int processes, Variant *v)
{
    if (v->skipped) return MELD_OK;
    FaceCropOptions fo = face_crop_default_options();
    const char *cascade = haar_default_cascade_path();
    char cmd[PATH_CAP * 2], line[256];
    pathf(cmd, sizeof cmd, "/usr/bin/python3 benchmarks/opencv_prepare.py %s %d 4 64 40 %d %g %s 2>&1", list,
             processes, fo.detect_side, fo.min_face_frac, cascade ? cascade : "none");
    double c0 = cpu_seconds(), secs = -1;
    FILE *p = popen(cmd, "r");
    while (p && fgets(line, sizeof line, p))
        if (sscanf(line, "python_prepare_s %lf", &secs) != 1) printf("  python: %s", line);
    int status = p ? pclose(p) : -1;
    if (secs < 0) {
        printf("  python reference skipped (exit status %d): OpenCV, torch or torchaudio missing?\n", status);
        v->skipped = true;
        return MELD_OK;
    }
    record(v, secs, cpu_seconds() - c0);
    return MELD_OK;
}

static double median(const double *x, int n)
{
    double s[MAX_REPEATS];
    memcpy(s, x, sizeof(double) * (size_t)n);
    return bench_median(s, n);
}

static void report(const Variant *v, const ClipList *cl)
{
    if (!v->runs) {
        printf("  %-28s skipped\n", v->name);
        return;
    }
    double w = median(v->wall, v->runs), c = median(v->cpu, v->runs);
    printf("  %-28s %7.2f s  %6.2f clips/s  %6.2f s media/s  %6.3f CPU s/clip\n", v->name, w, cl->n / w, cl->media / w,
           c / cl->n);
}

/* ---- the command ----------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: bench prepare [--corpus DIR] [--dialogues N] [--repeats R] [--meld DIR] [--no-python]\n"
               "\n"
               "MELD-format clips (1280x720 H.264 + 48 kHz stereo AAC, MELD's durations): meld prepare at 1 and 2\n"
               "threads, beside ffmpeg decoding alone and a Python OpenCV + torchaudio version, alternating,\n"
               "medians of R rounds (default 3). --corpus DIR keeps the clips (written there once, default: a\n"
               "temporary folder); --dialogues N sizes a new corpus (default 4, about 40 clips); --meld DIR\n"
               "holds MELD's CSVs for the durations (default ../shared/meld).\n");
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

typedef struct {
    Variant ours1, ours2, ff1, ff2par, ff2thr, py1, py2;
} Variants;

static int run_round(const Dataset *ds, const ClipList *cl, const char *root, const char *list, Variants *v)
{
    char c1[PATH_CAP], c2[PATH_CAP];
    pathf(c1, sizeof c1, "%s/cache-1t", root);
    pathf(c2, sizeof c2, "%s/cache-2t", root);
    if (ours(ds, c1, 1, &v->ours1) || ours(ds, c2, 2, &v->ours2)) return MELD_ERR;
    if (decode_only(cl, 1, "1", &v->ff1) || decode_only(cl, 2, "1", &v->ff2par) || decode_only(cl, 1, "2", &v->ff2thr))
        return MELD_ERR;
    if (python(list, 1, &v->py1) || python(list, 2, &v->py2)) return MELD_ERR;
    printf("  round %d: ours %.1f / %.1f s, ffmpeg %.1f / %.1f / %.1f s%s\n", v->ours1.runs, v->ours1.wall[v->ours1.runs - 1],
           v->ours2.wall[v->ours2.runs - 1], v->ff1.wall[v->ff1.runs - 1], v->ff2par.wall[v->ff2par.runs - 1],
           v->ff2thr.wall[v->ff2thr.runs - 1], v->py1.skipped ? "" : ", python measured");
    return MELD_OK;
}

static void summary(const Variants *v, const ClipList *cl, const char *root)
{
    printf("\nmedians over %d rounds, %d clips, %.1f s of media:\n", v->ours1.runs, cl->n, cl->media);
    const Variant *all[] = {&v->ours1, &v->ours2, &v->ff1, &v->ff2par, &v->ff2thr, &v->py1, &v->py2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) report(all[i], cl);
    double o1 = median(v->ours1.wall, v->ours1.runs), o2 = median(v->ours2.wall, v->ours2.runs);
    double f1 = median(v->ff1.wall, v->ff1.runs), fp = median(v->ff2par.wall, v->ff2par.runs),
           ft = median(v->ff2thr.wall, v->ff2thr.runs), f2 = fp < ft ? fp : ft;
    printf("\nours as a fraction of the ffmpeg-decode-only rate: %.2f at 1 thread, %.2f at 2 (its best 2-core way: %s)\n",
           f1 / o1, f2 / o2, fp < ft ? "two processes" : "ffmpeg's threads");
    if (v->py1.runs && v->py2.runs)
        printf("ours over Python (OpenCV + torchaudio): %.1fx at 1 thread/process, %.1fx at 2\n",
               median(v->py1.wall, v->py1.runs) / o1, median(v->py2.wall, v->py2.runs) / o2);
    double rate2 = cl->media / o2;
    printf("all of MELD (%d clips, %.2f h of media) at the 2-thread rate: %.1f h (%.1f h by clip count)\n", MELD_CLIPS,
           MELD_HOURS, MELD_HOURS * 3600 / rate2 / 3600, MELD_CLIPS / (cl->n / o2) / 3600);
    bool same = true;
    for (int s = 0; s < N_SPLITS; s++) {
        char a[PATH_CAP + 32], b[PATH_CAP + 32];
        pathf(a, sizeof a, "%s/cache-1t/%s.meldcache", root, split_name(s));
        pathf(b, sizeof b, "%s/cache-2t/%s.meldcache", root, split_name(s));
        same = same && same_bytes(a, b) == 1;
    }
    printf("caches of the 1- and 2-thread runs: %s\n", same ? "identical" : "DIFFERENT");
}

static int bench_in(const char *root, const char *corpus, int dialogues, int repeats, const char *meld_dir, bool py)
{
    char marker[PATH_CAP];
    pathf(marker, sizeof marker, "%s/durations.txt", corpus);
    if (access(marker, F_OK) != 0 && write_corpus(corpus, dialogues, meld_dir)) return MELD_ERR;
    static ClipList cl;
    Dataset ds;
    if (list_clips(corpus, 0, &cl, &ds)) return MELD_ERR;
    char list[PATH_CAP];
    pathf(list, sizeof list, "%s/clips.txt", root);
    FILE *f = fopen(list, "w");
    for (int i = 0; f && i < cl.n; i++) fprintf(f, "%s\n", cl.paths[i]);
    if (!f || fclose(f)) {
        dataset_free(&ds);
        return meld_errorf("%s: cannot write", list);
    }
    printf("%d clips, %.1f s of media (mean %.2f s), %s\n", cl.n, cl.media, cl.media / cl.n, corpus);
    static Variants v = {{.name = "meld prepare, 1 thread"},    {.name = "meld prepare, 2 threads"},
                         {.name = "ffmpeg decode only, 1T"},     {.name = "ffmpeg decode only, 2 procs"},
                         {.name = "ffmpeg decode only, 2 thr"},  {.name = "python (OpenCV), 1 process"},
                         {.name = "python (OpenCV), 2 procs"}};
    v.py1.skipped = v.py2.skipped = !py;
    int rc = MELD_OK;
    for (int r = 0; rc == MELD_OK && r < repeats; r++) rc = run_round(&ds, &cl, root, list, &v);
    if (rc == MELD_OK) summary(&v, &cl, root);
    dataset_free(&ds);
    return rc;
}

int bench_prepare(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);   /* rounds take minutes: show each as it ends */
    int dialogues = 4, repeats = 3;
    const char *corpus = NULL, *meld_dir = "../shared/meld";
    bool py = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        if (!strcmp(a, "--no-python")) { py = false; continue; }
        if (!strcmp(a, "--dialogues")) bad = parse_int(a, v, 3, 400, &dialogues);
        else if (!strcmp(a, "--repeats")) bad = parse_int(a, v, 1, MAX_REPEATS, &repeats);
        else if (!strcmp(a, "--corpus") && v) corpus = v;
        else if (!strcmp(a, "--meld") && v) meld_dir = v;
        else {
            fprintf(stderr, "bench prepare: unknown option or missing value '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (bad) return 2;
        i++;
    }
    if (!ffmpeg_available("ffmpeg")) {
        fprintf(stderr, "bench prepare: needs the ffmpeg program (apt-get install ffmpeg)\n");
        return 1;
    }
    const char *tmp = getenv("TMPDIR");
    char root[512], own[PATH_CAP];
    if (snprintf(root, sizeof root, "%s/meld-bench-prepare-XXXXXX", tmp && *tmp ? tmp : "/tmp") >= (int)sizeof root ||
        !mkdtemp(root)) {
        fprintf(stderr, "bench prepare: cannot create a temporary folder\n");
        return 1;
    }
    pathf(own, sizeof own, "%s/corpus", root);
    int rc = bench_in(root, corpus ? corpus : own, dialogues, repeats, meld_dir, py);
    if (rc != MELD_OK) fprintf(stderr, "bench prepare: %s\n", meld_error());
    remove_tree(root, 0);
    return rc != MELD_OK;
}
