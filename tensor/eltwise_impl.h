/* Internal: the per-ISA element-wise kernels behind tensor/eltwise.h and
 * tensor/rnn_cell.h, as tables of function pointers (one per ISA; the
 * pattern is described in tensor/cpu.h). Only the dispatchers (eltwise.c,
 * rnn_cell.c) use them, indexed by cpu_isa(). Same contracts as the public
 * functions. The SIMD instances come from tensor/eltwise_body.inc; the
 * scalar ones are the libm references. */
#ifndef MELD_ELTWISE_IMPL_H
#define MELD_ELTWISE_IMPL_H

#include <stddef.h>

typedef struct {
    void (*exp)(const float *x, float *y, size_t n);
    void (*tanh)(const float *x, float *y, size_t n);
    void (*sigmoid)(const float *x, float *y, size_t n);
    void (*add)(float *y, const float *x, size_t n);
    void (*add_const)(float *y, float v, size_t n);
    float (*sum)(const float *x, size_t n);
    float (*dot)(const float *x, const float *y, size_t n);
    void (*scale_shift)(const float *x, float a, float b, float *y, size_t n);
    void (*axpy)(float *y, float a, const float *x, size_t n);
} EltwiseKernels;

typedef struct {
    void (*lstm_forward)(int B, int H, const float *G, const float *c_prev, float *c, float *h,
                         float *acts, float *tc);
    void (*lstm_backward)(int B, int H, const float *dh, const float *dc, const float *acts,
                          const float *tc, const float *c_prev, float *dG, float *dc_prev);
    void (*gru_forward)(int B, int H, const float *gx, const float *gh, const float *h_prev,
                        float *h, float *save);
    void (*gru_backward)(int B, int H, const float *dh, const float *save, const float *h_prev,
                         float *dgx, float *dgh, float *dh_prev);
} RnnCellKernels;

extern const EltwiseKernels eltwise_kernels_scalar, eltwise_kernels_avx2,
    eltwise_kernels_avx512, eltwise_kernels_neon;
extern const RnnCellKernels rnn_cell_kernels_scalar, rnn_cell_kernels_avx2,
    rnn_cell_kernels_avx512, rnn_cell_kernels_neon;

/* The 16 lanes of a sum, reduced in the one order every path uses. */
float eltwise_reduce16(const float lane[16]);

#endif
