build-tb/pipeline/ffmpeg.o: pipeline/ffmpeg.c pipeline/ffmpeg.h \
 tensor/error.h
pipeline/ffmpeg.h:
tensor/error.h:
