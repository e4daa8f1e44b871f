build-kern-san/tensor/ops_dropout.o: tensor/ops_dropout.c tensor/error.h \
 tensor/op_defs.h tensor/tensor.h tensor/arena.h tensor/rng.h \
 tensor/ops.h tensor/autograd.h
tensor/error.h:
tensor/op_defs.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
tensor/ops.h:
tensor/autograd.h:
