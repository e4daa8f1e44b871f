build-tb/audio/fft.o: audio/fft.c audio/fft.h audio/fft_internal.h \
 tensor/error.h audio/fft_core.inc
audio/fft.h:
audio/fft_internal.h:
tensor/error.h:
audio/fft_core.inc:
