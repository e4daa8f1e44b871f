/* Element-wise kernels: the scalar references and the ISA dispatch (the
 * SIMD instances: tensor/eltwise_body.inc). */
#include "tensor/eltwise.h"

#include <math.h>

#include "tensor/cpu.h"
#include "tensor/eltwise_impl.h"

void eltwise_exp_scalar(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = expf(x[i]);
}

void eltwise_tanh_scalar(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
}

/* 1/(1+e^-x) for x >= 0; e^x/(1+e^x) for x < 0 keeps relative precision
 * of the tiny results on the negative side. */
void eltwise_sigmoid_scalar(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float e = expf(-fabsf(x[i]));
        y[i] = x[i] < 0.0f ? e / (1.0f + e) : 1.0f / (1.0f + e);
    }
}

/* ---- reductions and affine maps ------------------------------------------
 * The scalar paths mirror the vector ones exactly (tensor/eltwise.h): x[i]
 * goes to lane i % 16, and the lanes are halved pairwise, 16 -> 8 -> 4 ->
 * 2 -> 1, as a register would be split. */

float eltwise_reduce16(const float lane[16])
{
    float t[16];
    for (int l = 0; l < 16; l++) t[l] = lane[l];
    for (int w = 8; w >= 1; w /= 2)
        for (int l = 0; l < w; l++) t[l] = t[l] + t[l + w];
    return t[0];
}

static float sum_scalar(const float *x, size_t n)
{
    float lane[16] = {0};
    for (size_t i = 0; i < n; i++) lane[i % 16] += x[i];
    return eltwise_reduce16(lane);
}

static float dot_scalar(const float *x, const float *y, size_t n)
{
    float lane[16] = {0};
    for (size_t i = 0; i < n; i++) {
        float p = x[i] * y[i];
        lane[i % 16] += p;
    }
    return eltwise_reduce16(lane);
}

static void scale_shift_scalar(const float *x, float a, float b, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float ax = a * x[i];
        y[i] = ax + b;
    }
}

static void axpy_scalar(float *y, float a, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float ax = a * x[i];
        y[i] += ax;
    }
}

static void add_scalar(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

static void add_const_scalar(float *y, float v, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] += v;
}

/* ---- dispatch -------------------------------------------------------------- */

const EltwiseKernels eltwise_kernels_scalar = {
    eltwise_exp_scalar, eltwise_tanh_scalar, eltwise_sigmoid_scalar,
    add_scalar,         add_const_scalar,    sum_scalar,
    dot_scalar,         scale_shift_scalar,  axpy_scalar,
};

static const EltwiseKernels *const KERNELS[CPU_ISA_COUNT] = CPU_ISA_TABLE(eltwise_kernels);

static const EltwiseKernels *kernels(void) { return KERNELS[cpu_isa()]; }

void eltwise_exp(const float *x, float *y, size_t n) { kernels()->exp(x, y, n); }
void eltwise_tanh(const float *x, float *y, size_t n) { kernels()->tanh(x, y, n); }
void eltwise_sigmoid(const float *x, float *y, size_t n) { kernels()->sigmoid(x, y, n); }
void eltwise_add(float *y, const float *x, size_t n) { kernels()->add(y, x, n); }
void eltwise_add_const(float *y, float v, size_t n) { kernels()->add_const(y, v, n); }
float eltwise_sum(const float *x, size_t n) { return kernels()->sum(x, n); }
float eltwise_dot(const float *x, const float *y, size_t n) { return kernels()->dot(x, y, n); }

void eltwise_scale_shift(const float *x, float a, float b, float *y, size_t n)
{
    kernels()->scale_shift(x, a, b, y, n);
}

void eltwise_axpy(float *y, float a, const float *x, size_t n) { kernels()->axpy(y, a, x, n); }
