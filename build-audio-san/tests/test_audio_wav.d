build-audio-san/tests/test_audio_wav.o: tests/test_audio_wav.c \
 audio/wav.h tensor/error.h tensor/rng.h
audio/wav.h:
tensor/error.h:
tensor/rng.h:
