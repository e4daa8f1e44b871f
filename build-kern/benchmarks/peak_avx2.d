build-kern/benchmarks/peak_avx2.o: benchmarks/peak_avx2.c \
 benchmarks/kernel_timing.h
benchmarks/kernel_timing.h:
