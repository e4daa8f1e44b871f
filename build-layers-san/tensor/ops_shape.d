build-layers-san/tensor/ops_shape.o: tensor/ops_shape.c tensor/error.h \
 tensor/op_defs.h tensor/tensor.h tensor/arena.h tensor/rng.h \
 tensor/ops.h tensor/autograd.h
tensor/error.h:
tensor/op_defs.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
tensor/ops.h:
tensor/autograd.h:
