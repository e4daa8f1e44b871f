build-tb/audio/resample.o: audio/resample.c audio/resample.h audio/wav.h \
 tensor/error.h
audio/resample.h:
audio/wav.h:
tensor/error.h:
