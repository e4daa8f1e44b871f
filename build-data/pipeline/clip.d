build-data/pipeline/clip.o: pipeline/clip.c pipeline/clip.h audio/wav.h \
 video/face.h video/haar.h video/image.h video/transform.h \
 audio/resample.h pipeline/ffmpeg.h tensor/error.h video/color.h \
 video/y4m.h tensor/atomic_file.h video/sample.h
pipeline/clip.h:
audio/wav.h:
video/face.h:
video/haar.h:
video/image.h:
video/transform.h:
audio/resample.h:
pipeline/ffmpeg.h:
tensor/error.h:
video/color.h:
video/y4m.h:
tensor/atomic_file.h:
video/sample.h:
