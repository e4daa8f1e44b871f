build-layers-san/tests/test_layers_model.o: tests/test_layers_model.c \
 layers/layers.h layers/layer.h tensor/autograd.h tensor/tensor.h \
 tensor/arena.h tensor/rng.h layers/model.h tensor/error.h tensor/ops.h \
 tests/gradcheck.h
layers/layers.h:
layers/layer.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
layers/model.h:
tensor/error.h:
tensor/ops.h:
tests/gradcheck.h:
