build-data/pipeline/prepare.o: pipeline/prepare.c pipeline/prepare.h \
 pipeline/dataset.h pipeline/csv.h audio/functionals.h audio/lld.h \
 audio/spectral.h pipeline/cache.h pipeline/clip.h audio/wav.h \
 video/face.h video/haar.h video/image.h video/transform.h \
 tensor/atomic_file.h tensor/error.h tensor/threadpool.h
pipeline/prepare.h:
pipeline/dataset.h:
pipeline/csv.h:
audio/functionals.h:
audio/lld.h:
audio/spectral.h:
pipeline/cache.h:
pipeline/clip.h:
audio/wav.h:
video/face.h:
video/haar.h:
video/image.h:
video/transform.h:
tensor/atomic_file.h:
tensor/error.h:
tensor/threadpool.h:
