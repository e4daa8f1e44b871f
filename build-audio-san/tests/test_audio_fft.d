build-audio-san/tests/test_audio_fft.o: tests/test_audio_fft.c \
 audio/fft.h tensor/error.h tensor/rng.h
audio/fft.h:
tensor/error.h:
tensor/rng.h:
