build-lead/tensor/op_table.o: tensor/op_table.c tensor/op_defs.h \
 tensor/tensor.h tensor/arena.h tensor/rng.h tensor/ops.h \
 tensor/autograd.h
tensor/op_defs.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
tensor/ops.h:
tensor/autograd.h:
