build-tb/video/augment.o: video/augment.c video/augment.h tensor/rng.h \
 video/image.h tensor/error.h video/transform.h
video/augment.h:
tensor/rng.h:
video/image.h:
tensor/error.h:
video/transform.h:
