build-tb/video/haar.o: video/haar.c video/haar.h video/image.h \
 video/transform.h tensor/error.h video/color.h video/y4m.h \
 tensor/atomic_file.h
video/haar.h:
video/image.h:
video/transform.h:
tensor/error.h:
video/color.h:
video/y4m.h:
tensor/atomic_file.h:
