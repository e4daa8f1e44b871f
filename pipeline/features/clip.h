/* Loading one MELD clip: its audio and K evenly spaced video frames.
 *
 * Accepted inputs (chosen by the path):
 *   - a folder DIR of .pgm/.ppm frames (sorted by name, digit runs compared
 *     as numbers, so frame2 < frame10), with audio from DIR.wav;
 *   - X.wav: audio; frames from X.y4m, else from the folder X/;
 *   - X.y4m: frames; audio from X.wav;
 *   - X.pgm / X.ppm / X.pnm: a single picture (a one-frame clip, no audio);
 *   - anything else (MELD's .mp4): decoded once by the ffmpeg program,
 *     many clips per process (pipeline/features/decode.h), the input given
 *     as "file:PATH" so no file name is taken for a protocol.
 * Only the ffmpeg route needs ffmpeg. WAV audio at a rate other than the
 * one asked is resampled with audio/resample.h.
 *
 * A macOS AppleDouble companion ("._clip.mp4", magic 00 05 16 07), a
 * folder, a FIFO or a device where a clip file is expected are refused
 * before anything is read (a FIFO would block the reader forever).
 *
 * Every clip that cannot be used gets a ClipProblem, so a caller can say
 * why it was skipped and whether trying again may help (CLIP_NO_TOOL).
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

/* Why a clip could not be used. The numbers are stored in feature caches
 * (docs/CACHE.md): append, never renumber. */
typedef enum {
    CLIP_OK = 0,
    CLIP_NO_FILE = 1,       /* the CSV row has no clip file */
    CLIP_UNREADABLE = 2,    /* not a regular file, cannot be opened, AppleDouble */
    CLIP_DAMAGED = 3,       /* the container or a stream cannot be decoded */
    CLIP_NO_VIDEO = 4,      /* no video stream */
    CLIP_NO_AUDIO = 5,      /* no audio stream */
    CLIP_ZERO_LENGTH = 6,   /* a stream without frames, or too short to use */
    CLIP_NO_TOOL = 7,       /* a program it needs (ffmpeg) is not installed */
    CLIP_N_PROBLEMS
} ClipProblem;

/* "no clip file", "unreadable clip", ...; "?" out of range. */
const char *clip_problem_name(int problem);

typedef struct {
    int k;                  /* frames to sample (4); 0: no frames */
    int want_audio;         /* 1: decode the audio (1) */
    int sample_rate;        /* Hz of the returned audio (16000); 0: keep a WAV's own */
    double timeout_s;       /* per clip and ffmpeg run (120) */
    const char *ffmpeg;     /* program name or path ("ffmpeg") */
    int decoder_threads;    /* ffmpeg's -threads per input; 0: ffmpeg's choice (0) */
} ClipOptions;

ClipOptions clip_default_options(void);

typedef struct {
    Audio audio;            /* mono float (empty when not asked) */
    Image *frames;          /* n_frames RGB frames at the source size */
    long *frame_index;      /* each frame's number in the clip */
    int n_frames;           /* = k */
    long total_frames;      /* frames in the clip */
    int used_ffmpeg;        /* 1 when the clip went through ffmpeg */
    int decodes;            /* ffmpeg decode runs it took: 1, or 2 when the
                               container's frame count proved wrong */
} Clip;

/* Loads `path`. *out must be zeroed or cleared by clip_free first. */
int clip_load(const char *path, const ClipOptions *opt, Clip *out);
void clip_free(Clip *c);

/* Called once per clip of clip_load_many: c is the clip (NULL when
 * problem != CLIP_OK, `message` then says why), freed when visit returns
 * (a visit may keep it by copying *c and zeroing c). A visit returning
 * MELD_ERR stops the loop. */
typedef int (*ClipVisitFn)(void *ctx, int index, Clip *c, ClipProblem problem, const char *message);

/* Loads paths[0..n), the ffmpeg ones together (pipeline/features/decode.h),
 * and visits each exactly once, in no particular order. MELD_ERR only when
 * a visit fails or memory runs out: clip problems go to visit. */
int clip_load_many(const char *const *paths, int n, const ClipOptions *opt, ClipVisitFn visit, void *ctx);

/* 1 when path goes to ffmpeg (not a WAV, Y4M, image or frame folder). */
int clip_needs_ffmpeg(const char *path);

/* 1 when path is a regular file; otherwise 0 with a message naming what it
 * is instead (a FIFO, a device, a folder) or why it cannot be checked.
 * Never blocks (a FIFO is not opened). */
int clip_is_regular_file(const char *path);

/* 1 if path is an AppleDouble file (by content), 0 if not or unreadable. */
int clip_is_appledouble(const char *path);

/* For the loaders (clip.c, decode.c): K frame slots; the last frame read
 * repeated when a clip ran short (none read: an error); 16-bit
 * little-endian mono PCM as float samples. */
int clip_alloc_frames(Clip *c, int k);
int clip_fill_missing(Clip *c, int got, const char *path);
int clip_audio_from_pcm16(const uint8_t *pcm, size_t bytes, int rate, Audio *a);

/* Face crops of a clip's frames (video/face.h), crops[n_frames] and
 * info[n_frames] (info may be NULL); cascade may be NULL. Returns the
 * number of frames that fell back to a centre crop, or MELD_ERR. */
int clip_face_crops(const Clip *c, const HaarCascade *cascade, const FaceCropOptions *opt, Image *crops,
                    FaceCropInfo *info);

#endif
