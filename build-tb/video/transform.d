build-tb/video/transform.o: video/transform.c video/transform.h \
 video/image.h tensor/error.h
video/transform.h:
video/image.h:
tensor/error.h:
