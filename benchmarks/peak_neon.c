/* The FMA-peak loop (benchmarks/peak_body.inc) on neon. */
#include "tensor/vec_neon.h"
#include "benchmarks/peak_body.inc"
