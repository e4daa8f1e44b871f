build-tb/layers/model.o: layers/model.c layers/model.h layers/layer.h \
 tensor/autograd.h tensor/tensor.h tensor/arena.h tensor/rng.h \
 tensor/error.h tensor/ops.h
layers/model.h:
layers/layer.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
tensor/error.h:
tensor/ops.h:
