build-lead-san/tests/test_tensor_ops_grad.o: tests/test_tensor_ops_grad.c \
 tensor/error.h tensor/ops.h tensor/autograd.h tensor/tensor.h \
 tensor/arena.h tensor/rng.h tests/gradcheck.h
tensor/error.h:
tensor/ops.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
tests/gradcheck.h:
