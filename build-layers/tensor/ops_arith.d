build-layers/tensor/ops_arith.o: tensor/ops_arith.c tensor/error.h \
 tensor/op_defs.h tensor/tensor.h tensor/arena.h tensor/rng.h \
 tensor/ops.h tensor/autograd.h
tensor/error.h:
tensor/op_defs.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
tensor/ops.h:
tensor/autograd.h:
