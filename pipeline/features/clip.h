/* Loading one MELD clip: its audio and K evenly spaced video frames.
 *
 * Accepted inputs (chosen by the path):
 *   - a folder DIR of .pgm/.ppm frames (sorted by name, digit runs compared
 *     as numbers, so frame2 < frame10), with audio from DIR.wav;
 *   - X.wav: audio; frames from X.y4m, else from the folder X/;
 *   - X.y4m: frames; audio from X.wav;
 *   - X.pgm / X.ppm / X.pnm: a single picture (a one-frame clip, no audio);
 *   - anything else (MELD's .mp4): decoded by ffmpeg (pipeline/features/ffmpeg.h).
 * Only the ffmpeg route needs ffmpeg. WAV audio at a rate other than the
 * one asked is resampled with audio/resample.h.
 *
 * The ffmpeg route runs two processes per clip:
 *   1. audio as raw 16-bit mono PCM at the asked rate on stdout (a WAV
 *      header written to a pipe cannot hold the sizes, so we take the raw
 *      samples), and on fd 3 every frame shrunk to a single grey pixel:
 *      the byte count is the frame count N;
 *   2. a `select` filter keeping only the K frame numbers chosen by
 *      video/sample.h, as Y4M on stdout, read with video/y4m.h.
 * Both use -vsync passthrough so frame numbers mean the same in both runs
 * (no frames duplicated or dropped to fit a constant rate), and the input
 * is given as "file:PATH" so no file name is taken for a protocol.
 *
 * A macOS AppleDouble companion ("._clip.mp4", magic 00 05 16 07) is
 * refused by content before anything is run.
 */
#ifndef MELD_PIPELINE_CLIP_H
#define MELD_PIPELINE_CLIP_H

#include "audio/wav.h"
#include "video/face.h"
#include "video/haar.h"
#include "video/image.h"

/* Longest clip accepted (MELD's longest utterance is under a minute). */
#define CLIP_MAX_SECONDS 1200
#define CLIP_MAX_K 64

typedef struct {
    int k;                  /* frames to sample (4); 0: no frames */
    int want_audio;         /* 1: decode the audio (1) */
    int sample_rate;        /* Hz of the returned audio (16000); 0: keep a WAV's own */
    double timeout_s;       /* per ffmpeg run (120) */
    const char *ffmpeg;     /* program name or path ("ffmpeg") */
} ClipOptions;

ClipOptions clip_default_options(void);

typedef struct {
    Audio audio;            /* mono float (empty when not asked) */
    Image *frames;          /* n_frames RGB frames at the source size */
    long *frame_index;      /* each frame's number in the clip */
    int n_frames;           /* = k */
    long total_frames;      /* frames in the clip */
    int used_ffmpeg;        /* 1 when the clip went through ffmpeg */
} Clip;

/* Loads `path`. *out must be zeroed or cleared by clip_free first. */
int clip_load(const char *path, const ClipOptions *opt, Clip *out);
void clip_free(Clip *c);

/* 1 if path is an AppleDouble file (by content), 0 if not or unreadable. */
int clip_is_appledouble(const char *path);

/* Face crops of a clip's frames (video/face.h), crops[n_frames] and
 * info[n_frames] (info may be NULL); cascade may be NULL. Returns the
 * number of frames that fell back to a centre crop, or MELD_ERR. */
int clip_face_crops(const Clip *c, const HaarCascade *cascade, const FaceCropOptions *opt, Image *crops,
                    FaceCropInfo *info);

#endif
