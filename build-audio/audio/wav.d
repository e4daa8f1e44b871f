build-audio/audio/wav.o: audio/wav.c audio/wav.h tensor/atomic_file.h \
 tensor/error.h
audio/wav.h:
tensor/atomic_file.h:
tensor/error.h:
