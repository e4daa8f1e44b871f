/* Vectorised element-wise exp, tanh and logistic sigmoid over float arrays.
 *
 *     eltwise_exp(x, y, n);     y[i] = e^x[i]            (y may equal x)
 *
 * Algorithms (tensor/eltwise_body.inc has the details): exp by Cody-Waite range
 * reduction to r in [-ln2/2, ln2/2], a degree-7 polynomial for e^r and an
 * exponent-field scaling by 2^n; tanh by an odd polynomial for |x| <= 0.625
 * and 1 - 2/(e^{2|x|}+1) above; sigmoid by 1/(1+e^{-|x|}) folded by sign.
 * The fused LSTM / GRU cells (tensor/rnn_cell.h) use the same vector code.
 *
 * Accuracy, measured over every finite float input (all 2^32 bit patterns
 * except NaN and inf, every vector path, `./bench eltwise --accuracy`)
 * against double-precision libm: relative error |y - f(x)| / |f(x)| over
 * the inputs whose exact result is a normal float (|f(x)| >= 2^-126):
 *     exp      8.46e-8  (0.71 float eps, worst at x = 26.690403)
 *     tanh     1.43e-7  (1.19 eps, at x = 0.62830955, just above the switch
 *                        from the polynomial to the exp formula)
 *     sigmoid  2.02e-7  (1.69 eps, at x = -7.5696378)
 * (float eps = 2^-23 = 1.19e-7.) Where the exact result is subnormal the
 * absolute error is below 2^-149 = 1.4e-45, one subnormal step. Inputs whose
 * exact exp overflows give +inf. Special values: exp(-inf) = 0,
 * exp(+inf) = +inf; tanh(+-inf) = +-1; sigmoid(-inf) = 0, sigmoid(+inf) = 1;
 * NaN in gives NaN out. Every vector path (AVX2, AVX-512, NEON) gives the
 * same values: they run one source (tensor/eltwise_body.inc) with explicit
 * FMAs, and their 2^n scalings round once. The bounds below are
 * these measurements rounded up; tests/test_tensor_eltwise.c checks them.
 *
 * The *_scalar functions call libm (expf, tanhf): they are the references
 * of the tests and the portable path when no SIMD path is present.
 */
#ifndef MELD_ELTWISE_H
#define MELD_ELTWISE_H

#include <stddef.h>

#define ELTWISE_EXP_MAX_REL_ERR 8.5e-8
#define ELTWISE_TANH_MAX_REL_ERR 1.43e-7
#define ELTWISE_SIGMOID_MAX_REL_ERR 2.02e-7
#define ELTWISE_MAX_ABS_ERR_SUBNORMAL 1.41e-45

void eltwise_exp(const float *x, float *y, size_t n);
void eltwise_tanh(const float *x, float *y, size_t n);
void eltwise_sigmoid(const float *x, float *y, size_t n);

/* y[i] += x[i] (exact, same result on every path); used by col2im. */
void eltwise_add(float *y, const float *x, size_t n);
/* y[i] += v (exact, same result on every path); used for conv biases. */
void eltwise_add_const(float *y, float v, size_t n);

/* Reductions and affine maps for the normalisation and dropout layers.
 * Every path gives the same bits: sums run in 16 fixed lanes (lane l takes
 * x[l], x[l+16], ...; the tail goes to lanes 0..), reduced pairwise in one
 * fixed order; products are a multiply then an add (no FMA), as the scalar
 * path does. 16 lanes also break the add-latency chain (4 cycles per add).
 * For n up to a few thousand, as here (one feature-map row block), float
 * partial sums are accurate to a few ulps; callers accumulate the blocks in
 * double. */
float eltwise_sum(const float *x, size_t n);                   /* sum x[i] */
float eltwise_dot(const float *x, const float *y, size_t n);   /* sum x[i]*y[i] */
/* y[i] = a * x[i] + b (y may equal x). */
void eltwise_scale_shift(const float *x, float a, float b, float *y, size_t n);
/* y[i] += a * x[i]. */
void eltwise_axpy(float *y, float a, const float *x, size_t n);

void eltwise_exp_scalar(const float *x, float *y, size_t n);
void eltwise_tanh_scalar(const float *x, float *y, size_t n);
void eltwise_sigmoid_scalar(const float *x, float *y, size_t n);

#endif
