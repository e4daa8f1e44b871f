build-tb/pipeline/model_parts.o: pipeline/model_parts.c \
 pipeline/model_parts.h pipeline/models.h layers/layer.h \
 tensor/autograd.h tensor/tensor.h tensor/arena.h tensor/rng.h \
 pipeline/batch.h pipeline/cache.h layers/layers.h layers/lstm.h \
 layers/rnn_common.h pipeline/dataset.h pipeline/csv.h tensor/error.h \
 tensor/ops.h
pipeline/model_parts.h:
pipeline/models.h:
layers/layer.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
pipeline/batch.h:
pipeline/cache.h:
layers/layers.h:
layers/lstm.h:
layers/rnn_common.h:
pipeline/dataset.h:
pipeline/csv.h:
tensor/error.h:
tensor/ops.h:
