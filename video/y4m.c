#include "video/y4m.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tensor/error.h"
#include "tensor/input_file.h"
#include "video/color.h"

/* Longest stream or frame header line we accept (real ones are < 100). */
#define Y4M_MAX_LINE 1024

/* ---- byte source ------------------------------------------------------- */

static long file_read(void *ctx, void *buf, size_t n)
{
    FILE *fp = ctx;
    size_t got = fread(buf, 1, n, fp);
    if (got == 0 && ferror(fp)) return meld_errorf("read error: %s", strerror(errno));
    return (long)got;
}

/* Refills the read-ahead buffer; returns bytes now available, 0 at end, -1. */
static long fill(Y4mReader *r)
{
    if (r->in_pos < r->in_len) return (long)(r->in_len - r->in_pos);
    if (r->eof) return 0;
    long got = r->read(r->ctx, r->inbuf, sizeof r->inbuf);
    if (got < 0) return meld_error_context("%s", r->name);
    if (got == 0) r->eof = 1;
    r->in_pos = 0;
    r->in_len = (size_t)got;
    if (r->bytes_left >= 0) r->bytes_left -= got;
    return got;
}

/* Reads exactly n bytes (buffered part first, then straight from the
 * source). Returns the number of bytes obtained (< n at end of stream) or -1. */
static long read_exact(Y4mReader *r, uint8_t *dst, size_t n)
{
    size_t done = 0;
    size_t avail = r->in_len - r->in_pos;
    if (avail) {
        size_t k = avail < n ? avail : n;
        memcpy(dst, r->inbuf + r->in_pos, k);
        r->in_pos += k;
        done = k;
    }
    while (done < n && !r->eof) {
        long got = r->read(r->ctx, dst + done, n - done);
        if (got < 0) return meld_error_context("%s", r->name);
        if (got == 0) r->eof = 1;
        if (r->bytes_left >= 0) r->bytes_left -= got;
        done += (size_t)got;
    }
    return (long)done;
}

/* Reads one '\n'-terminated line (without the '\n') into line[cap].
 * Returns its length, -2 at a clean end of stream (no byte read), -1 on
 * error (too long or truncated). */
static long read_line(Y4mReader *r, char *line, size_t cap, const char *what)
{
    size_t len = 0;
    for (;;) {
        long avail = fill(r);
        if (avail < 0) return -1;
        if (avail == 0) {
            if (len == 0) return -2;
            meld_errorf("%s: %s truncated (no end of line)", r->name, what);
            return -1;
        }
        while (r->in_pos < r->in_len) {
            char c = (char)r->inbuf[r->in_pos++];
            if (c == '\n') {
                line[len] = '\0';
                return (long)len;
            }
            if (len + 1 >= cap) {
                meld_errorf("%s: %s longer than %zu bytes", r->name, what, cap - 1);
                return -1;
            }
            line[len++] = c;
        }
    }
}

/* ---- stream header ----------------------------------------------------- */

/* Parses a positive decimal at most `max`; *end points after it. */
static int parse_uint(const char *s, long max, long *out, const char **end)
{
    if (*s < '0' || *s > '9') return MELD_ERR;
    long v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s++ - '0');
        if (v > max) return MELD_ERR;
    }
    *out = v;
    *end = s;
    return MELD_OK;
}

static int parse_chroma(Y4mReader *r, const char *tag)
{
    static const struct {
        const char *name;
        Y4mChroma chroma;
    } table[] = {
        {"420jpeg", Y4M_420JPEG}, {"420", Y4M_420JPEG},   {"420mpeg2", Y4M_420MPEG2},
        {"420paldv", Y4M_420PALDV}, {"422", Y4M_422},     {"444", Y4M_444},
        {"mono", Y4M_MONO},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (!strcmp(tag, table[i].name)) {
            r->chroma = table[i].chroma;
            return MELD_OK;
        }
    }
    return meld_errorf("%s: unsupported Y4M colour space 'C%s' (8-bit 420jpeg, 420mpeg2, 420paldv, 422, 444 "
                       "or mono)", r->name, tag);
}

/* Parses the tokens after "YUV4MPEG2". */
static int parse_stream_header(Y4mReader *r, char *line)
{
    long w = -1, h = -1;
    char *save = NULL;
    for (char *tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        const char *end;
        long a, b;
        switch (tok[0]) {
        case 'W':
        case 'H':
            if (parse_uint(tok + 1, IMAGE_MAX_SIDE, &a, &end) || *end)
                return meld_errorf("%s: bad Y4M size field '%.20s' (limit %d)", r->name, tok, IMAGE_MAX_SIDE);
            *(tok[0] == 'W' ? &w : &h) = a;
            break;
        case 'F':
            if (parse_uint(tok + 1, 1000000000L, &a, &end) || *end != ':' ||
                parse_uint(end + 1, 1000000000L, &b, &end) || *end)
                return meld_errorf("%s: bad Y4M frame rate '%.20s'", r->name, tok);
            r->fps_num = (int)a;
            r->fps_den = (int)b;
            break;
        case 'C':
            if (parse_chroma(r, tok + 1)) return MELD_ERR;
            break;
        case 'X':
            if (!strcmp(tok, "XCOLORRANGE=FULL")) r->full_range = 1;
            break;
        default:
            break; /* I (interlacing), A (aspect) and unknown tags: ignored */
        }
    }
    if (w < 0 || h < 0) return meld_errorf("%s: Y4M header lacks the W or H field", r->name);
    if (image_check_size((int)w, (int)h, 1, r->name)) return MELD_ERR;
    r->width = (int)w;
    r->height = (int)h;
    return MELD_OK;
}

static void chroma_size(Y4mChroma c, int w, int h, int *cw, int *ch)
{
    switch (c) {
    case Y4M_444: *cw = w; *ch = h; break;
    case Y4M_422: *cw = (w + 1) / 2; *ch = h; break;
    case Y4M_MONO: *cw = 0; *ch = 0; break;
    default: *cw = (w + 1) / 2; *ch = (h + 1) / 2; break;
    }
}

/* Parses the stream header; r->fp and r->bytes_left are already set. */
static int open_common(Y4mReader *r, Y4mReadFn read, void *ctx, const char *name)
{
    r->read = read;
    r->ctx = ctx;
    r->chroma = Y4M_420JPEG;
    snprintf(r->name, sizeof r->name, "%s", name);
    char line[Y4M_MAX_LINE];
    long n = read_line(r, line, sizeof line, "Y4M stream header");
    if (n == -2) return meld_errorf("%s: empty file (no Y4M header)", r->name);
    if (n < 0) return MELD_ERR;
    if (strncmp(line, "YUV4MPEG2", 9) != 0 || (line[9] != ' ' && line[9] != '\0'))
        return meld_errorf("%s: not a Y4M file (no YUV4MPEG2 signature)", r->name);
    if (parse_stream_header(r, line + 9)) return MELD_ERR;
    int cw, ch;
    chroma_size(r->chroma, r->width, r->height, &cw, &ch);
    r->frame_bytes = (size_t)r->width * r->height + 2 * (size_t)cw * ch;
    return MELD_OK;
}

int y4m_open_source(Y4mReader *r, Y4mReadFn read, void *ctx, const char *name)
{
    memset(r, 0, sizeof *r);
    r->bytes_left = -1;
    return open_common(r, read, ctx, name);
}

int y4m_open(Y4mReader *r, const char *path)
{
    memset(r, 0, sizeof *r);
    FILE *fp = input_file_fopen(path);
    if (!fp) return MELD_ERR;
    struct stat st;
    r->fp = fp;
    r->bytes_left = fstat(fileno(fp), &st) == 0 ? (long long)st.st_size : -1;
    if (open_common(r, file_read, fp, path)) {
        y4m_close(r);
        return MELD_ERR;
    }
    return MELD_OK;
}

void y4m_close(Y4mReader *r)
{
    free(r->frame);
    if (r->fp) fclose(r->fp);
    memset(r, 0, sizeof *r);
}

/* ---- frames ------------------------------------------------------------ */

/* Reads the "FRAME..." line and the planes into r->frame. 1 / 0 / MELD_ERR. */
static int next_frame(Y4mReader *r)
{
    char line[Y4M_MAX_LINE];
    long n = read_line(r, line, sizeof line, "Y4M frame header");
    if (n == -2) return 0;
    if (n < 0) return meld_error_context("frame %ld", r->frames_read);
    if (strncmp(line, "FRAME", 5) != 0 || (line[5] != ' ' && line[5] != '\0'))
        return meld_errorf("%s: frame %ld: expected a FRAME header", r->name, r->frames_read);
    if (!r->frame) {
        /* Allocate on the first frame. For a regular file, a frame that
         * cannot fit in what is left is reported before allocating. */
        long long left = r->bytes_left >= 0 ? r->bytes_left + (long long)(r->in_len - r->in_pos) : -1;
        if (left >= 0 && (long long)r->frame_bytes > left)
            return meld_errorf("%s: frame %ld truncated: %lld of %zu bytes", r->name, r->frames_read, left,
                               r->frame_bytes);
        r->frame = meld_malloc(r->frame_bytes, "Y4M frame");
        if (!r->frame) return MELD_ERR;
    }
    long got = read_exact(r, r->frame, r->frame_bytes);
    if (got < 0) return MELD_ERR;
    if ((size_t)got < r->frame_bytes)
        return meld_errorf("%s: frame %ld truncated: %ld of %zu bytes", r->name, r->frames_read, got,
                           r->frame_bytes);
    r->frames_read++;
    return 1;
}

int y4m_read_yuv(Y4mReader *r, YuvFrame *f)
{
    int rc = next_frame(r);
    if (rc != 1) return rc;
    f->width = r->width;
    f->height = r->height;
    f->chroma = r->chroma;
    f->full_range = r->full_range;
    chroma_size(r->chroma, r->width, r->height, &f->chroma_width, &f->chroma_height);
    size_t luma = (size_t)r->width * r->height, cplane = (size_t)f->chroma_width * f->chroma_height;
    f->y = r->frame;
    f->cb = cplane ? r->frame + luma : NULL;
    f->cr = cplane ? r->frame + luma + cplane : NULL;
    return 1;
}

int y4m_read_frame(Y4mReader *r, Image *out, int channels)
{
    if (channels != 1 && channels != 3) return meld_errorf("%s: y4m_read_frame: %d channels", r->name, channels);
    YuvFrame f;
    int rc = y4m_read_yuv(r, &f);
    if (rc != 1) return rc;
    if ((channels == 3 ? yuv_to_rgb(&f, out) : yuv_to_grey(&f, out))) return MELD_ERR;
    return 1;
}

long y4m_count_frames(Y4mReader *r)
{
    long n = 0;
    for (;;) {
        int rc = next_frame(r);
        if (rc < 0) return MELD_ERR;
        if (rc == 0) return n;
        n++;
    }
}

/* ---- writer ------------------------------------------------------------ */

int y4m_writer_open(Y4mWriter *w, const char *path, int width, int height, int fps_num, int fps_den)
{
    memset(w, 0, sizeof *w);
    if (image_check_size(width, height, 3, path)) return MELD_ERR;
    if (fps_num <= 0 || fps_den <= 0) return meld_errorf("%s: bad frame rate %d:%d", path, fps_num, fps_den);
    size_t cplane = (size_t)((width + 1) / 2) * ((height + 1) / 2);
    w->plane_bytes = (size_t)width * height + 2 * cplane;
    w->planes = meld_malloc(w->plane_bytes, "Y4M writer frame");
    if (!w->planes) return MELD_ERR;
    if (atomic_file_open(&w->file, path)) {
        free(w->planes);
        w->planes = NULL;
        return MELD_ERR;
    }
    char header[128];
    int n = snprintf(header, sizeof header, "YUV4MPEG2 W%d H%d F%d:%d Ip A1:1 C420jpeg XCOLORRANGE=LIMITED\n", width,
                     height, fps_num, fps_den);
    w->width = width;
    w->height = height;
    w->open = 1;
    if (atomic_file_write(&w->file, header, (size_t)n)) {
        y4m_writer_abort(w);
        return MELD_ERR;
    }
    return MELD_OK;
}

int y4m_writer_write_rgb(Y4mWriter *w, const Image *rgb)
{
    if (!w->open) return meld_errorf("y4m writer: write after close or failed open");
    if (rgb->channels != 3 || rgb->width != w->width || rgb->height != w->height) {
        int rc = meld_errorf("%s: frame %ld is %dx%dx%d, the stream is %dx%dx3", w->file.path, w->frames,
                             rgb->width, rgb->height, rgb->channels, w->width, w->height);
        y4m_writer_abort(w);
        return rc;
    }
    size_t luma = (size_t)w->width * w->height, cplane = (w->plane_bytes - luma) / 2;
    rgb_to_yuv420(rgb, w->planes, w->planes + luma, w->planes + luma + cplane);
    if (atomic_file_write(&w->file, "FRAME\n", 6) || atomic_file_write(&w->file, w->planes, w->plane_bytes)) {
        y4m_writer_abort(w);
        return MELD_ERR;
    }
    w->frames++;
    return MELD_OK;
}

int y4m_writer_close(Y4mWriter *w)
{
    if (!w->open) return meld_errorf("y4m writer: close after a failed write (no file written)");
    free(w->planes);
    w->planes = NULL;
    w->open = 0;
    return atomic_file_commit(&w->file);
}

void y4m_writer_abort(Y4mWriter *w)
{
    if (w->open) atomic_file_abort(&w->file);
    free(w->planes);
    w->planes = NULL;
    w->open = 0;
}
