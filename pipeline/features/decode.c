#include "pipeline/features/decode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/features/ffmpeg.h"
#include "tensor/error.h"
#include "video/sample.h"

/* Frame rate assumed for the size limits of the count outputs. */
enum { MAX_FPS = 240, COUNT_BYTES = 4 /* a 2x2 grey frame */ };
/* framecrc output of one clip (a line per packet, ~60 bytes). */
#define PROBE_MAX_BYTES ((size_t)64 << 20)

/* One clip on its way through the two runs. */
typedef struct {
    const char *path;
    int index;                /* in the caller's list */
    ClipProblem problem;
    char message[600];
    int has_video, has_audio;
    long frames;              /* video frames: the container's count, then the decoded one */
    long audio_packets;
    int width, height;
    int decodes;
    int visited;
} Item;

/* ---- argument vectors ----------------------------------------------------- */

typedef struct {
    char **v;                 /* NULL-terminated once built */
    int n, cap;
    int failed;               /* out of memory */
} Args;

static void add(Args *a, const char *fmt, ...) MELD_PRINTF(2, 3);
static void add(Args *a, const char *fmt, ...)
{
    if (a->failed) return;
    if (a->n + 2 > a->cap) {
        int cap = a->cap ? 2 * a->cap : 64;
        char **g = realloc(a->v, sizeof *g * (size_t)cap);
        if (!g) {
            a->failed = 1;
            return;
        }
        a->v = g;
        a->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (!s) {
        a->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(s, (size_t)len + 1, fmt, ap);
    va_end(ap);
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
}

static void args_free(Args *a)
{
    for (int i = 0; i < a->n; i++) free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof *a);
}

static void add_head(Args *a, const ClipOptions *opt)
{
    add(a, "%s", opt->ffmpeg);
    add(a, "-hide_banner");
    add(a, "-nostdin");
    add(a, "-nostats");
    add(a, "-v");
    add(a, "error");
}

/* ---- failing clips ------------------------------------------------------------ */

static void set_problem(Item *it, ClipProblem p, const char *fmt, ...) MELD_PRINTF(3, 4);
static void set_problem(Item *it, ClipProblem p, const char *fmt, ...)
{
    it->problem = p;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->message, sizeof it->message, fmt, ap);
    va_end(ap);
}

/* A failed run's message names the input ffmpeg could not read as
 * "file:PATH: reason". The index of that clip among items, or -1. */
static int blame(const char *message, Item **items, int m, const char **reason)
{
    for (int i = 0; i < m; i++) {
        char url[1100];
        snprintf(url, sizeof url, "file:%s: ", items[i]->path);
        const char *at = strstr(message, url);
        if (at) {
            *reason = at + strlen(url);
            return i;
        }
    }
    return -1;
}

typedef enum { RUN_OK = 0, RUN_FATAL = -1, RUN_FFMPEG_FAILED = 1 } RunStatus;
typedef RunStatus (*RunFn)(Item **items, int m, const ClipOptions *opt, void *ctx);

/* Runs `run` on items; when ffmpeg fails, takes out the clip its message
 * blames (marked damaged) and runs the rest again, or, when it blames
 * none, runs each clip alone. RUN_FATAL only for our own failures. */
static RunStatus run_isolating(Item **items, int m, const ClipOptions *opt, RunFn run, void *ctx)
{
    while (m > 0) {
        RunStatus rs = run(items, m, opt, ctx);
        if (rs != RUN_FFMPEG_FAILED) return rs;
        const char *reason = NULL;
        int bad = blame(meld_error(), items, m, &reason);
        if (bad < 0 && m > 1) {
            for (int i = 0; i < m; i++)
                if (run_isolating(&items[i], 1, opt, run, ctx) == RUN_FATAL) return RUN_FATAL;
            return RUN_OK;
        }
        if (bad < 0) set_problem(items[0], CLIP_DAMAGED, "%s", meld_error());
        else set_problem(items[bad], CLIP_DAMAGED, "%s: ffmpeg failed: %s", items[bad]->path, reason);
        if (bad < 0) bad = 0;
        memmove(&items[bad], &items[bad + 1], sizeof *items * (size_t)(m - bad - 1));
        m--;
    }
    return RUN_OK;
}

/* Starts the built command, collects the sinks and waits for it. */
static RunStatus run_ffmpeg(const Args *a, const char *label, double timeout_s, const size_t *sink_max, int n_sinks,
                            FfmpegProc *p)
{
    if (a->failed) {
        meld_errorf("%s: out of memory building the ffmpeg command", label);
        return RUN_FATAL;
    }
    if (ffmpeg_start_sinks(p, (const char *const *)a->v, label, timeout_s, sink_max, n_sinks)) return RUN_FATAL;
    if (ffmpeg_finish(p, 0)) {
        ffmpeg_free_sinks(p);
        return RUN_FFMPEG_FAILED;
    }
    return RUN_OK;
}

static const char *run_label(char *buf, size_t cap, Item **items, int m)
{
    if (m == 1) snprintf(buf, cap, "%s", items[0]->path);
    else snprintf(buf, cap, "ffmpeg on %d clips (%s ...)", m, items[0]->path);
    return buf;
}

/* ---- run 1: what the container lists ---------------------------------------------- */

/* Reads ffmpeg's framecrc output: "#media_type S: video", "#dimensions S:
 * WxH" headers, then one "S, dts, pts, duration, size, crc" line per packet. */
static void parse_framecrc(const uint8_t *d, size_t n, Item *it)
{
    enum { MAX_STREAMS = 8 };
    int type[MAX_STREAMS] = {0}, w[MAX_STREAMS] = {0}, h[MAX_STREAMS] = {0};   /* type 1 video, 2 audio */
    long count[MAX_STREAMS] = {0};
    for (size_t at = 0; at < n;) {
        size_t end = at;
        while (end < n && d[end] != '\n') end++;
        char line[256];
        size_t len = end - at < sizeof line - 1 ? end - at : sizeof line - 1;
        memcpy(line, d + at, len);
        line[len] = '\0';
        at = end + 1;
        int s, a, b;
        char what[16];
        if (line[0] == '#') {
            if (sscanf(line, "#media_type %d: %15s", &s, what) == 2 && s >= 0 && s < MAX_STREAMS)
                type[s] = !strcmp(what, "video") ? 1 : !strcmp(what, "audio") ? 2 : 0;
            else if (sscanf(line, "#dimensions %d: %dx%d", &s, &a, &b) == 3 && s >= 0 && s < MAX_STREAMS)
                w[s] = a, h[s] = b;
        } else if (sscanf(line, "%d,", &s) == 1 && s >= 0 && s < MAX_STREAMS) {
            count[s]++;
        }
    }
    for (int s = MAX_STREAMS - 1; s >= 0; s--) {   /* the first stream of each kind wins */
        if (type[s] == 1) it->has_video = 1, it->frames = count[s], it->width = w[s], it->height = h[s];
        if (type[s] == 2) it->has_audio = 1, it->audio_packets = count[s];
    }
}

/* What the clip lacks for the features asked, if anything. */
static void judge_probe(Item *it, const ClipOptions *opt)
{
    long max_frames = (long)MAX_FPS * CLIP_MAX_SECONDS;
    if (opt->k > 0 && !it->has_video)
        set_problem(it, CLIP_NO_VIDEO, "%s: no video stream%s", it->path, it->has_audio ? " (audio only)" : "");
    else if (opt->want_audio && !it->has_audio)
        set_problem(it, CLIP_NO_AUDIO, "%s: no audio stream%s", it->path, it->has_video ? " (video only)" : "");
    else if (opt->k > 0 && it->frames == 0) set_problem(it, CLIP_ZERO_LENGTH, "%s: the video stream has no frames", it->path);
    else if (opt->want_audio && it->audio_packets == 0)
        set_problem(it, CLIP_ZERO_LENGTH, "%s: the audio stream is empty", it->path);
    else if (opt->k > 0 && it->frames > max_frames)
        set_problem(it, CLIP_DAMAGED, "%s: %ld video frames, more than %d s at %d fps", it->path, it->frames,
                    CLIP_MAX_SECONDS, MAX_FPS);
    else if (opt->k > 0 && (it->width < 2 || it->height < 2 || (long)it->width * it->height > IMAGE_MAX_PIXELS))
        set_problem(it, CLIP_DAMAGED, "%s: video frames of %dx%d pixels", it->path, it->width, it->height);
}

static RunStatus probe_run(Item **items, int m, const ClipOptions *opt, void *ctx)
{
    (void)ctx;
    Args a = {0};
    add_head(&a, opt);
    for (int i = 0; i < m; i++) {
        add(&a, "-i");
        add(&a, "file:%s", items[i]->path);
    }
    size_t max[FFMPEG_MAX_SINKS];
    for (int i = 0; i < m; i++) {
        if (opt->k > 0) {
            add(&a, "-map");
            add(&a, "%d:v:0?", i);
        }
        if (opt->want_audio) {
            add(&a, "-map");
            add(&a, "%d:a:0?", i);
        }
        add(&a, "-c");
        add(&a, "copy");
        add(&a, "-f");
        add(&a, "framecrc");
        add(&a, "pipe:%d", 3 + i);
        max[i] = PROBE_MAX_BYTES;
    }
    char label[1200];
    FfmpegProc p;
    RunStatus rs = run_ffmpeg(&a, run_label(label, sizeof label, items, m), opt->timeout_s * m, max, m, &p);
    args_free(&a);
    if (rs != RUN_OK) return rs;
    for (int i = 0; i < m; i++) {
        parse_framecrc(p.sinks[i].data, p.sinks[i].len, items[i]);
        judge_probe(items[i], opt);
    }
    ffmpeg_free_sinks(&p);
    return RUN_OK;
}

/* ---- run 2: the decode ------------------------------------------------------------- */

/* Bytes of the chosen frames of it as packed RGB, and of one frame. */
static size_t frame_rgb_bytes(const Item *it) { return (size_t)it->width * it->height * 3; }

static size_t rgb_bytes(const Item *it, int k, const long *idx)
{
    size_t distinct = 0;
    for (int i = 0; i < k; i++) distinct += i == 0 || idx[i] != idx[i - 1];
    return distinct * frame_rgb_bytes(it);
}

/* Text growing in a buffer of fixed capacity; `full` once it overflowed. */
typedef struct {
    char *s;
    size_t len, cap;
    int full;
} Text;

static void appendf(Text *t, const char *fmt, ...) MELD_PRINTF(2, 3);
static void appendf(Text *t, const char *fmt, ...)
{
    if (t->full) return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= t->cap - t->len) t->full = 1;
    else t->len += (size_t)w;
}

/* For clip i: [i:v:0] split in two, the chosen frames picked by
 *     select=eq(n\,3)+eq(n\,10)+...   ('\,' keeps the comma from the
 * filtergraph parser; no shell is involved) into [vI], and every frame
 * cropped to 2x2 grey into [nI] (4 bytes a frame: the decoded count). */
static char *filter_graph(Item **items, int m, int k)
{
    Text t = {.cap = (size_t)m * (160 + 24 * (size_t)k)};
    t.s = meld_malloc(t.cap, "ffmpeg filter graph");
    long idx[CLIP_MAX_K];
    for (int i = 0; t.s && i < m; i++) {
        frame_sample_indices(items[i]->frames, k, idx);
        appendf(&t, "%s[%d:v:0]split=2[f%d][c%d];[f%d]select=", i ? ";" : "", i, i, i, i);
        for (int j = 0; j < k; j++)
            if (j == 0 || idx[j] != idx[j - 1]) appendf(&t, "%seq(n\\,%ld)", j ? "+" : "", idx[j]);
        appendf(&t, "[v%d];[c%d]crop=2:2:0:0,format=gray[n%d]", i, i, i);
    }
    if (t.s && t.full) {
        free(t.s);
        meld_errorf("ffmpeg filter graph longer than %zu bytes", t.cap);
        return NULL;
    }
    return t.s;
}

/* The chosen frames out of the packed RGB stream, in order; an index
 * chosen twice (a clip shorter than K frames) gets a copy. */
static int frames_from_rgb(const Item *it, const FfmpegSink *rgb, Clip *c)
{
    size_t fb = frame_rgb_bytes(it);
    if (rgb->len % fb)
        return meld_errorf("%s: %zu bytes of frames, not a whole number of %dx%d RGB frames", it->path, rgb->len,
                           it->width, it->height);
    int frames = (int)(rgb->len / fb), got = 0;
    for (int f = 0; f < frames && got < c->n_frames; f++) {
        if (image_alloc(&c->frames[got], it->width, it->height, 3)) return MELD_ERR;
        memcpy(c->frames[got].pixels, rgb->data + (size_t)f * fb, fb);
        for (got++; got < c->n_frames && c->frame_index[got] == c->frame_index[got - 1]; got++)
            if (image_copy(&c->frames[got], &c->frames[got - 1])) return MELD_ERR;
    }
    return clip_fill_missing(c, got, it->path);
}

static int clip_from_sinks(const Item *it, const ClipOptions *opt, const FfmpegSink *rgb, const FfmpegSink *pcm,
                           Clip *c)
{
    memset(c, 0, sizeof *c);
    c->used_ffmpeg = 1;
    c->decodes = it->decodes;
    c->total_frames = it->frames;
    if (opt->k > 0 && (clip_alloc_frames(c, opt->k) || frame_sample_indices(it->frames, opt->k, c->frame_index) ||
                       frames_from_rgb(it, rgb, c)))
        return MELD_ERR;
    int rate = opt->sample_rate > 0 ? opt->sample_rate : 16000;
    return opt->want_audio ? clip_audio_from_pcm16(pcm->data, pcm->len, rate, &c->audio) : MELD_OK;
}

typedef struct {
    ClipVisitFn visit;
    void *ctx;
} Visitor;

static int visit_item(const Visitor *v, Item *it, Clip *c)
{
    it->visited = 1;
    return v->visit(v->ctx, it->index, c, it->problem, it->problem ? it->message : "");
}

/* Visits the clips found unusable since the last call. */
static RunStatus visit_failed(const Visitor *v, Item *all, int n)
{
    for (int i = 0; i < n; i++)
        if (all[i].problem != CLIP_OK && !all[i].visited && visit_item(v, &all[i], NULL)) return RUN_FATAL;
    return RUN_OK;
}

/* Outputs of item i: [rgb, count] when frames are asked, then [pcm]. */
static int sinks_per_item(const ClipOptions *opt) { return (opt->k > 0 ? 2 : 0) + (opt->want_audio ? 1 : 0); }

static void add_outputs(Args *a, int i, const ClipOptions *opt, int fd)
{
    if (opt->k > 0) {
        add(a, "-map");
        add(a, "[v%d]", i);
        add(a, "-pix_fmt");
        add(a, "rgb24");
        add(a, "-f");
        add(a, "rawvideo");
        add(a, "pipe:%d", fd++);
        add(a, "-map");
        add(a, "[n%d]", i);
        add(a, "-f");
        add(a, "rawvideo");
        add(a, "pipe:%d", fd++);
    }
    if (opt->want_audio) {
        add(a, "-map");
        add(a, "%d:a:0", i);
        add(a, "-ac");
        add(a, "1");
        add(a, "-ar");
        add(a, "%d", opt->sample_rate > 0 ? opt->sample_rate : 16000);
        add(a, "-c:a");
        add(a, "pcm_s16le");
        add(a, "-f");
        add(a, "s16le");
        add(a, "pipe:%d", fd);
    }
}

static RunStatus decode_run(Item **items, int m, const ClipOptions *opt, void *ctx);

/* After a successful run: each clip's frame count checked, then converted
 * and visited; a clip whose count was wrong is decoded again, alone. */
static RunStatus deliver(Item **items, int m, const ClipOptions *opt, const Visitor *v, FfmpegProc *p)
{
    int per = sinks_per_item(opt);
    RunStatus rs = RUN_OK;
    for (int i = 0; i < m && rs == RUN_OK; i++) {
        Item *it = items[i];
        const FfmpegSink *s = &p->sinks[i * per];
        if (opt->k > 0) {
            long decoded = (long)(s[1].len / COUNT_BYTES);
            if (decoded == 0) {
                set_problem(it, CLIP_ZERO_LENGTH, "%s: no video frame could be decoded", it->path);
            } else if (decoded != it->frames && it->decodes == 1) {
                it->frames = decoded;   /* chosen from the wrong count: again, alone */
                it->decodes = 2;
                rs = run_isolating(&items[i], 1, opt, decode_run, (void *)v);
                continue;
            }
            it->frames = decoded;
        }
        Clip c;
        memset(&c, 0, sizeof c);
        if (it->problem == CLIP_OK &&
            clip_from_sinks(it, opt, opt->k > 0 ? &s[0] : NULL, opt->want_audio ? &s[per - 1] : NULL, &c)) {
            set_problem(it, CLIP_DAMAGED, "%s", meld_error());
            clip_free(&c);
        }
        if (visit_item(v, it, it->problem == CLIP_OK ? &c : NULL)) rs = RUN_FATAL;
        clip_free(&c);
    }
    return rs;
}

static RunStatus decode_run(Item **items, int m, const ClipOptions *opt, void *ctx)
{
    for (int i = 0; i < m; i++) items[i]->decodes += items[i]->decodes == 0;
    Args a = {0};
    add_head(&a, opt);
    add(&a, "-vsync");
    add(&a, "passthrough");
    for (int i = 0; i < m; i++) {
        if (opt->decoder_threads > 0) {
            add(&a, "-threads");
            add(&a, "%d", opt->decoder_threads);
        }
        add(&a, "-i");
        add(&a, "file:%s", items[i]->path);
    }
    if (opt->k > 0) {
        char *graph = filter_graph(items, m, opt->k);
        if (!graph) {
            args_free(&a);
            return RUN_FATAL;
        }
        add(&a, "-filter_complex");
        add(&a, "%s", graph);
        free(graph);
    }
    int per = sinks_per_item(opt), rate = opt->sample_rate > 0 ? opt->sample_rate : 16000;
    size_t max[FFMPEG_MAX_SINKS];
    long idx[CLIP_MAX_K];
    for (int i = 0; i < m; i++) {
        add_outputs(&a, i, opt, 3 + i * per);
        size_t *mx = &max[i * per];
        if (opt->k > 0) {
            frame_sample_indices(items[i]->frames, opt->k, idx);
            mx[0] = rgb_bytes(items[i], opt->k, idx);
            mx[1] = (size_t)COUNT_BYTES * MAX_FPS * CLIP_MAX_SECONDS;
        }
        if (opt->want_audio) mx[per - 1] = (size_t)rate * 2 * CLIP_MAX_SECONDS;
    }
    char label[1200];
    FfmpegProc p;
    RunStatus rs = run_ffmpeg(&a, run_label(label, sizeof label, items, m), opt->timeout_s * m, max, m * per, &p);
    args_free(&a);
    if (rs != RUN_OK) return rs;
    rs = deliver(items, m, opt, ctx, &p);
    ffmpeg_free_sinks(&p);
    return rs;
}

/* ---- the whole list ------------------------------------------------------------- */

/* Clips per run: the sinks available, and the frame bytes of a run. */
static int run_length(Item **items, int m, const ClipOptions *opt)
{
    int per = sinks_per_item(opt), n = 0;
    size_t bytes = 0;
    long idx[CLIP_MAX_K];
    while (n < m && (n + 1) * per <= FFMPEG_MAX_SINKS) {
        size_t b = 0;
        if (opt->k > 0) {
            frame_sample_indices(items[n]->frames, opt->k, idx);
            b = rgb_bytes(items[n], opt->k, idx);
        }
        if (n > 0 && bytes + b > DECODE_RUN_BYTES) break;
        bytes += b;
        n++;
    }
    return n;
}

static void precheck(Item *it)
{
    if (!clip_is_regular_file(it->path)) set_problem(it, CLIP_UNREADABLE, "%s", meld_error());
    else if (clip_is_appledouble(it->path))
        set_problem(it, CLIP_UNREADABLE, "%s: AppleDouble metadata file (macOS \"._\" companion), not a clip", it->path);
}

/* Moves the items still without a problem to the front; returns how many. */
static int pending(Item **items, int n)
{
    int m = 0;
    for (int i = 0; i < n; i++)
        if (items[i]->problem == CLIP_OK) {
            Item *t = items[m];
            items[m++] = items[i];
            items[i] = t;
        }
    return m;
}

int decode_with_ffmpeg(const char *const *paths, int n, const ClipOptions *opt, ClipVisitFn visit, void *ctx)
{
    if (n <= 0) return MELD_OK;
    Item *all = meld_calloc((size_t)n, sizeof *all, "clips to decode");
    Item **items = meld_calloc((size_t)n, sizeof *items, "clips to decode");
    if (!all || !items) {
        free(all);
        free(items);
        return MELD_ERR;
    }
    int tool = ffmpeg_available(opt->ffmpeg);
    for (int i = 0; i < n; i++) {
        all[i] = (Item){.path = paths[i], .index = i};
        items[i] = &all[i];
        if (!tool)
            set_problem(&all[i], CLIP_NO_TOOL, "%s: %s not found: install it with apt-get install ffmpeg", paths[i],
                        opt->ffmpeg);
        else
            precheck(&all[i]);
    }
    Visitor v = {visit, ctx};
    RunStatus rs = RUN_OK;
    /* Run 1 over every clip still in, as few processes as the fds allow. */
    for (int at = 0, m = pending(items, n); rs == RUN_OK && at < m;) {
        int len = m - at < FFMPEG_MAX_SINKS ? m - at : FFMPEG_MAX_SINKS;
        rs = run_isolating(&items[at], len, opt, probe_run, NULL);
        at += len;
    }
    if (rs == RUN_OK) rs = visit_failed(&v, all, n);
    /* Run 2 visits the clips it decodes. */
    for (int at = 0, m = pending(items, n); rs == RUN_OK && at < m;) {
        int len = run_length(&items[at], m - at, opt);
        rs = run_isolating(&items[at], len, opt, decode_run, &v);
        at += len;
    }
    if (rs == RUN_OK) rs = visit_failed(&v, all, n);
    free(all);
    free(items);
    return rs == RUN_FATAL ? MELD_ERR : MELD_OK;
}
