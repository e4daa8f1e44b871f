build-layers-san/layers/checkpoint.o: layers/checkpoint.c \
 layers/checkpoint.h layers/model.h layers/layer.h tensor/autograd.h \
 tensor/tensor.h tensor/arena.h tensor/rng.h tensor/safetensors.h \
 tensor/error.h
layers/checkpoint.h:
layers/model.h:
layers/layer.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
tensor/safetensors.h:
tensor/error.h:
