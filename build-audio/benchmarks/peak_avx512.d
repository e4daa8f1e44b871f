build-audio/benchmarks/peak_avx512.o: benchmarks/peak_avx512.c \
 benchmarks/kernel_timing.h
benchmarks/kernel_timing.h:
