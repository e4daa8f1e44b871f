/* Element-wise kernels: the scalar references and the ISA dispatch. */
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

void eltwise_exp(const float *x, float *y, size_t n)
{
    switch (cpu_isa()) {
    case CPU_ISA_AVX512: eltwise_exp_avx512(x, y, n); break;
    case CPU_ISA_AVX2: eltwise_exp_avx2(x, y, n); break;
    default: eltwise_exp_scalar(x, y, n);
    }
}

void eltwise_tanh(const float *x, float *y, size_t n)
{
    switch (cpu_isa()) {
    case CPU_ISA_AVX512: eltwise_tanh_avx512(x, y, n); break;
    case CPU_ISA_AVX2: eltwise_tanh_avx2(x, y, n); break;
    default: eltwise_tanh_scalar(x, y, n);
    }
}

void eltwise_sigmoid(const float *x, float *y, size_t n)
{
    switch (cpu_isa()) {
    case CPU_ISA_AVX512: eltwise_sigmoid_avx512(x, y, n); break;
    case CPU_ISA_AVX2: eltwise_sigmoid_avx2(x, y, n); break;
    default: eltwise_sigmoid_scalar(x, y, n);
    }
}

void eltwise_add(float *y, const float *x, size_t n)
{
    switch (cpu_isa()) {
    case CPU_ISA_AVX512: eltwise_add_avx512(y, x, n); break;
    case CPU_ISA_AVX2: eltwise_add_avx2(y, x, n); break;
    default:
        for (size_t i = 0; i < n; i++) y[i] += x[i];
    }
}

void eltwise_add_const(float *y, float v, size_t n)
{
    switch (cpu_isa()) {
    case CPU_ISA_AVX512: eltwise_add_const_avx512(y, v, n); break;
    case CPU_ISA_AVX2: eltwise_add_const_avx2(y, v, n); break;
    default:
        for (size_t i = 0; i < n; i++) y[i] += v;
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

float eltwise_sum(const float *x, size_t n)
{
    switch (cpu_isa()) {
    case CPU_ISA_AVX512: return eltwise_sum_avx512(x, n);
    case CPU_ISA_AVX2: return eltwise_sum_avx2(x, n);
    default: break;
    }
    float lane[16] = {0};
    for (size_t i = 0; i < n; i++) lane[i % 16] += x[i];
    return eltwise_reduce16(lane);
}

float eltwise_dot(const float *x, const float *y, size_t n)
{
    switch (cpu_isa()) {
    case CPU_ISA_AVX512: return eltwise_dot_avx512(x, y, n);
    case CPU_ISA_AVX2: return eltwise_dot_avx2(x, y, n);
    default: break;
    }
    float lane[16] = {0};
    for (size_t i = 0; i < n; i++) {
        float p = x[i] * y[i];
        lane[i % 16] += p;
    }
    return eltwise_reduce16(lane);
}

void eltwise_scale_shift(const float *x, float a, float b, float *y, size_t n)
{
    switch (cpu_isa()) {
    case CPU_ISA_AVX512: eltwise_scale_shift_avx512(x, a, b, y, n); break;
    case CPU_ISA_AVX2: eltwise_scale_shift_avx2(x, a, b, y, n); break;
    default:
        for (size_t i = 0; i < n; i++) {
            float ax = a * x[i];
            y[i] = ax + b;
        }
    }
}

void eltwise_axpy(float *y, float a, const float *x, size_t n)
{
    switch (cpu_isa()) {
    case CPU_ISA_AVX512: eltwise_axpy_avx512(y, a, x, n); break;
    case CPU_ISA_AVX2: eltwise_axpy_avx2(y, a, x, n); break;
    default:
        for (size_t i = 0; i < n; i++) {
            float ax = a * x[i];
            y[i] += ax;
        }
    }
}
