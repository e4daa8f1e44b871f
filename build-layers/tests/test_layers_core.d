build-layers/tests/test_layers_core.o: tests/test_layers_core.c \
 layers/layer_ops.h tensor/autograd.h tensor/tensor.h tensor/arena.h \
 tensor/rng.h layers/layers.h layers/layer.h tensor/error.h tensor/ops.h \
 tests/gradcheck.h
layers/layer_ops.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
layers/layers.h:
layers/layer.h:
tensor/error.h:
tensor/ops.h:
tests/gradcheck.h:
