build-tb/video/color.o: video/color.c video/color.h video/image.h \
 video/y4m.h tensor/atomic_file.h tensor/error.h
video/color.h:
video/image.h:
video/y4m.h:
tensor/atomic_file.h:
tensor/error.h:
