/* Batched STFT kernels: eight frames at a time, one per SIMD lane.
 *
 * Internal to audio/ (spectral.c and lld.c use it). Buffers named "lane
 * arrays" hold element i of frame b at [i * LANES + b]: every arithmetic op
 * of the FFT then works on eight frames with one vector instruction and no
 * shuffles, so the kernels stay plain scalar-looking code (fft_core.inc).
 *
 * One source (stft_lanes_body.inc) built once per ISA, as every kernel
 * family (tensor/cpu.h): stft_lanes.c for the scalar path (the 8-wide
 * vectors lowered to SSE2 or NEON pairs), stft_lanes_avx2.c and
 * stft_lanes_avx512.c (one ymm register per vector), stft_lanes_neon.c,
 * chosen at run time. All give bit-identical results: no FMA contraction
 * (-ffp-contract=off), same operation order.
 */
#ifndef MELD_AUDIO_STFT_LANES_H
#define MELD_AUDIO_STFT_LANES_H

#include <stddef.h>

#include "audio/fft_internal.h"

enum { LANES = 8 };

/* A Mel filterbank stored sparsely: band m has weights w[off[m] + i] on
 * frequency bins lo[m] + i, i < len[m] (a triangle touches few bins). */
typedef struct {
    int n_mels, n_freqs;
    int *lo, *len, *off;
    float *w;
} MelBank;

/* YIN difference function set-up for lanes: a segment of seg = win + max_lag
 * samples, correlation through a complex FFT of even length fft_n >= seg
 * (plan) and a real-output transform built on fft_n / 2 (half, with
 * tw[k] = exp(-2 pi i k / fft_n), k < fft_n / 2). */
typedef struct {
    int win, max_lag, fft_n;
    const FftPlan *plan, *half;
    const float *tw_re, *tw_im;
} YinShape;

typedef struct {
    /* Power spectrum |X_k|^2, k <= n/2, of frames[b][0..n) * window for the
     * eight lanes (n = plan size; the plan's complex part must be smooth).
     * P: lane array of n/2 + 1; work: lanes_power_work_floats(). */
    void (*power)(const RfftPlan *plan, const float *const frames[LANES], const float *window,
                  float *P, float *work);
    /* Mel energies: M[m] = sum_k fb[k][m] P[k] (lane arrays). */
    void (*mel)(const MelBank *bank, const float *P, float *M);
    /* x <- ln(max(x, floor)) * scale on n lane elements (n * LANES floats). */
    void (*log_floor)(float *x, size_t n, float floor, float scale);
    /* YIN cumulative-mean-normalised difference d'(tau), tau <= max_lag, and
     * the raw difference d(tau), for segments seg[b][0 .. win + max_lag):
     *   d(tau) = sum_{j<win} (x_j - x_{j+tau})^2 = e0 + e_tau - 2 r(tau)
     * with r the cross-correlation computed by FFT. Outputs are lane arrays
     * of max_lag + 1. work: lanes_yin_work_floats(). */
    void (*yin)(const YinShape *shape, const float *const seg[LANES], float *d, float *dn,
                float *work);
} LaneKernels;

/* The kernels for the ISA in effect (cpu_isa()). */
const LaneKernels *lane_kernels(void);
extern const LaneKernels lane_kernels_scalar, lane_kernels_avx2, lane_kernels_avx512,
    lane_kernels_neon;

size_t lanes_power_work_floats(const RfftPlan *plan);
size_t lanes_yin_work_floats(const YinShape *shape);

#endif
