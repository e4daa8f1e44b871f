build-kern/benchmarks/bench_eltwise.o: benchmarks/bench_eltwise.c \
 benchmarks/bench.h benchmarks/kernel_timing.h tensor/cpu.h \
 tensor/eltwise.h tensor/error.h tensor/rng.h tensor/rnn_cell.h
benchmarks/bench.h:
benchmarks/kernel_timing.h:
tensor/cpu.h:
tensor/eltwise.h:
tensor/error.h:
tensor/rng.h:
tensor/rnn_cell.h:
