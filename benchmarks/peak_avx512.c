/* The FMA-peak loop (benchmarks/peak_body.inc) on avx512. */
#include "tensor/vec_avx512.h"
#include "benchmarks/peak_body.inc"
