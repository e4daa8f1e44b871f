build-data/pipeline/model_dialogue_rnn.o: pipeline/model_dialogue_rnn.c \
 layers/gru.h layers/rnn_common.h layers/layer.h tensor/autograd.h \
 tensor/tensor.h tensor/arena.h tensor/rng.h layers/layers.h \
 layers/lstm.h pipeline/model_parts.h pipeline/models.h pipeline/batch.h \
 pipeline/cache.h tensor/error.h tensor/ops.h
layers/gru.h:
layers/rnn_common.h:
layers/layer.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
layers/layers.h:
layers/lstm.h:
pipeline/model_parts.h:
pipeline/models.h:
pipeline/batch.h:
pipeline/cache.h:
tensor/error.h:
tensor/ops.h:
