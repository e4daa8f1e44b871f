build-tb/video/face.o: video/face.c video/face.h video/haar.h \
 video/image.h video/transform.h tensor/error.h video/color.h video/y4m.h \
 tensor/atomic_file.h
video/face.h:
video/haar.h:
video/image.h:
video/transform.h:
tensor/error.h:
video/color.h:
video/y4m.h:
tensor/atomic_file.h:
