build-tb/video/image.o: video/image.c video/image.h tensor/atomic_file.h \
 tensor/error.h
video/image.h:
tensor/atomic_file.h:
tensor/error.h:
