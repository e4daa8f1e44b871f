/* The FMA-peak loop (benchmarks/peak_body.inc) on avx2. */
#include "tensor/vec_avx2.h"
#include "benchmarks/peak_body.inc"
