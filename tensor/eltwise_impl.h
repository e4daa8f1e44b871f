/* Internal: the per-ISA element-wise kernels behind tensor/eltwise.h and
 * tensor/rnn_cell.h. Only the dispatchers (eltwise.c, rnn_cell.c) call these,
 * after cpu_isa() says the instructions exist. Same contracts as the public
 * functions. */
#ifndef MELD_ELTWISE_IMPL_H
#define MELD_ELTWISE_IMPL_H

#include <stddef.h>

void eltwise_exp_avx2(const float *x, float *y, size_t n);
void eltwise_tanh_avx2(const float *x, float *y, size_t n);
void eltwise_sigmoid_avx2(const float *x, float *y, size_t n);
void eltwise_exp_avx512(const float *x, float *y, size_t n);
void eltwise_tanh_avx512(const float *x, float *y, size_t n);
void eltwise_sigmoid_avx512(const float *x, float *y, size_t n);

void eltwise_add_avx2(float *y, const float *x, size_t n);
void eltwise_add_avx512(float *y, const float *x, size_t n);
void eltwise_add_const_avx2(float *y, float v, size_t n);
void eltwise_add_const_avx512(float *y, float v, size_t n);

float eltwise_sum_avx2(const float *x, size_t n);
float eltwise_dot_avx2(const float *x, const float *y, size_t n);
void eltwise_scale_shift_avx2(const float *x, float a, float b, float *y, size_t n);
void eltwise_axpy_avx2(float *y, float a, const float *x, size_t n);
float eltwise_sum_avx512(const float *x, size_t n);
float eltwise_dot_avx512(const float *x, const float *y, size_t n);
void eltwise_scale_shift_avx512(const float *x, float a, float b, float *y, size_t n);
void eltwise_axpy_avx512(float *y, float a, const float *x, size_t n);

/* The 16 lanes of a sum, reduced in the one order every path uses. */
float eltwise_reduce16(const float lane[16]);

void lstm_cell_forward_avx2(int B, int H, const float *G, const float *c_prev,
                            float *c, float *h, float *acts, float *tc);
void lstm_cell_backward_avx2(int B, int H, const float *dh, const float *dc,
                             const float *acts, const float *tc,
                             const float *c_prev, float *dG, float *dc_prev);
void gru_cell_forward_avx2(int B, int H, const float *gx, const float *gh,
                           const float *h_prev, float *h, float *save);
void gru_cell_backward_avx2(int B, int H, const float *dh, const float *save,
                            const float *h_prev, float *dgx, float *dgh,
                            float *dh_prev);

void lstm_cell_forward_avx512(int B, int H, const float *G, const float *c_prev,
                              float *c, float *h, float *acts, float *tc);
void lstm_cell_backward_avx512(int B, int H, const float *dh, const float *dc,
                               const float *acts, const float *tc,
                               const float *c_prev, float *dG, float *dc_prev);
void gru_cell_forward_avx512(int B, int H, const float *gx, const float *gh,
                             const float *h_prev, float *h, float *save);
void gru_cell_backward_avx512(int B, int H, const float *dh, const float *save,
                              const float *h_prev, float *dgx, float *dgh,
                              float *dh_prev);

#endif
