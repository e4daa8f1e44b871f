build-audio-san/tests/test_audio_lld.o: tests/test_audio_lld.c \
 audio/lld.h audio/spectral.h audio/wav.h tensor/error.h tensor/rng.h
audio/lld.h:
audio/spectral.h:
audio/wav.h:
tensor/error.h:
tensor/rng.h:
