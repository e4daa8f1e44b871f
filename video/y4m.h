/* YUV4MPEG2 (.y4m): uncompressed video, the format ffmpeg pipes to us.
 *
 * File layout (all text is ASCII, fields separated by one space):
 *     "YUV4MPEG2 W640 H360 F30000:1001 Ip A1:1 C420jpeg XCOLORRANGE=LIMITED\n"
 *     then per frame: "FRAME" [ parameters ] "\n" and the planes, no padding:
 *         Y  : W x H bytes
 *         Cb : CW x CH bytes     Cr : CW x CH bytes   (absent for mono)
 * Chroma layouts (the C tag; no tag means 420jpeg):
 *     420jpeg  CW = ceil(W/2), CH = ceil(H/2), chroma centred in each 2x2 block
 *     420mpeg2 same sizes, chroma co-sited horizontally with the even luma
 *              columns, centred vertically
 *     420paldv same sizes, chroma co-sited with the top-left luma sample
 *              (DV puts Cr one line lower; we treat both as co-sited)
 *     422      CW = ceil(W/2), CH = H, co-sited with the even columns
 *     444      CW = W, CH = H
 *     mono     luma only
 * Only 8-bit samples are read ("C420p10" etc. are refused with a message).
 * Colour: BT.601. XCOLORRANGE=FULL means Y, Cb, Cr use 0..255 (JPEG);
 * anything else means the studio range Y 16..235, Cb/Cr 16..240.
 *
 * Sizes are limited as for images (video/image.h: IMAGE_MAX_SIDE,
 * IMAGE_MAX_PIXELS); a header over the limits is an error before any
 * frame buffer is allocated. When reading a regular file the file size is
 * checked too, so a truncated file is reported, not over-read.
 */
#ifndef MELD_VIDEO_Y4M_H
#define MELD_VIDEO_Y4M_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tensor/atomic_file.h"
#include "video/image.h"

typedef enum { Y4M_420JPEG, Y4M_420MPEG2, Y4M_420PALDV, Y4M_422, Y4M_444, Y4M_MONO } Y4mChroma;

/* One decoded frame, planar, in the stream's own layout. */
typedef struct {
    int width, height;          /* luma size */
    int chroma_width, chroma_height;   /* 0 for mono */
    Y4mChroma chroma;
    int full_range;             /* 1: XCOLORRANGE=FULL */
    const uint8_t *y, *cb, *cr; /* views into the reader's buffer */
} YuvFrame;

/* Where the reader gets bytes: returns the number of bytes read (> 0),
 * 0 at the end of the stream, or -1 after setting an error message.
 * pipeline/features/ffmpeg.h provides one that reads a child process with a timeout. */
typedef long (*Y4mReadFn)(void *ctx, void *buf, size_t n);

typedef struct {
    /* Stream properties, valid after y4m_open*. */
    int width, height;
    int fps_num, fps_den;       /* 0:0 when the header has no F tag */
    Y4mChroma chroma;
    int full_range;
    long frames_read;           /* frames returned or skipped so far */
    /* Internal state. */
    Y4mReadFn read;
    void *ctx;
    FILE *fp;                   /* owned, when opened from a path */
    long long bytes_left;       /* regular file: bytes not yet consumed; -1 unknown */
    size_t frame_bytes;         /* planes of one frame */
    uint8_t *frame;             /* frame_bytes */
    uint8_t inbuf[4096];        /* read-ahead for header lines */
    size_t in_pos, in_len;
    int eof;
    char name[256];             /* for messages */
} Y4mReader;

/* Opens a .y4m file and parses its stream header. */
int  y4m_open(Y4mReader *r, const char *path);
/* Parses the stream header from any byte source (a pipe, memory). */
int  y4m_open_source(Y4mReader *r, Y4mReadFn read, void *ctx, const char *name);
/* Reads the next frame and converts it to RGB (channels 3) or grey
 * (channels 1) into *out (reallocated with image_ensure when its size
 * differs; pass a zeroed Image the first time).
 * Returns 1 when a frame was read, 0 at a clean end of stream, MELD_ERR on
 * a malformed or truncated frame. */
int  y4m_read_frame(Y4mReader *r, Image *out, int channels);
/* Reads the next frame's planes without colour conversion; the views in
 * *f stay valid until the next read. Returns 1 / 0 / MELD_ERR as above. */
int  y4m_read_yuv(Y4mReader *r, YuvFrame *f);
/* Frees the buffers; closes the file if y4m_open opened it. */
void y4m_close(Y4mReader *r);
/* Counts the remaining frames of a file by reading through it (the reader
 * is then at the end). Returns the count or MELD_ERR. */
long y4m_count_frames(Y4mReader *r);

/* Streaming writer, 8-bit 4:2:0 with JPEG chroma siting (C420jpeg), studio
 * range BT.601 (written as XCOLORRANGE=LIMITED). The file is built in a
 * temporary file and renamed into place by y4m_writer_close, so it appears
 * complete or not at all. */
typedef struct {
    AtomicFile file;
    int width, height;
    uint8_t *planes;            /* one frame: Y, Cb, Cr */
    size_t plane_bytes;
    long frames;
    int open;
} Y4mWriter;

int y4m_writer_open(Y4mWriter *w, const char *path, int width, int height, int fps_num, int fps_den);
/* Appends one RGB frame (3 channels, the writer's size). */
int y4m_writer_write_rgb(Y4mWriter *w, const Image *rgb);
/* Commits the file. Returns MELD_ERR (and leaves no file) if any earlier
 * write failed. */
int y4m_writer_close(Y4mWriter *w);
/* Discards a writer on an error path: no file appears. */
void y4m_writer_abort(Y4mWriter *w);

#endif
