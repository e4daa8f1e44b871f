/* Decoding MP4 clips (or any container ffmpeg reads) with the ffmpeg
 * program: each clip decoded once, many clips per ffmpeg process.
 *
 * Why many per process: starting the ffmpeg program costs about as much
 * CPU as decoding a 3-second 720p clip (it links some 200 shared
 * libraries), so one process per clip spends half its time starting up.
 * One process with many inputs and one set of outputs per input pays it
 * once for them all.
 *
 * Two ffmpeg runs per group of clips, neither decoding twice:
 *   1. demux only (`-c copy -f framecrc`): one line per packet, so the
 *      number of video frames the container lists, the frame size, and
 *      whether there is a video and an audio stream at all. Nothing is
 *      decoded. Clips without the streams asked for are reported here.
 *   2. the decode: for each clip, its K frames chosen by video/sample.h from
 *      that count, picked by a `select` filter as they stream by and
 *      converted to packed RGB by ffmpeg's scaler (its SIMD YUV->RGB path
 *      costs ~0.2 ms a 1280x720 frame, ours about a hundred times more),
 *      its audio resampled once by ffmpeg to mono 16-bit PCM
 *      at the asked rate, and a count of the frames actually decoded (each
 *      frame cropped to 2x2 grey pixels: 4 bytes a frame, nearly free).
 * Every output goes to its own pipe (pipeline/features/ffmpeg.h sinks).
 * When the decoded count differs from the container's (an edit list that
 * drops frames, say), the frames were chosen from the wrong count: that
 * clip alone is decoded again with the decoded count, and Clip.decodes
 * says 2. `-vsync passthrough` keeps frame numbers as decoded (no frames
 * duplicated or dropped to fit a constant rate), so the choice is the
 * same as counting the frames first.
 *
 * When a run fails, the clip to blame is found from ffmpeg's message (it
 * names the input, "file:PATH: ...") and the others run again without it;
 * when the message names none, each clip runs alone, so one damaged clip
 * costs a few extra runs, never the others' features. A run's memory is
 * bounded: clips are grouped so the frames of one run stay under
 * DECODE_RUN_BYTES.
 */
#ifndef MELD_PIPELINE_DECODE_H
#define MELD_PIPELINE_DECODE_H

#include "pipeline/features/clip.h"

/* Frame bytes (RGB) one decode run may collect before it is split. */
#define DECODE_RUN_BYTES ((size_t)256 << 20)

/* Decodes paths[0..n) through ffmpeg and calls visit once per clip (in
 * index order). MELD_ERR when visit fails or memory runs out. */
int decode_with_ffmpeg(const char *const *paths, int n, const ClipOptions *opt, ClipVisitFn visit, void *ctx);

#endif
