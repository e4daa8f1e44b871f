build-kern/benchmarks/bench_conv.o: benchmarks/bench_conv.c \
 benchmarks/bench.h benchmarks/kernel_timing.h tensor/conv.h tensor/cpu.h \
 tensor/error.h tensor/rng.h tensor/threadpool.h
benchmarks/bench.h:
benchmarks/kernel_timing.h:
tensor/conv.h:
tensor/cpu.h:
tensor/error.h:
tensor/rng.h:
tensor/threadpool.h:
