#include "pipeline/features/clip.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio/resample.h"
#include "pipeline/features/decode.h"
#include "pipeline/features/ffmpeg.h"
#include "tensor/error.h"
#include "tensor/input_file.h"
#include "video/color.h"
#include "video/sample.h"
#include "video/y4m.h"

#define CLIP_PATH_MAX 1024
#define CLIP_MAX_FOLDER_FRAMES 100000

ClipOptions clip_default_options(void)
{
    return (ClipOptions){.k = 4, .want_audio = 1, .sample_rate = 16000, .timeout_s = 120.0, .ffmpeg = "ffmpeg"};
}

const char *clip_problem_name(int problem)
{
    static const char *const names[CLIP_N_PROBLEMS] = {
        [CLIP_OK] = "usable",           [CLIP_NO_FILE] = "no clip file",       [CLIP_UNREADABLE] = "unreadable clip",
        [CLIP_DAMAGED] = "damaged clip", [CLIP_NO_VIDEO] = "no video stream",   [CLIP_NO_AUDIO] = "no audio stream",
        [CLIP_ZERO_LENGTH] = "zero length", [CLIP_NO_TOOL] = "missing tool",
    };
    return problem >= 0 && problem < CLIP_N_PROBLEMS ? names[problem] : "?";
}

void clip_free(Clip *c)
{
    audio_free(&c->audio);
    for (int i = 0; i < c->n_frames; i++) image_free(&c->frames[i]);
    free(c->frames);
    free(c->frame_index);
    memset(c, 0, sizeof *c);
}

int clip_is_appledouble(const char *path)
{
    FILE *fp = input_file_fopen(path);
    if (!fp) return 0;
    unsigned char m[4];
    int is = fread(m, 1, 4, fp) == 4 && m[0] == 0x00 && m[1] == 0x05 && m[2] == 0x16 && m[3] == 0x07;
    fclose(fp);
    return is;
}

/* ---- small path helpers --------------------------------------------------- */

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A companion file (x.y4m beside x.wav) that is there but not a folder:
 * the reader then refuses it by name if it is not a regular file. */
static int is_present(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && !S_ISDIR(st.st_mode);
}

static const char *extension(const char *path)
{
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    return (dot && (!slash || dot > slash)) ? dot : "";
}

/* stem + ext into buf ("a/b.wav" with ".y4m" -> "a/b.y4m"). */
static int with_extension(char *buf, size_t cap, const char *path, const char *ext)
{
    size_t stem = strlen(path) - strlen(extension(path));
    int n = snprintf(buf, cap, "%.*s%s", (int)stem, path, ext);
    if (n < 0 || (size_t)n >= cap) return meld_errorf("%s: path too long", path);
    return MELD_OK;
}

static int is_image_name(const char *name)
{
    const char *e = extension(name);
    return !strcasecmp(e, ".pgm") || !strcasecmp(e, ".ppm") || !strcasecmp(e, ".pnm");
}

int clip_is_regular_file(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return meld_errorf("%s: %s", path, errno == ENOENT ? "no such file" : strerror(errno)), 0;
    if (S_ISREG(st.st_mode)) return 1;
    meld_errorf("%s: is %s, not a clip", path, input_file_kind(st.st_mode));
    return 0;
}

/* ---- output buffers ---------------------------------------------------------- */

int clip_alloc_frames(Clip *c, int k)
{
    c->frames = meld_calloc((size_t)k, sizeof(Image), "clip frames");
    c->frame_index = meld_calloc((size_t)k, sizeof(long), "clip frame indices");
    if (!c->frames || !c->frame_index) return MELD_ERR;
    c->n_frames = k;
    return MELD_OK;
}

/* When the source ran short of frames (it ended before the last chosen
 * index), repeat the last frame read; with none at all, fail. */
int clip_fill_missing(Clip *c, int got, const char *path)
{
    if (got == 0) return meld_errorf("%s: no video frames decoded", path);
    if (got < c->n_frames)
        meld_warnf("%s: only %d of %d sampled frames decoded; repeating the last", path, got, c->n_frames);
    for (int i = got; i < c->n_frames; i++) {
        if (image_copy(&c->frames[i], &c->frames[got - 1])) return MELD_ERR;
        c->frame_index[i] = c->frame_index[got - 1];
    }
    return MELD_OK;
}

/* ---- audio ------------------------------------------------------------------- */

/* 16-bit little-endian PCM -> float in [-1, 1). */
int clip_audio_from_pcm16(const uint8_t *b, size_t bytes, int rate, Audio *a)
{
    size_t n = bytes / 2;
    a->samples = meld_malloc(sizeof(float) * (n ? n : 1), "clip audio");
    if (!a->samples) return MELD_ERR;
    for (size_t i = 0; i < n; i++) a->samples[i] = (float)(int16_t)(b[2 * i] | (b[2 * i + 1] << 8)) / 32768.0f;
    a->n_samples = n;
    a->sample_rate = rate;
    return MELD_OK;
}

/* A .wav file, resampled (audio/resample.h) when its rate is not the one asked. */
static int load_wav(const char *wav, const ClipOptions *opt, Clip *c)
{
    if (wav_read(wav, &c->audio)) return MELD_ERR;
    /* The cap ffmpeg's output has (CLIP_MAX_SECONDS), for WAVs too. */
    if (c->audio.n_samples / (size_t)c->audio.sample_rate > CLIP_MAX_SECONDS)
        return meld_errorf("%s: %zu s of audio, longer than a clip may be (%d s)", wav,
                           c->audio.n_samples / (size_t)c->audio.sample_rate, CLIP_MAX_SECONDS);
    if (opt->sample_rate <= 0 || c->audio.sample_rate == opt->sample_rate) return MELD_OK;
    float *y;
    size_t n;
    if (audio_resample(c->audio.samples, c->audio.n_samples, c->audio.sample_rate, opt->sample_rate, &y, &n))
        return meld_error_context("%s", wav);
    free(c->audio.samples);
    c->audio.samples = y;
    c->audio.n_samples = n;
    c->audio.sample_rate = opt->sample_rate;
    return MELD_OK;
}

/* ---- frames without ffmpeg ----------------------------------------------------- */

static int load_y4m(const char *path, int k, Clip *c)
{
    Y4mReader r;
    if (y4m_open(&r, path)) return MELD_ERR;
    long n = y4m_count_frames(&r);
    y4m_close(&r);
    if (n < 0) return MELD_ERR;
    if (n == 0) return meld_errorf("%s: no frames", path);
    c->total_frames = n;
    if (clip_alloc_frames(c, k)) return MELD_ERR;
    frame_sample_indices(n, k, c->frame_index);
    if (y4m_open(&r, path)) return MELD_ERR;
    /* walk the stream once; a frame chosen twice (n < k) is copied */
    int got = 0;
    Image cur = {0};
    for (long i = 0; got < k; i++) {
        int rc = y4m_read_frame(&r, &cur, 3);
        if (rc <= 0) {
            image_free(&cur);
            y4m_close(&r);
            return rc < 0 ? MELD_ERR : clip_fill_missing(c, got, path);
        }
        while (got < k && c->frame_index[got] == i) {
            if (image_copy(&c->frames[got], &cur)) {
                image_free(&cur);
                y4m_close(&r);
                return MELD_ERR;
            }
            got++;
        }
    }
    image_free(&cur);
    y4m_close(&r);
    return MELD_OK;
}

/* strcmp, except runs of digits compare as numbers ("f2" < "f10"). */
static int natural_cmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
            while (*a == '0') a++;
            while (*b == '0') b++;
            size_t la = strspn(a, "0123456789"), lb = strspn(b, "0123456789");
            if (la != lb) return la < lb ? -1 : 1;
            int d = strncmp(a, b, la);
            if (d) return d;
            a += la;
            b += lb;
        } else {
            if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
            a++;
            b++;
        }
    }
    return (unsigned char)*a - (unsigned char)*b;
}

static int cmp_names(const void *x, const void *y)
{
    return natural_cmp(*(char *const *)x, *(char *const *)y);
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* Lists dir's .pgm/.ppm/.pnm files (hidden and "._" files skipped), sorted. */
static int list_frames(const char *dir, char ***names_out, int *n_out)
{
    DIR *d = opendir(dir);
    if (!d) return meld_errorf("%s: cannot open folder: %s", dir, strerror(errno));
    char **names = NULL;
    int n = 0, cap = 0, rc = MELD_OK;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || !is_image_name(e->d_name)) continue;
        if (n == CLIP_MAX_FOLDER_FRAMES) {
            rc = meld_errorf("%s: more than %d frames", dir, CLIP_MAX_FOLDER_FRAMES);
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **g = realloc(names, sizeof(char *) * (size_t)cap);
            if (!g) {
                rc = meld_errorf("%s: out of memory listing frames", dir);
                break;
            }
            names = g;
        }
        names[n] = strdup(e->d_name);
        if (!names[n]) {
            rc = meld_errorf("%s: out of memory listing frames", dir);
            break;
        }
        n++;
    }
    closedir(d);
    if (rc) {
        free_names(names, n);
        return MELD_ERR;
    }
    if (n == 0) {
        free(names);
        return meld_errorf("%s: no .pgm/.ppm frames in the folder", dir);
    }
    qsort(names, (size_t)n, sizeof(char *), cmp_names);
    *names_out = names;
    *n_out = n;
    return MELD_OK;
}

static int load_image_rgb(const char *path, Image *out)
{
    Image im = {0};
    if (pnm_read(path, &im)) return MELD_ERR;
    int rc = image_to_rgb(&im, out);
    image_free(&im);
    return rc;
}

static int load_folder(const char *dir, int k, Clip *c)
{
    char **names = NULL;
    int n = 0;
    if (list_frames(dir, &names, &n)) return MELD_ERR;
    c->total_frames = n;
    int rc = clip_alloc_frames(c, k);
    if (rc == MELD_OK) rc = frame_sample_indices(n, k, c->frame_index);
    for (int i = 0; i < k && rc == MELD_OK; i++) {
        char path[CLIP_PATH_MAX];
        int len = snprintf(path, sizeof path, "%s/%s", dir, names[c->frame_index[i]]);
        if (len < 0 || (size_t)len >= sizeof path) rc = meld_errorf("%s: path too long", dir);
        else rc = load_image_rgb(path, &c->frames[i]);
    }
    free_names(names, n);
    return rc;
}

static int load_single_image(const char *path, int k, Clip *c)
{
    c->total_frames = 1;
    if (clip_alloc_frames(c, k) || load_image_rgb(path, &c->frames[0])) return MELD_ERR;
    /* every sample is frame 0 */
    for (int i = 1; i < k; i++)
        if (image_copy(&c->frames[i], &c->frames[0])) return MELD_ERR;
    return MELD_OK;
}

/* ---- dispatch ----------------------------------------------------------------------- */

int clip_needs_ffmpeg(const char *path)
{
    const char *ext = extension(path);
    return !is_dir(path) && strcasecmp(ext, ".wav") && strcasecmp(ext, ".y4m") && !is_image_name(path);
}

/* Sets *why and returns MELD_ERR (the message is already set). */
static int fail_as(ClipProblem *why, ClipProblem problem)
{
    *why = problem;
    return MELD_ERR;
}

/* The frames of X.wav: X.y4m, else the folder X/. */
static int load_wav_companion_frames(const char *path, int k, Clip *c, ClipProblem *why)
{
    char other[CLIP_PATH_MAX];
    if (with_extension(other, sizeof other, path, ".y4m")) return MELD_ERR;
    if (is_present(other)) return load_y4m(other, k, c);
    if (with_extension(other, sizeof other, path, "")) return MELD_ERR;
    if (!is_dir(other)) {
        meld_errorf("%s: no video: expected %.*s.y4m or a folder %s/ of .pgm/.ppm frames", path,
                    (int)(strlen(path) - 4), path, other);
        return fail_as(why, CLIP_NO_VIDEO);
    }
    return load_folder(other, k, c);
}

/* The audio beside `base` (a folder of frames or a .y4m): base.wav. */
static int load_wav_companion_audio(const char *shown, const char *base, const ClipOptions *opt, Clip *c,
                                    ClipProblem *why)
{
    char other[CLIP_PATH_MAX];
    if (with_extension(other, sizeof other, base, ".wav")) return MELD_ERR;
    if (!is_present(other)) {
        meld_errorf("%s: no audio: expected %s", shown, other);
        return fail_as(why, CLIP_NO_AUDIO);
    }
    return load_wav(other, opt, c);
}

/* Every input but the ffmpeg ones. *why is left as is (CLIP_DAMAGED) for
 * a file that is there but cannot be parsed. */
static int load_direct(const char *path, const ClipOptions *opt, Clip *c, ClipProblem *why)
{
    const char *ext = extension(path);
    if (is_dir(path)) {
        /* DIR of frames + DIR.wav */
        char base[CLIP_PATH_MAX];
        size_t n = strlen(path);
        while (n > 1 && path[n - 1] == '/') n--;
        snprintf(base, sizeof base, "%.*s", (int)n, path);
        if (opt->k > 0 && load_folder(base, opt->k, c)) return MELD_ERR;
        return opt->want_audio ? load_wav_companion_audio(path, base, opt, c, why) : MELD_OK;
    }
    if (!clip_is_regular_file(path)) return fail_as(why, CLIP_UNREADABLE);
    if (clip_is_appledouble(path)) {
        meld_errorf("%s: AppleDouble metadata file (macOS \"._\" companion), not a clip", path);
        return fail_as(why, CLIP_UNREADABLE);
    }
    if (!strcasecmp(ext, ".wav")) {
        if (opt->k > 0 && load_wav_companion_frames(path, opt->k, c, why)) return MELD_ERR;
        return opt->want_audio ? load_wav(path, opt, c) : MELD_OK;
    }
    if (!strcasecmp(ext, ".y4m")) {
        if (opt->k > 0 && load_y4m(path, opt->k, c)) return MELD_ERR;
        return opt->want_audio ? load_wav_companion_audio(path, path, opt, c, why) : MELD_OK;
    }
    /* a still image */
    if (opt->want_audio) {
        meld_errorf("%s: a still image has no audio", path);
        return fail_as(why, CLIP_NO_AUDIO);
    }
    return opt->k > 0 ? load_single_image(path, opt->k, c) : MELD_OK;
}

static int check_options(const char *path, const ClipOptions *opt)
{
    if (opt->k < 0 || opt->k > CLIP_MAX_K) return meld_errorf("%s: %d frames asked (0..%d)", path, opt->k, CLIP_MAX_K);
    if (opt->k == 0 && !opt->want_audio) return meld_errorf("%s: neither frames nor audio asked", path);
    return MELD_OK;
}

/* Maps the indices of the ffmpeg sub-list back to the caller's. */
typedef struct {
    const int *index;
    ClipVisitFn visit;
    void *ctx;
} Remap;

static int remap_visit(void *ctx, int i, Clip *c, ClipProblem problem, const char *message)
{
    const Remap *r = ctx;
    return r->visit(r->ctx, r->index[i], c, problem, message);
}

int clip_load_many(const char *const *paths, int n, const ClipOptions *opt, ClipVisitFn visit, void *ctx)
{
    if (n <= 0) return MELD_OK;
    if (check_options(paths[0], opt)) return MELD_ERR;
    const char **via = meld_malloc(sizeof *via * (size_t)n, "clip list");
    int *index = meld_malloc(sizeof *index * (size_t)n, "clip list");
    int m = 0, rc = via && index ? MELD_OK : MELD_ERR;
    for (int i = 0; rc == MELD_OK && i < n; i++) {
        if (strlen(paths[i]) < CLIP_PATH_MAX - 16 && clip_needs_ffmpeg(paths[i])) {
            via[m] = paths[i];
            index[m++] = i;
            continue;
        }
        Clip c;
        memset(&c, 0, sizeof c);
        ClipProblem why = CLIP_DAMAGED;
        int ok = strlen(paths[i]) < CLIP_PATH_MAX - 16 ? load_direct(paths[i], opt, &c, &why) == MELD_OK
                                                        : meld_errorf("%s: path too long", paths[i]) == MELD_OK;
        if (!ok) clip_free(&c);
        rc = visit(ctx, i, ok ? &c : NULL, ok ? CLIP_OK : why, ok ? "" : meld_error());
        clip_free(&c);
    }
    Remap r = {index, visit, ctx};
    if (rc == MELD_OK && m > 0) rc = decode_with_ffmpeg(via, m, opt, remap_visit, &r);
    free(via);
    free(index);
    return rc;
}

/* clip_load's visitor: keeps the clip, or its message as the error. */
typedef struct {
    Clip *out;
    char message[1024];
} One;

static int keep_one(void *ctx, int i, Clip *c, ClipProblem problem, const char *message)
{
    One *one = ctx;
    (void)i;
    if (problem != CLIP_OK) {
        snprintf(one->message, sizeof one->message, "%s", message);
        return MELD_OK;
    }
    *one->out = *c;            /* take ownership */
    memset(c, 0, sizeof *c);
    return MELD_OK;
}

int clip_load(const char *path, const ClipOptions *opt, Clip *out)
{
    memset(out, 0, sizeof *out);
    One one = {.out = out};
    if (clip_load_many(&path, 1, opt, keep_one, &one)) return MELD_ERR;
    return one.message[0] ? meld_errorf("%s", one.message) : MELD_OK;
}

int clip_face_crops(const Clip *c, const HaarCascade *cascade, const FaceCropOptions *opt, Image *crops,
                    FaceCropInfo *info)
{
    int centre = 0;
    for (int i = 0; i < c->n_frames; i++) {
        FaceCropInfo fi;
        if (face_crop(&c->frames[i], cascade, opt, &crops[i], &fi)) return meld_error_context("frame %ld", c->frame_index[i]);
        if (!fi.face_found) centre++;
        if (info) info[i] = fi;
    }
    return centre;
}
