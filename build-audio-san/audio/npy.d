build-audio-san/audio/npy.o: audio/npy.c audio/npy.h tensor/atomic_file.h \
 tensor/error.h
audio/npy.h:
tensor/atomic_file.h:
tensor/error.h:
