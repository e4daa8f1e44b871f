build-tb/pipeline/models.o: pipeline/models.c pipeline/models.h \
 layers/layer.h tensor/autograd.h tensor/tensor.h tensor/arena.h \
 tensor/rng.h pipeline/batch.h pipeline/cache.h pipeline/dataset.h \
 pipeline/csv.h tensor/error.h tensor/ops.h
pipeline/models.h:
layers/layer.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
pipeline/batch.h:
pipeline/cache.h:
pipeline/dataset.h:
pipeline/csv.h:
tensor/error.h:
tensor/ops.h:
