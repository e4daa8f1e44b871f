/* Element-wise exp / tanh / sigmoid: libm references and ISA dispatch. */
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
