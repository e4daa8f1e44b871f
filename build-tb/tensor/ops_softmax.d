build-tb/tensor/ops_softmax.o: tensor/ops_softmax.c tensor/error.h \
 tensor/op_defs.h tensor/tensor.h tensor/arena.h tensor/rng.h \
 tensor/ops.h tensor/autograd.h
tensor/error.h:
tensor/op_defs.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
tensor/ops.h:
tensor/autograd.h:
