build-audio-san/audio/functionals.o: audio/functionals.c \
 audio/functionals.h audio/lld.h audio/npy.h audio/spectral.h \
 tensor/error.h
audio/functionals.h:
audio/lld.h:
audio/npy.h:
audio/spectral.h:
tensor/error.h:
