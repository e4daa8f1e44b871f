build-layers/tests/test_layers_conv.o: tests/test_layers_conv.c \
 layers/layer_ops.h tensor/autograd.h tensor/tensor.h tensor/arena.h \
 tensor/rng.h layers/layers.h layers/layer.h layers/model.h \
 tensor/error.h tensor/ops.h tests/gradcheck.h
layers/layer_ops.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
layers/layers.h:
layers/layer.h:
layers/model.h:
tensor/error.h:
tensor/ops.h:
tests/gradcheck.h:
