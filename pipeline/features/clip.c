#include "pipeline/features/clip.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "audio/resample.h"
#include "pipeline/features/ffmpeg.h"
#include "tensor/error.h"
#include "video/color.h"
#include "video/sample.h"
#include "video/y4m.h"

#define CLIP_PATH_MAX 1024
#define CLIP_MAX_FOLDER_FRAMES 100000

ClipOptions clip_default_options(void)
{
    return (ClipOptions){.k = 4, .want_audio = 1, .sample_rate = 16000, .timeout_s = 120.0, .ffmpeg = "ffmpeg"};
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
    FILE *fp = fopen(path, "rb");
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

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
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

/* ---- output buffers ---------------------------------------------------------- */

static int alloc_frames(Clip *c, int k)
{
    c->frames = meld_calloc((size_t)k, sizeof(Image), "clip frames");
    c->frame_index = meld_calloc((size_t)k, sizeof(long), "clip frame indices");
    if (!c->frames || !c->frame_index) return MELD_ERR;
    c->n_frames = k;
    return MELD_OK;
}

/* When the source ran short of frames (it ended before the last chosen
 * index), repeat the last frame read; with none at all, fail. */
static int fill_missing(Clip *c, int got, const char *path)
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
static int pcm16_to_audio(const uint8_t *b, size_t bytes, int rate, Audio *a)
{
    size_t n = bytes / 2;
    a->samples = meld_malloc(sizeof(float) * (n ? n : 1), "clip audio");
    if (!a->samples) return MELD_ERR;
    for (size_t i = 0; i < n; i++) a->samples[i] = (float)(int16_t)(b[2 * i] | (b[2 * i + 1] << 8)) / 32768.0f;
    a->n_samples = n;
    a->sample_rate = rate;
    return MELD_OK;
}

static const char *file_url(char *buf, size_t cap, const char *path)
{
    snprintf(buf, cap, "file:%s", path);
    return buf;
}

/* A .wav file, resampled (audio/resample.h) when its rate is not the one asked. */
static int load_wav(const char *wav, const ClipOptions *opt, Clip *c)
{
    if (wav_read(wav, &c->audio)) return MELD_ERR;
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
    if (alloc_frames(c, k)) return MELD_ERR;
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
            return rc < 0 ? MELD_ERR : fill_missing(c, got, path);
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
    int rc = alloc_frames(c, k);
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
    if (alloc_frames(c, k) || load_image_rgb(path, &c->frames[0])) return MELD_ERR;
    /* every sample is frame 0 */
    for (int i = 1; i < k; i++)
        if (image_copy(&c->frames[i], &c->frames[0])) return MELD_ERR;
    return MELD_OK;
}

/* ---- frames (and audio) through ffmpeg ------------------------------------------- */

/* ffmpeg's "Stream map '0:a:0' matches no streams" in our own words. */
static int missing_stream(const char *path)
{
    const char *e = meld_error();
    if (strstr(e, "'0:a:0' matches no streams")) return meld_errorf("%s: the clip has no audio stream (video only)", path);
    if (strstr(e, "'0:v:0' matches no streams")) return meld_errorf("%s: the clip has no video stream (audio only)", path);
    return MELD_ERR;
}

/* Run 1: audio on stdout (if asked), one grey pixel per frame on fd 3. */
static int ffmpeg_probe_run(const char *path, const ClipOptions *opt, Clip *c)
{
    char url[CLIP_PATH_MAX + 8], ar[16];
    int rate = opt->sample_rate > 0 ? opt->sample_rate : 16000;
    snprintf(ar, sizeof ar, "%d", rate);
    const char *argv[40];
    int a = 0;
    const char *head[] = {opt->ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-v", "error",
                          "-i", file_url(url, sizeof url, path)};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++) argv[a++] = head[i];
    if (opt->want_audio) {
        const char *audio[] = {"-map", "0:a:0", "-ac", "1", "-ar", ar, "-f", "s16le", "-c:a", "pcm_s16le", "pipe:1"};
        for (size_t i = 0; i < sizeof audio / sizeof audio[0]; i++) argv[a++] = audio[i];
    }
    if (opt->k > 0) {
        const char *count[] = {"-map", "0:v:0", "-vsync", "passthrough", "-vf", "scale=1:1", "-pix_fmt", "gray",
                               "-f", "rawvideo", "pipe:3"};
        for (size_t i = 0; i < sizeof count / sizeof count[0]; i++) argv[a++] = count[i];
    }
    argv[a] = NULL;
    FfmpegProc p;
    /* at most CLIP_MAX_SECONDS of video at 240 fps */
    if (ffmpeg_start(&p, argv, path, opt->timeout_s, opt->k > 0 ? (size_t)240 * CLIP_MAX_SECONDS : 0))
        return MELD_ERR;
    uint8_t *pcm = NULL;
    size_t bytes = 0;
    if (ffmpeg_read_all(&p, &pcm, &bytes, (size_t)rate * 2 * CLIP_MAX_SECONDS)) {
        ffmpeg_finish(&p, 1);
        free(p.aux);
        return MELD_ERR;
    }
    int rc = ffmpeg_finish(&p, 0) ? missing_stream(path) : MELD_OK;
    c->total_frames = (long)p.aux_len;
    free(p.aux);
    if (rc == MELD_OK && opt->want_audio) rc = pcm16_to_audio(pcm, bytes, rate, &c->audio);
    free(pcm);
    if (rc == MELD_OK && opt->k > 0 && c->total_frames == 0) rc = meld_errorf("%s: no video frames", path);
    return rc;
}

/* Run 2: only the chosen frames, as Y4M. */
static int ffmpeg_frames_run(const char *path, const ClipOptions *opt, Clip *c)
{
    /* select=eq(n\,3)+eq(n\,10)+...: '\,' escapes the comma from the
     * filtergraph parser (no shell is involved) */
    char expr[CLIP_MAX_K * 24 + 16], url[CLIP_PATH_MAX + 8];
    size_t len = (size_t)snprintf(expr, sizeof expr, "select=");
    for (int i = 0; i < c->n_frames; i++) {
        if (i > 0 && c->frame_index[i] == c->frame_index[i - 1]) continue;
        len += (size_t)snprintf(expr + len, sizeof expr - len, "%seq(n\\,%ld)", i > 0 ? "+" : "",
                                c->frame_index[i]);
    }
    const char *argv[] = {opt->ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-v", "error",
                          "-i", file_url(url, sizeof url, path), "-map", "0:v:0", "-vsync", "passthrough",
                          "-vf", expr, "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", "pipe:1", NULL};
    FfmpegProc p;
    if (ffmpeg_start(&p, argv, path, opt->timeout_s, 0)) return MELD_ERR;
    Y4mReader r;
    if (y4m_open_source(&r, ffmpeg_read, &p, path)) {
        /* the header failing usually means ffmpeg failed: prefer its message */
        char mine[512];
        snprintf(mine, sizeof mine, "%s", meld_error());
        if (ffmpeg_finish(&p, 0) == MELD_OK) meld_errorf("%s", mine);
        y4m_close(&r);
        return MELD_ERR;
    }
    /* frames arrive in order; an index chosen twice gets a copy */
    int got = 0, rc = MELD_OK;
    while (got < c->n_frames) {
        int fr = y4m_read_frame(&r, &c->frames[got], 3);
        if (fr < 0) rc = MELD_ERR;
        if (fr <= 0) break;
        got++;
        while (got < c->n_frames && c->frame_index[got] == c->frame_index[got - 1]) {
            if (image_copy(&c->frames[got], &c->frames[got - 1])) {
                rc = MELD_ERR;
                break;
            }
            got++;
        }
        if (rc) break;
    }
    y4m_close(&r);
    if (rc) {
        ffmpeg_finish(&p, 1);
        return MELD_ERR;
    }
    if (ffmpeg_finish(&p, got == c->n_frames)) return MELD_ERR;
    return fill_missing(c, got, path);
}

static int load_with_ffmpeg(const char *path, const ClipOptions *opt, Clip *c)
{
    c->used_ffmpeg = 1;
    if (!ffmpeg_available(opt->ffmpeg))
        return meld_errorf("%s: %s not found: install it with apt-get install ffmpeg", path, opt->ffmpeg);
    if (ffmpeg_probe_run(path, opt, c)) return MELD_ERR;
    if (opt->k == 0) return MELD_OK;
    if (alloc_frames(c, opt->k)) return MELD_ERR;
    frame_sample_indices(c->total_frames, opt->k, c->frame_index);
    return ffmpeg_frames_run(path, opt, c);
}

/* ---- dispatch ----------------------------------------------------------------------- */

static int dispatch(const char *path, const ClipOptions *opt, Clip *c)
{
    const char *ext = extension(path);
    char other[CLIP_PATH_MAX];
    if (is_dir(path)) {
        /* DIR of frames + DIR.wav */
        char base[CLIP_PATH_MAX];
        size_t n = strlen(path);
        while (n > 1 && path[n - 1] == '/') n--;
        snprintf(base, sizeof base, "%.*s", (int)n, path);
        if (opt->k > 0 && load_folder(base, opt->k, c)) return MELD_ERR;
        if (!opt->want_audio) return MELD_OK;
        if (with_extension(other, sizeof other, base, ".wav")) return MELD_ERR;
        if (!is_file(other)) return meld_errorf("%s: no audio: expected %s", path, other);
        return load_wav(other, opt, c);
    }
    if (!is_file(path)) return meld_errorf("%s: no such file", path);
    if (clip_is_appledouble(path))
        return meld_errorf("%s: AppleDouble metadata file (macOS \"._\" companion), not a clip", path);
    if (!strcasecmp(ext, ".wav")) {
        if (opt->k > 0) {
            if (with_extension(other, sizeof other, path, ".y4m")) return MELD_ERR;
            int rc;
            if (is_file(other)) {
                rc = load_y4m(other, opt->k, c);
            } else {
                if (with_extension(other, sizeof other, path, "")) return MELD_ERR;
                if (!is_dir(other))
                    return meld_errorf("%s: no video: expected %.*s.y4m or a folder %s/ of .pgm/.ppm frames", path,
                                       (int)(strlen(path) - 4), path, other);
                rc = load_folder(other, opt->k, c);
            }
            if (rc) return MELD_ERR;
        }
        return opt->want_audio ? load_wav(path, opt, c) : MELD_OK;
    }
    if (!strcasecmp(ext, ".y4m")) {
        if (opt->k > 0 && load_y4m(path, opt->k, c)) return MELD_ERR;
        if (!opt->want_audio) return MELD_OK;
        if (with_extension(other, sizeof other, path, ".wav")) return MELD_ERR;
        if (!is_file(other)) return meld_errorf("%s: no audio: expected %s", path, other);
        return load_wav(other, opt, c);
    }
    if (is_image_name(path)) {
        if (opt->want_audio) return meld_errorf("%s: a still image has no audio", path);
        return opt->k > 0 ? load_single_image(path, opt->k, c) : MELD_OK;
    }
    return load_with_ffmpeg(path, opt, c);
}

int clip_load(const char *path, const ClipOptions *opt, Clip *out)
{
    memset(out, 0, sizeof *out);
    if (opt->k < 0 || opt->k > CLIP_MAX_K) return meld_errorf("%s: %d frames asked (0..%d)", path, opt->k, CLIP_MAX_K);
    if (opt->k == 0 && !opt->want_audio) return meld_errorf("%s: neither frames nor audio asked", path);
    if (strlen(path) >= CLIP_PATH_MAX - 16) return meld_errorf("%s: path too long", path);
    if (dispatch(path, opt, out)) {
        clip_free(out);
        return MELD_ERR;
    }
    return MELD_OK;
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
