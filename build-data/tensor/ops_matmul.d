build-data/tensor/ops_matmul.o: tensor/ops_matmul.c tensor/error.h \
 tensor/gemm.h tensor/cpu.h tensor/op_defs.h tensor/tensor.h \
 tensor/arena.h tensor/rng.h tensor/ops.h tensor/autograd.h
tensor/error.h:
tensor/gemm.h:
tensor/cpu.h:
tensor/op_defs.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
tensor/ops.h:
tensor/autograd.h:
