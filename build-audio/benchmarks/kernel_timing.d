build-audio/benchmarks/kernel_timing.o: benchmarks/kernel_timing.c \
 benchmarks/kernel_timing.h tensor/cpu.h tensor/threadpool.h
benchmarks/kernel_timing.h:
tensor/cpu.h:
tensor/threadpool.h:
