build-audio-san/tests/test_audio_resample.o: tests/test_audio_resample.c \
 audio/resample.h audio/wav.h tensor/error.h
audio/resample.h:
audio/wav.h:
tensor/error.h:
