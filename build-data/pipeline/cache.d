build-data/pipeline/cache.o: pipeline/cache.c pipeline/cache.h \
 tensor/atomic_file.h tensor/error.h
pipeline/cache.h:
tensor/atomic_file.h:
tensor/error.h:
