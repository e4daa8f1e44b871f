/* bench video, part 2: face detection per 1280x720 frame, meld-c against
 * OpenCV's detectMultiScale on the same frames and settings, and the
 * recall of both on the hand-labelled fixtures.
 *
 * Frames: every image listed in tests/fixtures/video/faces_truth.txt (real
 * photographs and video frames, see the README there), scaled to cover
 * 1280x720 and centre-cut, in RGB. Settings: OpenCV's
 * haarcascade_frontalface_default.xml, scaleFactor 1.1, minNeighbors 3, and
 * minSize 36 (5 % of 720, what meld's face crop searches) or none (every
 * face down to the 24-pixel window). Each contender gets the RGB frame and
 * converts it to grey itself. Threads: 1 and 2 (our pool, OpenCV's
 * cv2.setNumThreads). Timing: one warm-up pass, then `repeats` passes over
 * all frames; per frame, the median pass and the fastest; at one thread
 * also the process CPU time per frame, which other processes on a shared
 * machine disturb much less than the wall clock. meld-c at one thread is
 * also timed on each ISA path (tensor/cpu.h) down to the scalar reference.
 * OpenCV runs in benchmarks/opencv_detect.py with /usr/bin/python3; when
 * python3-opencv is missing the bench says so and shows ours alone. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchmarks/bench.h"
#include "tensor/cpu.h"
#include "tensor/error.h"
#include "tensor/threadpool.h"
#include "video/color.h"
#include "video/face_eval.h"
#include "video/haar.h"
#include "video/image.h"
#include "video/transform.h"

enum { FRAME_W = 1280, FRAME_H = 720, MAX_FRAMES = 32, MIN_FACE = 36 };
#define FIXTURES "tests/fixtures/video/"

static double wall_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    double median, min, cpu;   /* ms per frame; cpu: median pass, process CPU time */
} FrameTime;

/* The image scaled to cover FRAME_W x FRAME_H, centre-cut, RGB. */
static int make_frame(const Image *src, Image *out)
{
    Image rgb = {0}, big = {0};
    double s = fmax((double)FRAME_W / src->width, (double)FRAME_H / src->height);
    int w = (int)ceil(src->width * s), h = (int)ceil(src->height * s);
    int rc = image_convert(src, &rgb, 3);
    if (rc == MELD_OK) rc = image_resize(&rgb, w < FRAME_W ? FRAME_W : w, h < FRAME_H ? FRAME_H : h, &big);
    if (rc == MELD_OK)
        rc = image_crop(&big, (ImageRect){(big.width - FRAME_W) / 2, (big.height - FRAME_H) / 2, FRAME_W, FRAME_H}, out);
    image_free(&rgb);
    image_free(&big);
    return rc;
}

/* Our detections of one frame, kept for the agreement check. */
typedef struct {
    HaarDetection *d;
    int n;
} Found;

static int time_ours(const HaarCascade *c, const Image *frames, int n, int min_size, int repeats, Found *found,
                     FrameTime *t)
{
    HaarOptions o = haar_default_options();
    o.min_size = min_size;
    double wall[64], cpu[64];
    for (int rep = -1; rep < repeats; rep++) {
        double w0 = wall_now(), c0 = cpu_now();
        for (int i = 0; i < n; i++) {
            HaarDetection *d;
            int k;
            if (haar_detect(c, &frames[i], &o, &d, &k)) return MELD_ERR;
            if (rep == -1 && found) found[i] = (Found){d, k};
            else free(d);
        }
        if (rep >= 0) {
            wall[rep] = (wall_now() - w0) * 1e3 / n;
            cpu[rep] = (cpu_now() - c0) * 1e3 / n;
        }
    }
    qsort(wall, (size_t)repeats, sizeof wall[0], by_value);
    qsort(cpu, (size_t)repeats, sizeof cpu[0], by_value);
    *t = (FrameTime){wall[repeats / 2], wall[0], cpu[repeats / 2]};
    return MELD_OK;
}

/* ---- OpenCV -------------------------------------------------------------- */

/* benchmarks/opencv_detect.py next to the ./bench binary, else in the
 * working directory. */
static void script_path(char *buf, size_t cap)
{
    char exe[1024];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(buf, cap, "%s/benchmarks/opencv_detect.py", exe);
            if (access(buf, R_OK) == 0) return;
        }
    }
    snprintf(buf, cap, "benchmarks/opencv_detect.py");
}

typedef struct {
    FrameTime t;
    int same_frames;           /* frames whose faces equal ours */
    int found, total;          /* recall at full resolution on the fixtures */
    char version[32];
    int ok;
} OpenCvRun;

/* 1 when OpenCV's boxes of frame i ("N x y w h ...") are ours, in any order. */
static int same_boxes(const char *list, const Found *f)
{
    int n, used = 0;
    if (sscanf(list, "%d%n", &n, &used) != 1 || n != f->n) return 0;
    list += used;
    for (int k = 0; k < n; k++) {
        ImageRect r;
        if (sscanf(list, "%d %d %d %d%n", &r.x, &r.y, &r.width, &r.height, &used) != 4) return 0;
        list += used;
        int hit = 0;
        for (int j = 0; j < f->n && !hit; j++)
            hit = !memcmp(&r, &f->d[j].box, sizeof r);
        if (!hit) return 0;
    }
    return 1;
}

static void run_opencv(const char *frames_path, int n, int repeats, int threads, int min_size, const char *cascade,
                       const Found *ours, OpenCvRun *r)
{
    memset(r, 0, sizeof *r);
    char script[1200], cmd[3000];
    script_path(script, sizeof script);
    if (access("/usr/bin/python3", X_OK) != 0 || access(script, R_OK) != 0) {
        printf("  OpenCV: skipped (/usr/bin/python3 or %s not found)\n", script);
        return;
    }
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s' %d %d %d %d %d %d '%s' '%s' 2>&1", script, frames_path,
             FRAME_W, FRAME_H, n, repeats, threads, min_size, cascade, FIXTURES);
    FILE *p = popen(cmd, "r");
    char line[8192];
    int got = 0;
    while (p && fgets(line, sizeof line, p)) {
        int i, used;
        got |= sscanf(line, "frame_ms %lf %lf %lf", &r->t.median, &r->t.min, &r->t.cpu) == 3 ? 1 : 0;
        got |= sscanf(line, "recall %d %d", &r->found, &r->total) == 2 ? 2 : 0;
        if (sscanf(line, "opencv_version %31s", r->version) == 1) got |= 4;
        if (sscanf(line, "boxes %d%n", &i, &used) == 1 && i >= 0 && i < n && ours)
            r->same_frames += same_boxes(line + used, &ours[i]);
        if (!strncmp(line, "skip:", 5)) printf("  OpenCV: skipped (%.*s)\n", (int)strcspn(line + 6, "\n"), line + 6);
    }
    int status = p ? pclose(p) : -1;
    r->ok = got == 7 && status == 0;
    if (!r->ok && got != 0) printf("  OpenCV: skipped (the script failed, exit status %d)\n", status);
}

/* ---- recall of ours ---------------------------------------------------------- */

/* Labelled faces found at full resolution (min_size 0) and by the face
 * crop's search (faces >= 5 % of the shorter side). */
static int recall_ours(const HaarCascade *c, const BoxList *truth, int *full, int *crop, int *total)
{
    *full = *crop = *total = 0;
    for (int i = 0; i < truth->n; i++) {
        const BoxRecord *r = &truth->r[i];
        char path[256];
        snprintf(path, sizeof path, FIXTURES "%s", r->file);
        Image im;
        if (pnm_read(path, &im)) return MELD_ERR;
        int short_side = im.width < im.height ? im.width : im.height;
        for (int pass = 0; pass < 2; pass++) {
            HaarOptions o = haar_default_options();
            o.min_size = pass ? (int)lroundf(0.05f * (float)short_side) : 0;
            HaarDetection *d;
            int k;
            if (haar_detect(c, &im, &o, &d, &k)) {
                image_free(&im);
                return MELD_ERR;
            }
            ImageRect boxes[64];
            for (int j = 0; j < k && j < 64; j++) boxes[j] = d[j].box;
            int hits = faces_found(r->boxes, r->n, boxes, k < 64 ? k : 64, 0.5);
            *(pass ? crop : full) += hits;
            free(d);
        }
        *total += r->n;
        image_free(&im);
    }
    return MELD_OK;
}

/* ---- the benchmark ---------------------------------------------------------------- */

/* The frames for OpenCV: raw RGB, one after the other, in a temporary file
 * created exclusively (mkstemp: never an existing file or link). path holds
 * the template and gets the name. */
static int write_frames(char *path, const Image *frames, int n)
{
    int fd = mkstemp(path);
    if (fd < 0) return MELD_ERR;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        remove(path);
        return MELD_ERR;
    }
    const size_t bytes = (size_t)FRAME_W * FRAME_H * 3;
    int ok = 1;
    for (int i = 0; ok && i < n; i++) ok = fwrite(frames[i].pixels, 1, bytes, f) == bytes;
    if (fclose(f) != 0) ok = 0;
    if (!ok) remove(path);
    return ok ? MELD_OK : MELD_ERR;
}

static void free_found(Found *f, int n)
{
    for (int i = 0; f && i < n; i++) free(f[i].d);
}

static void print_row(const char *what, int threads, const FrameTime *ours, const OpenCvRun *cv)
{
    printf("  %-18s %d   %8.1f (min %6.1f)", what, threads, ours->median, ours->min);
    if (cv->ok)
        printf("   %8.1f (min %6.1f)   %5.2fx   same faces on %d frames", cv->t.median, cv->t.min,
               cv->t.median / ours->median, cv->same_frames);
    printf("\n");
}

int bench_video_faces(int repeats, int use_opencv)
{
    const char *cascade_path = haar_default_cascade_path();
    HaarCascade *c = cascade_path ? haar_load(cascade_path) : NULL;
    if (!c) {
        printf("face detection: skipped (no cascade: apt-get install opencv-data)\n");
        return 0;
    }
    BoxList truth;
    Image frames[MAX_FRAMES];
    int n = 0, rc = box_list_read(FIXTURES "faces_truth.txt", &truth);
    for (int i = 0; rc == MELD_OK && i < truth.n && n < MAX_FRAMES; i++) {
        char path[256];
        Image im;
        snprintf(path, sizeof path, FIXTURES "%s", truth.r[i].file);
        rc = pnm_read(path, &im);
        if (rc == MELD_OK) {
            frames[n] = (Image){0};
            rc = make_frame(&im, &frames[n]);
            n += rc == MELD_OK;
            image_free(&im);
        }
    }
    if (rc != MELD_OK) {
        fprintf(stderr, "bench video: %s (run from the repository root)\n", meld_error());
        for (int i = 0; i < n; i++) image_free(&frames[i]);
        haar_free(c);
        return 1;
    }
    char frames_path[64];
    snprintf(frames_path, sizeof frames_path, "/tmp/meld-bench-faces-XXXXXX");
    const int f = use_opencv && write_frames(frames_path, frames, n) == MELD_OK;
    if (use_opencv && !f) printf("  OpenCV: skipped (cannot write %s)\n", frames_path);

    printf("\nface detection: %d frames of %dx%d RGB (tests/fixtures/video/faces_truth.txt's images scaled to fill "
           "the frame),\n%s, scaleFactor 1.1, minNeighbors 3; ISA %s; ms per frame, median of %d passes\n",
           n, FRAME_W, FRAME_H, cascade_path, cpu_isa_name(cpu_isa()), repeats);
    printf("  %-18s thr  %-21s   %-21s   speed-up\n", "", "meld-c", f ? "OpenCV" : "");
    const int thread_counts[2] = {1, 2};
    const int sizes[2] = {MIN_FACE, 0};
    FrameTime cpu1[2] = {{0, 0, 0}, {0, 0, 0}};
    OpenCvRun cv1[2];
    memset(cv1, 0, sizeof cv1);
    for (int si = 0; si < 2 && rc == MELD_OK; si++) {
        for (int ti = 0; ti < 2 && rc == MELD_OK; ti++) {
            threadpool_set_threads(thread_counts[ti]);
            Found found[MAX_FRAMES];
            memset(found, 0, sizeof found);
            FrameTime ours;
            OpenCvRun cv;
            memset(&cv, 0, sizeof cv);
            rc = time_ours(c, frames, n, sizes[si], repeats, found, &ours);
            if (rc == MELD_OK && f) run_opencv(frames_path, n, repeats, thread_counts[ti], sizes[si], cascade_path, found, &cv);
            if (rc == MELD_OK) {
                char what[40];
                snprintf(what, sizeof what, sizes[si] ? "minSize %d" : "full (minSize 0)", sizes[si]);
                print_row(what, thread_counts[ti], &ours, &cv);
                if (ti == 0) {
                    cpu1[si] = ours;
                    cv1[si] = cv;
                }
            }
            free_found(found, n);
        }
    }
    threadpool_set_threads(0);
    if (rc == MELD_OK) {
        printf("  process CPU time per frame at 1 thread (steadier on a loaded machine):\n");
        for (int si = 0; si < 2; si++) {
            printf("  %-18s     meld-c %6.1f ms", sizes[si] ? "minSize 36" : "full (minSize 0)", cpu1[si].cpu);
            if (cv1[si].ok) printf("   OpenCV %6.1f ms   %5.2fx", cv1[si].t.cpu, cv1[si].t.cpu / cpu1[si].cpu);
            printf("\n");
        }
    }
    /* the same search on each ISA path, down to the scalar reference */
    const CpuIsa active = cpu_isa();
    threadpool_set_threads(1);
    for (int isa = (int)active; isa >= 0 && rc == MELD_OK; isa--) {
        cpu_set_isa((CpuIsa)isa);
        FrameTime t;
        rc = time_ours(c, frames, n, MIN_FACE, repeats, NULL, &t);
        if (rc == MELD_OK)
            printf("  meld-c minSize 36, 1 thread, ISA %-7s %6.1f ms/frame (min %.1f), CPU %.1f ms\n",
                   cpu_isa_name((CpuIsa)isa), t.median, t.min, t.cpu);
    }
    cpu_set_isa(active);
    threadpool_set_threads(0);
    int full = 0, crop = 0, total = 0;
    if (rc == MELD_OK) rc = recall_ours(c, &truth, &full, &crop, &total);
    if (rc == MELD_OK) {
        printf("\nrecall on the fixtures (%d hand-labelled faces in %d images, a detection of IoU >= 0.5 finds a "
               "face):\n  meld-c, full resolution %d/%d; meld-c, faces >= 5 %% (the face crop) %d/%d",
               total, truth.n, full, total, crop, total);
        if (cv1[1].ok) printf("; OpenCV %s, full resolution %d/%d", cv1[1].version, cv1[1].found, cv1[1].total);
        printf("\n");
    }
    if (rc != MELD_OK) fprintf(stderr, "bench video: %s\n", meld_error());
    if (f) remove(frames_path);
    for (int i = 0; i < n; i++) image_free(&frames[i]);
    box_list_free(&truth);
    haar_free(c);
    return rc == MELD_OK ? 0 : 1;
}
