build-tb/pipeline/batch.o: pipeline/batch.c pipeline/batch.h \
 pipeline/cache.h tensor/autograd.h tensor/tensor.h tensor/arena.h \
 tensor/rng.h tensor/error.h
pipeline/batch.h:
pipeline/cache.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
tensor/error.h:
