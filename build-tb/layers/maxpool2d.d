build-tb/layers/maxpool2d.o: layers/maxpool2d.c layers/layer_init.h \
 layers/layer.h tensor/autograd.h tensor/tensor.h tensor/arena.h \
 tensor/rng.h tensor/error.h layers/layer_ops.h layers/layers.h \
 tensor/conv.h tensor/op_defs.h tensor/ops.h
layers/layer_init.h:
layers/layer.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
tensor/error.h:
layers/layer_ops.h:
layers/layers.h:
tensor/conv.h:
tensor/op_defs.h:
tensor/ops.h:
