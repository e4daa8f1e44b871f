build-tb/pipeline/checkpoint_io.o: pipeline/checkpoint_io.c \
 pipeline/checkpoint_io.h optim/optim.h tensor/safetensors.h \
 pipeline/batch.h pipeline/cache.h tensor/autograd.h tensor/tensor.h \
 tensor/arena.h tensor/rng.h pipeline/models.h layers/layer.h \
 pipeline/dataset.h pipeline/csv.h tensor/error.h
pipeline/checkpoint_io.h:
optim/optim.h:
tensor/safetensors.h:
pipeline/batch.h:
pipeline/cache.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
pipeline/models.h:
layers/layer.h:
pipeline/dataset.h:
pipeline/csv.h:
tensor/error.h:
