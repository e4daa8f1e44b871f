build-audio-san/tests/test_audio_spectral.o: tests/test_audio_spectral.c \
 audio/npy.h audio/spectral.h audio/wav.h tensor/cpu.h tensor/error.h \
 tensor/rng.h
audio/npy.h:
audio/spectral.h:
audio/wav.h:
tensor/cpu.h:
tensor/error.h:
tensor/rng.h:
