build-kern/benchmarks/bench_gemm.o: benchmarks/bench_gemm.c \
 benchmarks/bench.h benchmarks/kernel_timing.h tensor/cpu.h \
 tensor/error.h tensor/gemm.h tensor/rng.h tensor/threadpool.h
benchmarks/bench.h:
benchmarks/kernel_timing.h:
tensor/cpu.h:
tensor/error.h:
tensor/gemm.h:
tensor/rng.h:
tensor/threadpool.h:
