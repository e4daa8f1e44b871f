build-audio-san/tests/test_audio_cli.o: tests/test_audio_cli.c \
 audio/functionals.h audio/lld.h audio/npy.h audio/resample.h audio/wav.h \
 audio/spectral.h tensor/error.h
audio/functionals.h:
audio/lld.h:
audio/npy.h:
audio/resample.h:
audio/wav.h:
audio/spectral.h:
tensor/error.h:
