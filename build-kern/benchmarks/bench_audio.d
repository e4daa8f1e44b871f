build-kern/benchmarks/bench_audio.o: benchmarks/bench_audio.c \
 audio/functionals.h audio/lld.h audio/npy.h audio/spectral.h audio/wav.h \
 benchmarks/bench.h tensor/cpu.h tensor/error.h tensor/rng.h
audio/functionals.h:
audio/lld.h:
audio/npy.h:
audio/spectral.h:
audio/wav.h:
benchmarks/bench.h:
tensor/cpu.h:
tensor/error.h:
tensor/rng.h:
