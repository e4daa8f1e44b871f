build-layers/tests/test_layers_checkpoint.o: \
 tests/test_layers_checkpoint.c layers/checkpoint.h layers/model.h \
 layers/layer.h tensor/autograd.h tensor/tensor.h tensor/arena.h \
 tensor/rng.h tensor/safetensors.h layers/layers.h tensor/error.h \
 tensor/ops.h
layers/checkpoint.h:
layers/model.h:
layers/layer.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
tensor/safetensors.h:
layers/layers.h:
tensor/error.h:
tensor/ops.h:
