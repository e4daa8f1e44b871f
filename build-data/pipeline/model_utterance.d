build-data/pipeline/model_utterance.o: pipeline/model_utterance.c \
 layers/layers.h layers/layer.h tensor/autograd.h tensor/tensor.h \
 tensor/arena.h tensor/rng.h pipeline/model_parts.h pipeline/models.h \
 pipeline/batch.h pipeline/cache.h tensor/error.h tensor/ops.h
layers/layers.h:
layers/layer.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
pipeline/model_parts.h:
pipeline/models.h:
pipeline/batch.h:
pipeline/cache.h:
tensor/error.h:
tensor/ops.h:
