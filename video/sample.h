/* Choosing K frames of a clip of N frames, evenly spaced.
 *
 * The clip is cut into K equal segments and the frame at the middle of each
 * is taken:
 *     index_k = floor((k + 0.5) * N / K),   k = 0 .. K-1
 * so the first and last frames (often fades or cuts) are avoided, and the
 * indices are strictly increasing when N >= K. When N < K some frames are
 * used more than once (indices repeat, still non-decreasing).
 * (MELD utterances average ~3 s; the source project took one frame every
 * 3 s, i.e. usually one frame. K = 4 gives the CNN a little motion.)
 */
#ifndef MELD_VIDEO_SAMPLE_H
#define MELD_VIDEO_SAMPLE_H

/* Fills idx[0..k) for a clip of n >= 1 frames, k >= 1. */
int frame_sample_indices(long n, int k, long *idx);

#endif
