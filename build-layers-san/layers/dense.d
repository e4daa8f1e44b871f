build-layers-san/layers/dense.o: layers/dense.c layers/layer_init.h \
 layers/layer.h tensor/autograd.h tensor/tensor.h tensor/arena.h \
 tensor/rng.h tensor/error.h layers/layers.h tensor/ops.h
layers/layer_init.h:
layers/layer.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
tensor/error.h:
layers/layers.h:
tensor/ops.h:
