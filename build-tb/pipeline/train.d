build-tb/pipeline/train.o: pipeline/train.c pipeline/train.h \
 pipeline/batch.h pipeline/cache.h tensor/autograd.h tensor/tensor.h \
 tensor/arena.h tensor/rng.h pipeline/metrics.h pipeline/models.h \
 layers/layer.h optim/optim.h tensor/safetensors.h \
 pipeline/checkpoint_io.h pipeline/dataset.h pipeline/csv.h \
 tensor/error.h tensor/ops.h
pipeline/train.h:
pipeline/batch.h:
pipeline/cache.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
pipeline/metrics.h:
pipeline/models.h:
layers/layer.h:
optim/optim.h:
tensor/safetensors.h:
pipeline/checkpoint_io.h:
pipeline/dataset.h:
pipeline/csv.h:
tensor/error.h:
tensor/ops.h:
