build-audio-san/tests/test_audio_functionals.o: \
 tests/test_audio_functionals.c audio/functionals.h audio/lld.h \
 audio/wav.h tensor/error.h tensor/rng.h
audio/functionals.h:
audio/lld.h:
audio/wav.h:
tensor/error.h:
tensor/rng.h:
