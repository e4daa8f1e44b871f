build-tb/video/y4m.o: video/y4m.c video/y4m.h tensor/atomic_file.h \
 video/image.h tensor/error.h video/color.h
video/y4m.h:
tensor/atomic_file.h:
video/image.h:
tensor/error.h:
video/color.h:
