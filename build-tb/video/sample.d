build-tb/video/sample.o: video/sample.c video/sample.h tensor/error.h
video/sample.h:
tensor/error.h:
