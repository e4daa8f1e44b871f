build-lead-san/tensor/ops_unary.o: tensor/ops_unary.c tensor/op_defs.h \
 tensor/tensor.h tensor/arena.h tensor/rng.h tensor/ops.h \
 tensor/autograd.h
tensor/op_defs.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
tensor/ops.h:
tensor/autograd.h:
