build-layers/tests/test_layers_parity.o: tests/test_layers_parity.c \
 layers/layers.h layers/layer.h tensor/autograd.h tensor/tensor.h \
 tensor/arena.h tensor/rng.h tensor/error.h tensor/ops.h \
 tensor/safetensors.h
layers/layers.h:
layers/layer.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
tensor/error.h:
tensor/ops.h:
tensor/safetensors.h:
